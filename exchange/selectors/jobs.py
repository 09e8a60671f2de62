"""Reads of the scheduled jobs: which offers are due for reconciliation, and the job page's overview.

The job runner (exchange.jobs) and the desk's job page both read these; neither imports the other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django_celery_beat.models import PeriodicTask

from exchange.models import (
    ExchangeOffer,
    GuaranteedDelivery,
    GuaranteedDeliveryState,
    JobName,
    JobOutcome,
    JobRun,
    NoteReturn,
    OfferState,
    RegistrationEvent,
    RegistrationEventKind,
)
from exchange.selectors.exchange_status import exchange_dates_waiting
from exchange.special_interest.accrual import offers_due_for_accrual
from exchange.terms import calendars


def offers_due_for_reconciliation(now: dt.datetime) -> list[int]:
    """Offers with tenders not yet reconciled this New York day (after a failed run, again)."""
    today = calendars.ny_date(now)
    with_tenders = set(
        ExchangeOffer.objects.exclude(state=OfferState.DRAFT)
        .filter(tenders__isnull=False)
        .values_list("pk", flat=True)
        .distinct()
    )
    done_today = set(
        JobRun.objects.filter(
            job=JobName.RECONCILE,
            subject_id__in=with_tenders,
            as_of__gte=calendars.start_of_ny_day(today),
            as_of__lt=calendars.end_of_ny_day(today),
        )
        .exclude(outcome=JobOutcome.FAILED)
        .values_list("subject_id", flat=True)
    )
    return sorted(with_tenders - done_today)


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
    waits_for: str = ""  # what the job is waiting on, in words (the exchange date)


def job_overview(now: dt.datetime) -> list[JobOverview]:

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
    after_expiration = list(
        ExchangeOffer.objects.filter(state__in=[OfferState.EXPIRED, OfferState.ACCEPTED]).order_by(
            "expiration_at", "pk"
        )
    )
    waiting = exchange_dates_waiting(after_expiration, now)
    pending_returns = NoteReturn.objects.filter(returned_at__isnull=True)
    oldest_return = pending_returns.order_by("recorded_at").first()

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
            " ".join(f"{o.slug}: {waiting[o.pk]}." for o in after_expiration if waiting[o.pk]),
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
