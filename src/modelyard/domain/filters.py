"""The search filter language, parsed into a small AST (no I/O; ``db/search.py`` compiles it).

    filter     := or_expr
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := term ("AND" term)*
    term       := "(" or_expr ")" | comparison
    comparison := FIELD op value | FIELD ["NOT"] "IN" "(" value ("," value)* ")"
    op         := "=" | "!=" | "<" | "<=" | ">" | ">=" | "LIKE" | "ILIKE"
    value      := 'single' or "double" quoted string (a doubled quote escapes itself) | number
    FIELD      := name | namespace | description | stage | risk | alias | version
                | created_at | updated_at | tags.<key>
                | classification | dataset | package | packages.<name>
                | complete | missing | data_revoked

Keywords are case-insensitive. ``LIKE`` uses ``%`` and ``_`` wildcards and is case-sensitive on
both databases; ``ILIKE`` ignores case. Times are ISO 8601 strings (``'2026-11-27'`` or with a
time and offset; naive means UTC). Version numbers run up to 2**31-1; parentheses nest at most
32 deep; a filter holds at most 16 comparisons. Every error names the 0-based character position
at fault.

Provenance fields (ingredients and lineage, ``db/provenance_filters.py`` compiles them):
``classification`` (inherited from training data, e.g. ``classification = 'pii'``), ``dataset``
(data it was trained or evaluated on, ``ns/name@version`` or ``ns/name``), ``package`` (an
installed distribution) and ``packages.<name>`` (its version, e.g. ``packages.scipy =
'1.11.4'``; version ranges are the packages endpoint's job, text order is not version order)
take = != IN NOT IN LIKE ILIKE; ``complete`` and ``data_revoked`` take = and != with ``'true'``
or ``'false'``; ``missing`` takes = != IN NOT IN with ``code``, ``environment``, ``config`` or
``data``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from modelyard.domain.errors import InvalidInputError
from modelyard.domain.lifecycle import MAX_VERSION_NUMBER
from modelyard.domain.names import TAG_KEY_RE

# A PEP 508 distribution name (the rule of domain/ingredients.py, which filters do not import).
PACKAGE_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\Z")

SET_FIELDS = frozenset({"classification", "dataset", "package"})
FLAG_FIELDS = frozenset({"complete", "data_revoked"})
PART_FIELDS = frozenset({"missing"})
PROVENANCE_FIELDS = SET_FIELDS | FLAG_FIELDS | PART_FIELDS
STRING_FIELDS = (
    frozenset({"name", "namespace", "description", "stage", "risk", "alias"}) | PROVENANCE_FIELDS
)
NUMBER_FIELDS = frozenset({"version"})
TIME_FIELDS = frozenset({"created_at", "updated_at"})
FIELDS = STRING_FIELDS | NUMBER_FIELDS | TIME_FIELDS
INGREDIENT_PARTS = ("code", "environment", "config", "data")
_TEXT_OPS = ("=", "!=", "IN", "NOT IN", "LIKE", "ILIKE")
OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN")
MAX_FILTER_LENGTH = 4000
MAX_DEPTH = 32  # parentheses; the parser recurses, and 4000 "(" would overflow Python's stack
# Tag, alias and stage comparisons become EXISTS subqueries, and PostgreSQL's planning time grows
# steeply with their number: 8 take ~60 ms to plan, 24 ~400 ms, 250 over two minutes. A filter
# that long is a mistake or an attack; IN (...) lists any number of values in one comparison.
MAX_COMPARISONS = 16

Value = str | int | float | datetime


@dataclass(frozen=True)
class Comparison:
    field: str  # one of FIELDS, "tags" or "packages" (key: the tag key, the package name)
    op: str  # one of OPERATORS
    value: Value | tuple[Value, ...]
    tag_key: str | None = None
    position: int = 0


@dataclass(frozen=True)
class BoolOp:
    op: str  # "AND" | "OR"
    items: tuple[Filter, ...]


Filter = Comparison | BoolOp


@dataclass(frozen=True)
class _Token:
    kind: str  # "word", "string", "number", "op", "(", ")", ",", "end"
    text: str
    pos: int
    value: str | int | float | None = None


# Strings use possessive ``*+``: a doubled quote is never split back into a closing quote, so
# ``'it''s`` is one unterminated string (reported where it opens), as in SQL.
_TOKEN_RE = re.compile(
    r"""(?P<ws>\s+)
      | (?P<string>'(?:[^']|'')*+'|"(?:[^"]|"")*+")
      | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.:/-]*)
    """,
    re.VERBOSE,
)


def _fail(message: str, pos: int, text: str) -> InvalidInputError:
    pointer = text + "\n" + " " * pos + "^"
    return InvalidInputError(
        "FILTER_INVALID",
        f"invalid filter at position {pos}: {message}",
        position=pos,
        filter=text,
        pointer=pointer,
    )


def tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            if text[pos] in "'\"":
                raise _fail("unterminated string", pos, text)
            raise _fail(f"unexpected character {text[pos]!r}", pos, text)
        kind = m.lastgroup or ""
        raw = m.group()
        if kind == "string":
            quote = raw[0]
            tokens.append(_Token("string", raw, pos, raw[1:-1].replace(quote * 2, quote)))
        elif kind == "number":
            tokens.append(_Token("number", raw, pos, float(raw) if "." in raw else int(raw)))
        elif kind == "op":
            tokens.append(_Token("op", "!=" if raw == "<>" else raw, pos))
        elif kind == "punct":
            tokens.append(_Token(raw, raw, pos))
        elif kind == "word":
            tokens.append(_Token("word", raw, pos))
        pos = m.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0
        self.comparisons = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok.kind == "word" and tok.text.upper() == word:
            self.i += 1
            return True
        return False

    def fail(self, message: str, tok: _Token | None = None) -> InvalidInputError:
        return _fail(message, (tok or self.peek()).pos, self.text)

    def parse(self) -> Filter:
        node = self.or_expr()
        if self.peek().kind != "end":
            raise self.fail(f"expected AND, OR or end of filter, found {self.peek().text!r}")
        return node

    def or_expr(self) -> Filter:
        items = [self.and_expr()]
        while self.keyword("OR"):
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else BoolOp("OR", tuple(items))

    def and_expr(self) -> Filter:
        items = [self.term()]
        while self.keyword("AND"):
            items.append(self.term())
        return items[0] if len(items) == 1 else BoolOp("AND", tuple(items))

    def term(self) -> Filter:
        if self.peek().kind == "(":
            if self.depth == MAX_DEPTH:
                raise self.fail(f"parentheses nested more than {MAX_DEPTH} deep")
            self.take()
            self.depth += 1
            node = self.or_expr()
            if self.peek().kind != ")":
                raise self.fail("expected ')'")
            self.take()
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Comparison:
        tok = self.take()
        if tok.kind != "word":
            raise self.fail("expected a field name", tok)
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            raise self.fail(f"more than {MAX_COMPARISONS} comparisons; list values with IN", tok)
        field, tag_key = self.field(tok)
        op_tok = self.peek()
        op = self.operator()
        if op in ("IN", "NOT IN"):
            values: tuple[Value, ...] = tuple(self.value_list(field, op))
            self.provenance(field, op, values, op_tok)
            return Comparison(field, op, values, tag_key, tok.pos)
        value_tok = self.peek()
        value = self.value(field, op)
        if op in ("LIKE", "ILIKE"):
            self.check_pattern(field, op, value, op_tok, value_tok)
        self.provenance(field, op, (value,), op_tok)
        return Comparison(field, op, value, tag_key, tok.pos)

    def provenance(self, field: str, op: str, values: tuple[Value, ...], at: _Token) -> None:
        """The operators and values each provenance field takes (see the module docstring)."""
        if field in SET_FIELDS or field == "packages":
            allowed: tuple[str, ...] = _TEXT_OPS
        elif field in FLAG_FIELDS:
            allowed = ("=", "!=")
            if any(v not in ("true", "false") for v in values):
                raise self.fail(f"{field} is 'true' or 'false'", at)
        elif field in PART_FIELDS:
            allowed = ("=", "!=", "IN", "NOT IN")
            if any(v not in INGREDIENT_PARTS for v in values):
                raise self.fail(f"{field} is one of {', '.join(INGREDIENT_PARTS)}", at)
        else:
            return
        if op not in allowed:
            hint = " (version ranges: GET /api/v1/packages/NAME?specifier=...)"
            extra = hint if field == "packages" else ""
            raise self.fail(f"{field} takes {' '.join(allowed)}{extra}", at)

    def check_pattern(
        self, field: str, op: str, value: Value, op_tok: _Token, value_tok: _Token
    ) -> None:
        if not isinstance(value, str):
            raise self.fail(f"{op} compares text; {field} is not text", op_tok)
        if (len(value) - len(value.rstrip("\\"))) % 2 == 1:
            # PostgreSQL refuses a pattern that ends in its escape character (a 500 before this
            # check); SQLite quietly matched nothing.
            raise self.fail(f"{op} pattern ends in a lone '\\'; write '\\\\' for one", value_tok)

    def field(self, tok: _Token) -> tuple[str, str | None]:
        name = tok.text
        if name.lower().startswith("tags."):
            key = name[5:]
            if not TAG_KEY_RE.match(key):
                raise self.fail(f"invalid tag key {key!r}", tok)
            return "tags", key
        if name.lower().startswith("packages."):
            package = name[9:]
            if not PACKAGE_RE.match(package):
                raise self.fail(f"invalid package name {package!r}", tok)
            return "packages", re.sub(r"[-_.]+", "-", package).lower()
        if name.lower() not in FIELDS:
            raise self.fail(
                f"unknown field {name!r}; fields: {', '.join(sorted(FIELDS))}, tags.<key>,"
                " packages.<name>",
                tok,
            )
        return name.lower(), None

    def operator(self) -> str:
        tok = self.peek()
        if tok.kind == "op":
            self.take()
            return tok.text
        for word in ("LIKE", "ILIKE", "IN"):
            if self.keyword(word):
                return word
        if self.keyword("NOT"):
            if self.keyword("IN"):
                return "NOT IN"
            raise self.fail("expected IN after NOT")
        raise self.fail("expected an operator (= != < <= > >= LIKE ILIKE IN NOT IN)")

    def value_list(self, field: str, op: str) -> list[Value]:
        if self.peek().kind != "(":
            raise self.fail(f"expected '(' after {op}")
        self.take()
        values = [self.value(field, op)]
        while self.peek().kind == ",":
            self.take()
            values.append(self.value(field, op))
        if self.peek().kind != ")":
            raise self.fail("expected ',' or ')'")
        self.take()
        return values

    def value(self, field: str, op: str) -> Value:
        tok = self.take()
        if tok.kind not in ("string", "number"):
            raise self.fail("expected a quoted string or a number", tok)
        assert tok.value is not None
        if field in NUMBER_FIELDS:
            if not isinstance(tok.value, int):
                raise self.fail(f"{field} takes a whole number", tok)
            if abs(tok.value) > MAX_VERSION_NUMBER:  # the database column would refuse it
                raise self.fail(f"{field} numbers run up to {MAX_VERSION_NUMBER}", tok)
            return tok.value
        if field in TIME_FIELDS:
            return self.timestamp(tok)
        if not isinstance(tok.value, str):
            raise self.fail(f"{field} takes a quoted string", tok)
        return tok.value

    def timestamp(self, tok: _Token) -> datetime:
        try:
            when = datetime.fromisoformat(str(tok.value))
            return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        except (ValueError, OverflowError):  # OverflowError: an offset past year 1 or 9999
            raise self.fail(
                "expected an ISO 8601 time such as '2026-11-27T10:00:00Z'", tok
            ) from None


def parse_filter(text: str) -> Filter | None:
    """Parse a filter; an empty or blank filter means "everything" (None)."""
    if not text or not text.strip():
        return None
    if "\x00" in text:
        raise _fail("NUL characters are not allowed", text.index("\x00"), text.replace("\x00", " "))
    if len(text) > MAX_FILTER_LENGTH:
        raise _fail(f"longer than {MAX_FILTER_LENGTH} characters", MAX_FILTER_LENGTH, text[:80])
    return _Parser(text).parse()
