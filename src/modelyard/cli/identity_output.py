"""How users, tokens, members and ``whoami`` print: rich tables for people, JSON for scripts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from modelyard.cli.output import field_grid, print_json, print_plain, text_table
from modelyard.client import ApiToken, Identity, Member, User

SHORT_ID = 8


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def token_json(token: ApiToken) -> dict[str, Any]:
    data = asdict(token)
    data["hint"] = token.hint
    return data


def show_users(users: Sequence[User], as_json: bool) -> None:
    if as_json:
        print_json([asdict(u) for u in users])
        return
    rows = [
        [
            u.name,
            u.kind,
            "yes" if u.admin else "",
            "disabled" if u.disabled else "",
            u.owner_namespace or "",
            u.display_name,
        ]
        for u in users
    ]
    print_plain(text_table(["USER", "KIND", "ADMIN", "STATUS", "TEAM", "NAME"], rows))


def show_user(user: User, as_json: bool) -> None:
    if as_json:
        print_json(asdict(user))
        return
    fields = [
        ("user", user.name),
        ("kind", user.kind),
        ("name", user.display_name),
        ("email", user.email),
        ("global admin", "yes" if user.admin else "no"),
        ("disabled", "yes" if user.disabled else "no"),
        ("owned by team", user.owner_namespace or ""),
        ("created", f"{_when(user.created_at)} by {user.created_by}"),
    ]
    print_plain(field_grid(fields))


def show_tokens(tokens: Sequence[ApiToken], as_json: bool) -> None:
    """ID is cut to its first 8 characters, which ``tokens revoke`` accepts."""
    if as_json:
        print_json([token_json(t) for t in tokens])
        return
    rows = [
        [
            t.id[:SHORT_ID],
            t.hint,
            _day(t.expires_at) or "never",
            _day(t.last_used_at) or "never",
            "revoked" if t.revoked_at else t.name,
            " ".join(t.scopes),
        ]
        for t in tokens
    ]
    print_plain(text_table(["ID", "TOKEN", "EXPIRES", "LAST USED", "NAME", "SCOPES"], rows))


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else ""


def show_members(members: Sequence[Member], as_json: bool) -> None:
    if as_json:
        print_json([asdict(m) for m in members])
        return
    rows = [[m.user, m.kind, m.role, ", ".join(m.capacities)] for m in members]
    print_plain(text_table(["USER", "KIND", "ROLE", "REVIEWS AS"], rows))


def show_identity(me: Identity, as_json: bool) -> None:
    if as_json:
        data = asdict(me)
        data["token"] = token_json(me.token) if me.token else None
        print_json(data)
        return
    via = f"token {me.token.hint} ({' '.join(me.token.scopes)})" if me.token else "web session"
    teams = ", ".join(
        f"{m.namespace} ({m.role}{': ' + '/'.join(m.capacities) if m.capacities else ''})"
        for m in me.memberships
    )
    fields = [
        ("user", me.user.name + (" (service account)" if me.user.kind == "service" else "")),
        ("global admin", "yes" if me.user.admin else "no"),
        ("signed in with", via),
        ("teams", teams or "none"),
    ]
    print_plain(field_grid(fields))
