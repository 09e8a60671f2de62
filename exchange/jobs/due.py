"""What is due at an instant, in the order it must happen.

Due times live in the database (an offer's expiration, a guarantee's deadline, the
exchange date), never in broker ETA messages: a beat tick every minute asks
`due_work(now)` and enqueues one task per (job, id).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from exchange.models import (
    ExchangeOffer,
    GuaranteedDelivery,
    GuaranteedDeliveryState,
    JobName,
    NoteReturn,
    OfferState,
)
from exchange.selectors.jobs import offers_due_for_reconciliation
from exchange.services.announcements import deadlines_due
from exchange.special_interest.accrual import offers_due_for_accrual
from exchange.terms import calendars

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DueWork:
    job: JobName
    subject_id: int


def due_work(now: dt.datetime) -> list[DueWork]:
    """Everything due at `now`, in the order it must happen: expire, lapse, exchange date."""
    work = [
        DueWork(JobName.EXPIRE_OFFER, pk)
        for pk in ExchangeOffer.objects.filter(state=OfferState.OPEN, expiration_at__lte=now)
        .order_by("expiration_at")
        .values_list("pk", flat=True)
    ]
    work += [
        DueWork(JobName.LAPSE_GUARANTEED_DELIVERY, pk)
        for pk in GuaranteedDelivery.objects.filter(
            state=GuaranteedDeliveryState.RECEIVED, deadline_at__lte=now, lapse_waived_by=""
        )
        .order_by("deadline_at")
        .values_list("pk", flat=True)
    ]
    today = calendars.ny_date(now)
    for offer in ExchangeOffer.objects.filter(state__in=[OfferState.EXPIRED, OfferState.ACCEPTED]):
        if today >= offer.exchange_date:
            work.append(DueWork(JobName.EXCHANGE_DATE, offer.pk))
    # Withdrawn and rejected notes go back promptly, whatever the offer's stage.
    work += [
        DueWork(JobName.SETTLE_RETURNS, pk)
        for pk in NoteReturn.objects.filter(returned_at__isnull=True)
        .values_list("tender__offer_id", flat=True)
        .distinct()
    ]
    # Special interest: once per New York day per tracked offer, after the exchange date
    # (whose completion is a milestone). See exchange.special_interest.accrual.
    work += [DueWork(JobName.ACCRUE_SPECIAL_INTEREST, pk) for pk in offers_due_for_accrual(now)]
    work += [DueWork(JobName.RECONCILE, pk) for pk in offers_due_for_reconciliation(now)]
    # Extension announcements: warn an hour before 9:00 a.m., mark late from 9:00 a.m.
    work += [DueWork(JobName.ANNOUNCEMENT_DEADLINE, pk) for pk in deadlines_due(now)]
    return work
