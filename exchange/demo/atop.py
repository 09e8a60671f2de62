"""The demo's ATOP activity: two overlapping files, loaded through the import itself.

The files are historical (June 2000, the seed's dates); a --live demo shifts their DTC
timestamps with the offer (a week further back, so none is in the future). Together they carry every instruction type (tender,
withdrawal, protect, cover) and every exception the queue knows: unknown CUSIP,
participant unknown to the register, quantity above the position, not a multiple of
$1,000 (at maturity, the discount notes), withdrawal of an unknown VOI, missing Agent's
Message, late instruction, and a VOI seen again with other content; the second file
repeats a line of the first, which records nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from exchange.models import ActorKind, ExchangeOffer
from exchange.services.atop import ImportSummary, import_activity
from exchange.services.base import Actor

SAMPLES = Path(__file__).with_name("atop")
ACTIVITY_FILES = ("activity-2000-06-19.csv", "activity-2000-06-20.csv")


def shifted(text: str, shift: dt.timedelta) -> str:
    """The file with each DTC timestamp moved by `shift` (whole days keep New York times)."""
    if not shift:
        return text
    rows = list(csv.DictReader(io.StringIO(text)))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        moment = dt.datetime.fromisoformat(row["dtc_timestamp"])
        row["dtc_timestamp"] = (moment + shift).isoformat()
        writer.writerow(row)
    return out.getvalue()


def live_file_shift(shift: dt.timedelta) -> dt.timedelta:
    """A live demo's "today" is two weeks into the offer, give or take half a week: a week
    further back, the files' days (June 16-20, 2000) are all past, still after commencement."""
    return shift - dt.timedelta(days=7) if shift else shift


def load_demo_atop(offer: ExchangeOffer, *, shift: dt.timedelta, now: dt.datetime) -> ImportSummary:
    """Import the sample files as the desk's clerk would; idempotent like any import."""
    total = ImportSummary()
    actor = Actor(kind=ActorKind.CLERK, label="seed_offer (demo ATOP activity)")
    moved = live_file_shift(shift)
    for name in ACTIVITY_FILES:
        summary = import_activity(
            offer.pk,
            file_name=name,
            text=shifted((SAMPLES / name).read_text(), moved),
            actor=actor,
            now=now,
        )
        total.lines += summary.lines
        total.new_tenders += summary.new_tenders
        total.withdrawals += summary.withdrawals
        total.protects += summary.protects
        total.covers += summary.covers
        total.already_recorded += summary.already_recorded
        total.exceptions += summary.exceptions
    return total
