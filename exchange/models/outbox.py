"""The mail outbox: every notice the desk sends is a row here first.

A service writes the row in the same transaction as the record that causes the notice
(a tender received, a deficiency recorded, a guaranteed delivery lapsed), so a notice
exists exactly when its cause committed. A Celery task sends it afterwards with a timeout
and retries with backoff (`exchange.services.outbox`); nobody waits on the mail server.
Clerks read the outbox in the admin; a holder reads the notices sent to it in the portal.
"""

from __future__ import annotations

from django.db import models, transaction
from django.dispatch import Signal
from django.utils import timezone

# Sent after the transaction that queued messages commits, with `ids`: the jobs room
# connects it to the Celery task that sends them. The domain never imports Celery.
mail_queued = Signal()


class MailStatus(models.TextChoices):
    QUEUED = "queued", "Queued"  # waiting for its first attempt or its next retry
    SENDING = "sending", "Sending"  # claimed by a worker, the SMTP conversation under way
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"  # gave up: a clerk reads the error and may resend


class OutboxMessageQuerySet(models.QuerySet["OutboxMessage"]):
    def queue(
        self,
        *,
        notice: str,
        subject: str,
        body: str,
        to: list[str],
        holder_id: int | None = None,
        resend_of: OutboxMessage | None = None,
    ) -> OutboxMessage:
        """Write one message in the caller's transaction; wake the sender after commit."""
        now = timezone.now()
        message = self.create(
            notice=notice,
            subject=subject,
            body=body,
            recipients=list(to),
            holder_id=holder_id,
            resend_of=resend_of,
            created_at=now,
            next_attempt_at=now,
        )
        pk = message.pk
        transaction.on_commit(lambda: mail_queued.send_robust(sender=OutboxMessage, ids=[pk]))
        return message


class OutboxMessage(models.Model):
    notice = models.CharField(
        max_length=80, help_text="Which notice this is, e.g. tender_received."
    )
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    # The holder (or guarantor) the notice was sent to, so the portal can show it; none
    # for mail to a person without a login yet (a sign-up).
    holder = models.ForeignKey(
        "holders.Holder",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notices",
    )
    resend_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="resends"
    )
    status = models.CharField(max_length=10, choices=MailStatus.choices, default=MailStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = OutboxMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "outbox message"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["holder", "-created_at"], name="outbox_holder"),
        ]
        permissions = [("resend_outboxmessage", "Can resend a message of the outbox")]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.recipients)}"

    @property
    def message_id(self) -> str:
        """The same Message-ID on every attempt, so a receiving server that got an attempt
        we could not confirm can tell the retry is the same message."""
        return f"<outbox-{self.pk}@tender-desk>"
