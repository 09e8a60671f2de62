"""The mail outbox at the desk: every notice sent or to be sent, to whom, what, its status,
attempts and last error; a clerk may send a failed (or sent) message again."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from exchange.admin.base import DeskAdmin, ny_time
from exchange.models import ActorKind, OutboxMessage
from exchange.services import outbox
from exchange.services.base import Actor, DeskError


@admin.register(OutboxMessage)
class OutboxMessageAdmin(DeskAdmin):
    view_only = True  # written by the services, sent by the worker; resent by the action
    list_display = (
        "created_at_ny",
        "to",
        "subject",
        "notice",
        "status",
        "attempts",
        "last_error_short",
        "sent_at_ny",
    )
    list_filter = ("status", "notice")
    search_fields = ("subject", "recipients", "holder__name")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    list_select_related = ("holder",)
    fieldsets = (
        (None, {"fields": ("to", "holder", "notice", "subject", "body")}),
        (
            "Delivery",
            {
                "fields": (
                    "status",
                    "attempts",
                    "last_error",
                    "created_at_ny",
                    "next_attempt_at_ny",
                    "sent_at_ny",
                    "resend_of",
                )
            },
        ),
    )
    actions = ["resend"]

    created_at_ny = ny_time("created_at", "Written")
    next_attempt_at_ny = ny_time("next_attempt_at", "Next attempt")
    sent_at_ny = ny_time("sent_at", "Sent")

    @admin.display(description="To")
    def to(self, obj: OutboxMessage) -> str:
        return ", ".join(obj.recipients)

    @admin.display(description="Last error")
    def last_error_short(self, obj: OutboxMessage) -> str:
        return obj.last_error if len(obj.last_error) <= 80 else obj.last_error[:79] + "…"

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("exchange.resend_outboxmessage")

    @admin.action(description="Send again", permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        actor = Actor.for_user(request.user, ActorKind.CLERK)  # type: ignore[arg-type]
        for message in queryset.order_by("id"):
            try:
                copy = outbox.resend(message.pk, actor=actor, now=timezone.now())
            except DeskError as exc:
                self.message_user(request, exc.message, messages.WARNING)
            else:
                self.message_user(
                    request,
                    f"Message {message.pk} queued again as {copy.pk} to {self.to(message)}.",
                    messages.SUCCESS,
                )
