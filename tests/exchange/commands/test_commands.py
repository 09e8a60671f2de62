"""The operator commands: offer_status, extend_offer, accreted_value, seed_offer."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from exchange.models import (
    ExchangeOffer,
    NoteSeries,
    OfferEvent,
    OfferEventKind,
    OfferState,
    StateChange,
)
from exchange.services.offers import extend_offer
from exchange.services.withdrawals import NoticeOfWithdrawal, receive_withdrawal
from holders.models import Holder, Holding
from tests.factories import CLERK, SUPERVISOR, SeedOffer, book_entry_tender, ny, paper_tender


def _call(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _row(output: str, series_name: str) -> list[str]:
    [line] = [line for line in output.splitlines() if line.startswith(series_name)]
    return line[len(series_name) :].split()


# --- offer_status ------------------------------------------------------------------------


@pytest.fixture
def tendered(seed: SeedOffer) -> SeedOffer:
    """Tenders before and after Monday 2000-06-26 10:00 New York."""
    paper_tender(seed, ny(2000, 6, 20, 11, 0))  # 5,000,000 of the 2008 notes (R08-0001)
    dtc = book_entry_tender(seed, ny(2000, 6, 21, 14, 0), amount="10000000")
    receive_withdrawal(
        dtc.pk,
        notice=NoticeOfWithdrawal(
            tendering_person_name="Bayside Securities LLC",
            certificate_numbers="",
            amount=Decimal("2000000"),
            states_withdrawal=True,
            registered_holder_name="Cede & Co.",
            signed_as_letter=True,
        ),
        actor=CLERK,
        now=ny(2000, 6, 22, 9, 30),
    )
    paper_tender(
        seed,
        ny(2000, 6, 23, 16, 0),
        series=seed.discount_2010,
        certificates=(("D10-0001", "3000000"),),
    )
    # After the as-of instant: not counted.
    paper_tender(
        seed,
        ny(2000, 6, 26, 10, 0, 1),
        holder=seed.second_registered,
        series=seed.senior_2010,
        certificates=(("R10-0002", "100000"),),
        registered_names="Margaret Chen",
    )
    return seed


@pytest.mark.django_db
def test_offer_status_prints_the_figures_as_of_an_instant(tendered: SeedOffer) -> None:
    output = _call("offer_status", "level3-2000", "--as-of", "2000-06-26 10:00")
    assert "As of:          10:00 a.m. New York City time, Monday, June 26, 2000" in output
    assert "State:          Open" in output
    assert "Expiration:     5:00 p.m. New York City time, Wednesday, July 12, 2000" in output
    assert "Exchange date:  Thursday, July 13, 2000" in output
    # 2000-06-26 10:00 to 2000-07-12 17:00: 16 days and 7 hours.
    [open_line] = [line for line in output.splitlines() if line.startswith("Open:")]
    assert "16 days" in open_line
    assert "7 h" in open_line
    # Tendered, withdrawn, rejected, not withdrawn, accepted, outstanding.
    assert _row(output, "11% Senior Notes due 2008") == [
        "15,000,000.00",  # 5,000,000 on paper + 10,000,000 by book-entry
        "2,000,000.00",
        "0.00",
        "13,000,000.00",
        "0.00",
        "800,000,000.00",
    ]
    assert _row(output, "11 1/4% Senior Notes due 2010") == [
        "0.00",  # Margaret Chen's tender came one second after the as-of instant
        "0.00",
        "0.00",
        "0.00",
        "0.00",
        "250,000,000.00",
    ]
    assert _row(output, "12 7/8% Senior Discount Notes due 2010") == [
        "3,000,000.00",  # principal amount at maturity
        "0.00",
        "0.00",
        "3,000,000.00",
        "0.00",
        "675,000,000.00",
    ]


@pytest.mark.django_db
def test_offer_status_before_commencement_and_after_an_extension(tendered: SeedOffer) -> None:
    extend_offer(
        tendered.offer.pk,
        new_expiration=ny(2000, 7, 19, 17, 0),
        actor=SUPERVISOR,
        now=ny(2000, 7, 12, 16, 0),
    )
    before = _call("offer_status", "level3-2000", "--as-of", "2000-06-08 12:00")
    assert "State:          Draft" in before
    assert _row(before, "11% Senior Notes due 2008")[0] == "0.00"

    # As of June 26 the extension was not yet known: the expiration was still July 12.
    june = _call("offer_status", "level3-2000", "--as-of", "2000-06-26 10:00")
    assert "Expiration:     5:00 p.m. New York City time, Wednesday, July 12, 2000" in june
    later = _call("offer_status", "level3-2000", "--as-of", "2000-07-13 10:00")
    assert "Expiration:     5:00 p.m. New York City time, Wednesday, July 19, 2000" in later
    assert "Exchange date:  Thursday, July 20, 2000" in later
    assert _row(later, "11 1/4% Senior Notes due 2010")[0] == "100,000.00"


@pytest.mark.django_db
def test_offer_status_of_an_unknown_offer(seed: SeedOffer) -> None:
    with pytest.raises(CommandError, match="level3-2000"):
        _call("offer_status", "no-such-offer")


# --- extend_offer -----------------------------------------------------------------------


@pytest.mark.django_db
def test_extend_offer_one_minute_before_expiration(seed: SeedOffer) -> None:
    output = _call(
        "extend_offer", "level3-2000", "--until", "2000-07-19 17:00", "--as-of", "2000-07-12 16:59"
    )
    assert "Announce by 9:00 a.m. New York City time, Thursday, July 13, 2000" in output
    assert "Thursday, July 20, 2000" in output  # the new exchange date
    offer = ExchangeOffer.objects.get(pk=seed.offer.pk)
    assert offer.expiration_at == ny(2000, 7, 19, 17, 0)
    event = OfferEvent.objects.get(offer=offer, kind=OfferEventKind.EXTENDED)
    assert event.occurred_at == ny(2000, 7, 12, 16, 59)
    assert event.announcement_due_at == ny(2000, 7, 13, 9, 0)


@pytest.mark.django_db
def test_extend_offer_at_the_expiration_instant_refused(seed: SeedOffer) -> None:
    with pytest.raises(CommandError, match=r"(?i)expir"):
        _call(
            "extend_offer",
            "level3-2000",
            "--until",
            "2000-07-19 17:00",
            "--as-of",
            "2000-07-12 17:00",
        )
    assert ExchangeOffer.objects.get(pk=seed.offer.pk).expiration_at == ny(2000, 7, 12, 17, 0)
    assert not OfferEvent.objects.filter(kind=OfferEventKind.EXTENDED).exists()


@pytest.mark.django_db
def test_extend_offer_to_an_earlier_time_refused(seed: SeedOffer) -> None:
    with pytest.raises(CommandError):
        _call("extend_offer", "level3-2000", "--until", "2000-07-03 17:00", "--as-of", "2000-07-01")
    assert ExchangeOffer.objects.get(pk=seed.offer.pk).expiration_at == ny(2000, 7, 12, 17, 0)


# --- accreted_value ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("on", "expected"),
    [
        ("2000-02-29", "533.08"),  # the issue price
        ("2005-03-15", "1000.00"),  # fully accreted
        ("2008-01-01", "1000.00"),  # and stays at the principal amount at maturity
    ],
)
def test_accreted_value(seed: SeedOffer, on: str, expected: str) -> None:
    assert _call("accreted_value", "2010-senior-discount", on).strip() == expected


@pytest.mark.django_db
def test_accreted_value_sixteen_days_after_issue(seed: SeedOffer) -> None:
    # 30/360 from Feb 29 to Mar 15, 2000 is 16 days of a 180-day semiannual period at
    # 12 7/8% a year (6.4375% a half-year): 533.08 x (1 + 0.064375 x 16/180) = 536.1304...
    by_hand = (Decimal("533.08") * (1 + Decimal("0.064375") * 16 / 180)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    assert by_hand == Decimal("536.13")
    assert _call("accreted_value", "2010-senior-discount", "2000-03-15").strip() == str(by_hand)


@pytest.mark.django_db
def test_accreted_value_of_a_par_series_is_1000(seed: SeedOffer) -> None:
    assert _call("accreted_value", "2008-senior", "2003-06-30").strip() == "1000.00"


@pytest.mark.django_db
def test_accreted_value_refuses_a_malformed_date(seed: SeedOffer) -> None:
    with pytest.raises(CommandError):
        _call("accreted_value", "2010-senior-discount", "15/03/2000")


# --- seed_offer (on an empty database: it makes its own data) -------------------------------


@pytest.fixture
def fast_passwords(settings: Any) -> None:
    """seed_offer sets seven demo passwords; the production hasher would take seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _inventory() -> dict[str, int]:
    return {
        "offers": ExchangeOffer.objects.count(),
        "series": NoteSeries.objects.count(),
        "holders": Holder.objects.count(),
        "holdings": Holding.objects.count(),
        "users": get_user_model().objects.count(),
        "history": StateChange.objects.count(),
        "events": OfferEvent.objects.count(),
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_passwords")
def test_seed_offer_is_idempotent() -> None:
    assert not ExchangeOffer.objects.exists()
    _call("seed_offer")
    first = _inventory()
    assert first["offers"] == 1
    assert first["series"] == 3
    assert first["holders"] == 5
    assert first["holdings"] == 14
    assert first["users"] == 7  # clerk, supervisor and five holders' logins
    _call("seed_offer")
    assert _inventory() == first

    offer = ExchangeOffer.objects.get(slug="level3-2000")
    assert offer.state == OfferState.OPEN
    assert offer.commenced_at == ny(2000, 6, 9, 9, 0)
    assert offer.notice_mailed_on == dt.date(2000, 6, 9)
    assert offer.expiration_at == ny(2000, 7, 12, 17, 0)


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_passwords")
def test_seed_offer_live_is_open_now() -> None:
    _call("seed_offer", "--live")
    now = timezone.now()
    offer = ExchangeOffer.objects.get(slug="level3-2000")
    assert offer.state == OfferState.OPEN
    assert offer.commenced_at is not None
    assert offer.commenced_at <= now < offer.expiration_at
    # Shifted by whole weeks: still commenced on a Friday at 9:00 a.m. and expiring on a
    # Wednesday at 5:00 p.m. New York, 33 days apart.
    commenced = timezone.localtime(offer.commenced_at)
    expires = timezone.localtime(offer.expiration_at)
    assert (commenced.weekday(), commenced.time()) == (4, dt.time(9, 0))
    assert (expires.weekday(), expires.time()) == (2, dt.time(17, 0))
    assert (expires.date() - commenced.date()).days == 33
    # The notes' own terms stay historical.
    assert NoteSeries.objects.get(slug="2010-senior-discount").full_accretion_date == dt.date(
        2005, 3, 15
    )
    first = _inventory()
    _call("seed_offer", "--live")
    assert _inventory() == first
