"""Benchmark: the exchange date for N synthetic valid tenders on PostgreSQL.

    .venv/bin/python bench/exchange_date.py --n 100000

Builds a throwaway database (test_<name> beside DATABASE_URL's, dropped afterwards),
loads N valid book-entry tenders, and times run_exchange_date: acceptance with its
new-note rows and history, dispatch, completion. Then it does the same work on a copy
of the same rows with plain set-based SQL (one statement per step, no chunks, no
locks beyond the statements' own), and the same outputs on a minimal schema (one table
per kind, a primary key and the one index the work needs: the shape of
shared/bench/minimal_acceptance.sql), and prints both ratios against their targets.
Not a test: it asserts nothing about time; it prints figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "exchange.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tender_desk_bench")

import django

django.setup()

from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from django.utils import timezone  # noqa: E402

from exchange.demo.synthetic import SYNTHETIC_ACTOR, synthetic_offer, synthetic_valid_tenders  # noqa: E402
from exchange.models import NewNoteDelivery, StateChange, Tender  # noqa: E402
from exchange.services.exchange_date import run_exchange_date  # noqa: E402
from exchange.services.offers import expire_offer  # noqa: E402
from exchange.terms import calendars  # noqa: E402
from holders.models import Holding  # noqa: E402

PLAIN_SQL = """
-- Acceptance and delivery as the desk does them (one write of each tender row): the
-- tender goes valid -> exchanged, its delivery is recorded delivered, and its history
-- reads accepted then exchanged.
WITH exchanged AS (
    UPDATE exchange_tender SET state = 'exchanged'
    WHERE offer_id = %(offer)s AND state = 'valid'
    RETURNING id, series_id, amount - withdrawn_amount AS live, channel, registered_names
), deliveries AS (
    INSERT INTO exchange_newnotedelivery
        (tender_id, series_id, amount, recipient_name, delivery_instructions, by_book_entry,
         recorded_at, delivered_at)
    SELECT id, series_id, live, registered_names, '', channel = 'book_entry', %(now)s, %(now)s
    FROM exchanged
)
INSERT INTO exchange_statechange
    (at, offer_id, content_type_id, object_id, action, from_state, to_state, actor_kind, actor_label, reason)
SELECT %(now)s, %(offer)s, %(ct)s, id, 'exchange.tender.accepted', 'valid', 'accepted', 'job', 'bench', ''
FROM exchanged
UNION ALL
SELECT %(now)s, %(offer)s, %(ct)s, id, 'exchange.tender.exchanged', 'accepted', 'exchanged', 'job', 'bench', ''
FROM exchanged;

-- The register (as exchange/services/register.py writes it): a new-notes holding per
-- exchanged tender, the participant's original position ended and its remainder
-- reissued, and a history row for each.
WITH new_notes AS (
    INSERT INTO holders_holding
        (holder_id, series_id, notes, form, certificate_number, amount, beneficial_owner,
         registered_name, issued_for_id, effective_from, effective_until, reissued_from_id)
    SELECT t.holder_id, t.series_id, 'new',
        CASE WHEN d.by_book_entry THEN 'dtc_position' ELSE 'certificate' END,
        CASE WHEN d.by_book_entry THEN '' ELSE 'NN-' || t.id END,
        d.amount, CASE WHEN d.by_book_entry THEN t.beneficial_owner ELSE '' END,
        d.recipient_name, t.id, %(day)s, NULL, NULL
    FROM exchange_tender t JOIN exchange_newnotedelivery d ON d.tender_id = t.id
    WHERE t.offer_id = %(offer)s AND t.state = 'exchanged'
    RETURNING id
)
INSERT INTO exchange_statechange
    (at, offer_id, content_type_id, object_id, action, from_state, to_state, actor_kind, actor_label, reason)
SELECT %(now)s, %(offer)s, %(holding_ct)s, id, 'exchange.holding.new_notes_issued', '', 'current', 'job', 'bench', ''
FROM new_notes;

WITH drawn AS (
    SELECT holder_id, series_id, sum(amount - withdrawn_amount) AS exchanged
    FROM exchange_tender
    WHERE offer_id = %(offer)s AND state = 'exchanged' AND channel = 'book_entry'
    GROUP BY holder_id, series_id
), ended AS (
    UPDATE holders_holding h SET effective_until = %(day)s
    FROM drawn
    WHERE h.holder_id = drawn.holder_id AND h.series_id = drawn.series_id
      AND h.form = 'dtc_position' AND h.notes = 'original' AND h.effective_until IS NULL
    RETURNING h.id, h.holder_id, h.series_id, h.amount - drawn.exchanged AS remainder,
        h.beneficial_owner, h.registered_name
), reissued AS (
    INSERT INTO holders_holding
        (holder_id, series_id, notes, form, certificate_number, amount, beneficial_owner,
         registered_name, issued_for_id, effective_from, effective_until, reissued_from_id)
    SELECT holder_id, series_id, 'original', 'dtc_position', '', remainder, beneficial_owner,
        registered_name, NULL, %(day)s, NULL, id
    FROM ended WHERE remainder > 0
    RETURNING id
)
INSERT INTO exchange_statechange
    (at, offer_id, content_type_id, object_id, action, from_state, to_state, actor_kind, actor_label, reason)
SELECT %(now)s, %(offer)s, %(holding_ct)s, id, 'exchange.holding.cancelled', 'current', 'cancelled', 'job', 'bench', ''
FROM ended
UNION ALL
SELECT %(now)s, %(offer)s, %(holding_ct)s, id, 'exchange.holding.reissued', '', 'current', 'job', 'bench', ''
FROM reissued;
"""


# The physical floor: the same outputs (a state change, a new-note row and a history row
# per valid tender) on a schema that has only what this work needs. 10% of the rows are
# withdrawn, as in the reference script, so the WHERE clause has something to skip.
MINIMAL_SCHEMA = """
DROP SCHEMA IF EXISTS bench_minimal CASCADE;
CREATE SCHEMA bench_minimal;
CREATE TABLE bench_minimal.tender (id bigserial PRIMARY KEY, holder_id int NOT NULL,
  series_id int NOT NULL, principal numeric(18,2) NOT NULL, status text NOT NULL,
  received_at timestamptz NOT NULL);
CREATE TABLE bench_minimal.issuance (id bigserial PRIMARY KEY,
  tender_id bigint NOT NULL UNIQUE REFERENCES bench_minimal.tender(id),
  principal numeric(18,2) NOT NULL, issued_at timestamptz NOT NULL);
CREATE TABLE bench_minimal.audit (id bigserial PRIMARY KEY, tender_id bigint NOT NULL,
  from_state text, to_state text, at timestamptz NOT NULL);
INSERT INTO bench_minimal.tender (holder_id, series_id, principal, status, received_at)
  SELECT g %% 5000, g %% 3, 1000 * (1 + g %% 500), 'valid', now()
  FROM generate_series(1, %(valid)s) g;
INSERT INTO bench_minimal.tender (holder_id, series_id, principal, status, received_at)
  SELECT g %% 5000, g %% 3, 1000 * (1 + g %% 500), 'withdrawn', now()
  FROM generate_series(1, %(withdrawn)s) g;
CREATE INDEX ON bench_minimal.tender(status);
ANALYZE bench_minimal.tender;
"""

MINIMAL_ACCEPTANCE = """
INSERT INTO bench_minimal.audit (tender_id, from_state, to_state, at)
  SELECT id, status, 'accepted', now() FROM bench_minimal.tender WHERE status = 'valid';
INSERT INTO bench_minimal.issuance (tender_id, principal, issued_at)
  SELECT id, principal, now() FROM bench_minimal.tender WHERE status = 'valid';
UPDATE bench_minimal.tender SET status = 'accepted' WHERE status = 'valid';
"""

TARGET_AGAINST_PLAIN = 2.0
TARGET_AGAINST_MINIMAL = 8.0


def minimal_baseline(valid: int) -> float:
    """Seconds for the minimal schema's acceptance of `valid` tenders (plus 10% withdrawn)."""
    rows = valid + valid // 9
    with connection.cursor() as cursor:
        cursor.execute(MINIMAL_SCHEMA, {"valid": valid, "withdrawn": valid // 9})
        cursor.execute("SELECT count(*) FROM bench_minimal.tender WHERE status = 'valid'")
        accepted_rows = cursor.fetchone()[0]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(MINIMAL_ACCEPTANCE)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_minimal.issuance")
        assert cursor.fetchone()[0] == accepted_rows
        cursor.execute("DROP SCHEMA bench_minimal CASCADE")
    print(f"  minimal schema ({accepted_rows:,} accepted of {rows:,}): {seconds:.2f} s")
    return seconds


def verdict(ratio: float, target: float) -> str:
    return "meets" if ratio <= target else "MISSES"


def build(slug: str, n: int) -> tuple[int, dt.datetime]:
    now = timezone.now()
    expiration = now - dt.timedelta(minutes=5)
    offer, series = synthetic_offer(
        slug, expiration=expiration, commenced=expiration - dt.timedelta(days=35)
    )
    synthetic_valid_tenders(offer, series, n, received_at=expiration - dt.timedelta(hours=1))
    expire_offer(offer.pk, actor=SYNTHETIC_ACTOR, now=expiration)
    offer.refresh_from_db()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return offer.pk, calendars.ny_instant(offer.exchange_date, dt.time(9, 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    print(f"Exchange-date benchmark: N = {args.n:,} tenders, PostgreSQL, {os.cpu_count()} cores")
    config = setup_databases(verbosity=0, interactive=False)
    try:
        started = time.perf_counter()
        offer_id, moment = build("bench-desk", args.n)
        plain_offer_id, plain_moment = build("bench-plain", args.n)
        print(f"  built 2 x {args.n:,} tenders in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        result = run_exchange_date(offer_id, actor=SYNTHETIC_ACTOR, now=moment)
        desk_seconds = time.perf_counter() - started
        assert result.completed and result.accepted == args.n, result.summary()
        history = StateChange.objects.filter(offer_id=offer_id).count()
        deliveries = NewNoteDelivery.objects.filter(tender__offer_id=offer_id).count()
        print(
            f"  desk (chunks of {os.environ.get('EXCHANGE_DATE_CHUNK_SIZE', '2000')}, locked, "
            f"with history): {desk_seconds:.2f} s — {args.n / desk_seconds:,.0f} tenders/s; "
            f"{deliveries:,} deliveries, {history:,} history rows"
        )

        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                PLAIN_SQL,
                {
                    "offer": plain_offer_id,
                    "now": plain_moment,
                    "ct": ContentType.objects.get_for_model(Tender).pk,
                    "holding_ct": ContentType.objects.get_for_model(Holding).pk,
                    "day": calendars.ny_date(plain_moment),
                },
            )
        plain_seconds = time.perf_counter() - started
        exchanged = Tender.objects.filter(offer_id=plain_offer_id, state="exchanged").count()
        assert exchanged == args.n, exchanged
        new_notes = Holding.objects.filter(notes="new", issued_for__offer_id=plain_offer_id)
        assert new_notes.count() == args.n, new_notes.count()
        print(f"  plain set-based SQL (same rows, same outputs): {plain_seconds:.2f} s")
        minimal_seconds = minimal_baseline(args.n)
        against_plain = desk_seconds / plain_seconds
        against_minimal = desk_seconds / minimal_seconds
        print(
            f"  ratio desk / plain SQL on the desk's schema: {against_plain:.2f}x "
            f"({verdict(against_plain, TARGET_AGAINST_PLAIN)} the target of at most "
            f"{TARGET_AGAINST_PLAIN:g}x)"
        )
        print(
            f"  ratio desk / minimal schema: {against_minimal:.2f}x "
            f"({verdict(against_minimal, TARGET_AGAINST_MINIMAL)} the target of at most "
            f"{TARGET_AGAINST_MINIMAL:g}x)"
        )
    finally:
        teardown_databases(config, verbosity=0)


if __name__ == "__main__":
    main()
