"""Reads: figures of an offer as of an instant, for the operator commands and reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import Sum

from exchange.models import (
    ExchangeOffer,
    NewNoteDelivery,
    NoteSeries,
    StateChange,
    Tender,
    WithdrawalNotice,
    WithdrawalState,
)

ZERO = Decimal("0.00")


def offer_state_as_of(offer: ExchangeOffer, moment: dt.datetime) -> str:
    """The offer's state at `moment`, read back from its history."""
    last = (
        StateChange.objects.filter(
            content_type=ContentType.objects.get_for_model(ExchangeOffer),
            object_id=offer.pk,
            at__lte=moment,
        )
        .exclude(to_state="")
        .order_by("-at", "-id")
        .values_list("to_state", flat=True)
        .first()
    )
    return last or "draft"


def expiration_as_of(offer: ExchangeOffer, moment: dt.datetime) -> dt.datetime:
    """The expiration instant in force at `moment` (extensions recorded after it not yet known)."""
    later = (
        offer.events.filter(occurred_at__gt=moment, previous_expiration_at__isnull=False)
        .order_by("occurred_at", "id")
        .values_list("previous_expiration_at", flat=True)
        .first()
    )
    return later or offer.expiration_at


@dataclass(frozen=True)
class SeriesFigures:
    series: NoteSeries
    tendered: Decimal
    withdrawn: Decimal
    accepted: Decimal
    outstanding: Decimal


def series_figures(offer: ExchangeOffer, moment: dt.datetime) -> list[SeriesFigures]:
    """Per series, as of `moment`: tendered (received), withdrawn (effective notices),
    accepted (new notes recorded), and original notes outstanding (not yet exchanged)."""
    figures = []
    for series in offer.series.order_by("maturity_date", "name"):
        tendered = Tender.objects.filter(series=series, received_at__lte=moment).aggregate(
            t=Sum("amount")
        )["t"]
        withdrawn = WithdrawalNotice.objects.filter(
            tender__series=series, state=WithdrawalState.EFFECTIVE, decided_at__lte=moment
        ).aggregate(t=Sum("amount"))["t"]
        accepted = NewNoteDelivery.objects.filter(series=series, recorded_at__lte=moment).aggregate(
            t=Sum("amount")
        )["t"]
        accepted = accepted or ZERO
        figures.append(
            SeriesFigures(
                series=series,
                tendered=tendered or ZERO,
                withdrawn=withdrawn or ZERO,
                accepted=accepted,
                outstanding=series.amount_outstanding - accepted,
            )
        )
    return figures


@dataclass(frozen=True)
class SeriesReconciliation:
    """Original notes in the agent's hands = new notes delivered + notes returned + pending."""

    series: NoteSeries
    tendered: Decimal
    delivered: Decimal
    returned: Decimal
    pending: Decimal
    anomalies: tuple[str, ...]

    @property
    def balanced(self) -> bool:
        return self.tendered == self.delivered + self.returned + self.pending and not self.anomalies


def reconcile(offer: ExchangeOffer) -> list[SeriesReconciliation]:
    from django.db.models import Count, F, Q

    from exchange.models import GuaranteedDeliveryState, NoteReturn, TenderState
    from exchange.models.tenders import TENDER_OPEN_STATES

    results = []
    for series in offer.series.order_by("maturity_date", "name"):
        # Notes reached the agent unless the tender is a guaranteed delivery never fulfilled.
        in_hand = Tender.objects.filter(series=series).filter(
            Q(guaranteed_delivery__isnull=True)
            | Q(guaranteed_delivery__state=GuaranteedDeliveryState.FULFILLED)
        )
        # A withdrawal made while a guarantee still awaited the notes took back notes the
        # agent never held: they are not part of what reached its hands.
        never_held = (
            WithdrawalNotice.objects.filter(
                tender__in=in_hand, state=WithdrawalState.EFFECTIVE, note_return__isnull=True
            ).aggregate(t=Sum("amount"))["t"]
            or ZERO
        )
        tendered = (in_hand.aggregate(t=Sum("amount"))["t"] or ZERO) - never_held
        delivered = (
            NewNoteDelivery.objects.filter(series=series).aggregate(t=Sum("amount"))["t"] or ZERO
        )
        returned = (
            NoteReturn.objects.filter(tender__series=series).aggregate(t=Sum("amount"))["t"] or ZERO
        )
        pending = (
            in_hand.filter(state__in=TENDER_OPEN_STATES).aggregate(
                t=Sum(F("amount") - F("withdrawn_amount"))
            )["t"]
            or ZERO
        )
        anomalies = []
        undelivered = in_hand.filter(
            state__in=[TenderState.ACCEPTED, TenderState.EXCHANGED], new_note_delivery__isnull=True
        ).count()
        if undelivered:
            anomalies.append(f"{undelivered} accepted tender(s) without new notes recorded")
        mismatched = (
            NewNoteDelivery.objects.filter(series=series)
            .exclude(amount=F("tender__amount") - F("tender__withdrawn_amount"))
            .count()
        )
        if mismatched:
            anomalies.append(f"{mismatched} delivery(ies) not equal to the tender's live amount")
        doubled = (
            NoteReturn.objects.filter(tender__series=series, withdrawal__isnull=True)
            .values("tender")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
        if doubled:
            anomalies.append(f"{doubled} tender(s) returned twice")
        results.append(
            SeriesReconciliation(series, tendered, delivered, returned, pending, tuple(anomalies))
        )
    return results


@dataclass(frozen=True)
class JobOverview:
    """One line of the admin's jobs page: schedule, last run, outcome, next due."""

    job: str
    label: str
    schedule: str
    last_run: object  # JobRun | None
    next_due: dt.datetime | None
    next_due_subject: str
    pending: int


def job_overview(now: dt.datetime) -> list[JobOverview]:
    from django_celery_beat.models import PeriodicTask

    from exchange import calendars
    from exchange.models import (
        GuaranteedDelivery,
        GuaranteedDeliveryState,
        JobName,
        JobRun,
        NoteReturn,
        OfferState,
    )

    tick = PeriodicTask.objects.filter(task="exchange.tick").select_related("interval").first()
    if tick is None:
        schedule = "no beat schedule: run `manage.py migrate`"
    else:
        every = str(tick.interval) if tick.interval else str(tick.schedule)
        ran = (
            f", beat last sent it {calendars.format_ny(tick.last_run_at)}"
            if tick.last_run_at
            else ""
        )
        schedule = f"beat tick {every}{'' if tick.enabled else ' (DISABLED)'}{ran}"

    def last(job: str) -> object:
        return JobRun.objects.filter(job=job).order_by("-started_at", "-id").first()

    open_offers = ExchangeOffer.objects.filter(state=OfferState.OPEN).order_by("expiration_at")
    next_expiring = open_offers.first()
    waiting_gds = GuaranteedDelivery.objects.filter(
        state=GuaranteedDeliveryState.RECEIVED, lapse_waived_by=""
    ).order_by("deadline_at")
    next_gd = waiting_gds.first()
    exchange_candidates = sorted(
        (
            (calendars.start_of_ny_day(o.exchange_date), o.slug)
            for o in ExchangeOffer.objects.filter(
                state__in=[OfferState.OPEN, OfferState.EXPIRED, OfferState.ACCEPTED]
            )
        ),
        key=lambda pair: pair[0],
    )
    pending_returns = NoteReturn.objects.filter(returned_at__isnull=True)
    oldest_return = pending_returns.order_by("recorded_at").first()
    from exchange.models import RegistrationEvent, RegistrationEventKind
    from exchange.special_interest.accrual import offers_due_for_accrual

    tracked = (
        RegistrationEvent.objects.exclude(kind=RegistrationEventKind.EXCHANGE_COMPLETED)
        .values("offer")
        .distinct()
        .count()
    )
    accrual_due_now = offers_due_for_accrual(now)
    next_accrual = (
        now
        if accrual_due_now
        else calendars.start_of_ny_day(calendars.ny_date(now) + dt.timedelta(days=1))
    )
    accrual = JobOverview(
        JobName.ACCRUE_SPECIAL_INTEREST,
        JobName.ACCRUE_SPECIAL_INTEREST.label,
        schedule + "; once a New York day per offer with registration milestones",
        last(JobName.ACCRUE_SPECIAL_INTEREST),
        next_accrual if tracked else None,
        f"{tracked} offer(s) tracked" if tracked else "",
        len(accrual_due_now),
    )
    from exchange.jobs import offers_due_for_reconciliation

    reconciliation_due = offers_due_for_reconciliation(now)
    reconciliation = JobOverview(
        JobName.RECONCILE,
        JobName.RECONCILE.label,
        schedule + "; once a New York day per offer with tenders; a mismatch mails ADMINS",
        last(JobName.RECONCILE),
        now
        if reconciliation_due
        else calendars.start_of_ny_day(calendars.ny_date(now) + dt.timedelta(days=1)),
        f"{len(reconciliation_due)} offer(s) not yet reconciled today",
        len(reconciliation_due),
    )
    return [
        JobOverview(
            JobName.EXPIRE_OFFER,
            JobName.EXPIRE_OFFER.label,
            schedule,
            last(JobName.EXPIRE_OFFER),
            next_expiring.expiration_at if next_expiring else None,
            next_expiring.slug if next_expiring else "",
            open_offers.count(),
        ),
        JobOverview(
            JobName.LAPSE_GUARANTEED_DELIVERY,
            JobName.LAPSE_GUARANTEED_DELIVERY.label,
            schedule,
            last(JobName.LAPSE_GUARANTEED_DELIVERY),
            next_gd.deadline_at if next_gd else None,
            next_gd.reference if next_gd else "",
            waiting_gds.count(),
        ),
        JobOverview(
            JobName.EXCHANGE_DATE,
            JobName.EXCHANGE_DATE.label,
            schedule,
            last(JobName.EXCHANGE_DATE),
            exchange_candidates[0][0] if exchange_candidates else None,
            exchange_candidates[0][1] if exchange_candidates else "",
            len(exchange_candidates),
        ),
        JobOverview(
            JobName.SETTLE_RETURNS,
            JobName.SETTLE_RETURNS.label,
            schedule,
            last(JobName.SETTLE_RETURNS),
            oldest_return.recorded_at if oldest_return else None,
            f"{pending_returns.count()} pending" if oldest_return else "",
            pending_returns.count(),
        ),
        accrual,
        reconciliation,
    ]
