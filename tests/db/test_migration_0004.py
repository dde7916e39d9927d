"""Migration 0004 copies the metrics of versions that exist before it into version_metrics,
so comparisons across versions see them."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, insert, select

from modelyard.db import migrate
from modelyard.db.tables import MetricRow, ModelRow, NamespaceRow, VersionRow
from modelyard.db.types import utcnow
from tests.db.test_migrations import empty_url  # noqa: F401  (the fixture: both databases)


def test_existing_metrics_are_copied_as_rows_without_dataset_or_split(empty_url: str) -> None:  # noqa: F811
    engine = create_engine(empty_url)
    try:
        migrate.upgrade(engine, "0003")
        ns, model, version = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        now = utcnow()
        stamp = {"created_by": "t", "created_at": now, "updated_at": now}
        with engine.begin() as conn:
            conn.execute(insert(NamespaceRow.__table__), {"id": ns, "name": "team",
                         "description": "", "visibility": "internal", **stamp})  # fmt: skip
            conn.execute(insert(ModelRow.__table__), {"id": model, "namespace_id": ns,
                         "namespace": "team", "name": "m", "description": "",
                         "risk_level": "low", "risk_reason": "", "version_counter": 1,
                         "updated_by": "t", **stamp})  # fmt: skip
            conn.execute(
                insert(VersionRow.__table__).values(
                    id=version, model_id=model, number=1, namespace="team", model_name="m",
                    description="", stage="development", status="ready",
                    metrics={"auc": 0.9, "f1": 1}, **stamp,
                )
            )  # fmt: skip
        migrate.upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(select(MetricRow.name, MetricRow.value, MetricRow.dataset,
                                       MetricRow.split).order_by(MetricRow.name)).all()  # fmt: skip
        assert [tuple(r) for r in rows] == [("auc", 0.9, "", ""), ("f1", 1.0, "", "")]
    finally:
        engine.dispose()
