"""The "exchange completed" registration milestone: recorded once every tender accepted
for exchange (a guaranteed delivery delivered in time included) has its new notes issued;
a return still being sent does not hold it back, an open guaranteed delivery does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from exchange.models import (
    NoteReturn,
    OfferState,
    RegistrationEvent,
    RegistrationEventKind,
    Tender,
    TenderState,
)
from exchange.services.base import DeskError
from exchange.services.exchange_date import (
    accept_valid_tenders,
    dispatch_new_notes,
    exchange_completion_holds,
    record_exchange_completed_if_due,
    run_exchange_date,
)
from exchange.services.guaranteed_deliveries import (
    NoticeOfGuaranteedDelivery,
    fulfil_guaranteed_delivery,
    receive_guaranteed_delivery,
)
from exchange.services.offers import accept_offer, complete_offer, expire_offer
from exchange.services.review import validate_tender
from exchange.services.tenders import CertificateTendered
from exchange.services.withdrawals import NoticeOfWithdrawal, receive_withdrawal
from tests.factories import CLERK, JOB, SeedOffer, complete_letter, ny, paper_tender


def completed() -> list[dt.date]:
    return list(
        RegistrationEvent.objects.filter(kind=RegistrationEventKind.EXCHANGE_COMPLETED)
        .order_by("occurred_on")
        .values_list("occurred_on", flat=True)
    )


@pytest.mark.django_db
def test_completed_waits_for_an_open_guaranteed_delivery_not_for_a_pending_return(
    seed: SeedOffer,
) -> None:
    exchanged = paper_tender(seed, ny(2000, 6, 26, 10))
    validate_tender(exchanged.pk, actor=CLERK, now=ny(2000, 6, 26, 11))
    # Margaret Chen tenders and withdraws: her certificate is to go back.
    withdrawn = paper_tender(
        seed,
        ny(2000, 6, 27, 10),
        holder=seed.second_registered,
        certificates=(("R08-0003", "250000"),),
    )
    receive_withdrawal(
        withdrawn.pk,
        notice=NoticeOfWithdrawal(
            "Margaret Chen", "R08-0003", Decimal("250000"), True, "Margaret Chen", True
        ),
        actor=CLERK,
        now=ny(2000, 6, 28, 10),
    )
    # A guaranteed delivery executed on the expiration day: its notes may arrive until
    # the end of Monday, July 17.
    gd = receive_guaranteed_delivery(
        offer_id=seed.offer.pk,
        series_id=seed.senior_2008.pk,
        holder_id=seed.registered.pk,
        guarantor_id=seed.guarantor.pk,
        notice=NoticeOfGuaranteedDelivery(
            "Ardsley Pension Trust",
            "1 Ardsley Plaza",
            "Ardsley Pension Trust",
            "R08-0002",
            Decimal("1000000"),
            dt.date(2000, 7, 12),
        ),
        actor=CLERK,
        now=ny(2000, 7, 12, 16, 30),
    )
    expire_offer(seed.offer.pk, actor=JOB, now=ny(2000, 7, 12, 17))
    day = ny(2000, 7, 13, 9)
    accept_offer(seed.offer.pk, actor=JOB, now=day, reason="Written notice of acceptance.")
    offer = seed.offer
    offer.refresh_from_db()
    accept_valid_tenders(offer, actor=JOB, now=day)
    dispatch_new_notes(offer, actor=JOB, now=day)
    assert NoteReturn.objects.filter(tender=withdrawn, returned_at__isnull=True).exists()
    # The open guaranteed delivery holds the milestone back; the pending return does not
    # appear among what holds it.
    holds = record_exchange_completed_if_due(offer.pk, actor=JOB, now=day)
    assert list(holds) == ["guaranteed-delivery tender(s) whose notes may still arrive"]
    assert completed() == []
    # The notes arrive in time on Friday, the clerk finds them in order, the next tick
    # accepts and issues the new notes: now the exchange is completed, that day, while the
    # withdrawn certificate is still on its way back (the offer itself cannot complete).
    friday = ny(2000, 7, 14, 10)
    fulfil_guaranteed_delivery(
        gd.pk,
        by_book_entry=False,
        certificates=[CertificateTendered("R08-0002", Decimal("1000000"))],
        letter=complete_letter(registered_names="Ardsley Pension Trust"),
        actor=CLERK,
        now=friday,
    )
    validate_tender(gd.tender_id, actor=CLERK, now=friday + dt.timedelta(minutes=5))
    later = friday + dt.timedelta(minutes=10)
    accept_valid_tenders(offer, actor=JOB, now=later)
    dispatch_new_notes(offer, actor=JOB, now=later)
    assert Tender.objects.get(pk=gd.tender_id).state == TenderState.EXCHANGED
    assert NoteReturn.objects.filter(tender=withdrawn, returned_at__isnull=True).exists()
    assert record_exchange_completed_if_due(offer.pk, actor=JOB, now=later) == {}
    assert completed() == [dt.date(2000, 7, 14)]
    with pytest.raises(DeskError, match="returns of original notes not yet sent"):
        complete_offer(offer.pk, actor=JOB, now=later)
    # Recorded once: the exchange date's next run completes the offer without a second one.
    run_exchange_date(offer.pk, actor=JOB, now=later + dt.timedelta(minutes=1))
    offer.refresh_from_db()
    assert offer.state == OfferState.COMPLETED
    assert completed() == [dt.date(2000, 7, 14)]


@pytest.mark.django_db
def test_a_tender_still_in_review_holds_the_exchange_open(seed: SeedOffer) -> None:
    paper_tender(seed, ny(2000, 6, 26, 10))  # received, never reviewed
    seed.offer.acceptance_automatic = True
    seed.offer.save(update_fields=["acceptance_automatic"])
    expire_offer(seed.offer.pk, actor=JOB, now=ny(2000, 7, 12, 17))
    result = run_exchange_date(seed.offer.pk, actor=JOB, now=ny(2000, 7, 13, 9))
    assert result.outcome == "waiting"
    assert "may still be accepted" in " ".join(exchange_completion_holds(seed.offer.pk))
    assert completed() == []
