"""Benchmark: the special-interest payment report for N holders of record on PostgreSQL.

    .venv/bin/python bench/payment_schedule.py --holders 100000

Builds a throwaway database (test_<name> beside DATABASE_URL's, dropped afterwards) with
the Level 3 offer's three series (issued 2000-02-29, the discount notes at 533.08 per
$1,000 accreting at 12.875% to 2005-03-15), N holders of record spread over the series
(about a third without a certified TIN, so backup withholding applies; some with a
second position, some with a position transferred before the record date), milestones
that make a registration default (the exchange registration statement filed late, on
2000-06-02, then effective 2000-06-09 and the exchange completed 2000-07-13), and the
ledger accrued through 2000-09-14. Then it times the report payable 2000-09-15 (holders
of record on 2000-09-01): `special_interest_report --format csv` as an operator runs it,
and its parts. Not a test: it asserts nothing about time; it prints figures (the issue's
target is under 10 seconds for 100,000 holders).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "exchange.settings")
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tender_desk_bench_payments"
)

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_databases,
    teardown_databases,
)
from django.utils import timezone  # noqa: E402

from exchange.management.commands.seed_offer import (  # noqa: E402
    COMMENCED_AT,
    EXPIRATION_AT,
    ORIGINAL_ISSUE_DATE,
    PROSPECTUS_DATE,
    REGISTRATION_AGREEMENT_DATE,
    SERIES,
)
from exchange.models import (  # noqa: E402
    ActorKind,
    ExchangeOffer,
    Issuer,
    NoteSeries,
    RegistrationEventKind,
    SpecialInterestAccrual,
)
from exchange.services.base import Actor  # noqa: E402
from exchange.services.registration import record_registration_event  # noqa: E402
from exchange.special_interest.accrual import accrue_special_interest  # noqa: E402
from exchange.special_interest.payments import (  # noqa: E402
    build_payment_report,
    report_csv,
    report_table,
)
from exchange.terms import calendars  # noqa: E402
from holders.models import Holder, HolderKind, Holding, HoldingForm, TinStatus  # noqa: E402

OFFER_SLUG = "level3-2000"
PAYMENT_DATE = dt.date(2000, 9, 15)
RECORD_DATE = dt.date(2000, 9, 1)
ACCRUE_THROUGH = PAYMENT_DATE - dt.timedelta(days=1)
MILESTONES = (
    (RegistrationEventKind.EXCHANGE_FILED, dt.date(2000, 6, 2)),  # filing deadline 2000-05-29
    (RegistrationEventKind.EXCHANGE_EFFECTIVE, dt.date(2000, 6, 9)),
    (RegistrationEventKind.EXCHANGE_COMPLETED, dt.date(2000, 7, 13)),
)
ACTOR = Actor(kind=ActorKind.CLERK, label="bench")
BATCH = 5000
RUNS = 3
T = TypeVar("T")


def build_offer() -> tuple[ExchangeOffer, list[NoteSeries]]:
    """The Level 3 offer of 2000 and its three series, as seed_offer loads them (no demo
    cast, no tenders: the report reads holdings and the ledger only)."""
    issuer = Issuer.objects.create(name="Level 3 Communications, Inc.")
    expiration = calendars.ny_instant(*EXPIRATION_AT)
    offer = ExchangeOffer.objects.create(
        issuer=issuer,
        slug=OFFER_SLUG,
        name="Level 3 Communications — exchange offer of June 9, 2000",
        exchange_agent="The Bank of New York",
        prospectus_date=PROSPECTUS_DATE,
        registration_agreement_date=REGISTRATION_AGREEMENT_DATE,
        original_issue_date=ORIGINAL_ISSUE_DATE,
        initial_expiration_at=expiration,
        expiration_at=expiration,
        commenced_at=calendars.ny_instant(*COMMENCED_AT),
    )
    series = []
    for spec in SERIES:
        values = dict(spec)
        series.append(
            NoteSeries.objects.create(
                offer=offer,
                issue_date=ORIGINAL_ISSUE_DATE,
                interest_payment_dates="03-15,09-15",
                record_dates="03-01,09-01",
                denomination=Decimal("1000.00"),
                **values,
            )
        )
    return offer, series


def tin_status(i: int) -> str:
    """A third not certified (backup withholding), a few exempt, the rest certified."""
    if i % 3 == 0:
        return TinStatus.NOT_CERTIFIED
    return TinStatus.EXEMPT if i % 50 == 1 else TinStatus.CERTIFIED


def holdings_of(i: int, holder: Holder, series: list[NoteSeries]) -> list[Holding]:
    """Holder i's positions: one in series i % 3; every 10th a second position in the same
    series (the report sums them); every 7th one in the next series too; every 25th a
    position transferred away before the record date (not of record) and every 40th one
    acquired after it (not of record either)."""
    own = series[i % 3]
    amount = Decimal(1000 * (1 + i % 250))
    rows = [
        Holding(
            holder=holder,
            series=own,
            form=HoldingForm.CERTIFICATE,
            certificate_number=f"C{i:07d}-A",
            amount=amount,
            effective_from=ORIGINAL_ISSUE_DATE,
        )
    ]
    if i % 10 == 0:
        rows.append(
            Holding(
                holder=holder,
                series=own,
                form=HoldingForm.CERTIFICATE,
                certificate_number=f"C{i:07d}-B",
                amount=Decimal(5000),
                effective_from=dt.date(2000, 4, 3),
            )
        )
    if i % 7 == 0:
        rows.append(
            Holding(
                holder=holder,
                series=series[(i + 1) % 3],
                form=HoldingForm.CERTIFICATE,
                certificate_number=f"C{i:07d}-C",
                amount=Decimal(1000 * (1 + i % 40)),
                effective_from=ORIGINAL_ISSUE_DATE,
            )
        )
    if i % 25 == 0:
        rows.append(
            Holding(
                holder=holder,
                series=own,
                form=HoldingForm.CERTIFICATE,
                certificate_number=f"C{i:07d}-T",
                amount=Decimal(2000),
                effective_from=ORIGINAL_ISSUE_DATE,
                effective_until=dt.date(2000, 8, 15),
            )
        )
    if i % 40 == 0:
        rows.append(
            Holding(
                holder=holder,
                series=own,
                form=HoldingForm.CERTIFICATE,
                certificate_number=f"C{i:07d}-L",
                amount=Decimal(3000),
                effective_from=dt.date(2000, 9, 5),
            )
        )
    return rows


def build_holders(n: int, series: list[NoteSeries]) -> int:
    made = 0
    for start in range(0, n, BATCH):
        stop = min(n, start + BATCH)
        holders = Holder.objects.bulk_create(
            Holder(
                kind=HolderKind.REGISTERED_HOLDER,
                name=f"Holder {i:07d}",
                address=f"{i} Bench Street\nNew York, NY 10004",
                tin_status=tin_status(i),
            )
            for i in range(start, stop)
        )
        holdings = [
            row
            for i, holder in zip(range(start, stop), holders, strict=True)
            for row in holdings_of(i, holder, series)
        ]
        Holding.objects.bulk_create(holdings)
        made += len(holdings)
    return made


def timed(what: Callable[[], T], runs: int = RUNS) -> tuple[float, int, T]:
    """(median seconds over `runs`, queries of one run, the result)."""
    seconds = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = what()
            seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), len(queries), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--holders", type=int, default=100_000)
    args = parser.parse_args()
    print(
        f"Special-interest payment report benchmark: {args.holders:,} holders, PostgreSQL, "
        f"{os.cpu_count()} cores"
    )
    config = setup_databases(verbosity=0, interactive=False)
    try:
        now = timezone.now()
        started = time.perf_counter()
        offer, series = build_offer()
        holdings = build_holders(args.holders, series)
        built = time.perf_counter() - started
        print(f"  built {args.holders:,} holders, {holdings:,} holdings in {built:.1f} s")

        started = time.perf_counter()
        for kind, on in MILESTONES:
            record_registration_event(offer.pk, kind=kind, occurred_on=on, actor=ACTOR, now=now)
        accrued = accrue_special_interest(
            offer.pk, through=ACCRUE_THROUGH, actor=Actor.job("bench"), now=now
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        ledger = SpecialInterestAccrual.objects.filter(offer=offer).count()
        print(
            f"  milestones, accrual and ANALYZE in {time.perf_counter() - started:.1f} s: "
            f"{accrued.summary()}; {ledger} ledger rows"
        )

        def command() -> str:
            out = io.StringIO()
            call_command(
                "special_interest_report",
                OFFER_SLUG,
                "--payment-date",
                PAYMENT_DATE.isoformat(),
                "--format",
                "csv",
                stdout=out,
            )
            return out.getvalue()

        # One warm-up, so the figures are of a running process, not of the first import.
        command()
        seconds, queries, text = timed(command)
        lines = text.splitlines()
        rows = len(lines) - 1  # less the header
        report = build_payment_report(offer, PAYMENT_DATE)
        gross = sum((p.gross for p in report.payments), Decimal(0))
        withheld = sum((p.withholding for p in report.payments), Decimal(0))
        print(
            f"  special_interest_report --format csv ({RUNS} runs, median): {seconds:.2f} s, "
            f"{queries} queries — {rows:,} rows printed, {rows / seconds:,.0f} rows/s"
        )
        print(f"    total gross ${gross:,.2f}, backup withholding ${withheld:,.2f}")
        for section in report.sections:
            accrual = section.accrual
            print(
                f"    {section.series.slug}: {len(section.payments):,} holders of record on "
                f"{accrual.period.record_date}, {accrual.days} days at "
                f"{accrual.rate_steps_text}, gross ${section.total_gross:,.2f}"
            )

        seconds, queries, report = timed(lambda: build_payment_report(offer, PAYMENT_DATE))
        print(f"    build_payment_report: {seconds:.2f} s, {queries} queries")
        seconds, _, _ = timed(lambda: report_csv(report))
        print(f"    report_csv (no database): {seconds:.2f} s")
        seconds, _, table = timed(lambda: report_table(report))
        print(f"    report_table (no database): {seconds:.2f} s, {len(table.splitlines()):,} lines")
        print("  target (the issue): the command under 10 s for 100,000 holders")
    finally:
        teardown_databases(config, verbosity=0)


if __name__ == "__main__":
    main()
