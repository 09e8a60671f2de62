"""The issuer's decisions on the offer and the clock's: exchange date, extension, minimum
open period, the five-business-day rule, termination, stop orders, expiration, DST.

Every deadline is tested one second before and at the instant, in New York time; the
expected dates are worked out by hand in the comments, never by the code under test.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from exchange.models import (
    Channel,
    DeficiencyKind,
    ExchangeOffer,
    NoteReturn,
    OfferEvent,
    OfferEventKind,
    OfferState,
    ReturnReason,
    StateChange,
    Tender,
    TenderState,
)
from exchange.services.base import DeskError
from exchange.services.guaranteed_deliveries import (
    NoticeOfGuaranteedDelivery,
    receive_guaranteed_delivery,
)
from exchange.services.offers import (
    accept_offer,
    amend_offer,
    commence_offer,
    expire_offer,
    extend_offer,
    set_stop_order,
    terminate_offer,
)
from exchange.services.review import record_deficiencies, validate_tender
from exchange.services.tenders import (
    CertificateTendered,
    LetterOfTransmittal,
    accept_tender,
    receive_tender,
)
from exchange.services.withdrawals import NoticeOfWithdrawal, receive_withdrawal
from tests.factories import (
    CLERK,
    JOB,
    SUPERVISOR,
    SeedOffer,
    book_entry_tender,
    build_seed_offer,
    give_certificate,
    make_holder,
    make_offer,
    make_series,
    ny,
    paper_tender,
)

UTC = dt.UTC
SEED_EXPIRATION = ny(2000, 7, 12, 17, 0)  # Wed 2000-07-12 5:00 p.m. New York (21:00 UTC)
MAILED = dt.date(2000, 6, 9)
ONE_SECOND = dt.timedelta(seconds=1)


def _offer(seed: SeedOffer) -> ExchangeOffer:
    return ExchangeOffer.objects.get(pk=seed.offer.pk)


def _history(offer: ExchangeOffer, action: str) -> int:
    return StateChange.objects.filter(offer=offer, action=action).count()


def _draft_seed_expiring(expiration: dt.datetime, **offer_fields: object) -> SeedOffer:
    """The seed offer, not yet commenced, with its expiration (and minimum periods) changed."""
    seed = build_seed_offer(commence=False)
    ExchangeOffer.objects.filter(pk=seed.offer.pk).update(
        expiration_at=expiration, initial_expiration_at=expiration, **offer_fields
    )
    return seed


def _open_offer(slug: str, expiration: dt.datetime, mailed_on: dt.date) -> ExchangeOffer:
    """A one-series offer commenced at 9:00 a.m. New York on the day notice is mailed."""
    offer = make_offer(slug=slug, expiration=expiration)
    make_series(offer, "2008-senior")
    commence_offer(
        offer.pk,
        actor=SUPERVISOR,
        now=ny(mailed_on.year, mailed_on.month, mailed_on.day, 9, 0),
        mailed_on=mailed_on,
    )
    return ExchangeOffer.objects.get(pk=offer.pk)


# --- exchange date ------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_exchange_date_is_thursday_after_the_wednesday_expiration(seed: SeedOffer) -> None:
    offer = _offer(seed)
    assert offer.expiration_at == dt.datetime(2000, 7, 12, 21, 0, tzinfo=UTC)  # EDT = UTC-4
    assert offer.exchange_date == dt.date(2000, 7, 13)


@pytest.mark.django_db
def test_exchange_date_follows_the_extended_expiration(seed: SeedOffer) -> None:
    # Extended to Fri 2000-07-14 17:00: the first business day after is Mon 2000-07-17.
    extend_offer(
        seed.offer.pk,
        new_expiration=ny(2000, 7, 14, 17, 0),
        actor=SUPERVISOR,
        now=ny(2000, 7, 11, 10, 0),
    )
    offer = _offer(seed)
    assert offer.expiration_at == ny(2000, 7, 14, 17, 0)
    assert offer.exchange_date == dt.date(2000, 7, 17)

    # And acceptance follows it: not on Sunday 07-16, from Monday 07-17 00:00 New York.
    expire_offer(offer.pk, actor=JOB, now=ny(2000, 7, 14, 17, 0))
    with pytest.raises(DeskError):
        accept_offer(offer.pk, actor=SUPERVISOR, now=ny(2000, 7, 16, 23, 59, 59))
    assert _offer(seed).state == OfferState.EXPIRED
    accept_offer(offer.pk, actor=SUPERVISOR, now=ny(2000, 7, 17, 0, 0))
    assert _offer(seed).state == OfferState.ACCEPTED


@pytest.mark.django_db
def test_exchange_date_skips_columbus_day_a_federal_holiday() -> None:
    # Expiring Fri 2000-10-06: Mon 10-09 is Columbus Day (federal holiday, NYSE open), so
    # the first business day after is Tue 2000-10-10.
    offer = make_offer(slug="columbus-2000", expiration=ny(2000, 10, 6, 17, 0))
    assert offer.exchange_date == dt.date(2000, 10, 10)


# --- extension ----------------------------------------------------------------------


@pytest.mark.django_db
def test_extension_allowed_one_second_before_expiration(seed: SeedOffer) -> None:
    extend_offer(
        seed.offer.pk,
        new_expiration=ny(2000, 7, 19, 17, 0),
        actor=SUPERVISOR,
        now=SEED_EXPIRATION - ONE_SECOND,
    )
    assert _offer(seed).expiration_at == ny(2000, 7, 19, 17, 0)


@pytest.mark.django_db
def test_extension_refused_at_the_expiration_instant(seed: SeedOffer) -> None:
    events = OfferEvent.objects.count()
    with pytest.raises(DeskError):
        extend_offer(
            seed.offer.pk,
            new_expiration=ny(2000, 7, 19, 17, 0),
            actor=SUPERVISOR,
            now=SEED_EXPIRATION,
        )
    assert _offer(seed).expiration_at == SEED_EXPIRATION
    assert OfferEvent.objects.count() == events
    assert _history(seed.offer, "exchange.offer.extended") == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "new_expiration",
    [
        pytest.param(ny(2000, 7, 3, 17, 0), id="earlier-mon-07-03"),
        pytest.param(ny(2000, 7, 12, 17, 0), id="same-instant"),
        pytest.param(ny(2000, 7, 12, 16, 59, 59), id="one-second-earlier"),
    ],
)
def test_extension_must_be_later_than_the_current_expiration(
    seed: SeedOffer, new_expiration: dt.datetime
) -> None:
    with pytest.raises(DeskError) as refused:
        extend_offer(
            seed.offer.pk,
            new_expiration=new_expiration,
            actor=SUPERVISOR,
            now=ny(2000, 7, 1, 10, 0),
        )
    assert refused.value.field == "new_expiration"
    assert _offer(seed).expiration_at == SEED_EXPIRATION
    assert not OfferEvent.objects.filter(offer=seed.offer, kind=OfferEventKind.EXTENDED).exists()


@pytest.mark.django_db
def test_extension_refused_when_earlier_than_the_minimum_open_period(seed: SeedOffer) -> None:
    # With a 40-day minimum, notice mailed 06-09: open through the end of 07-19, i.e. it
    # may not expire before 2000-07-20 00:00 New York.
    ExchangeOffer.objects.filter(pk=seed.offer.pk).update(minimum_open_days=40)
    with pytest.raises(DeskError):
        extend_offer(
            seed.offer.pk,
            new_expiration=ny(2000, 7, 19, 23, 59, 59),
            actor=SUPERVISOR,
            now=ny(2000, 7, 1, 10, 0),
        )
    assert _offer(seed).expiration_at == SEED_EXPIRATION
    extend_offer(
        seed.offer.pk,
        new_expiration=ny(2000, 7, 20, 0, 0),
        actor=SUPERVISOR,
        now=ny(2000, 7, 1, 10, 0),
    )
    assert _offer(seed).expiration_at == ny(2000, 7, 20, 0, 0)


@pytest.mark.django_db
def test_every_tender_keeps_its_state_and_amount_through_an_extension(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    received = paper_tender(seed, during_offer)
    valid = book_entry_tender(seed, during_offer, amount="10000000")
    validate_tender(valid.pk, actor=CLERK, now=during_offer)
    deficient = paper_tender(
        seed,
        during_offer,
        holder=seed.second_registered,
        certificates=(("R08-0003", "250000"),),
        registered_names="Margaret Chen",
    )
    record_deficiencies(
        deficient.pk,
        defects=[(DeficiencyKind.SIGNATURE, "Sign the letter as the notes are registered.")],
        actor=CLERK,
        now=during_offer,
    )
    partly = book_entry_tender(seed, during_offer, amount="20000000", series=seed.senior_2010)
    receive_withdrawal(
        partly.pk,
        notice=NoticeOfWithdrawal(
            tendering_person_name="Bayside Securities LLC",
            certificate_numbers="",
            amount=Decimal("4000000"),
            states_withdrawal=True,
            registered_holder_name="Cede & Co.",
            signed_as_letter=True,
        ),
        actor=CLERK,
        now=during_offer,
    )
    before = {
        t.pk: (t.state, t.amount, t.withdrawn_amount)
        for t in Tender.objects.filter(offer=seed.offer)
    }
    assert before[received.pk] == (TenderState.RECEIVED, Decimal("5000000"), Decimal("0"))
    assert before[valid.pk] == (TenderState.VALID, Decimal("10000000"), Decimal("0"))
    assert before[deficient.pk] == (TenderState.DEFICIENT, Decimal("250000"), Decimal("0"))
    assert before[partly.pk] == (TenderState.RECEIVED, Decimal("20000000"), Decimal("4000000"))

    extend_offer(
        seed.offer.pk,
        new_expiration=ny(2000, 7, 19, 17, 0),
        actor=SUPERVISOR,
        now=ny(2000, 7, 12, 16, 0),
    )
    after = {
        t.pk: (t.state, t.amount, t.withdrawn_amount)
        for t in Tender.objects.filter(offer=seed.offer)
    }
    assert after == before
    assert not NoteReturn.objects.exclude(reason=ReturnReason.WITHDRAWN).exists()


@pytest.mark.django_db
def test_extension_records_an_event_with_the_announcement_deadline(seed: SeedOffer) -> None:
    now = ny(2000, 7, 12, 16, 0)
    extend_offer(
        seed.offer.pk,
        new_expiration=ny(2000, 7, 19, 17, 0),
        actor=SUPERVISOR,
        now=now,
        reason="Issuer's notice of July 12.",
    )
    event = OfferEvent.objects.get(offer=seed.offer, kind=OfferEventKind.EXTENDED)
    assert event.previous_expiration_at == SEED_EXPIRATION
    assert event.new_expiration_at == ny(2000, 7, 19, 17, 0)
    # 9:00 a.m. New York on the business day after the previous expiration (Wed 07-12):
    # Thursday 2000-07-13 09:00 EDT = 13:00 UTC.
    assert event.announcement_due_at == dt.datetime(2000, 7, 13, 13, 0, tzinfo=UTC)
    assert event.occurred_at == now
    history = StateChange.objects.get(offer=seed.offer, action="exchange.offer.extended")
    assert (history.from_state, history.to_state) == (OfferState.OPEN, OfferState.OPEN)
    assert history.actor_label == SUPERVISOR.label


@pytest.mark.django_db
def test_announcement_after_a_friday_expiration_is_due_monday_across_the_dst_change() -> None:
    # Expiring Fri 2000-10-27 17:00 EDT; the business day after is Mon 10-30, after the
    # fall-back of Sun 10-29: 9:00 a.m. EST = 14:00 UTC (not 13:00).
    offer = _open_offer("fall-2000", ny(2000, 10, 27, 17, 0), dt.date(2000, 9, 25))
    event = extend_offer(
        offer.pk,
        new_expiration=ny(2000, 11, 3, 17, 0),
        actor=SUPERVISOR,
        now=ny(2000, 10, 27, 12, 0),
    )
    assert event.announcement_due_at == dt.datetime(2000, 10, 30, 14, 0, tzinfo=UTC)


# --- minimum open period on commencement ----------------------------------------------


@pytest.mark.django_db
def test_commencement_refused_when_expiring_before_the_thirtieth_day_ends() -> None:
    # Mailed Fri 06-09: 30 days after is Sun 07-09, open through its end (07-10 00:00 NY);
    # the 20th business day counting 06-09 is Fri 07-07 (July 4 skipped). The later wins.
    seed = _draft_seed_expiring(ny(2000, 7, 9, 23, 59, 59))
    with pytest.raises(DeskError) as refused:
        commence_offer(seed.offer.pk, actor=SUPERVISOR, now=ny(2000, 6, 9, 9, 0), mailed_on=MAILED)
    assert refused.value.field == "expiration_at"
    offer = _offer(seed)
    assert offer.state == OfferState.DRAFT
    assert offer.notice_mailed_on is None
    assert not OfferEvent.objects.filter(offer=offer).exists()
    assert not StateChange.objects.filter(offer=offer).exists()


@pytest.mark.django_db
def test_commencement_allowed_expiring_at_the_end_of_the_thirtieth_day() -> None:
    seed = _draft_seed_expiring(ny(2000, 7, 10, 0, 0))
    commence_offer(seed.offer.pk, actor=SUPERVISOR, now=ny(2000, 6, 9, 9, 0), mailed_on=MAILED)
    offer = _offer(seed)
    assert offer.state == OfferState.OPEN
    assert offer.notice_mailed_on == MAILED
    assert offer.commenced_at == ny(2000, 6, 9, 9, 0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("expiration", "allowed"),
    [
        # With only a 10-day calendar minimum the 20 business days bind: 06-09 .. 07-07
        # (06-09 is the 1st, 07-03 the 17th, 07-04 a holiday, 07-07 the 20th), so the
        # offer may expire from the end of Fri 07-07, i.e. Sat 07-08 00:00 New York.
        pytest.param(ny(2000, 7, 7, 23, 59, 59), False, id="07-07-23:59:59"),
        pytest.param(ny(2000, 7, 8, 0, 0), True, id="07-08-00:00"),
    ],
)
def test_commencement_holds_twenty_business_days_with_july_4_skipped(
    expiration: dt.datetime, allowed: bool
) -> None:
    seed = _draft_seed_expiring(expiration, minimum_open_days=10)
    if allowed:
        commence_offer(seed.offer.pk, actor=SUPERVISOR, now=ny(2000, 6, 9, 9, 0), mailed_on=MAILED)
        assert _offer(seed).state == OfferState.OPEN
    else:
        with pytest.raises(DeskError):
            commence_offer(
                seed.offer.pk, actor=SUPERVISOR, now=ny(2000, 6, 9, 9, 0), mailed_on=MAILED
            )
        assert _offer(seed).state == OfferState.DRAFT


# --- five-business-day rule -----------------------------------------------------------


@pytest.mark.django_db
def test_material_amendment_on_thursday_07_06_does_not_extend(seed: SeedOffer) -> None:
    # Fifth business day from and including Thu 07-06: 06, 07, 10, 11, 12 -> Wed 07-12,
    # the expiration date itself: no extension.
    event = amend_offer(
        seed.offer.pk,
        description="Amended the conditions (material).",
        material=True,
        actor=SUPERVISOR,
        now=ny(2000, 7, 6, 10, 0),
        notice_on=dt.date(2000, 7, 6),
    )
    assert _offer(seed).expiration_at == SEED_EXPIRATION
    assert event.kind == OfferEventKind.MATERIAL_AMENDMENT
    assert event.previous_expiration_at == SEED_EXPIRATION
    assert event.new_expiration_at == SEED_EXPIRATION


@pytest.mark.django_db
def test_material_amendment_on_friday_07_07_extends_to_thursday_07_13(seed: SeedOffer) -> None:
    # Fifth business day from and including Fri 07-07: 07, 10, 11, 12, 13 -> Thu 07-13.
    event = amend_offer(
        seed.offer.pk,
        description="Amended the conditions (material).",
        material=True,
        actor=SUPERVISOR,
        now=ny(2000, 7, 7, 10, 0),
        notice_on=dt.date(2000, 7, 7),
    )
    offer = _offer(seed)
    assert offer.expiration_at == ny(2000, 7, 13, 17, 0)
    assert offer.exchange_date == dt.date(2000, 7, 14)
    assert event.previous_expiration_at == SEED_EXPIRATION
    assert event.new_expiration_at == ny(2000, 7, 13, 17, 0)


@pytest.mark.django_db
def test_material_amendment_on_the_expiration_day_extends_to_the_next_tuesday(
    seed: SeedOffer,
) -> None:
    # Wed 07-12 (one second before 5:00 p.m.): 12, 13, 14, 17, 18 -> Tue 07-18 17:00.
    amend_offer(
        seed.offer.pk,
        description="Waived nothing; amended the exchange ratio wording (material).",
        material=True,
        actor=SUPERVISOR,
        now=SEED_EXPIRATION - ONE_SECOND,
        notice_on=dt.date(2000, 7, 12),
    )
    assert _offer(seed).expiration_at == ny(2000, 7, 18, 17, 0)


@pytest.mark.django_db
def test_amendment_refused_at_the_expiration_instant(seed: SeedOffer) -> None:
    with pytest.raises(DeskError):
        amend_offer(
            seed.offer.pk,
            description="Too late.",
            material=True,
            actor=SUPERVISOR,
            now=SEED_EXPIRATION,
            notice_on=dt.date(2000, 7, 12),
        )
    assert _offer(seed).expiration_at == SEED_EXPIRATION
    assert not OfferEvent.objects.filter(
        offer=seed.offer, kind=OfferEventKind.MATERIAL_AMENDMENT
    ).exists()


@pytest.mark.django_db
def test_five_business_days_skip_july_4() -> None:
    # An offer (short minimum periods) expiring Wed 07-05 17:00; material notice on
    # Thu 06-29: 06-29, 06-30, 07-03, (07-04 holiday), 07-05, 07-06 -> Thu 07-06 17:00.
    seed = _draft_seed_expiring(
        ny(2000, 7, 5, 17, 0), minimum_open_days=1, minimum_open_business_days=1
    )
    commence_offer(seed.offer.pk, actor=SUPERVISOR, now=ny(2000, 6, 9, 9, 0), mailed_on=MAILED)
    amend_offer(
        seed.offer.pk,
        description="Material amendment.",
        material=True,
        actor=SUPERVISOR,
        now=ny(2000, 6, 29, 10, 0),
        notice_on=dt.date(2000, 6, 29),
    )
    assert _offer(seed).expiration_at == ny(2000, 7, 6, 17, 0)


@pytest.mark.django_db
def test_non_material_amendment_never_extends(seed: SeedOffer) -> None:
    event = amend_offer(
        seed.offer.pk,
        description="Corrected the exchange agent's telephone number.",
        material=False,
        actor=SUPERVISOR,
        now=ny(2000, 7, 11, 10, 0),
        notice_on=dt.date(2000, 7, 11),
    )
    assert _offer(seed).expiration_at == SEED_EXPIRATION
    assert event.kind == OfferEventKind.AMENDED


@pytest.mark.django_db
def test_waiver_of_a_material_condition_extends_like_a_material_amendment(
    seed: SeedOffer,
) -> None:
    event = amend_offer(
        seed.offer.pk,
        description="The issuer waives the condition on pending actions.",
        material=True,
        waiver_of_condition=True,
        actor=SUPERVISOR,
        now=ny(2000, 7, 7, 10, 0),
        notice_on=dt.date(2000, 7, 7),
    )
    assert _offer(seed).expiration_at == ny(2000, 7, 13, 17, 0)
    assert event.kind == OfferEventKind.CONDITION_WAIVED


@pytest.mark.django_db
def test_every_waiver_of_a_condition_counts_as_material(seed: SeedOffer) -> None:
    # Every condition of the offer is material: the waiver flag alone extends.
    event = amend_offer(
        seed.offer.pk,
        description="The issuer waives the condition on pending actions.",
        material=False,
        waiver_of_condition=True,
        actor=SUPERVISOR,
        now=ny(2000, 7, 7, 10, 0),
        notice_on=dt.date(2000, 7, 7),
    )
    assert event.kind == OfferEventKind.CONDITION_WAIVED  # "Material condition waived"
    assert _offer(seed).expiration_at == ny(2000, 7, 13, 17, 0)


# --- termination ---------------------------------------------------------------------


@pytest.mark.django_db
def test_termination_rejects_every_open_tender_and_records_returns(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    in_hand = paper_tender(seed, during_offer)  # 5,000,000 certificate R08-0001
    valid = paper_tender(
        seed,
        during_offer,
        holder=seed.second_registered,
        certificates=(("R08-0003", "250000"),),
        registered_names="Margaret Chen",
    )
    validate_tender(valid.pk, actor=CLERK, now=during_offer)
    deficient = book_entry_tender(seed, during_offer, amount="10000000")
    record_deficiencies(
        deficient.pk,
        defects=[(DeficiencyKind.OTHER, "Resend the Agent's Message.")],
        actor=CLERK,
        now=during_offer,
    )
    partly = book_entry_tender(seed, during_offer, amount="20000000", series=seed.senior_2010)
    receive_withdrawal(
        partly.pk,
        notice=NoticeOfWithdrawal(
            tendering_person_name="Bayside Securities LLC",
            certificate_numbers="",
            amount=Decimal("4000000"),
            states_withdrawal=True,
            registered_holder_name="Cede & Co.",
            signed_as_letter=True,
        ),
        actor=CLERK,
        now=during_offer,
    )
    gd = receive_guaranteed_delivery(
        offer_id=seed.offer.pk,
        series_id=seed.senior_2008.pk,
        holder_id=seed.registered.pk,
        guarantor_id=seed.guarantor.pk,
        notice=NoticeOfGuaranteedDelivery(
            tendering_holder_name="Ardsley Pension Trust",
            tendering_holder_address="1 Wall Street",
            registered_names="Ardsley Pension Trust",
            certificate_numbers="R08-0002",
            amount=Decimal("1000000"),
            executed_on=during_offer.date(),
        ),
        actor=CLERK,
        now=during_offer,
    )
    pending = gd.tender

    terminate_offer(
        seed.offer.pk,
        actor=SUPERVISOR,
        now=ny(2000, 6, 28, 12, 0),
        reason="A material adverse change.",
    )
    offer = _offer(seed)
    assert offer.state == OfferState.TERMINATED
    assert offer.terminated_at == ny(2000, 6, 28, 12, 0)
    states = dict(Tender.objects.filter(offer=offer).values_list("pk", "state"))
    assert states == {
        in_hand.pk: TenderState.REJECTED,
        valid.pk: TenderState.REJECTED,
        deficient.pk: TenderState.REJECTED,
        partly.pk: TenderState.REJECTED,
        pending.pk: TenderState.REJECTED,
    }
    terminated = {
        r.tender_id: (r.amount, r.by_book_entry)
        for r in NoteReturn.objects.filter(reason=ReturnReason.TERMINATED)
    }
    assert terminated == {
        in_hand.pk: (Decimal("5000000"), False),
        valid.pk: (Decimal("250000"), False),
        deficient.pk: (Decimal("10000000"), True),
        partly.pk: (Decimal("16000000"), True),  # 20,000,000 less the 4,000,000 withdrawn
    }
    # The guaranteed delivery brought no notes: nothing to return for it.
    assert not NoteReturn.objects.filter(tender=pending).exists()
    assert _history(offer, "exchange.tender.rejected") == 5


@pytest.mark.django_db
def test_nothing_is_accepted_after_termination(seed: SeedOffer, during_offer: dt.datetime) -> None:
    tender = book_entry_tender(seed, during_offer)
    validate_tender(tender.pk, actor=CLERK, now=during_offer)
    expire_offer(seed.offer.pk, actor=JOB, now=SEED_EXPIRATION)
    # After expiration only a condition in effect allows it (here the stop order).
    set_stop_order(
        seed.offer.pk,
        in_effect=True,
        actor=SUPERVISOR,
        now=ny(2000, 7, 12, 17, 30),
        reason="SEC stop order.",
    )
    terminate_offer(
        seed.offer.pk,
        actor=SUPERVISOR,
        now=ny(2000, 7, 12, 18, 0),
        reason="Stop order issued.",
        ground="stop_order",
    )
    with pytest.raises(DeskError):
        accept_offer(seed.offer.pk, actor=SUPERVISOR, now=ny(2000, 7, 13, 10, 0))
    with pytest.raises(DeskError):
        accept_tender(tender.pk, actor=SUPERVISOR, now=ny(2000, 7, 13, 10, 0))
    assert _offer(seed).state == OfferState.TERMINATED
    assert Tender.objects.get(pk=tender.pk).state == TenderState.REJECTED
    assert _history(seed.offer, "exchange.offer.accepted") == 0


@pytest.mark.django_db
def test_a_terminated_offer_takes_no_tenders(seed: SeedOffer, during_offer: dt.datetime) -> None:
    terminate_offer(
        seed.offer.pk, actor=SUPERVISOR, now=ny(2000, 6, 20, 12, 0), reason="Litigation."
    )
    tenders = Tender.objects.count()
    with pytest.raises(DeskError):
        paper_tender(seed, during_offer)
    with pytest.raises(DeskError):
        book_entry_tender(seed, during_offer)
    assert Tender.objects.count() == tenders


# --- stop order and acceptance ----------------------------------------------------------


@pytest.mark.django_db
def test_no_acceptance_while_a_stop_order_stands(seed: SeedOffer) -> None:
    expire_offer(seed.offer.pk, actor=JOB, now=SEED_EXPIRATION)
    set_stop_order(
        seed.offer.pk,
        in_effect=True,
        actor=SUPERVISOR,
        now=ny(2000, 7, 13, 8, 0),
        reason="SEC staff threatens a stop order.",
    )
    with pytest.raises(DeskError):
        accept_offer(seed.offer.pk, actor=SUPERVISOR, now=ny(2000, 7, 13, 10, 0))
    assert _offer(seed).state == OfferState.EXPIRED
    assert not OfferEvent.objects.filter(kind=OfferEventKind.ACCEPTANCE_NOTICE).exists()

    set_stop_order(
        seed.offer.pk,
        in_effect=False,
        actor=SUPERVISOR,
        now=ny(2000, 7, 13, 11, 0),
        reason="Threat withdrawn.",
    )
    accept_offer(seed.offer.pk, actor=SUPERVISOR, now=ny(2000, 7, 13, 12, 0))
    offer = _offer(seed)
    assert offer.state == OfferState.ACCEPTED
    assert offer.accepted_at == ny(2000, 7, 13, 12, 0)


@pytest.mark.django_db
def test_acceptance_refused_before_the_exchange_date(seed: SeedOffer) -> None:
    expire_offer(seed.offer.pk, actor=JOB, now=SEED_EXPIRATION)
    with pytest.raises(DeskError):
        accept_offer(seed.offer.pk, actor=SUPERVISOR, now=ny(2000, 7, 12, 23, 59, 59))
    assert _offer(seed).state == OfferState.EXPIRED
    accept_offer(seed.offer.pk, actor=SUPERVISOR, now=ny(2000, 7, 13, 0, 0))
    assert _offer(seed).state == OfferState.ACCEPTED


@pytest.mark.django_db
def test_acceptance_refused_while_the_offer_is_still_open(seed: SeedOffer) -> None:
    with pytest.raises(DeskError):
        accept_offer(seed.offer.pk, actor=SUPERVISOR, now=ny(2000, 7, 13, 10, 0))
    assert _offer(seed).state == OfferState.OPEN


# --- expiration ----------------------------------------------------------------------


@pytest.mark.django_db
def test_expire_offer_refused_one_second_before_the_instant(seed: SeedOffer) -> None:
    with pytest.raises(DeskError):
        expire_offer(seed.offer.pk, actor=JOB, now=SEED_EXPIRATION - ONE_SECOND)
    assert _offer(seed).state == OfferState.OPEN
    assert _history(seed.offer, "exchange.offer.expired") == 0


@pytest.mark.django_db
def test_expire_offer_at_the_instant_then_a_second_run_is_a_no_op(seed: SeedOffer) -> None:
    expire_offer(seed.offer.pk, actor=JOB, now=SEED_EXPIRATION)
    offer = _offer(seed)
    assert offer.state == OfferState.EXPIRED
    assert offer.expired_at == SEED_EXPIRATION
    assert _history(offer, "exchange.offer.expired") == 1

    expire_offer(seed.offer.pk, actor=JOB, now=SEED_EXPIRATION + dt.timedelta(minutes=5))
    offer = _offer(seed)
    assert offer.expired_at == SEED_EXPIRATION
    assert _history(offer, "exchange.offer.expired") == 1


# --- across the fall-back DST change ---------------------------------------------------


@pytest.mark.django_db
def test_offer_expiring_the_day_after_fall_back_closes_at_2200_utc() -> None:
    # Mailed Mon 09-25: 30 days -> end of 10-25; 20 business days (Columbus Day 10-09
    # skipped) -> end of 10-23. Expires Mon 2000-10-30 5:00 p.m. EST (UTC-5) = 22:00 UTC.
    offer = _open_offer("dst-2000", ny(2000, 10, 30, 17, 0), dt.date(2000, 9, 25))
    assert offer.expiration_at == dt.datetime(2000, 10, 30, 22, 0, tzinfo=UTC)
    assert offer.exchange_date == dt.date(2000, 10, 31)

    for too_early in (
        dt.datetime(2000, 10, 30, 21, 0, tzinfo=UTC),  # 5:00 p.m. had it still been EDT
        dt.datetime(2000, 10, 30, 21, 59, 59, tzinfo=UTC),
    ):
        with pytest.raises(DeskError):
            expire_offer(offer.pk, actor=JOB, now=too_early)
        assert ExchangeOffer.objects.get(pk=offer.pk).state == OfferState.OPEN
    expire_offer(offer.pk, actor=JOB, now=dt.datetime(2000, 10, 30, 22, 0, tzinfo=UTC))
    assert ExchangeOffer.objects.get(pk=offer.pk).state == OfferState.EXPIRED


@pytest.mark.django_db
def test_tenders_received_until_2200_utc_on_the_day_after_fall_back() -> None:
    offer = _open_offer("dst-tenders-2000", ny(2000, 10, 30, 17, 0), dt.date(2000, 9, 25))
    series = offer.series.get()
    holder = make_holder(name="Autumn Holder")
    give_certificate(holder, series, "F-1", "1000000")
    give_certificate(holder, series, "F-2", "1000000")

    def tender(number: str, now: dt.datetime) -> Tender:
        return receive_tender(
            offer_id=offer.pk,
            series_id=series.pk,
            holder_id=holder.pk,
            submission=LetterOfTransmittal(
                amount=Decimal("1000000"),
                channel=Channel.PAPER_LETTER,
                certificates=[CertificateTendered(number, Decimal("1000000"))],
                letter={"registered_names": "Autumn Holder", "signed": True},
            ),
            actor=CLERK,
            now=now,
        )

    with pytest.raises(DeskError):
        tender("F-1", dt.datetime(2000, 10, 30, 22, 0, 1, tzinfo=UTC))
    received = tender("F-1", dt.datetime(2000, 10, 30, 22, 0, tzinfo=UTC))
    assert received.received_at == ny(2000, 10, 30, 17, 0)


# --- midnight expirations and backdated mailings -------------------------------------


@pytest.mark.django_db
def test_a_midnight_expiration_belongs_to_the_day_it_ends() -> None:
    from tests.factories import make_offer

    # "12:00 midnight, New York City time, at the end of Thursday, July 13, 2000".
    offer = make_offer(slug="midnight", expiration=ny(2000, 7, 14, 0, 0))
    assert offer.expiration_date == dt.date(2000, 7, 13)
    assert offer.exchange_date == dt.date(2000, 7, 14)  # Friday, not Monday


@pytest.mark.django_db
def test_the_five_day_rule_with_a_midnight_expiration() -> None:
    from exchange.services.offers import five_business_day_expiration
    from tests.factories import make_offer

    offer = make_offer(slug="midnight-5", expiration=ny(2000, 7, 12, 0, 0))  # end of Tue 07-11
    # Notice Friday July 7: the fifth business day from and including it is Thursday July 13
    # (July 7, 10, 11, 12, 13); the offer ends with Tuesday the 11th, so it runs to the end
    # of Thursday the 13th: midnight beginning Friday the 14th.
    assert five_business_day_expiration(offer, dt.date(2000, 7, 7)) == ny(2000, 7, 14, 0, 0)


@pytest.mark.django_db
def test_a_backdated_mailing_does_not_shorten_the_minimum_open_period() -> None:
    from exchange.services.offers import commence_offer
    from tests.factories import make_offer, make_series

    offer = make_offer(slug="backdated", expiration=ny(2000, 7, 14, 17, 0))
    make_series(offer, "s")
    with pytest.raises(DeskError, match="must stay open at least 30 days"):
        commence_offer(
            offer.pk, actor=SUPERVISOR, now=ny(2000, 7, 13, 9), mailed_on=dt.date(2000, 6, 1)
        )
    with pytest.raises(DeskError, match="after the offer commences"):
        commence_offer(
            offer.pk, actor=SUPERVISOR, now=ny(2000, 6, 9, 9), mailed_on=dt.date(2000, 6, 10)
        )


@pytest.mark.django_db
def test_termination_closes_guarantees_still_waiting(seed: SeedOffer) -> None:
    from exchange.jobs.runner import run_due_jobs
    from exchange.models import GuaranteedDeliveryState
    from exchange.services.guaranteed_deliveries import (
        NoticeOfGuaranteedDelivery,
        receive_guaranteed_delivery,
    )

    gd = receive_guaranteed_delivery(
        offer_id=seed.offer.pk,
        series_id=seed.senior_2008.pk,
        holder_id=seed.registered.pk,
        guarantor_id=seed.guarantor.pk,
        notice=NoticeOfGuaranteedDelivery(
            "Ardsley Pension Trust",
            "1 Ardsley Plaza",
            "Ardsley Pension Trust",
            "",
            Decimal("1000000"),
            dt.date(2000, 6, 26),
        ),
        actor=CLERK,
        now=ny(2000, 6, 26, 10),
    )
    terminate_offer(
        seed.offer.pk, actor=SUPERVISOR, now=ny(2000, 6, 27, 10), reason="Condition failed"
    )
    gd.refresh_from_db()
    assert gd.state == GuaranteedDeliveryState.LAPSED
    assert StateChange.objects.filter(action="exchange.guaranteed_delivery.closed").count() == 1
    # Nothing left for the deadline job.
    assert not [r for r in run_due_jobs(ny(2000, 7, 1)) if r.job == "lapse_guaranteed_delivery"]


@pytest.mark.django_db
@pytest.mark.parametrize("tenders", [2, 8])
def test_termination_is_set_based(seed: SeedOffer, tenders: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from exchange.models import NoteReturn
    from tests.factories import book_entry_tender

    for i in range(tenders):
        book_entry_tender(seed, ny(2000, 6, 26, 10, i), amount="1000000")
    with CaptureQueriesContext(connection) as captured:
        terminate_offer(
            seed.offer.pk, actor=SUPERVISOR, now=ny(2000, 6, 27, 10), reason="Condition failed"
        )
    # The same statements for 2 tenders as for 8 (1 + 8 of them, each with its return).
    assert len(captured) <= 16, [q["sql"][:80] for q in captured.captured_queries]
    assert NoteReturn.objects.filter(reason="terminated").count() == tenders
    assert StateChange.objects.filter(action="exchange.tender.rejected").count() == tenders
