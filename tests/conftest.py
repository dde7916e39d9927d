"""Shared fixtures. Every database test runs on SQLite and on PostgreSQL.

PostgreSQL: ``MODELYARD_TEST_POSTGRES_URL`` (default: the local server, trust auth). Each xdist
worker gets its own database, migrated once with Alembic; tables are emptied between tests.
When PostgreSQL is unreachable the PostgreSQL variants are skipped, unless
``MODELYARD_REQUIRE_POSTGRES=1`` (set by .ci/run), which makes them fail instead.

S3: a real S3 endpoint on loopback, moto's server mode, one per test process (``s3_endpoint``);
each test that asks for ``s3_bucket`` gets a bucket of its own. boto calls are never mocked.
When moto cannot start, S3 variants are skipped, unless ``MODELYARD_REQUIRE_S3=1`` (set by
.ci/run), which makes them fail instead.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from modelyard.api.app import create_app
from modelyard.db import migrate
from modelyard.db.engine import Database, make_engine
from modelyard.db.tables import Base
from modelyard.settings import Settings
from tests import identity
from tests.support import sync_transport

PG_ADMIN_URL = os.environ.get(
    "MODELYARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_PG = os.environ.get("MODELYARD_REQUIRE_POSTGRES") == "1"
REQUIRE_S3 = os.environ.get("MODELYARD_REQUIRE_S3") == "1"
S3_ENV = {
    # Fixed test credentials for the loopback endpoint; never a real account's.
    "AWS_ACCESS_KEY_ID": "modelyard-test",
    "AWS_SECRET_ACCESS_KEY": "modelyard-test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A migrated PostgreSQL database of this worker's own, dropped at the end.

    The process id is in the name: several test runs may share one server (CI jobs, engineers
    on one machine), and a run must never drop the database another run is using."""
    name = f"modelyard_test_{_worker()}_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # unreachable server: skip, or fail when CI demands PostgreSQL
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL required but unreachable at {PG_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}")
    finally:
        admin.dispose()
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    if url in _CLEANERS:
        _CLEANERS.pop(url).dispose()
    _drop_database(name)


def _drop_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, made as the server makes one (its page size: db/engine.py); each
    test copies it (much faster than migrating anew)."""
    path = tmp_path_factory.mktemp("template") / "modelyard.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        target = tmp_path / "data" / "modelyard.db"
        target.parent.mkdir()
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    url: str = request.getfixturevalue("pg_url")
    yield url
    _empty_tables(url)


_CLEANERS: dict[str, Engine] = {}


def _empty_tables(url: str) -> None:
    # DELETE, children first, not TRUNCATE: on the few rows a test leaves, DELETE takes ~20 ms
    # and TRUNCATE ~300-500 ms (new files, fsync). One batch on a kept connection: a new engine
    # and one round trip per table (26 tables) cost ~0.2 s per test.
    engine = _CLEANERS.get(url) or _CLEANERS.setdefault(url, create_engine(url))
    batch = ";".join(f'DELETE FROM "{t.name}"' for t in reversed(Base.metadata.sorted_tables))
    # as migration 0005 leaves it: the audit chain's head at the genesis hash
    batch += f";INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '{'0' * 64}')"
    with engine.begin() as conn:
        conn.exec_driver_sql(batch)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database.from_url(settings.resolved_database_url)
    yield database
    database.dispose()


@pytest.fixture
def app(settings: Settings, db: Database):  # type: ignore[no-untyped-def]
    return create_app(settings, db)


@pytest.fixture(autouse=True)
def _own_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real ~/.config/modelyard/credentials, nor follows a
    MODELYARD_URL or MODELYARD_TOKEN set in the shell that runs the tests."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("MODELYARD_CREDENTIALS", "MODELYARD_URL", "MODELYARD_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def admin_token(db: Database) -> str:
    """A bootstrap global admin (user ``admin``) and an API token of theirs with every scope:
    what ``http`` sends, and what SDK and CLI tests give their clients."""
    return identity.admin_token(db)


@pytest.fixture
def http(app, admin_token: str) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    """A plain httpx client on the real app, in process, signed in as the global admin."""
    with (
        sync_transport(app) as transport,
        httpx.Client(
            transport=transport,
            base_url="http://modelyard.test",
            headers={"Authorization": f"Bearer {admin_token}"},
        ) as client,
    ):
        yield client


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """URL of a real S3 server on 127.0.0.1 (moto's server mode in a thread of this process).
    The AWS_* variables boto3 reads point at test credentials for the whole session."""
    try:
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
    except Exception as exc:
        if REQUIRE_S3:
            pytest.fail(f"S3 (moto server) required but it did not start: {exc}")
        pytest.skip(f"S3 (moto server) unavailable: {exc}")
    host, port = server.get_host_and_port()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in S3_ENV.items():
            mp.setenv(key, value)
        yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    """A new, empty bucket on the loopback S3 server."""
    import boto3

    name = f"modelyard-{uuid.uuid4().hex[:16]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    client.create_bucket(Bucket=name)
    client.close()
    return name
