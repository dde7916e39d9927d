"""Portable column types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.dialects.sqlite import DATETIME as SQLITE_DATETIME
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the Python side on every database.

    SQLite keeps no offset, so values are stored as naive UTC there and made aware on load;
    PostgreSQL stores ``timestamptz``. Comparisons in filters and page tokens then agree.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected datetime, got {type(value).__name__}")
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        utc = aware.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, ``process_bind_param`` and the dialect's DATETIME text in one step: the
        same text (``YYYY-MM-DD HH:MM:SS.ffffff``, naive UTC) from one C call instead of two
        Python layers and a %-format of seven fields (every write binds several times)."""
        if dialect.name != "sqlite" or not _default_sqlite_format(self.impl_instance, dialect):
            return super().bind_processor(dialect)

        def process(value: Any) -> Any:
            if value is None:
                return None
            if not isinstance(value, datetime):
                raise TypeError(f"expected datetime, got {type(value).__name__}")
            if value.tzinfo is UTC:  # utcnow()'s
                value = value.replace(tzinfo=None)
            elif value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            return value.isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _default_sqlite_format(impl: Any, dialect: Dialect) -> bool:
    """The dialect keeps DATETIME's default text form, the one ``bind_processor`` writes."""
    typ = impl.dialect_impl(dialect)
    return (
        isinstance(typ, SQLITE_DATETIME) and typ._storage_format == SQLITE_DATETIME._storage_format
    )
