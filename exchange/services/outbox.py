"""Sending the outbox: claim a due message, talk to the mail server with a timeout, and
record what happened (sent, or the error and when to try again).

Nothing is sent twice. A worker claims a message by moving it from queued to sending in a
transaction of its own (the row locked, SKIP LOCKED, so two workers handed the same id
cannot both claim it) before it opens the SMTP connection; only a queued message is ever
sent. A server that refuses or does not answer within EMAIL_TIMEOUT puts the message back
in the queue with a delay that doubles at each attempt (MAIL_RETRY_BASE_SECONDS, at most
MAIL_RETRY_MAX_SECONDS), until MAIL_MAX_ATTEMPTS, when it is failed for a clerk to look at.

A worker killed in the middle of a conversation leaves its message "sending": the server
may or may not have taken it. After MAIL_SENDING_STALL_SECONDS such a message is marked
failed with that said, rather than sent again blindly; a clerk decides to resend.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from exchange.models import MailStatus, OutboxMessage
from exchange.services.base import Actor, DeskError, record, require_aware

log = logging.getLogger(__name__)

STALLED_ERROR = (
    "The worker stopped during the conversation with the mail server, which may or may "
    "not have taken the message. Not retried, so it cannot arrive twice: check with the "
    "recipient, then resend if needed."
)


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff: base, 2 x base, 4 x base ... capped."""
    seconds = settings.MAIL_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.MAIL_RETRY_MAX_SECONDS))


def due_message_ids(now: dt.datetime, limit: int = 500) -> list[int]:
    require_aware(now)
    return list(
        OutboxMessage.objects.filter(status=MailStatus.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def _claim(message_id: int, now: dt.datetime) -> OutboxMessage | None:
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=MailStatus.QUEUED, next_attempt_at__lte=now)
            .first()
        )
        if message is None:
            return None
        message.status = MailStatus.SENDING
        message.attempts += 1
        message.claimed_at = now
        message.save(update_fields=["status", "attempts", "claimed_at"])
        return message


def deliver(message_id: int, *, now: dt.datetime) -> str:
    """Send one message if it is due and nobody else has it; say what happened."""
    require_aware(now)
    message = _claim(message_id, now)
    if message is None:
        return "not due"
    try:
        connection = get_connection(timeout=settings.EMAIL_TIMEOUT)
        EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=message.recipients,
            headers={"Message-ID": message.message_id},
            connection=connection,
        ).send(fail_silently=False)
    except Exception as exc:  # any failure of the mail server is a retry, never a crash
        error = f"{type(exc).__name__}: {exc}"[:2000]
        gave_up = message.attempts >= settings.MAIL_MAX_ATTEMPTS
        OutboxMessage.objects.filter(pk=message.pk, status=MailStatus.SENDING).update(
            status=MailStatus.FAILED if gave_up else MailStatus.QUEUED,
            next_attempt_at=now + retry_delay(message.attempts),
            last_error=error,
        )
        # A known, recorded condition: a warning line, not a traceback.
        log.warning(
            "Mail %s (%s) attempt %d failed%s: %s",
            message.pk,
            message.notice,
            message.attempts,
            "; giving up" if gave_up else "; will retry",
            error,
        )
        return "failed" if gave_up else "retry"
    OutboxMessage.objects.filter(pk=message.pk, status=MailStatus.SENDING).update(
        status=MailStatus.SENT, sent_at=timezone.now()
    )
    return "sent"


def fail_stalled(now: dt.datetime) -> int:
    """Messages a dead worker left "sending" past the stall time become failed."""
    require_aware(now)
    cutoff = now - dt.timedelta(seconds=settings.MAIL_SENDING_STALL_SECONDS)
    return OutboxMessage.objects.filter(status=MailStatus.SENDING, claimed_at__lt=cutoff).update(
        status=MailStatus.FAILED, last_error=STALLED_ERROR
    )


def deliver_due(now: dt.datetime) -> dict[str, int]:
    """Send everything due, one message after another (tests and `send_mail` replays)."""
    outcomes: dict[str, int] = {}
    fail_stalled(now)
    for pk in due_message_ids(now):
        outcome = deliver(pk, now=now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@transaction.atomic
def resend(message_id: int, *, actor: Actor, now: dt.datetime) -> OutboxMessage:
    """A clerk sends a message again: a new row with the same content, so the original's
    attempts and error stay as they were, and the act is in the history."""
    require_aware(now)
    original = OutboxMessage.objects.select_for_update().get(pk=message_id)
    if original.status in (MailStatus.QUEUED, MailStatus.SENDING):
        raise DeskError(
            f"Message {original.pk} is still {original.get_status_display().lower()}; "
            f"wait for its attempt before sending it again."
        )
    copy = OutboxMessage.objects.queue(
        notice=original.notice,
        subject=original.subject,
        body=original.body,
        to=original.recipients,
        holder_id=original.holder_id,
        resend_of=original,
    )
    record(
        original,
        action="exchange.mail.resent",
        from_state=original.status,
        to_state=MailStatus.QUEUED,
        actor=actor,
        now=now,
        reason=f"Sent again as message {copy.pk} to {', '.join(original.recipients)}.",
    )
    return copy
