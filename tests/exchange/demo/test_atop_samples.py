"""The demo's ATOP sample files exercise every instruction type and every exception."""

from __future__ import annotations

import datetime as dt

import pytest

from exchange.demo.atop import ACTIVITY_FILES, SAMPLES, load_demo_atop, shifted
from exchange.models import AtopException, AtopExceptionKind, AtopInstruction, AtopInstructionKind
from tests.exchange.services.test_atop import IMPORTED_AT
from tests.factories import SeedOffer


@pytest.fixture
def demo_cusips(seed: SeedOffer) -> SeedOffer:
    for series, cusip in (
        (seed.senior_2008, "52729NAA8"),
        (seed.senior_2010, "52729NAB6"),
        (seed.discount_2010, "52729NAC4"),
    ):
        series.original_cusip = cusip
        series.save(update_fields=["original_cusip"])
    return seed


@pytest.mark.django_db
def test_samples_carry_every_type_and_every_exception_and_reload_idempotently(
    demo_cusips: SeedOffer,
) -> None:
    summary = load_demo_atop(demo_cusips.offer, shift=dt.timedelta(0), now=IMPORTED_AT)
    assert min(summary.new_tenders, summary.withdrawals, summary.protects, summary.covers) >= 1
    applied = set(AtopInstruction.objects.filter(outcome="applied").values_list("kind", flat=True))
    assert applied == set(AtopInstructionKind.values)
    raised = set(AtopException.objects.values_list("kind", flat=True))
    expected = set(AtopExceptionKind.values) - {
        AtopExceptionKind.UNREADABLE,
        AtopExceptionKind.REFUSED,
    }
    assert expected <= raised
    assert summary.already_recorded == 1  # the second file repeats a line of the first
    again = load_demo_atop(demo_cusips.offer, shift=dt.timedelta(0), now=IMPORTED_AT)
    assert again.exceptions == [] and again.new_tenders == 0
    assert again.already_recorded == again.lines


def test_shifting_moves_every_timestamp_by_whole_days() -> None:
    text = (SAMPLES / ACTIVITY_FILES[0]).read_text()
    moved = shifted(text, dt.timedelta(days=7))
    assert "2000-06-23T10:02:11" in moved and "2000-06-16T10:02:11" not in moved
    assert moved.count("\n") == text.count("\n")


def test_a_live_demo_moves_the_samples_into_its_past_after_commencement() -> None:
    """Whatever day the demo starts, the files' times (but the deliberately late line) fall
    after the moved commencement and before that day: none is refused as in the future."""
    import csv
    import io

    from exchange.demo.atop import live_file_shift
    from exchange.management.commands.seed_offer import COMMENCED_AT, live_shift_days

    for offset in range(0, 60):
        today = dt.date(2026, 1, 1) + dt.timedelta(days=offset)
        shift = dt.timedelta(days=live_shift_days(today))
        commenced = dt.datetime.combine(*COMMENCED_AT) + shift
        for name in ACTIVITY_FILES:
            text = shifted((SAMPLES / name).read_text(), live_file_shift(shift))
            for row in csv.DictReader(io.StringIO(text)):
                moment = dt.datetime.fromisoformat(row["dtc_timestamp"])
                if row["voi_number"] == "V2000061912":  # the late line
                    continue
                assert commenced < moment < dt.datetime.combine(today, dt.time(0)), (today, row)
