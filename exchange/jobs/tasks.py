"""Celery tasks: `tick` (beat, every minute) finds what is due and enqueues `run_job`
for each (job, id). Tasks take ids, call one job, and are idempotent."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from exchange.jobs.due import due_work
from exchange.jobs.runner import run_job
from exchange.services.atop.staged import process_staged
from exchange.terms import calendars


def _instant(as_of: str | None) -> dt.datetime | None:
    """An ISO instant for a replay; without an offset it is New York time, never naive."""
    if not as_of:
        return None
    moment = dt.datetime.fromisoformat(as_of)
    if moment.tzinfo is None:
        moment = calendars.ny_instant(moment.date(), moment.time())
    return moment


@shared_task(name="exchange.tick", ignore_result=True)
def tick(as_of: str | None = None) -> int:
    """Enqueue every job due now (or at `as_of`, an ISO instant, for replays)."""
    now = _instant(as_of) or timezone.now()
    work = due_work(now)
    for item in work:
        run_job_task.delay(item.job, item.subject_id, now.isoformat() if as_of else None)
    return len(work)


@shared_task(
    name="exchange.run_job",
    bind=True,
    # A database that went away is worth retrying; the work is idempotent and the
    # due time stays in the database, so the next tick would find it anyway.
    autoretry_for=(DatabaseError,),
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=5,
    acks_late=True,
)
def run_job_task(self: object, job: str, subject_id: int, as_of: str | None = None) -> str:
    now = _instant(as_of)
    run = run_job(job, subject_id, now=now)
    return f"{run.job} {run.subject_label}: {run.outcome} — {run.detail}"


@shared_task(
    name="exchange.atop_import",
    bind=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=5,
    acks_late=True,
)
def atop_import_task(self: object, import_id: int) -> str:
    """The preview or the import of an uploaded ATOP activity file (idempotent by VOI)."""
    staged = process_staged(import_id, now=timezone.now())
    return f"{staged.file_name}: {staged.get_state_display()}"


__all__ = ["atop_import_task", "run_job_task", "tick"]
