"""Factories for governance tests: a team with reviewers, models with versions, principals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from modelyard.db.engine import Database
from modelyard.db.tables import UserRow, VersionRow
from modelyard.domain.access import Principal, Role, parse_scopes
from modelyard.domain.ingredients import Ingredients
from modelyard.domain.policy import Policy
from modelyard.domain.policy_document import parse_policy
from modelyard.domain.transitions import Transition
from modelyard.services import approvals, models, teams, transitions, versions
from modelyard.services.principals import load_principal
from tests import identity

NS = "risk-team"
MODEL = f"{NS}/fraud"
DAY = timedelta(days=1)
FULL = {
    "code": {"commit": "a" * 40},
    "environment": {"python_version": "3.11", "packages": [{"name": "numpy", "version": "2"}]},
    "config": {"depth": 6},
    "data": [{"uri": "s3://lake/cards-2026", "digest": "sha256:" + "ab" * 32}],
}
REVIEWERS = {"tina": "technical", "bob": "business", "lena": "legal"}
# Production needs only what the test asks for: no checks, approvals per risk level as given.
OPEN_POLICY = """
stages:
  development: {}
  staging: {}
  production: {exclusive: true, previous_holder_to: archived}
  archived: {}
transitions:
  development: [staging, production, archived]
  staging: [development, production, archived]
  production: [staging, archived]
  archived: [development, staging, production]
"""


def open_policy() -> Policy:
    return parse_policy(OPEN_POLICY, "test")


def team(db: Database) -> None:
    """risk-team: mia (maintainer, requests), tina/bob/lena (viewers with one capacity each),
    and sam, a maintainer with all three capacities."""
    identity.team(
        db, NS, mia=Role.MAINTAINER, sam=Role.MAINTAINER, **dict.fromkeys(REVIEWERS, Role.VIEWER)
    )
    for user, capacity in REVIEWERS.items():
        teams.grant_capacity(db, "admin", NS, user, capacity, ("technical", "business", "legal"))
    for capacity in REVIEWERS.values():
        teams.grant_capacity(db, "admin", NS, "sam", capacity, ("technical", "business", "legal"))


def model(db: Database, count: int = 1, risk: str = "low", name: str = "fraud") -> str:
    """``risk-team/NAME`` with ``count`` versions at ``risk``, each with a model card and
    its four ingredients, so the built-in policy's checks pass."""
    models.create_model(db, "mia", NS, name)
    for _ in range(count):
        version(db, name)
    if risk != "unassessed":
        models.set_risk(db, "mia", NS, name, risk, "assessed by the risk board")
    return f"{NS}/{name}"


def version(db: Database, name: str = "fraud", **kwargs: Any) -> int:
    kwargs.setdefault("card", "# Fraud\nIntended use: card payments.")
    kwargs.setdefault("ingredients", Ingredients.parse(FULL))
    return versions.create_version(db, "mia", NS, name, **kwargs).version


def who(db: Database, name: str, scopes: list[str] | None = None) -> Principal:
    with db.read() as s:
        user = s.query(UserRow).filter_by(name=name).one()
        return load_principal(s, user, None if scopes is None else parse_scopes(scopes), None)


def request(
    db: Database, policy: Policy, ref: str, stage: str = "production", by: str = "mia"
) -> Transition:
    requester = who(db, by)
    return transitions.request_transition(
        db, policy, by, requester.user_id, ref, stage, "ready to ship", DAY
    )


def approve(
    db: Database, policy: Policy, transition_id: int, by: str, capacity: str | None = None
) -> Transition:
    return approvals.vote(db, policy, who(db, by), transition_id, "approve", "looks good", capacity)


def stages_of(db: Database, name: str = MODEL) -> dict[int, str]:
    ns, model_name = name.split("/")
    stmt = select(VersionRow.number, VersionRow.stage).where(
        VersionRow.namespace == ns, VersionRow.model_name == model_name
    )
    with db.read() as s:
        return {int(n): str(stage) for n, stage in s.execute(stmt)}
