"""The inventory service: what each entry says, filters, and who may see what."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy import update

from modelyard.db.engine import Database
from modelyard.db.tables import VersionRow
from modelyard.domain.access import Readable, Role
from modelyard.domain.ingredients import Ingredients
from modelyard.domain.inventory import render
from modelyard.domain.lineage import Upstream
from modelyard.services import consumers, datasets, inventory, teams, users, versions
from tests import factories

ACTOR = factories.ACTOR
FULL = {
    "code": {"commit": "a" * 40},
    "environment": {"python_version": "3.11", "packages": [{"name": "numpy", "version": "2"}]},
    "config": {},
    "data": [
        {"dataset": "risk/customers@1"},
        {"dataset": "risk/holdout@1", "role": "evaluated_on"},
    ],
}


def _stage(db: Database, model: str, number: int, stage: str) -> None:
    ns, name = model.split("/")
    with db.write() as s:
        s.execute(
            update(VersionRow)
            .where(VersionRow.namespace == ns, VersionRow.model_name == name)
            .where(VersionRow.number == number)
            .values(stage=stage)
        )


def _seed(db: Database) -> None:
    """risk/scorer: v1 (archived), v2 production (complete ingredients, trained on customers
    [pii], evaluated on holdout), v3 staging; risk/small derived from scorer@2 and depending
    on risk/tokenizer@1; a consumer of scorer@production."""
    factories.namespace(db, "risk")
    for name, labels in (("customers", ["pii"]), ("holdout", ["confidential"])):
        datasets.create_dataset(db, ACTOR, "risk", name, "1", uri=f"s3://lake/{name}",
                                classifications=labels)  # fmt: skip
    scorer = factories.model(db, "risk/scorer", risk="high")
    factories.version(db, scorer)
    versions.create_version(db, ACTOR, "risk", "scorer", ingredients=Ingredients.parse(FULL))
    factories.version(db, scorer)
    versions.archive_version(db, ACTOR, "risk", "scorer", 1)
    _stage(db, "risk/scorer", 2, "production")
    _stage(db, "risk/scorer", 3, "staging")
    tokenizer = factories.model(db, "risk/tokenizer")
    factories.version(db, tokenizer)
    factories.model(db, "risk/small")
    upstream = Upstream(derived_from=("risk/scorer@2",), depends_on=("risk/tokenizer@1",))
    versions.create_version(db, ACTOR, "risk", "small", upstream=upstream)
    consumers.declare(db, ACTOR, "risk", "scorer", "payments-api", "service", "production")


def test_an_entry_says_owners_stages_data_dependencies_consumers_and_completeness(
    db: Database,
) -> None:
    _seed(db)
    users.create_user(db, ACTOR, "maria")
    teams.set_member(db, ACTOR, "risk", "maria", Role.MAINTAINER)
    entries = {e.full_name: e for e in inventory.inventory(db)}
    scorer = entries["risk/scorer"]
    assert scorer.owners == (ACTOR, "maria")
    assert (scorer.risk_level, scorer.production_version, scorer.latest_version) == ("high", 2, 3)
    assert scorer.stages == {"staging": [3], "production": [2]}
    assert [(d.reference, d.role, d.classifications) for d in scorer.datasets] == [
        ("risk/holdout@1", "evaluated_on", ("confidential",)),
        ("risk/customers@1", "trained_on", ("pii",)),
    ]
    assert scorer.classifications == ("pii",)  # evaluation data passes nothing on
    assert [(c.name, c.reference) for c in scorer.consumers] == [
        ("payments-api", "risk/scorer@production")
    ]
    assert scorer.completeness is not None
    assert (scorer.completeness.version, scorer.completeness.complete) == (2, True)
    small = entries["risk/small"]
    assert small.classifications == ("pii",)  # inherited through derived_from
    assert [(d.relation, d.reference) for d in small.dependencies] == [
        ("depends_on", "risk/tokenizer@1"),
        ("derived_from", "risk/scorer@2"),
    ]
    assert small.completeness is not None
    assert small.completeness.missing == ("code", "environment", "config", "data")
    assert (scorer.last_approval, scorer.scan_status) == (None, None)


def test_a_revoked_dataset_shows_on_the_models_that_inherit_it(db: Database) -> None:
    _seed(db)
    datasets.revoke_dataset(db, ACTOR, "risk/customers@1", "consent withdrawn")
    entries = {e.full_name: e.revoked_datasets for e in inventory.inventory(db)}
    assert entries == {
        "risk/scorer": ("risk/customers@1",),
        "risk/small": ("risk/customers@1",),
        "risk/tokenizer": (),
    }


def test_filters_work_as_in_search(db: Database) -> None:
    _seed(db)
    pii = inventory.inventory(db, filter="classification = 'pii'")
    assert [e.full_name for e in pii] == ["risk/scorer", "risk/small"]
    assert [e.full_name for e in inventory.inventory(db, filter="risk = 'high'")] == ["risk/scorer"]


def test_what_the_caller_may_not_read_is_left_out(db: Database) -> None:
    _seed(db)
    factories.model(db, "secret/thing")
    member_of_risk = Readable(
        everything=False,
        members_of=frozenset({"risk"}),
        scoped_namespaces=None,
        scoped_models=frozenset(),
    )
    found = [e.full_name for e in inventory.inventory(db, readable=member_of_risk)]
    assert found == ["risk/scorer", "risk/small", "risk/tokenizer"]
    one_model = Readable(False, frozenset({"risk"}), frozenset(), frozenset({("risk", "small")}))
    only = inventory.inventory(db, readable=one_model)
    assert [e.full_name for e in only] == ["risk/small"]
    assert only[0].classifications == ("pii",)  # what it inherits is still known


def test_csv_and_html_have_one_row_per_model_and_escape_text(db: Database) -> None:
    _seed(db)
    factories.model(db, "risk/evil", description='=HYPERLINK("x") <script>')
    entries = inventory.inventory(db)
    when = datetime(2026, 11, 27, tzinfo=UTC)
    rows = list(csv.DictReader(io.StringIO(render(entries, "csv", when))))
    assert [r["model"] for r in rows] == [e.full_name for e in entries]
    page = render(entries, "html", when)
    assert "<script>" not in page
    assert page.count("<tr><td>") == len(entries)
