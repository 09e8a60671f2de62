"""Running one job for one subject: a JobRun row, one service call, idempotent.

`run_job` records a JobRun row, calls the one service, and is idempotent, so a tick
that runs twice, two workers on the same id, or a retry after a crash change nothing the
second time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.utils import timezone

from exchange.jobs.due import DueWork, due_work
from exchange.models import (
    ExchangeOffer,
    GuaranteedDelivery,
    JobName,
    JobOutcome,
    JobRun,
    OfferEvent,
    OfferState,
)
from exchange.selectors.atop import reconcile_positions
from exchange.selectors.reconciliation import reconcile, reconcile_books
from exchange.services import notifications
from exchange.services.announcements import check_announcement_deadline
from exchange.services.base import Actor, DeskError
from exchange.services.exchange_date import StopOrderBlocks, dispatch_returns, run_exchange_date
from exchange.services.guaranteed_deliveries import lapse_guaranteed_delivery
from exchange.services.offers import expire_offer
from exchange.special_interest.accrual import run_daily_accrual
from exchange.terms import calendars

log = logging.getLogger(__name__)


def _reconcile(offer_id: int, now: dt.datetime, actor: Actor) -> tuple[str, str]:
    """Original notes tendered = new notes delivered + returned + pending, per series, and
    the books (register before = after + exchanged, new notes = exchanged); a mismatch is an alert to the operators (mail to ADMINS, an ERROR in the log)."""
    offer = ExchangeOffer.objects.get(pk=offer_id)
    rows = reconcile(offer)
    summary = "; ".join(
        f"{r.series.slug}: {r.tendered:,.2f} = {r.delivered:,.2f} + {r.returned:,.2f} + "
        f"{r.pending:,.2f}" + ("" if r.balanced else " MISMATCH " + ", ".join(r.anomalies))
        for r in rows
    )
    books = reconcile_books(offer, now)
    summary += "; books " + "; ".join(
        f"{b.series.slug}: {b.original_before:,.2f} = {b.original_after:,.2f} + "
        f"{b.exchanged:,.2f} exchanged, new {b.new_issued:,.2f}"
        + ("" if b.balanced else " MISMATCH " + ", ".join(b.anomalies))
        for b in books
    )
    positions = reconcile_positions(offer)
    if positions:
        summary += "; DTC account: " + "; ".join(
            f"{p.series.original_cusip}: {p.held:,.2f} held, {p.expected:,.2f} expected"
            + ("" if p.balanced else f" MISMATCH (difference {p.difference:,.2f})")
            for p in positions
        )
    if (
        all(r.balanced for r in rows)
        and all(b.balanced for b in books)
        and all(p.balanced for p in positions)
    ):
        return JobOutcome.DONE, f"balanced — {summary}"
    message = f"Reconciliation of {offer.slug} does not balance as of {calendars.format_ny(now)}: {summary}"
    notifications.operations_alert(
        f"Tender desk: reconciliation MISMATCH for {offer.slug}", message
    )
    return JobOutcome.BLOCKED, message


def _expire(offer_id: int, now: dt.datetime, actor: Actor) -> tuple[str, str]:
    offer = ExchangeOffer.objects.get(pk=offer_id)
    if offer.state != OfferState.OPEN:
        return JobOutcome.NOTHING_DUE, f"already {offer.get_state_display().lower()}"
    if now < offer.expiration_at:
        # An extension recorded after the tick looked: the new instant stands.
        return JobOutcome.NOTHING_DUE, f"expires {calendars.format_ny(offer.expiration_at)}"
    try:
        offer = expire_offer(offer_id, actor=actor, now=now)
    except DeskError as exc:  # extended while this run was on its way: the new instant stands
        return JobOutcome.NOTHING_DUE, exc.message
    return JobOutcome.DONE, f"closed at {calendars.format_ny(offer.expiration_at)}"


def _lapse(gd_id: int, now: dt.datetime, actor: Actor) -> tuple[str, str]:
    gd = lapse_guaranteed_delivery(gd_id, actor=actor, now=now)
    if gd.lapsed_at != now:
        # Fulfilled, waived or lapsed already while this run was on its way.
        return JobOutcome.NOTHING_DUE, gd.get_state_display().lower()
    then = (
        "; tender rejected" if getattr(gd, "tender_rejected", False) else "; tender already closed"
    )
    return JobOutcome.DONE, f"lapsed at {calendars.format_ny(gd.deadline_at)}{then}"


def _exchange_date(offer_id: int, now: dt.datetime, actor: Actor) -> tuple[str, str]:
    try:
        result = run_exchange_date(offer_id, actor=actor, now=now)
    except StopOrderBlocks as exc:
        return JobOutcome.BLOCKED, exc.message
    outcome = {
        "done": JobOutcome.DONE,
        "waiting": JobOutcome.WAITING,
        "nothing_due": JobOutcome.NOTHING_DUE,
    }[result.outcome]
    return outcome, result.summary()


def _settle_returns(offer_id: int, now: dt.datetime, actor: Actor) -> tuple[str, str]:
    offer = ExchangeOffer.objects.get(pk=offer_id)
    count = dispatch_returns(offer, actor=actor, now=now)
    return (JobOutcome.DONE if count else JobOutcome.NOTHING_DUE), f"{count} return(s) dispatched"


def _announcement_deadline(event_id: int, now: dt.datetime, actor: Actor) -> tuple[str, str]:
    step = check_announcement_deadline(event_id, actor=actor, now=now)
    event = OfferEvent.objects.get(pk=event_id)
    due = calendars.format_ny(event.announcement_due_at) if event.announcement_due_at else "-"
    if step == "late":
        return JobOutcome.BLOCKED, f"no announcement recorded by {due}: marked late"
    if step == "warned":
        return JobOutcome.DONE, f"supervisors warned: announcement due by {due}"
    return JobOutcome.NOTHING_DUE, f"{step} (due by {due})"


RUNNERS: dict[str, Callable[[int, dt.datetime, Actor], tuple[str, str]]] = {
    JobName.EXPIRE_OFFER: _expire,
    JobName.LAPSE_GUARANTEED_DELIVERY: _lapse,
    JobName.EXCHANGE_DATE: _exchange_date,
    JobName.SETTLE_RETURNS: _settle_returns,
    JobName.ACCRUE_SPECIAL_INTEREST: run_daily_accrual,
    JobName.RECONCILE: _reconcile,
    JobName.ANNOUNCEMENT_DEADLINE: _announcement_deadline,
}


def _subject_label(job: str, subject_id: int) -> str:
    if job == JobName.ANNOUNCEMENT_DEADLINE:
        event = OfferEvent.objects.filter(pk=subject_id).select_related("offer").first()
        return (
            f"{event.offer.slug}: {event.get_kind_display().lower()}" if event else str(subject_id)
        )
    if job == JobName.LAPSE_GUARANTEED_DELIVERY:
        return GuaranteedDelivery.objects.filter(pk=subject_id).values_list(
            "reference", flat=True
        ).first() or str(subject_id)
    return ExchangeOffer.objects.filter(pk=subject_id).values_list(
        "slug", flat=True
    ).first() or str(subject_id)


REPEATABLE_OUTCOMES = {JobOutcome.NOTHING_DUE, JobOutcome.WAITING, JobOutcome.BLOCKED}


def run_job(job: str, subject_id: int, *, now: dt.datetime | None = None) -> JobRun:
    """Run one job for one subject as of `now` (default: the clock), recording the run.

    Domain refusals (DeskError) are outcomes, not crashes; anything else is logged with
    the job, subject and instant, recorded as failed, and re-raised so the task retries.
    """
    as_of = now or timezone.now()
    run = JobRun.objects.create(
        job=job,
        subject_id=subject_id,
        subject_label=_subject_label(job, subject_id),
        as_of=as_of,
        started_at=timezone.now(),
    )
    actor = Actor.job(f"job:{job}")
    try:
        outcome, detail = RUNNERS[job](subject_id, as_of, actor)
    except DeskError as exc:
        outcome, detail = JobOutcome.BLOCKED, exc.message
    except Exception as exc:
        log.exception(
            "Job %s for %s as of %s failed", job, run.subject_label, calendars.format_ny(as_of)
        )
        JobRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(),
            outcome=JobOutcome.FAILED,
            detail=f"{type(exc).__name__}: {exc}",
        )
        raise
    previous = (
        JobRun.objects.filter(job=job, subject_id=subject_id)
        .exclude(pk=run.pk)
        .order_by("-started_at", "-id")
        .first()
    )
    unchanged = (
        previous is not None
        and outcome in REPEATABLE_OUTCOMES
        and previous.outcome == outcome
        and previous.detail == detail
    )
    if outcome == JobOutcome.BLOCKED:
        # Loud when it starts; while it lasts, one line a tick is enough.
        (log.warning if unchanged else log.error)(
            "Job %s for %s: %s", job, run.subject_label, detail
        )
    if unchanged:
        # A job waiting (or blocked) tick after tick keeps one row, brought up to date,
        # rather than a row a minute: the page shows when it last looked.
        assert previous is not None
        JobRun.objects.filter(pk=run.pk).delete()
        JobRun.objects.filter(pk=previous.pk).update(as_of=as_of, finished_at=timezone.now())
        previous.refresh_from_db()
        return previous
    JobRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(), outcome=outcome, detail=detail
    )
    run.refresh_from_db()
    return run


def run_due_jobs(now: dt.datetime) -> list[JobRun]:
    """Run everything due at `now` in this process, in order (run_jobs --as-of).

    One job can make another due at the same instant (an expiration long past makes the
    exchange date due), so look again until nothing new is due; each (job, id) runs
    once per call.
    """
    runs: list[JobRun] = []
    done: set[DueWork] = set()
    for _ in range(len(JobName.values) + 1):
        fresh = [item for item in due_work(now) if item not in done]
        if not fresh:
            break
        for item in fresh:
            done.add(item)
            runs.append(run_job(item.job, item.subject_id, now=now))
    return runs
