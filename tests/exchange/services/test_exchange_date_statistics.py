"""The exchange date writes each tender once, and reads each chunk by its keys.

Acceptance and delivery used to be two passes over the table: every valid tender was
updated to accepted, then found again and updated to exchanged, and the second pass was
planned on statistics gathered before the first (the exchange date took 50 s for 100,000
tenders until an ANALYZE was run between them). One pass per chunk writes each row once,
still recording valid → accepted → exchanged in its history. What is checked here is the
shape of the work, not how long anything takes.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from exchange.demo.synthetic import synthetic_offer, synthetic_valid_tenders
from exchange.models import NewNoteDelivery, OfferState, StateChange, Tender, TenderState
from exchange.services.base import chunk_key_condition
from exchange.services.exchange_date import run_exchange_date
from exchange.services.offers import expire_offer
from exchange.services.review import validate_tender
from tests.factories import CLERK, JOB, SeedOffer, book_entry_tender, ny

DURING = ny(2000, 6, 26, 10)
# A chunk small beside the offer, as 2,000 is beside 100,000 on the exchange date.
STALE_TENDERS = 6000
CHUNK = 200
EXPIRATION = ny(2000, 7, 12, 17)
EXCHANGE_DAY = ny(2000, 7, 13, 9)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="planner statistics are PostgreSQL's"
)


@pytest.fixture
def auto(seed: SeedOffer) -> SeedOffer:
    seed.offer.acceptance_automatic = True
    seed.offer.save(update_fields=["acceptance_automatic"])
    return seed


@pytest.mark.django_db
@override_settings(EXCHANGE_DATE_CHUNK_SIZE=2)
def test_each_tender_is_written_once_and_its_history_reads_accepted_then_exchanged(
    auto: SeedOffer,
) -> None:
    tenders = [
        book_entry_tender(auto, DURING, amount=amount)
        for amount in ("10000000", "20000000", "30000000")
    ]
    for tender in tenders:
        validate_tender(tender.pk, actor=CLERK, now=DURING)
    expire_offer(auto.offer.pk, actor=JOB, now=EXPIRATION)

    with CaptureQueriesContext(connection) as queries:
        result = run_exchange_date(auto.offer.pk, actor=JOB, now=EXCHANGE_DAY)

    assert result.accepted == 3 and result.deliveries_dispatched == 3
    auto.offer.refresh_from_db()
    assert auto.offer.state == OfferState.COMPLETED
    # Two chunks of valid tenders, one UPDATE of exchange_tender each: no second pass.
    tender_updates = [
        q["sql"]
        for q in queries.captured_queries
        if re.search(r"\bUPDATE\s+\"?exchange_tender\"?\s+SET\b", q["sql"])
    ]
    assert len(tender_updates) == 2
    for tender in tenders:
        steps = list(
            StateChange.objects.filter(
                content_type=ContentType.objects.get_for_model(Tender), object_id=tender.pk
            )
            .filter(action__in=["exchange.tender.accepted", "exchange.tender.exchanged"])
            .order_by("id")
            .values_list("action", "from_state", "to_state", "at", "actor_label")
        )
        assert steps == [
            ("exchange.tender.accepted", "valid", "accepted", EXCHANGE_DAY, JOB.label),
            ("exchange.tender.exchanged", "accepted", "exchanged", EXCHANGE_DAY, JOB.label),
        ]
        delivery = NewNoteDelivery.objects.get(tender=tender)
        assert delivery.recorded_at == delivery.delivered_at == EXCHANGE_DAY
        assert delivery.amount == tender.amount


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


def _scans(plan: dict) -> list[tuple[str, str]]:
    """(node type, index name) of every scan in an EXPLAIN (FORMAT JSON) plan tree."""
    found = []
    if "Scan" in plan["Node Type"]:
        found.append((plan["Node Type"], plan.get("Index Name", "")))
    for child in plan.get("Plans", []):
        found.extend(_scans(child))
    return found


@pytest.mark.django_db
def test_a_chunk_is_read_by_its_keys_even_on_statistics_from_before_the_step() -> None:
    """Statistics gathered while every tender was valid, then every tender accepted: the
    dispatch's guarded UPDATE still reads the chunk from the primary key, not the whole
    (offer, state) index it would choose for `id = ANY(keys)` on those statistics."""
    expiration = ny(2000, 7, 12, 17)
    offer, series = synthetic_offer(
        "stale-statistics", expiration=expiration, commenced=expiration - dt.timedelta(days=35)
    )
    synthetic_valid_tenders(offer, series, STALE_TENDERS, received_at=DURING)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE exchange_tender")
        cursor.execute(
            "UPDATE exchange_tender SET state = %s WHERE offer_id = %s",
            [TenderState.ACCEPTED, offer.pk],
        )
    ids = list(
        Tender.objects.filter(offer=offer)
        .order_by("id")
        .values_list("id", flat=True)[CHUNK : 2 * CHUNK]
    )
    keys, params = chunk_key_condition(ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN (FORMAT JSON) UPDATE exchange_tender SET state = %s "
            f"WHERE {keys} AND state = %s RETURNING id",
            [TenderState.EXCHANGED, *params, TenderState.ACCEPTED],
        )
        raw = cursor.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    assert [index for _, index in _scans(plan)] == ["exchange_tender_pkey"]


def test_scattered_keys_are_still_found_one_by_one() -> None:
    assert chunk_key_condition([1, 2, 3]) == (
        "id BETWEEN %s AND %s AND id + 0 = ANY(%s)",
        [1, 3, [1, 2, 3]],
    )
    assert chunk_key_condition([1, 500, 9000]) == ("id = ANY(%s)", [[1, 500, 9000]])
