"""The exchange date refreshes the planner's statistics between acceptance and dispatch.

Acceptance moves every valid tender and adds a new-note delivery each; statistics gathered
before it say no tender is accepted and no delivery exists, and the dispatch's chunk
statements were then planned to read the whole (offer, state) index, or every delivery,
once per chunk (the exchange date took 50 s for 100,000 tenders instead of 23 s). What is
checked here is that the statistics describe the tables as the dispatch finds them, not
how long anything takes.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exchange.models import OfferState, TenderState
from exchange.services.exchange_date import run_exchange_date
from exchange.services.offers import expire_offer
from exchange.services.review import validate_tender
from tests.factories import CLERK, JOB, SeedOffer, book_entry_tender, ny

DURING = ny(2000, 6, 26, 10)
EXPIRATION = ny(2000, 7, 12, 17)
EXCHANGE_DAY = ny(2000, 7, 13, 9)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="planner statistics are PostgreSQL's"
)


def _state_statistics() -> list[str]:
    """The most common values of exchange_tender.state in the planner's statistics."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_vals::text::text[] FROM pg_stats "
            "WHERE schemaname = current_schema() AND tablename = 'exchange_tender' "
            "AND attname = 'state'"
        )
        row = cursor.fetchone()
    return list(row[0] or []) if row else []


def _delivery_rows_counted() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'exchange_newnotedelivery'")
        return float(cursor.fetchone()[0])


@pytest.fixture
def auto(seed: SeedOffer) -> SeedOffer:
    seed.offer.acceptance_automatic = True
    seed.offer.save(update_fields=["acceptance_automatic"])
    return seed


@pytest.mark.django_db
def test_statistics_are_gathered_after_acceptance_before_dispatch(auto: SeedOffer) -> None:
    for amount in ("10000000", "20000000", "30000000"):
        validate_tender(book_entry_tender(auto, DURING, amount=amount).pk, actor=CLERK, now=DURING)
    expire_offer(auto.offer.pk, actor=JOB, now=EXPIRATION)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE exchange_tender, exchange_newnotedelivery")
    assert TenderState.ACCEPTED not in _state_statistics()

    result = run_exchange_date(auto.offer.pk, actor=JOB, now=EXCHANGE_DAY)

    assert result.accepted == 3 and result.deliveries_dispatched == 3
    auto.offer.refresh_from_db()
    assert auto.offer.state == OfferState.COMPLETED
    # Every tender ends exchanged, so statistics that list them as accepted were gathered
    # after acceptance and before dispatch, which is when the dispatch is planned.
    assert TenderState.ACCEPTED in _state_statistics()
    assert _delivery_rows_counted() >= 3


@pytest.mark.django_db
def test_a_run_that_accepts_nothing_leaves_the_statistics_to_autovacuum(
    auto: SeedOffer,
) -> None:
    """The job runs on every tick while a withdrawal awaits a clerk: only a run that has
    moved tenders pays for a fresh sample."""
    expire_offer(auto.offer.pk, actor=JOB, now=EXPIRATION)
    with CaptureQueriesContext(connection) as queries:
        result = run_exchange_date(auto.offer.pk, actor=JOB, now=EXCHANGE_DAY)
    assert result.accepted == 0
    assert not [
        q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("ANALYZE")
    ]
