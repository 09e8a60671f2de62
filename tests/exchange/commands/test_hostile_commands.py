"""Hostile input to the operator commands: whatever text arrives, a command either does
what it says or stops with a message (CommandError), never a traceback, and a refusal
records nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange.models import OfferEvent, RegistrationEvent, StateChange
from tests.factories import SeedOffer

HOSTILE = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "2000-07-19",
            "2000-07-19 17:00",
            "2000-02-30 17:00",
            "2000-07-19 25:00",
            "2000-04-02 02:30",  # the spring gap
            "2000-10-29 01:30",  # the autumn fold
            "19/07/2000 17:00",
            "2000-07-19T17:00:00+00:00",
            "９９９９-07-19 17:00",
            "2000-07-19 17:00\x00",
            "0000-01-01 00:00",
            "9999-12-31 23:59",
            "-1",
            "1e6",
            "NaN",
            "level3-2000'; DROP TABLE exchange_tender; --",
            "\u202e2000-07-19",
        ]
    ),
)
RELAXED = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _counts() -> tuple[int, int, int]:
    return (
        StateChange.objects.count(),
        OfferEvent.objects.count(),
        RegistrationEvent.objects.count(),
    )


def _run(*args: str) -> bool:
    """True if the command ran; False if it refused with a CommandError."""
    try:
        call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
    except CommandError:
        return False
    return True


@pytest.mark.django_db
@RELAXED
@given(until=HOSTILE, as_of=HOSTILE)
def test_extend_offer(seed: SeedOffer, until: str, as_of: str) -> None:
    before = _counts()
    if not _run("extend_offer", "level3-2000", "--until", until, "--as-of", as_of):
        assert _counts() == before


@pytest.mark.django_db
@RELAXED
@given(offer=HOSTILE, kind=HOSTILE, day=HOSTILE)
def test_registration_event(seed: SeedOffer, offer: str, kind: str, day: str) -> None:
    before = _counts()
    if not _run("registration_event", offer, kind, day):
        assert _counts() == before


@pytest.mark.django_db
@RELAXED
@given(series=HOSTILE, day=HOSTILE)
def test_accreted_value(seed: SeedOffer, series: str, day: str) -> None:
    _run("accreted_value", series, day)


@pytest.mark.django_db
@RELAXED
@given(offer=HOSTILE, as_of=HOSTILE)
def test_reports(seed: SeedOffer, offer: str, as_of: str) -> None:
    before = _counts()
    _run("offer_status", offer, "--as-of", as_of)
    _run("tender_report", offer, "--as-of", as_of, "--format", "csv")
    _run("special_interest_report", offer, "--payment-date", as_of, "--format", "csv")
    assert _counts() == before


@pytest.mark.django_db
@RELAXED
@given(as_of=HOSTILE)
def test_run_jobs(seed: SeedOffer, as_of: str) -> None:
    before = _counts()
    if not _run("run_jobs", "--as-of", as_of):
        assert _counts() == before
