"""Celery tasks: `tick` (beat, every minute) finds what is due and enqueues `run_job`
for each (job, id). Tasks take ids, call one job, and are idempotent.

The outbox: `send_mail` sends one message (enqueued when the transaction that wrote it
commits); `send_due_mail` (beat, every minute) enqueues whatever is due for a retry, or
was written while the broker was down."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from exchange.jobs.due import due_work
from exchange.jobs.runner import run_job
from exchange.services import outbox
from exchange.terms import calendars

log = logging.getLogger(__name__)


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
    name="exchange.send_mail",
    ignore_result=True,
    acks_late=True,
    # Each SMTP operation times out after EMAIL_TIMEOUT; this is the backstop for a
    # conversation that trickles. A killed attempt is left "sending", never resent blindly.
    soft_time_limit=8 * settings.EMAIL_TIMEOUT,
    time_limit=8 * settings.EMAIL_TIMEOUT + 15,
    autoretry_for=(DatabaseError,),
    retry_backoff=5,
    max_retries=5,
)
def send_mail_task(message_id: int) -> str:
    return outbox.deliver(message_id, now=timezone.now())


@shared_task(name="exchange.send_due_mail", ignore_result=True)
def send_due_mail() -> int:
    now = timezone.now()
    outbox.fail_stalled(now)
    ids = outbox.due_message_ids(now)
    for pk in ids:
        send_mail_task.delay(pk)
    return len(ids)


def enqueue_queued_mail(sender: object, ids: list[int], **kwargs: Any) -> None:
    """Connected to `mail_queued` (exchange.apps): hand each new message to a worker.

    A broker that is down must not fail a request that has already committed: the send
    is not retried here, and the minute's `send_due_mail` finds the message anyway."""
    for pk in ids:
        try:
            send_mail_task.apply_async((pk,), retry=False)
        except Exception as exc:  # the broker's errors vary by transport
            log.warning("Mail %s queued; the broker is unavailable (%s): sent later.", pk, exc)


__all__ = ["enqueue_queued_mail", "run_job_task", "send_due_mail", "send_mail_task", "tick"]
