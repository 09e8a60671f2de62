"""One history of every state change: who, when, from, to, why.

Rows are written only by exchange.services.history.record and never changed:
save() refuses an update and delete() refuses outright, so the audit trail a
clerk reads is the one that was written.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class ActorKind(models.TextChoices):
    CLERK = "clerk", "Clerk"
    SUPERVISOR = "supervisor", "Supervisor (issuer's decision)"
    HOLDER = "holder", "Holder"
    JOB = "job", "Scheduled job"


class HistoryImmutableError(Exception):
    pass


class StateChange(models.Model):
    at = models.DateTimeField(db_index=True)
    # No database foreign-key constraint on the offer and the content type: history is
    # append-only (a trigger refuses UPDATE, DELETE, TRUNCATE), it is written only by the
    # services with keys they have just read, and neither referent is ever deleted
    # (offers are PROTECTed and never deleted; content types are fixed). A constraint
    # would check both keys of every row at each commit: on the exchange date, three
    # rows a tender, about a fifth of the run. The ORM's PROTECT still applies.
    offer = models.ForeignKey(
        "exchange.ExchangeOffer",
        on_delete=models.PROTECT,
        related_name="history",
        null=True,
        db_constraint=False,
    )
    # History is written in bulk on the exchange date (a row per tender per step): each
    # index here costs every insert. Kept: the composite below (a record's history, which
    # also serves content_type alone), `at` (the history list, newest first) and `offer`
    # (an offer's history and audit CSV).
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, db_index=False, db_constraint=False
    )
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    # Dotted action names (exchange.tender.withdrawn) so the audit CSV can be filtered.
    action = models.CharField(max_length=80)
    from_state = models.CharField(max_length=40, blank=True)
    to_state = models.CharField(max_length=40, blank=True)
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, db_index=False
    )
    actor_label = models.CharField(max_length=150)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id", "at"])]
        verbose_name = "history entry"
        verbose_name_plural = "history"

    def __str__(self) -> str:
        return f"{self.action}: {self.from_state or '—'} → {self.to_state or '—'}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise HistoryImmutableError("History entries are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise HistoryImmutableError("History entries are never deleted.")


class RecordedRowChange(models.Model):
    """A change to a recorded row, captured by the database itself (PostgreSQL triggers,
    migration 0017): a letter's or a notice's boxes, an offer's or a series' terms. Whatever
    path made the change (a service, the admin, a shell, raw SQL) leaves this row with the
    old and new value of each column; the services' own history rows say who and why.
    Append-only like the history (UPDATE, DELETE and TRUNCATE refused)."""

    at = models.DateTimeField(db_index=True)
    table_name = models.CharField(max_length=63)
    row_id = models.BigIntegerField()
    # {column: [old, new]} as JSON.
    changes = models.JSONField()
    db_user = models.CharField(max_length=63)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["table_name", "row_id"])]
        verbose_name = "recorded row change"

    def __str__(self) -> str:
        return f"{self.table_name} {self.row_id}: {', '.join(sorted(self.changes))}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise HistoryImmutableError("Recorded row changes are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise HistoryImmutableError("Recorded row changes are never deleted.")
