"""Prebuilt statements run beneath SQLAlchemy's per-call machinery, in the caller's transaction.

    session.execute(stmt)   compiled-cache look-up, execution context, bind processing,
                            cursor, result objects, events               ~40-70 µs of CPU
    Prepared(stmt).run(s)   plan made once per dialect: SQL text, bind order and processors,
                            result processors; then bind processing and the cursor  ~10 µs

On SQLite a statement itself takes 5-10 µs, so on the paths every mutation runs (the audit
chain's four statements, ``db/audit.py``) and every version creation runs (four more,
``services/versions.py``), SQLAlchemy's share was most of the cost. A ``Prepared`` statement
runs on the DBAPI connection of the caller's session, inside its transaction, through the
column types' own bind and result processors, and a DBAPI error comes out as SQLAlchemy's
(``IntegrityError``, ``OperationalError`` …), so callers see what ``session.execute`` gives
them. What it leaves out: SQLAlchemy's cursor events (statement logging), expanding ``IN``
parameters (refused when the plan is made) and Python-side column defaults (pass every
column an insert needs).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import Select

Processor = Callable[[Any], Any]
Statement = Select[Any] | UpdateBase


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...]  # bind names, in the order a positional paramstyle wants them
    placeholders: tuple[str, ...]  # the names as the SQL text spells them (named paramstyles)
    positional: bool
    processors: tuple[Processor | None, ...]
    literals: Mapping[str, Any]  # binds with values of their own (``counter + 1``)
    results: tuple[Processor | None, ...]
    row_type: Any  # a namedtuple of the result columns' names
    bind: Callable[[Mapping[str, Any]], Any]  # parameters -> DBAPI values (``_binder``)


class Prepared:
    """A Core statement to run with ``rows`` (SELECT, RETURNING), ``run`` or ``run_many``."""

    def __init__(self, statement: Statement) -> None:
        self.statement = statement
        self._plans: dict[tuple[str, tuple[str, ...]], _Plan] = {}

    def first(self, session: Session | Snapshot, params: Mapping[str, Any]) -> Any:
        """The first row as a named tuple (attributes named as the statement's columns, as a
        Core row's are), or ``None``."""
        plan, cursor = self._execute(session, [params], many=False)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else plan.row_type._make(_processed(row, plan.results))

    def rows(self, session: Session | Snapshot, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        plan, cursor = self._execute(session, [params], many=False)
        try:
            return [_processed(row, plan.results) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def run(self, session: Session | Snapshot, params: Mapping[str, Any]) -> None:
        self._execute(session, [params], many=False)[1].close()

    def count(self, session: Session | Snapshot, params: Mapping[str, Any]) -> int:
        """``run``, answering how many rows the statement changed (UPDATE, DELETE)."""
        cursor = self._execute(session, [params], many=False)[1]
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def run_many(self, session: Session | Snapshot, params: Sequence[Mapping[str, Any]]) -> None:
        if params:
            self._execute(session, params, many=True)[1].close()

    def _execute(
        self, session: Session | Snapshot, params: Sequence[Mapping[str, Any]], many: bool
    ) -> tuple[_Plan, Any]:
        dialect, dbapi = _connection_of(session)
        plan = self._plan(dialect, tuple(params[0]))
        bind = plan.bind
        values = [bind(p) for p in params]
        cursor = dbapi.cursor()
        try:
            if many and len(values) > 1:
                cursor.executemany(plan.sql, values)
            else:  # one row: ``execute`` costs less than ``executemany`` of a list of one
                cursor.execute(plan.sql, values[0])
        except dialect.loaded_dbapi.Error as error:
            cursor.close()
            raise exc.DBAPIError.instance(
                plan.sql, values, error, dialect.loaded_dbapi.Error, dialect=dialect
            ) from error
        return plan, cursor

    def _plan(self, dialect: Dialect, keys: tuple[str, ...]) -> _Plan:
        key = (dialect.name, keys)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _make_plan(self.statement, dialect, keys)
        return plan


@dataclass
class Snapshot:
    """A transaction on a DBAPI connection, without a Session, for blocks made only of
    ``Prepared`` statements: a read (``Database.snapshot``) or, on SQLite, a write
    (``Database.write_prepared``; ``info`` holds what the audit queues, as a Session's does)."""

    dialect: Dialect
    dbapi: Any
    info: dict[str, Any] = field(default_factory=dict)


Tx = Session | Snapshot


_CONNECTION = "modelyard.prepared.connection"


def _connection_of(session: Session | Snapshot) -> tuple[Dialect, Any]:
    """The dialect and DBAPI connection of the session's current transaction (begun if need
    be), kept in ``session.info`` for the transaction's further statements: asking the session
    each time costs more than the statement."""
    if isinstance(session, Snapshot):
        return session.dialect, session.dbapi
    held = session.info.get(_CONNECTION)
    transaction = session.get_transaction()
    if held is not None and transaction is not None and held[0] is transaction:
        return held[1], held[2]
    connection = session.connection()  # begins the session's transaction if need be
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None
    session.info[_CONNECTION] = (session.get_transaction(), connection.dialect, dbapi)
    return connection.dialect, dbapi


def _make_plan(statement: Statement, dialect: Dialect, keys: tuple[str, ...]) -> _Plan:
    column_keys = list(keys) if isinstance(statement, UpdateBase) else None
    compiled = statement.compile(dialect=dialect, column_keys=column_keys)
    assert isinstance(compiled, SQLCompiler)
    binds = compiled.binds
    if any(b.expanding for b in binds.values()):
        raise ValueError("expanding IN parameters are not supported by Prepared")
    positional = bool(compiled.positional)
    names = tuple(compiled.positiontup or ()) if positional else tuple(binds)
    escaped: Mapping[str, str] = compiled.escaped_bind_names or {}
    placeholders = tuple(escaped.get(n, n) for n in names)
    # The processors SQLAlchemy's own execution uses (the dialect's implementation of each
    # type, a TypeDecorator chained to it), so values match what session.execute sends.
    processors = tuple(binds[n].type._cached_bind_processor(dialect) for n in names)
    literals = {n: b.value for n, b in binds.items() if n not in keys}
    return _Plan(
        sql=str(compiled),
        names=names,
        placeholders=placeholders,
        positional=positional,
        processors=processors,
        literals=literals,
        results=tuple(
            c.type._cached_result_processor(dialect, None) for c in statement.exported_columns
        ),
        row_type=namedtuple("Row", [str(c.key) for c in statement.exported_columns], rename=True),
        bind=_binder(names, placeholders, positional, processors, literals),
    )


def _binder(
    names: tuple[str, ...],
    placeholders: tuple[str, ...],
    positional: bool,
    processors: tuple[Processor | None, ...],
    literals: Mapping[str, Any],
) -> Callable[[Mapping[str, Any]], Any]:
    """The function that turns a statement's parameters into the values the DBAPI takes:
    each name's value (from the parameters, or the statement's own literal), through its
    column type's processor, as a tuple (positional paramstyles) or a dict keyed by the
    placeholders. A plan is made for one set of parameter names, so which value comes from
    where is known here, and the function is written for it (as ``namedtuple`` and
    ``dataclasses`` write theirs): one expression per value, no loop, no test per call. A
    version creation binds about 60 values in 8 statements; against a loop over them this
    saves about a quarter of the binding's CPU. Names only ever appear as ``repr`` string
    literals, never as code."""
    scope: dict[str, Any] = {}
    values = []
    for i, (name, process) in enumerate(zip(names, processors, strict=True)):
        if name in literals:
            scope[f"literal{i}"] = literals[name]
            value = f"literal{i}"
        else:
            value = f"params[{name!r}]"
        if process is not None:
            scope[f"process{i}"] = process
            value = f"process{i}({value})"
        values.append(value)
    if positional:
        body = "(" + "".join(f"{v}, " for v in values) + ")"
    else:
        pairs = zip(placeholders, values, strict=True)
        body = "{" + "".join(f"{p!r}: {v}, " for p, v in pairs) + "}"
    exec(f"def bind(params):\n    return {body}\n", scope)  # noqa: S102 (names are repr'd)
    bind: Callable[[Mapping[str, Any]], Any] = scope["bind"]
    return bind


def _processed(row: Sequence[Any], processors: tuple[Processor | None, ...]) -> tuple[Any, ...]:
    return tuple(p(v) if p is not None else v for v, p in zip(row, processors, strict=True))
