"""The lifecycle's operator commands replay what the admin does, with its rules and its
refusals: amend_offer, terminate_offer, offer_condition, registration_event --list/--void."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from exchange.models import (
    ConditionAssertion,
    ExchangeOffer,
    OfferEvent,
    OfferEventKind,
    OfferState,
    RegistrationEvent,
    RegistrationEventKind,
    SpecialInterestAccrual,
    StateChange,
)
from tests.exchange.special_interest.helpers import accrue, milestone
from tests.factories import SeedOffer, ny, staff_user


def _call(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _offer() -> ExchangeOffer:
    return ExchangeOffer.objects.get(slug="level3-2000")


@pytest.mark.django_db
def test_amend_offer_counts_from_the_notice_date(seed: SeedOffer) -> None:
    out = _call(
        "amend_offer",
        "level3-2000",
        "--notice-date",
        "2000-07-07",
        "--material",
        "--description",
        "Exchange ratio wording amended.",
        "--as-of",
        "2000-07-10 09:00",
    )
    assert "Expiration extended to 5:00 p.m. New York City time, Thursday, July 13, 2000" in out
    assert "Announcement drafted" in out
    assert _offer().expiration_at == ny(2000, 7, 13, 17)
    event = OfferEvent.objects.get(kind=OfferEventKind.MATERIAL_AMENDMENT)
    assert event.notice_on == dt.date(2000, 7, 7)
    assert event.actor_label == "operator (manage.py amend_offer)"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--notice-date", "2000-07-11", "--as-of", "2000-07-10 23:59"), "after today"),
        (("--notice-date", "July 7", "--as-of", "2000-07-10 09:00"), "YYYY-MM-DD"),
        (("--notice-date", "2000-07-07", "--as-of", "2000-07-12 17:00"), "expired"),
        (("--notice-date", "2000-07-07", "--user", "nobody"), "No user 'nobody'"),
    ],
)
def test_amend_offer_refusals(seed: SeedOffer, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        _call("amend_offer", "level3-2000", "--material", "--description", "X.", *args)
    assert _offer().expiration_at == ny(2000, 7, 12, 17)
    assert not OfferEvent.objects.filter(kind=OfferEventKind.MATERIAL_AMENDMENT).exists()


@pytest.mark.django_db
def test_a_clerk_cannot_record_the_issuers_decisions_by_command(seed: SeedOffer) -> None:
    staff_user("clerk-cmd", "Clerks")
    with pytest.raises(CommandError, match="may not record the issuer's decisions"):
        _call(
            "terminate_offer",
            "level3-2000",
            "--reason",
            "X.",
            "--user",
            "clerk-cmd",
            "--as-of",
            "2000-06-26 10:00",
        )
    staff_user("sup-cmd", "Supervisors")
    _call(
        "terminate_offer",
        "level3-2000",
        "--reason",
        "Issuer's decision.",
        "--user",
        "sup-cmd",
        "--as-of",
        "2000-06-26 10:00",
    )
    assert _offer().state == OfferState.TERMINATED
    assert OfferEvent.objects.get(kind=OfferEventKind.TERMINATED).actor_label == "sup-cmd"


@pytest.mark.django_db
def test_terminate_offer_after_expiration_needs_an_asserted_condition(seed: SeedOffer) -> None:
    with pytest.raises(CommandError, match="No condition is asserted"):
        _call(
            "terminate_offer",
            "level3-2000",
            "--reason",
            "Changed its mind.",
            "--as-of",
            "2000-07-12 17:00",
        )
    assert _offer().state == OfferState.OPEN
    out = _call(
        "offer_condition",
        "level3-2000",
        "assert",
        "adverse_change",
        "--description",
        "Material adverse change.",
        "--as-of",
        "2000-07-12 17:30",
    )
    assert "Held back now: 2008-senior" in out
    out = _call(
        "terminate_offer",
        "level3-2000",
        "--reason",
        "Material adverse change.",
        "--condition",
        "adverse_change",
        "--as-of",
        "2000-07-13 08:00",
    )
    assert "Terminated level3-2000" in out and "has terminated its offer" in out
    assert _offer().state == OfferState.TERMINATED


@pytest.mark.django_db
def test_offer_condition_for_named_series_and_waiver_in_part(seed: SeedOffer) -> None:
    _call(
        "offer_condition",
        "level3-2000",
        "assert",
        "proceeding",
        "--series",
        "2010-senior",
        "--series",
        "2010-senior-discount",
        "--description",
        "Suit filed.",
        "--as-of",
        "2000-06-26 10:00",
    )
    assert set(
        ConditionAssertion.objects.filter(waived_at__isnull=True).values_list(
            "series__slug", flat=True
        )
    ) == {"2010-senior", "2010-senior-discount"}
    out = _call(
        "offer_condition",
        "level3-2000",
        "waive",
        "proceeding",
        "--series",
        "2010-senior",
        "--notice-date",
        "2000-06-26",
        "--as-of",
        "2000-06-26 11:00",
    )
    assert "Held back now: 2010-senior-discount" in out
    with pytest.raises(CommandError, match="No series 2012-senior"):
        _call(
            "offer_condition",
            "level3-2000",
            "assert",
            "law",
            "--series",
            "2012-senior",
            "--description",
            "X.",
            "--as-of",
            "2000-06-26 12:00",
        )


@pytest.mark.django_db
def test_registration_event_list_and_void_the_ledger_follows(seed: SeedOffer) -> None:
    # Filing recorded as June 2 (after the May 29 deadline: a default from May 30); it was in
    # fact filed May 25.
    wrong = milestone(seed, RegistrationEventKind.EXCHANGE_FILED, dt.date(2000, 6, 2))
    milestone(seed, RegistrationEventKind.EXCHANGE_EFFECTIVE, dt.date(2000, 6, 9))
    accrue(seed, dt.date(2000, 6, 30))
    assert SpecialInterestAccrual.objects.filter(offer=seed.offer).count() == 9

    with pytest.raises(CommandError, match="Say why"):
        _call("registration_event", "level3-2000", "--void", str(wrong.pk))
    with pytest.raises(CommandError, match="No milestone 999999"):
        _call("registration_event", "level3-2000", "--void", "999999", "--reason", "x")
    _call(
        "registration_event",
        "level3-2000",
        "exchange_filed",
        "2000-05-25",
        "--as-of",
        "2000-07-01 09:00",
    )
    out = _call(
        "registration_event",
        "level3-2000",
        "--void",
        str(wrong.pk),
        "--reason",
        "Filed May 25, not June 2 (EDGAR receipt).",
        "--as-of",
        "2000-07-01 09:05",
    )
    assert "Voided for level3-2000" in out
    assert "Ledger brought in line through 2000-06-30" in out
    # Never deleted: kept, marked, with who and why; the ledger follows what stands.
    kept = RegistrationEvent.all_objects.get(pk=wrong.pk)
    assert kept.voided_at == ny(2000, 7, 1, 9, 5)
    assert not RegistrationEvent.objects.filter(pk=wrong.pk).exists()
    assert SpecialInterestAccrual.objects.filter(offer=seed.offer).count() == 0
    assert StateChange.objects.filter(action="exchange.registration.voided").count() == 1
    listing = _call("registration_event", "level3-2000", "--list")
    assert f"{wrong.pk:>6}  2000-06-02" in listing and "VOIDED" in listing
    assert "Filed May 25, not June 2" in listing
    with pytest.raises(CommandError, match="already voided"):
        _call(
            "registration_event",
            "level3-2000",
            "--void",
            str(wrong.pk),
            "--reason",
            "Again.",
            "--as-of",
            "2000-07-01 09:10",
        )


@pytest.mark.django_db
def test_a_milestone_another_rests_on_cannot_be_voided_first(seed: SeedOffer) -> None:
    milestone(seed, RegistrationEventKind.EXCHANGE_FILED, dt.date(2000, 5, 25))
    effective = milestone(seed, RegistrationEventKind.EXCHANGE_EFFECTIVE, dt.date(2000, 6, 9))
    milestone(seed, RegistrationEventKind.CEASED_USABLE, dt.date(2000, 6, 20))
    with pytest.raises(CommandError, match="rests on this one"):
        _call(
            "registration_event",
            "level3-2000",
            "--void",
            str(effective.pk),
            "--reason",
            "Wrong day.",
            "--as-of",
            "2000-07-01 09:00",
        )
    assert RegistrationEvent.objects.filter(pk=effective.pk).exists()


@pytest.mark.django_db
def test_registration_event_modes_are_exclusive(seed: SeedOffer) -> None:
    with pytest.raises(CommandError, match="either KIND DATE"):
        _call("registration_event", "level3-2000", "exchange_filed", "2000-05-25", "--list")
    with pytest.raises(CommandError, match="either KIND DATE"):
        _call("registration_event", "level3-2000")
