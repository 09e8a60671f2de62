"""Notices of guaranteed delivery: received on or before expiration from an eligible
guarantor; the notes due by the end of the third NYSE trading day after execution."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from exchange.models import (
    Channel,
    ExchangeOffer,
    GuaranteedDelivery,
    GuaranteedDeliveryState,
    NoteReturn,
    StateChange,
    Tender,
    TenderState,
)
from exchange.services.base import DeskError
from exchange.services.guaranteed_deliveries import (
    NoticeOfGuaranteedDelivery,
    fulfil_guaranteed_delivery,
    lapse_guaranteed_delivery,
    receive_guaranteed_delivery,
    waive_late_delivery,
)
from exchange.services.offers import commence_offer, expire_offer, terminate_offer
from exchange.services.tenders import CertificateTendered
from exchange.services.withdrawals import NoticeOfWithdrawal, receive_withdrawal
from holders.models import Holder, HolderKind
from tests.factories import (
    CLERK,
    JOB,
    SUPERVISOR,
    SeedOffer,
    complete_letter,
    give_certificate,
    make_holder,
    make_offer,
    make_series,
    ny,
)

UTC = dt.UTC
EXPIRATION = ny(2000, 7, 12, 17, 0)
ONE_SECOND = dt.timedelta(seconds=1)
# Executed Tue 07-11: NYSE trading days after it are Wed 12, Thu 13, Fri 14; the notes are
# due by the end of Friday 07-14, i.e. Saturday 2000-07-15 00:00 New York (04:00 UTC).
JULY_DEADLINE = ny(2000, 7, 15, 0, 0)


def _counts() -> tuple[int, int, int]:
    return (
        GuaranteedDelivery.objects.count(),
        Tender.objects.count(),
        StateChange.objects.count(),
    )


def _notice(executed_on: dt.date, amount: str = "5000000") -> NoticeOfGuaranteedDelivery:
    return NoticeOfGuaranteedDelivery(
        tendering_holder_name="Ardsley Pension Trust",
        tendering_holder_address="1 Wall Street, New York, NY",
        registered_names="Ardsley Pension Trust",
        certificate_numbers="R08-0001",
        amount=Decimal(amount),
        executed_on=executed_on,
    )


def _receive(
    seed: SeedOffer,
    now: dt.datetime,
    executed_on: dt.date | None = None,
    *,
    guarantor: Holder | None = None,
) -> GuaranteedDelivery:
    return receive_guaranteed_delivery(
        offer_id=seed.offer.pk,
        series_id=seed.senior_2008.pk,
        holder_id=seed.registered.pk,
        guarantor_id=(guarantor or seed.guarantor).pk,
        notice=_notice(executed_on or now.date()),
        actor=CLERK,
        now=now,
    )


def _fulfil(gd: GuaranteedDelivery, now: dt.datetime) -> GuaranteedDelivery:
    return fulfil_guaranteed_delivery(
        gd.pk,
        by_book_entry=False,
        certificates=[CertificateTendered("R08-0001", Decimal("5000000"))],
        letter=complete_letter(),
        actor=CLERK,
        now=now,
    )


def _july_gd(seed: SeedOffer) -> GuaranteedDelivery:
    gd = _receive(seed, ny(2000, 7, 11, 15, 0), dt.date(2000, 7, 11))
    assert gd.deadline_at == JULY_DEADLINE
    return gd


# --- the deadline --------------------------------------------------------------------


@pytest.mark.django_db
def test_deadline_is_the_end_of_the_third_nyse_trading_day(seed: SeedOffer) -> None:
    gd = _july_gd(seed)
    gd.refresh_from_db()
    assert gd.deadline_at == dt.datetime(2000, 7, 15, 4, 0, tzinfo=UTC)
    assert gd.tender.state == TenderState.PENDING_DELIVERY
    assert gd.tender.channel == Channel.GUARANTEED_DELIVERY
    assert gd.received_at == ny(2000, 7, 11, 15, 0)


def _open_offer(slug: str, expiration: dt.datetime, mailed_on: dt.date) -> ExchangeOffer:
    """A one-series offer with default minimum periods, commenced on the mailing day."""
    offer = make_offer(slug=slug, expiration=expiration)
    make_series(offer, "2008-senior")
    commence_offer(
        offer.pk,
        actor=SUPERVISOR,
        now=ny(mailed_on.year, mailed_on.month, mailed_on.day, 9, 0),
        mailed_on=mailed_on,
    )
    return ExchangeOffer.objects.get(pk=offer.pk)


def _gd_on(offer: ExchangeOffer, now: dt.datetime, executed_on: dt.date) -> GuaranteedDelivery:
    series = offer.series.get()
    holder = make_holder(name=f"Holder of {offer.slug}")
    give_certificate(holder, series, f"{offer.slug}-1", "1000000")
    guarantor = make_holder(HolderKind.ELIGIBLE_GUARANTOR, name=f"Guarantor {offer.slug}")
    return receive_guaranteed_delivery(
        offer_id=offer.pk,
        series_id=series.pk,
        holder_id=holder.pk,
        guarantor_id=guarantor.pk,
        notice=NoticeOfGuaranteedDelivery(
            tendering_holder_name=holder.name,
            tendering_holder_address=holder.address,
            registered_names=holder.name,
            certificate_numbers=f"{offer.slug}-1",
            amount=Decimal("1000000"),
            executed_on=executed_on,
        ),
        actor=CLERK,
        now=now,
    )


@pytest.mark.django_db
def test_good_friday_is_not_an_nyse_trading_day() -> None:
    # Mailed Fri 03-10 (open through the end of 04-09; 20th business day 04-06), expiring
    # Wed 04-19. Executed Tue 04-18: Wed 19, Thu 20, (Good Friday 21 closed), Mon 24 -> the
    # end of Monday 04-24, i.e. 2000-04-25 00:00 New York. Good Friday is a business day
    # but not a trading day.
    offer = _open_offer("april-2000", ny(2000, 4, 19, 17, 0), dt.date(2000, 3, 10))
    gd = _gd_on(offer, ny(2000, 4, 18, 11, 0), dt.date(2000, 4, 18))
    assert gd.deadline_at == ny(2000, 4, 25, 0, 0)
    assert gd.deadline_at == dt.datetime(2000, 4, 25, 4, 0, tzinfo=UTC)

    with pytest.raises(DeskError):
        lapse_guaranteed_delivery(gd.pk, actor=JOB, now=ny(2000, 4, 24, 23, 59, 59))
    lapse_guaranteed_delivery(gd.pk, actor=JOB, now=ny(2000, 4, 25, 0, 0))
    gd.refresh_from_db()
    assert gd.state == GuaranteedDeliveryState.LAPSED


@pytest.mark.django_db
def test_columbus_day_is_an_nyse_trading_day() -> None:
    # Executed Fri 10-06: Mon 10-09 (Columbus Day, a federal holiday, NYSE open), Tue 10,
    # Wed 11 -> the end of Wednesday 10-11, i.e. 2000-10-12 00:00 New York.
    offer = _open_offer("columbus-2000", ny(2000, 10, 30, 17, 0), dt.date(2000, 9, 25))
    gd = _gd_on(offer, ny(2000, 10, 6, 16, 0), dt.date(2000, 10, 6))
    assert gd.deadline_at == ny(2000, 10, 12, 0, 0)


@pytest.mark.django_db
def test_execution_the_day_before_receipt_counts_from_execution(seed: SeedOffer) -> None:
    # Executed Mon 07-10, received Tue 07-11: Tue 11, Wed 12, Thu 13 -> end of Thu 07-13.
    gd = _receive(seed, ny(2000, 7, 11, 9, 30), dt.date(2000, 7, 10))
    assert gd.deadline_at == ny(2000, 7, 14, 0, 0)


# --- fulfilment ------------------------------------------------------------------------


@pytest.mark.django_db
def test_fulfilment_one_second_before_the_deadline(seed: SeedOffer) -> None:
    gd = _july_gd(seed)
    _fulfil(gd, JULY_DEADLINE - ONE_SECOND)
    gd.refresh_from_db()
    assert gd.state == GuaranteedDeliveryState.FULFILLED
    assert gd.fulfilled_at == JULY_DEADLINE - ONE_SECOND
    tender = Tender.objects.get(pk=gd.tender_id)
    assert tender.state == TenderState.RECEIVED
    assert tender.received_at == ny(2000, 7, 11, 15, 0)  # the notice's receipt stands
    assert list(tender.certificates.values_list("certificate_number", "amount")) == [
        ("R08-0001", Decimal("5000000"))
    ]
    actions = list(
        StateChange.objects.filter(object_id=tender.pk, action__startswith="exchange.tender")
        .order_by("at", "id")
        .values_list("action", "from_state", "to_state")
    )
    assert actions == [
        ("exchange.tender.received", "", TenderState.PENDING_DELIVERY),
        ("exchange.tender.notes_delivered", TenderState.PENDING_DELIVERY, TenderState.RECEIVED),
    ]


@pytest.mark.django_db
def test_fulfilment_by_book_entry(seed: SeedOffer) -> None:
    gd = _july_gd(seed)
    fulfil_guaranteed_delivery(
        gd.pk,
        by_book_entry=True,
        letter={"book_entry_confirmation": "ATOP-777"},
        actor=CLERK,
        now=ny(2000, 7, 13, 10, 0),
    )
    tender = Tender.objects.get(pk=gd.tender_id)
    assert (tender.state, tender.channel) == (TenderState.RECEIVED, Channel.BOOK_ENTRY)
    assert tender.book_entry_confirmation == "ATOP-777"


@pytest.mark.django_db
def test_fulfilment_at_the_deadline_refused(seed: SeedOffer) -> None:
    gd = _july_gd(seed)
    before = _counts()
    with pytest.raises(DeskError):
        _fulfil(gd, JULY_DEADLINE)
    assert _counts() == before
    gd.refresh_from_db()
    assert gd.state == GuaranteedDeliveryState.RECEIVED
    assert Tender.objects.get(pk=gd.tender_id).state == TenderState.PENDING_DELIVERY
    assert not Tender.objects.get(pk=gd.tender_id).certificates.exists()


@pytest.mark.django_db
def test_fulfilment_at_the_deadline_allowed_when_the_issuer_waives(seed: SeedOffer) -> None:
    gd = _july_gd(seed)
    with pytest.raises(DeskError):
        waive_late_delivery(gd.pk, authorized_by=" ", actor=SUPERVISOR, now=JULY_DEADLINE)
    waive_late_delivery(
        gd.pk, authorized_by="General Counsel", actor=SUPERVISOR, now=JULY_DEADLINE - ONE_SECOND
    )
    # A waived guarantee does not lapse.
    lapse_guaranteed_delivery(gd.pk, actor=JOB, now=JULY_DEADLINE)
    gd.refresh_from_db()
    assert gd.state == GuaranteedDeliveryState.RECEIVED
    _fulfil(gd, JULY_DEADLINE + dt.timedelta(hours=10))
    gd.refresh_from_db()
    assert gd.state == GuaranteedDeliveryState.FULFILLED
    assert Tender.objects.get(pk=gd.tender_id).state == TenderState.RECEIVED


@pytest.mark.django_db
def test_fulfilment_with_certificates_short_of_the_amount_refused(seed: SeedOffer) -> None:
    gd = _july_gd(seed)
    with pytest.raises(DeskError):
        fulfil_guaranteed_delivery(
            gd.pk,
            by_book_entry=False,
            certificates=[CertificateTendered("R08-0002", Decimal("1000000"))],
            letter=complete_letter(),
            actor=CLERK,
            now=ny(2000, 7, 13, 10, 0),
        )
    gd.refresh_from_db()
    assert gd.state == GuaranteedDeliveryState.RECEIVED


@pytest.mark.django_db
@pytest.mark.parametrize(
    "client_field",
    [
        {"amount": Decimal("6000000")},
        {"received_at": ny(2000, 7, 1, 9, 0)},
        {"withdrawn_amount": Decimal("1000000")},
    ],
    ids=["amount", "received_at", "withdrawn_amount"],
)
def test_the_delivered_letter_cannot_set_what_the_desk_decides(
    seed: SeedOffer, client_field: dict[str, object]
) -> None:
    gd = _july_gd(seed)
    with pytest.raises(DeskError):
        fulfil_guaranteed_delivery(
            gd.pk,
            by_book_entry=False,
            certificates=[CertificateTendered("R08-0001", Decimal("5000000"))],
            letter=complete_letter(**client_field),
            actor=CLERK,
            now=ny(2000, 7, 13, 10, 0),
        )
    tender = Tender.objects.get(pk=gd.tender_id)
    assert tender.amount == Decimal("5000000")
    assert tender.received_at == ny(2000, 7, 11, 15, 0)
    assert tender.withdrawn_amount == Decimal("0")


# --- lapse ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_lapse_refused_before_the_deadline(seed: SeedOffer) -> None:
    gd = _july_gd(seed)
    before = _counts()
    with pytest.raises(DeskError):
        lapse_guaranteed_delivery(gd.pk, actor=JOB, now=JULY_DEADLINE - ONE_SECOND)
    assert _counts() == before
    gd.refresh_from_db()
    assert gd.state == GuaranteedDeliveryState.RECEIVED


@pytest.mark.django_db
def test_at_the_deadline_the_guarantee_lapses_and_the_tender_is_rejected(
    seed: SeedOffer,
) -> None:
    gd = _july_gd(seed)
    lapse_guaranteed_delivery(gd.pk, actor=JOB, now=JULY_DEADLINE)
    gd.refresh_from_db()
    assert gd.state == GuaranteedDeliveryState.LAPSED
    assert gd.lapsed_at == JULY_DEADLINE
    tender = Tender.objects.get(pk=gd.tender_id)
    assert tender.state == TenderState.REJECTED
    assert not NoteReturn.objects.filter(tender=tender).exists()  # no notes ever came
    # A second sweep changes nothing; a late delivery is refused.
    history = StateChange.objects.count()
    lapse_guaranteed_delivery(gd.pk, actor=JOB, now=JULY_DEADLINE + dt.timedelta(hours=1))
    assert StateChange.objects.count() == history
    with pytest.raises(DeskError):
        _fulfil(gd, JULY_DEADLINE + dt.timedelta(hours=2))


# --- receipt of the notice -------------------------------------------------------------


@pytest.mark.django_db
def test_a_notice_from_a_non_guarantor_refused(seed: SeedOffer) -> None:
    before = _counts()
    for not_a_guarantor in (seed.second_registered, seed.participant):
        with pytest.raises(DeskError) as refused:
            _receive(seed, ny(2000, 7, 11, 15, 0), guarantor=not_a_guarantor)
        assert refused.value.field == "guarantor"
    assert _counts() == before


@pytest.mark.django_db
def test_a_notice_received_at_the_expiration_instant_counts(seed: SeedOffer) -> None:
    gd = _receive(seed, EXPIRATION, dt.date(2000, 7, 12))
    # Executed Wed 07-12: Thu 13, Fri 14, Mon 17 -> end of Monday 07-17.
    assert gd.deadline_at == ny(2000, 7, 18, 0, 0)


@pytest.mark.django_db
def test_a_notice_received_after_expiration_refused(seed: SeedOffer) -> None:
    before = _counts()
    with pytest.raises(DeskError):
        _receive(seed, EXPIRATION + ONE_SECOND, dt.date(2000, 7, 12))
    expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION)
    with pytest.raises(DeskError):
        _receive(seed, ny(2000, 7, 13, 9, 0), dt.date(2000, 7, 12))
    assert _counts()[:2] == before[:2]


@pytest.mark.django_db
def test_a_notice_executed_after_it_was_received_refused(seed: SeedOffer) -> None:
    with pytest.raises(DeskError) as refused:
        _receive(seed, ny(2000, 7, 11, 15, 0), dt.date(2000, 7, 12))
    assert refused.value.field == "executed_on"
    assert not GuaranteedDelivery.objects.exists()


@pytest.mark.django_db
def test_a_notice_for_more_than_the_holding_refused(seed: SeedOffer) -> None:
    before = _counts()
    with pytest.raises(DeskError):
        receive_guaranteed_delivery(
            offer_id=seed.offer.pk,
            series_id=seed.senior_2008.pk,
            holder_id=seed.registered.pk,
            guarantor_id=seed.guarantor.pk,
            notice=_notice(dt.date(2000, 7, 11), amount="6001000"),
            actor=CLERK,
            now=ny(2000, 7, 11, 15, 0),
        )
    assert _counts() == before


# --- a guarantee whose tender was closed otherwise ---------------------------------------


def _withdraw_pending(seed: SeedOffer, gd: GuaranteedDelivery) -> None:
    receive_withdrawal(
        gd.tender_id,
        notice=NoticeOfWithdrawal(
            tendering_person_name="Ardsley Pension Trust",
            certificate_numbers="R08-0001",
            amount=Decimal("5000000"),
            states_withdrawal=True,
            registered_holder_name="Ardsley Pension Trust",
            signed_as_letter=True,
        ),
        actor=CLERK,
        now=ny(2000, 7, 12, 10, 0),
    )


def _terminate(seed: SeedOffer, gd: GuaranteedDelivery) -> None:
    terminate_offer(seed.offer.pk, actor=SUPERVISOR, now=ny(2000, 7, 12, 10, 0), reason="MAC.")


CLOSED_OTHERWISE = [
    pytest.param(_withdraw_pending, TenderState.WITHDRAWN, id="withdrawn"),
    pytest.param(_terminate, TenderState.REJECTED, id="offer-terminated"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("close", "closed_state"), CLOSED_OTHERWISE)
def test_a_pending_tender_withdrawn_or_terminated_returns_nothing(
    seed: SeedOffer, close, closed_state: TenderState
) -> None:
    gd = _july_gd(seed)
    close(seed, gd)
    tender = Tender.objects.get(pk=gd.tender_id)
    assert tender.state == closed_state
    assert not NoteReturn.objects.filter(tender=tender).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("close", "closed_state"), CLOSED_OTHERWISE)
def test_the_lapse_sweep_passes_over_a_guarantee_whose_tender_is_closed(
    seed: SeedOffer, close, closed_state: TenderState
) -> None:
    gd = _july_gd(seed)
    close(seed, gd)
    lapse_guaranteed_delivery(gd.pk, actor=JOB, now=JULY_DEADLINE)
    assert Tender.objects.get(pk=gd.tender_id).state == closed_state


@pytest.mark.django_db
@pytest.mark.parametrize(("close", "closed_state"), CLOSED_OTHERWISE)
def test_notes_arriving_for_a_closed_tender_are_refused_with_a_desk_error(
    seed: SeedOffer, close, closed_state: TenderState
) -> None:
    gd = _july_gd(seed)
    close(seed, gd)
    with pytest.raises(DeskError):
        _fulfil(gd, ny(2000, 7, 13, 10, 0))
    assert Tender.objects.get(pk=gd.tender_id).state == closed_state


@pytest.mark.django_db
def test_after_a_partial_withdrawal_the_notes_delivered_are_the_rest(seed: SeedOffer) -> None:
    from exchange.selectors.reconciliation import reconcile

    now = ny(2000, 6, 26, 10)
    gd = _receive(seed, now)  # $5,000,000 guaranteed
    receive_withdrawal(
        gd.tender_id,
        notice=NoticeOfWithdrawal(
            "Ardsley Pension Trust", "", Decimal("1000000"), True, "Ardsley Pension Trust", True
        ),
        actor=CLERK,
        now=now + dt.timedelta(hours=1),
    )
    with pytest.raises(DeskError, match=r"not the \$4,000,000.00 guaranteed and not withdrawn"):
        fulfil_guaranteed_delivery(
            gd.pk,
            by_book_entry=False,
            certificates=[CertificateTendered("R08-0001", Decimal("5000000"))],
            letter=complete_letter(),
            actor=CLERK,
            now=now + dt.timedelta(hours=2),
        )
    # Delivering $4,000,000 of the certificate completes it.
    give_certificate(seed.registered, seed.senior_2008, "R08-0009", "4000000")
    fulfil_guaranteed_delivery(
        gd.pk,
        by_book_entry=False,
        certificates=[CertificateTendered("R08-0009", Decimal("4000000"))],
        letter=complete_letter(),
        actor=CLERK,
        now=now + dt.timedelta(hours=2),
    )
    assert all(row.balanced for row in reconcile(seed.offer))
