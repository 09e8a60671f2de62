"""Benchmark: import a DTC ATOP activity file of N instructions on PostgreSQL.

    .venv/bin/python bench/atop_import.py --n 50000

Builds a throwaway database (test_<name> beside DATABASE_URL's, dropped afterwards),
loads the seed offer (historical dates) and 200 DTC participants with positions in the
three series, writes an activity file of N lines and times `import_atop` on it as an
operator runs it: 95% tenders and 5% exceptions (unknown CUSIP, participant unknown to
the register, not a multiple of $1,000, no Agent's Message, late, above the position);
`--withdrawals 0.01` turns 1% of the tenders into withdrawals of earlier ones. Then it imports the same file again (every VOI already
recorded). Not a test: it asserts nothing about time; it prints figures (the issue's
target: under 15 seconds for 50,000 instructions).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "exchange.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tender_desk_bench_atop")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from exchange.models import (  # noqa: E402
    AtopException,
    AtopInstruction,
    ExchangeOffer,
    StateChange,
    Tender,
)
from exchange.services.atop import COLUMNS  # noqa: E402
from holders.models import Holder, HolderKind, Holding, HoldingForm, TinStatus  # noqa: E402

PARTICIPANTS = 200
POSITION = Decimal("1000000000")  # each participant's position in each series


def build() -> tuple[ExchangeOffer, list[str]]:
    call_command("seed_offer", stdout=io.StringIO())
    offer = ExchangeOffer.objects.get(slug="level3-2000")
    numbers = [f"{5000 + n}" for n in range(PARTICIPANTS)]
    holders = Holder.objects.bulk_create(
        Holder(
            kind=HolderKind.DTC_PARTICIPANT,
            name=f"Participant {number} Securities",
            address="1 Water Street\nNew York, NY",
            dtc_participant_number=number,
            tin_status=TinStatus.CERTIFIED,
        )
        for number in numbers
    )
    Holding.objects.bulk_create(
        Holding(
            holder=holder,
            series=series,
            form=HoldingForm.DTC_POSITION,
            amount=POSITION,
            beneficial_owner="Omnibus",
            effective_from=dt.date(2000, 2, 29),
        )
        for holder in holders
        for series in offer.series.all()
    )
    return offer, [s.original_cusip for s in offer.series.order_by("slug")]


def activity(n: int, numbers: list[str], cusips: list[str], withdrawals: float) -> str:
    rng = random.Random(20000712)
    out = io.StringIO()
    out.write(",".join(COLUMNS) + "\n")
    start = dt.datetime(2000, 6, 12, 9, 0)  # noqa: DTZ001 (New York wall-clock, as DTC writes it)
    tenders: list[tuple[str, str, str, int]] = []
    for i in range(n):
        voi = f"V{i:08d}"
        number = rng.choice(numbers)
        cusip = rng.choice(cusips)
        at = start + dt.timedelta(seconds=i * 2_000_000 // n)
        quantity = rng.randint(1, 500) * 1000
        kind, message, original = "tender", "Y", ""
        roll = rng.random()
        if roll < 0.05:
            fault = i % 6
            if fault == 0:
                cusip = "999999ZZ9"
            elif fault == 1:
                number = "0001"
            elif fault == 2:
                quantity += 500
            elif fault == 3:
                message = "N"
            elif fault == 4:
                at = dt.datetime(2000, 7, 12, 17, 0, 1)  # noqa: DTZ001
            else:
                quantity = int(POSITION) + 1000
        elif roll < 0.05 + withdrawals and tenders:
            voi_of, number, cusip, amount = tenders.pop(rng.randrange(len(tenders)))
            kind, original, quantity = "withdrawal", voi_of, amount
        else:
            tenders.append((voi, number, cusip, quantity))
        out.write(
            f"{number},Participant {number},{voi},{cusip},{quantity}.00,{kind},"
            f"{at:%Y-%m-%dT%H:%M:%S},{message},{original},Client {i % 997}\n"
        )
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument(
        "--withdrawals",
        type=float,
        default=0.0,
        help="share of lines that withdraw an earlier tender (each goes line by line)",
    )
    args = parser.parse_args()
    print(
        f"ATOP import of {args.n:,} instructions ({args.withdrawals:.1%} withdrawals) on "
        f"PostgreSQL, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    config = setup_databases(verbosity=0, interactive=False)
    try:
        offer, cusips = build()
        numbers = list(
            Holder.objects.filter(kind=HolderKind.DTC_PARTICIPANT)
            .exclude(dtc_participant_number="0901")
            .values_list("dtc_participant_number", flat=True)
        )
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "activity.csv"
            path.write_text(activity(args.n, numbers, cusips, args.withdrawals))
            for label in ("first import", "same file again"):
                history_before = StateChange.objects.count()
                started = time.perf_counter()
                out = io.StringIO()
                call_command("import_atop", offer.slug, str(path), stdout=out)
                elapsed = time.perf_counter() - started
                print(f"  {label}: {elapsed:.2f} s ({args.n / elapsed:,.0f} lines/s)")
                print("    " + out.getvalue().splitlines()[0])
                print(f"    history rows written: {StateChange.objects.count() - history_before:,}")
        print(
            f"  totals: {Tender.objects.filter(offer=offer).count():,} tenders, "
            f"{AtopInstruction.objects.count():,} instructions, "
            f"{AtopException.objects.count():,} exceptions"
        )
    finally:
        teardown_databases(config, verbosity=0)


if __name__ == "__main__":
    main()
