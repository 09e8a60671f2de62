"""The time to cure is the issuer's: the expiration instant by default; for a
guaranteed-delivery tender its delivery deadline; later for the whole offer or for one
holder when the issuer says so. The cure service, the portal and the exchange date follow it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from exchange.models import (
    DeficiencyKind,
    DeficiencyStatus,
    GuaranteedDelivery,
    OfferEvent,
    OfferEventKind,
    StateChange,
    Tender,
    TenderState,
)
from exchange.services.base import DeskError
from exchange.services.cure_periods import (
    cure_deadline,
    extend_cure_for_holder,
    set_cure_period,
)
from exchange.services.exchange_date import run_exchange_date
from exchange.services.guaranteed_deliveries import (
    NoticeOfGuaranteedDelivery,
    fulfil_guaranteed_delivery,
    receive_guaranteed_delivery,
)
from exchange.services.offers import expire_offer
from exchange.services.review import cure_deficiency, record_deficiencies
from exchange.services.tenders import CertificateTendered
from holders import selectors
from tests.factories import (
    CLERK,
    JOB,
    SUPERVISOR,
    SeedOffer,
    complete_letter,
    deliver_outbox,
    ny,
    paper_tender,
)

EXPIRATION = ny(2000, 7, 12, 17, 0)
ONE_SECOND = dt.timedelta(seconds=1)
DURING = ny(2000, 6, 26, 10, 0)
# Notice executed Wednesday July 12: the third NYSE trading day after is Monday July 17;
# the deadline is its end, Tuesday July 18 00:00 New York.
GD_DEADLINE = ny(2000, 7, 18, 0, 0)


def _deficient_paper_tender(seed: SeedOffer) -> Tender:
    tender = paper_tender(seed, DURING)
    record_deficiencies(
        tender.pk,
        defects=[(DeficiencyKind.SIGNATURE, "Sign the letter as registered.")],
        actor=CLERK,
        now=DURING,
    )
    return Tender.objects.get(pk=tender.pk)


def _guaranteed_tender_missing_a_signature(seed: SeedOffer) -> Tender:
    """Notice of guaranteed delivery July 12 at 16:00; notes and letter delivered July 13
    without the signature."""
    gd = receive_guaranteed_delivery(
        offer_id=seed.offer.pk,
        series_id=seed.senior_2008.pk,
        holder_id=seed.registered.pk,
        guarantor_id=seed.guarantor.pk,
        notice=NoticeOfGuaranteedDelivery(
            "Ardsley Pension Trust",
            "1 Ardsley Plaza",
            "Ardsley Pension Trust",
            "R08-0001",
            Decimal("5000000"),
            dt.date(2000, 7, 12),
        ),
        actor=CLERK,
        now=ny(2000, 7, 12, 16, 0),
    )
    assert gd.deadline_at == GD_DEADLINE
    fulfil_guaranteed_delivery(
        gd.pk,
        by_book_entry=False,
        certificates=[CertificateTendered("R08-0001", Decimal("5000000"))],
        letter=complete_letter(signed=False),
        actor=CLERK,
        now=ny(2000, 7, 13, 10, 0),
    )
    record_deficiencies(
        gd.tender_id,
        defects=[(DeficiencyKind.SIGNATURE, "Sign the letter as registered.")],
        actor=CLERK,
        now=ny(2000, 7, 13, 11, 0),
    )
    return Tender.objects.get(pk=gd.tender_id)


def _cure(tender: Tender, now: dt.datetime) -> None:
    cure_deficiency(
        tender.deficiencies.get().pk, actor=CLERK, now=now, note="Signed letter received."
    )


@pytest.mark.django_db
def test_default_is_the_expiration_instant(seed: SeedOffer) -> None:
    tender = _deficient_paper_tender(seed)
    assert cure_deadline(tender) == EXPIRATION
    with pytest.raises(DeskError, match="the time the issuer allows"):
        _cure(tender, EXPIRATION)
    assert tender.deficiencies.get().status == DeficiencyStatus.OPEN
    _cure(tender, EXPIRATION - ONE_SECOND)
    assert Tender.objects.get(pk=tender.pk).state == TenderState.VALID


@pytest.mark.django_db
def test_guaranteed_delivery_tender_is_cured_on_july_14(seed: SeedOffer) -> None:
    tender = _guaranteed_tender_missing_a_signature(seed)
    expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION)
    assert cure_deadline(tender) == GD_DEADLINE
    assert selectors.cure_closed_reason(tender, ny(2000, 7, 14, 10)) is None
    _cure(tender, ny(2000, 7, 14, 10, 0))
    assert Tender.objects.get(pk=tender.pk).state == TenderState.VALID


@pytest.mark.django_db
def test_guaranteed_delivery_cure_window_closes_at_its_deadline(seed: SeedOffer) -> None:
    tender = _guaranteed_tender_missing_a_signature(seed)
    expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION)
    assert selectors.cure_closed_reason(tender, GD_DEADLINE) is not None
    with pytest.raises(DeskError):
        _cure(tender, GD_DEADLINE)
    _cure(tender, GD_DEADLINE - ONE_SECOND)


@pytest.mark.django_db
def test_exchange_date_rejects_a_deficient_tender_only_once_its_cure_time_runs_out(
    seed: SeedOffer,
) -> None:
    seed.offer.acceptance_automatic = True
    seed.offer.save(update_fields=["acceptance_automatic"])
    tender = _guaranteed_tender_missing_a_signature(seed)
    expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION)
    result = run_exchange_date(seed.offer.pk, actor=JOB, now=GD_DEADLINE - ONE_SECOND)
    assert result.returned_not_accepted == 0
    assert result.outcome == "waiting"
    assert Tender.objects.get(pk=tender.pk).state == TenderState.DEFICIENT
    result = run_exchange_date(seed.offer.pk, actor=JOB, now=GD_DEADLINE)
    assert result.returned_not_accepted == 1
    assert Tender.objects.get(pk=tender.pk).state in (TenderState.REJECTED, TenderState.RETURNED)


@pytest.mark.django_db
def test_the_issuer_sets_a_later_time_for_the_whole_offer(seed: SeedOffer) -> None:
    tender = _deficient_paper_tender(seed)
    with pytest.raises(DeskError) as refused:
        set_cure_period(
            seed.offer.pk,
            ends_at=EXPIRATION,
            reason="Same as expiration.",
            actor=SUPERVISOR,
            now=DURING,
        )
    assert refused.value.field == "ends_at"
    event = set_cure_period(
        seed.offer.pk,
        ends_at=ny(2000, 7, 14, 17, 0),
        reason="Issuer's letter of July 10.",
        actor=SUPERVISOR,
        now=ny(2000, 7, 10, 9),
    )
    assert event.kind == OfferEventKind.CURE_PERIOD
    assert StateChange.objects.filter(action="exchange.offer.cure_period_set").count() == 1
    tender.refresh_from_db()
    assert cure_deadline(tender) == ny(2000, 7, 14, 17, 0)
    expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION)
    _cure(tender, ny(2000, 7, 14, 17, 0) - ONE_SECOND)
    assert Tender.objects.get(pk=tender.pk).state == TenderState.VALID


@pytest.mark.django_db
def test_the_issuer_extends_the_time_for_one_holder_only(seed: SeedOffer) -> None:
    tender = _deficient_paper_tender(seed)
    other = paper_tender(
        seed, DURING, holder=seed.second_registered, certificates=(("R08-0003", "250000"),)
    )
    record_deficiencies(
        other.pk,
        defects=[(DeficiencyKind.SIGNATURE, "Sign the letter.")],
        actor=CLERK,
        now=DURING,
    )
    with pytest.raises(DeskError) as refused:
        extend_cure_for_holder(
            tender.pk, until=ny(2000, 7, 17, 17), authorized_by="", actor=SUPERVISOR, now=DURING
        )
    assert refused.value.field == "authorized_by"
    extend_cure_for_holder(
        tender.pk,
        until=ny(2000, 7, 17, 17),
        authorized_by="R. Officer, Treasurer",
        actor=SUPERVISOR,
        now=ny(2000, 7, 11, 10),
    )
    history = StateChange.objects.get(action="exchange.tender.cure_extended")
    assert "R. Officer" in history.reason and "July 17, 2000" in history.reason
    expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION)
    other = Tender.objects.get(pk=other.pk)
    with pytest.raises(DeskError):
        _cure(other, ny(2000, 7, 13, 10))
    tender = Tender.objects.get(pk=tender.pk)
    with pytest.raises(DeskError):
        _cure(tender, ny(2000, 7, 17, 17))
    _cure(tender, ny(2000, 7, 17, 17) - ONE_SECOND)
    assert Tender.objects.get(pk=tender.pk).state == TenderState.VALID
    assert not OfferEvent.objects.filter(kind=OfferEventKind.CURE_PERIOD).exists()
    assert GuaranteedDelivery.objects.count() == 0


@pytest.mark.django_db
def test_the_deficiency_notice_names_the_guaranteed_delivery_deadline(seed: SeedOffer) -> None:
    from django.core import mail
    from django.test import TestCase

    seed.registered.email = "trustee@ardsley.example"
    seed.registered.save(update_fields=["email"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        _guaranteed_tender_missing_a_signature(seed)
    deliver_outbox()  # every notice goes through the outbox; the mail worker sends it
    [notice] = [m for m in mail.outbox if "action needed" in m.subject]
    # The end of Monday July 17 (Tuesday 00:00), not the July 12 expiration.
    assert "12:00 a.m. New York City time, Tuesday, July 18, 2000" in notice.subject
    assert "Cure each point before 12:00 a.m. New York City time, Tuesday, July 18" in notice.body
