"""The agent's DTC position per CUSIP against the book-entry tenders: on demand
(`reconcile`), daily (the reconciliation job alerts), from a position report or a clerk."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import override_settings

from exchange.jobs.runner import run_job
from exchange.models import DtcPosition, DtcPositionSource, JobName, JobOutcome, StateChange
from exchange.selectors.atop import reconcile_positions
from exchange.services.atop import import_activity
from exchange.services.atop.positions import read_position_report, record_positions
from exchange.services.base import DeskError
from tests.exchange.services.test_atop import (
    CUSIP_2008,
    CUSIP_2010,
    HEADER,
    IMPORTED_AT,
    atop_seed,
    row,
)
from tests.factories import CLERK, SeedOffer, deliver_outbox, ny

__all__ = ["atop_seed"]

ACTIVITY = (
    row("R-1", "tender", "10000000", "2000-06-20T10:00:00")
    + row("R-2", "tender", "4000000", "2000-06-20T10:05:00")
    + row("R-W", "withdrawal", "4000000", "2000-06-21T10:00:00", original="R-2")
    + row("R-P", "protect", "2000000", "2000-06-21T11:00:00", cusip=CUSIP_2010)
)
AS_OF = ny(2000, 6, 22, 9, 0)


def _record(seed: SeedOffer, positions: dict[str, str]) -> None:
    record_positions(
        seed.offer.pk,
        {c: Decimal(q) for c, q in positions.items()},
        as_of=AS_OF,
        source=DtcPositionSource.POSITION_REPORT,
        actor=CLERK,
        now=AS_OF,
    )


@pytest.mark.django_db
def test_expected_is_pending_accepted_and_awaiting_return(atop_seed: SeedOffer) -> None:
    import_activity(
        atop_seed.offer.pk, file_name="a.csv", text=HEADER + ACTIVITY, actor=CLERK, now=AS_OF
    )
    assert reconcile_positions(atop_seed.offer) == []  # no position on record: nothing to compare
    _record(atop_seed, {CUSIP_2008: "14000000", CUSIP_2010: "0"})
    rows = {r.series.original_cusip: r for r in reconcile_positions(atop_seed.offer)}
    senior = rows[CUSIP_2008]
    # R-1 pending, R-2 withdrawn and its notes not yet credited back.
    assert (senior.pending, senior.accepted, senior.awaiting_return) == (
        Decimal("10000000"),
        Decimal("0"),
        Decimal("4000000"),
    )
    assert senior.balanced
    # The protect's notes are not in the account until covered.
    assert rows[CUSIP_2010].expected == 0 and rows[CUSIP_2010].balanced


@pytest.mark.django_db
def test_reconcile_fails_on_a_position_mismatch(atop_seed: SeedOffer) -> None:
    import_activity(
        atop_seed.offer.pk, file_name="a.csv", text=HEADER + ACTIVITY, actor=CLERK, now=AS_OF
    )
    _record(atop_seed, {CUSIP_2008: "14000000"})
    out = StringIO()
    call_command("reconcile", atop_seed.offer.slug, stdout=out)
    assert "balanced" in out.getvalue() and CUSIP_2008 in out.getvalue()
    _record(atop_seed, {CUSIP_2008: "13000000"})  # DTC shows $1,000,000 less
    with pytest.raises(
        CommandError, match=rf"DTC position {CUSIP_2008} \(difference -1,000,000.00\)"
    ):
        call_command("reconcile", atop_seed.offer.slug, stdout=StringIO())


@pytest.mark.django_db
def test_daily_reconciliation_alerts_on_a_position_mismatch(atop_seed: SeedOffer) -> None:
    import_activity(
        atop_seed.offer.pk, file_name="a.csv", text=HEADER + ACTIVITY, actor=CLERK, now=AS_OF
    )
    _record(atop_seed, {CUSIP_2008: "14000000"})
    done = run_job(JobName.RECONCILE, atop_seed.offer.pk, now=ny(2000, 6, 23, 1))
    assert done.outcome == JobOutcome.DONE and "DTC account" in done.detail
    _record(atop_seed, {CUSIP_2008: "15000000"})
    deliver_outbox()  # what is already due, so the mailbox then holds only the alert
    mail.outbox.clear()
    with override_settings(ADMINS=[("Operations", "ops@agent.example")]):
        alert = run_job(JobName.RECONCILE, atop_seed.offer.pk, now=ny(2000, 6, 24, 1))
    assert alert.outcome == JobOutcome.BLOCKED
    assert f"{CUSIP_2008}: 15,000,000.00 held, 14,000,000.00 expected MISMATCH" in alert.detail
    deliver_outbox()  # alerts go through the outbox like every notice
    assert mail.outbox and "ops@agent.example" in mail.outbox[0].to


@pytest.mark.django_db
def test_position_report_command_and_its_refusals(atop_seed: SeedOffer, tmp_path: Path) -> None:
    report = tmp_path / "positions.csv"
    report.write_text(f"cusip,quantity\n{CUSIP_2008},14000000.00\n{CUSIP_2010},0\n")
    out = StringIO()
    call_command(
        "record_dtc_positions",
        atop_seed.offer.slug,
        str(report),
        "--as-of",
        "2000-06-22 09:00",
        stdout=out,
    )
    assert DtcPosition.objects.count() == 2
    assert DtcPosition.objects.get(cusip=CUSIP_2008).as_of == AS_OF
    assert StateChange.objects.filter(action="exchange.dtc_position.recorded").count() == 2
    for text, message in (
        ("cusip,amount\nX,1\n", "cusip,quantity"),
        (f"cusip,quantity\n{CUSIP_2008},1.001\n", "dollars and cents"),
        (f"cusip,quantity\n{CUSIP_2008},-5\n", "dollars and cents"),
        (f"cusip,quantity\n{CUSIP_2008},1\n{CUSIP_2008},2\n", "listed twice"),
        ("cusip,quantity\nABC,1\n", "nine-character"),
        ("cusip,quantity\n", "lists no CUSIP"),
    ):
        with pytest.raises(DeskError, match=message):
            read_position_report(text)
    report.write_text("cusip,quantity\n999999ZZ9,1\n")
    with pytest.raises(CommandError, match="not a series"):
        call_command("record_dtc_positions", atop_seed.offer.slug, str(report), stdout=StringIO())
    assert DtcPosition.objects.count() == 2
    with pytest.raises(DeskError, match="still to come"):
        record_positions(
            atop_seed.offer.pk,
            {CUSIP_2008: Decimal("1")},
            as_of=IMPORTED_AT + dt.timedelta(seconds=1),
            source=DtcPositionSource.CLERK,
            actor=CLERK,
            now=IMPORTED_AT,
        )
