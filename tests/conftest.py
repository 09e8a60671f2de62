"""Test set-up: PostgreSQL always (the desk's locking and constraints are Postgres's), and
the seed-shaped offer built by factories with the `now` each test chooses."""

from __future__ import annotations

# The environment (PostgreSQL, the tests' Redis database and queue) is set by the
# plugin tests/_environment.py, loaded before the settings are read.
import datetime as dt
import os
import uuid
from typing import Any

import pytest

from tests.factories import SeedOffer, build_seed_offer, ny


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine and not os.environ.get("ALLOW_NON_POSTGRES_TESTS"):
        raise pytest.UsageError(
            f"Tests run on PostgreSQL; DATABASE_URL points at {engine}. "
            "Unset it or set it to a postgres:// URL."
        )


@pytest.fixture(scope="session", autouse=True)
def flush_may_empty_history() -> None:
    """Django empties the test database after each transactional test with one TRUNCATE
    of every table, which history's BEFORE TRUNCATE trigger refuses (migration 0015).
    Only that flush switches the trigger off, in its own transaction, as the tables'
    owner; the application never flushes."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush
    if getattr(original, "_lets_history_go", False):
        return

    def sql_flush(
        self: DatabaseOperations, style: object, tables: list[str], **kw: object
    ) -> list[str]:
        statements = original(self, style, tables, **kw)
        guarded = [
            (table, trigger)
            for table, trigger in (
                ("exchange_statechange", "exchange_statechange_no_truncate"),
                ("exchange_recordedrowchange", "exchange_recordedrowchange_no_truncate"),
                ("exchange_signatureguarantee", "exchange_signatureguarantee_no_truncate"),
            )
            if table in tables
        ]
        if not guarded or not statements:
            return statements
        return [
            *(f"ALTER TABLE {t} DISABLE TRIGGER {g};" for t, g in guarded),
            *statements,
            *(f"ALTER TABLE {t} ENABLE TRIGGER {g};" for t, g in guarded),
        ]

    sql_flush._lets_history_go = True  # type: ignore[attr-defined]
    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]


@pytest.fixture
def seed(db: None) -> SeedOffer:
    """The Level 3 offer as of 2000 with its cast, commenced June 9, 2000."""
    return build_seed_offer()


@pytest.fixture
def during_offer() -> dt.datetime:
    """An instant when the seed offer is open: Monday, June 26, 2000, 10:00 New York."""
    return ny(2000, 6, 26, 10, 0)


@pytest.fixture(autouse=True)
def _own_rate_limit_counters(settings: Any) -> None:
    """Rate-limit counters live in Redis and outlast a test: each test counts afresh."""
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {**settings.CACHES["ratelimit"], "KEY_PREFIX": f"tests-{uuid.uuid4().hex}"},
    }
