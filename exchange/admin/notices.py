"""The desk's pages for guaranteed deliveries, withdrawal notices, deliveries of new notes and returns."""

from __future__ import annotations

from django.contrib import admin

from exchange.admin.base import DeskAdmin, TransitionAdmin, money_column, ny_time
from exchange.admin.inlines import HistoryInline
from exchange.admin.transitions.notices import (
    GUARANTEED_DELIVERY_TRANSITIONS,
    NOTE_RETURN_TRANSITIONS,
    WITHDRAWAL_TRANSITIONS,
)
from exchange.models import (
    GuaranteedDelivery,
    NewNoteDelivery,
    NoteReturn,
    WithdrawalNotice,
    WithdrawalState,
)
from exchange.services.withdrawals import awaits_guarantee, missing_elements


@admin.register(GuaranteedDelivery)
class GuaranteedDeliveryAdmin(TransitionAdmin):
    view_only = True  # the notice as the guarantor executed it
    desk_transitions = GUARANTEED_DELIVERY_TRANSITIONS
    list_display = (
        "reference",
        "tender",
        "guarantor",
        "tendering_holder_name",
        "state",
        "executed_on",
        "deadline_at_ny",
        "received_at_ny",
        "lapse_waived_by",
    )
    list_filter = ("state", "guarantor", "tender__offer")
    search_fields = (
        "reference",
        "tender__reference",
        "tendering_holder_name",
        "registered_names",
        "certificate_numbers",
        "guarantor__name",
    )
    list_select_related = ("tender", "guarantor")
    date_hierarchy = "deadline_at"
    ordering = ("deadline_at", "id")
    inlines = (HistoryInline,)
    fieldsets = (
        (None, {"fields": ("reference", "tender", "guarantor", "state")}),
        (
            "The notice",
            {
                "fields": (
                    "tendering_holder_name",
                    "tendering_holder_address",
                    "registered_names",
                    "certificate_numbers",
                    "executed_on",
                    "received_at_ny",
                )
            },
        ),
        (
            "Delivery",
            {"fields": ("deadline_at_ny", "fulfilled_at_ny", "lapsed_at_ny", "lapse_waived_by")},
        ),
    )

    received_at_ny = ny_time("received_at", "Received")
    deadline_at_ny = ny_time("deadline_at", "Deliver by")
    fulfilled_at_ny = ny_time("fulfilled_at", "Fulfilled")
    lapsed_at_ny = ny_time("lapsed_at", "Lapsed")


@admin.register(WithdrawalNotice)
class WithdrawalNoticeAdmin(TransitionAdmin):
    view_only = True  # the notice as received; the service judges it
    desk_transitions = WITHDRAWAL_TRANSITIONS
    list_display = (
        "reference",
        "tender",
        "tendering_person_name",
        "amount_display",
        "state",
        "received_at_ny",
        "decided_at_ny",
    )
    list_filter = ("state", "tender__offer", "tender__series")
    search_fields = (
        "reference",
        "tender__reference",
        "tendering_person_name",
        "registered_holder_name",
        "certificate_numbers",
    )
    list_select_related = ("tender",)
    date_hierarchy = "received_at"
    ordering = ("-received_at", "-id")
    inlines = (HistoryInline,)
    fieldsets = (
        (None, {"fields": ("reference", "tender", "state", "received_at_ny", "submitted_by")}),
        (
            "The six elements",
            {
                "fields": (
                    "tendering_person_name",
                    "certificate_numbers",
                    "amount_display",
                    "states_withdrawal",
                    "registered_holder_name",
                    "signed_as_letter",
                    "succession_evidence",
                    "missing",
                )
            },
        ),
        ("Decision", {"fields": ("decided_at_ny", "rejection_reason")}),
    )

    amount_display = money_column("amount", "Amount")
    received_at_ny = ny_time("received_at", "Received")
    decided_at_ny = ny_time("decided_at", "Decided")

    @admin.display(description="Missing elements")
    def missing(self, obj: WithdrawalNotice) -> str:
        lacking = missing_elements(obj, obj.tender)
        if obj.state == WithdrawalState.RECEIVED and awaits_guarantee(obj, obj.tender):
            lacking.append(
                "(6) the medallion signature guarantee the letter carried: the guarantor "
                "confirms it from its login, or record the stamp on the paper notice"
            )
        return "; ".join(lacking) if lacking else "None: all six are there."


@admin.register(NewNoteDelivery)
class NewNoteDeliveryAdmin(DeskAdmin):
    view_only = True
    list_display = (
        "tender",
        "series",
        "amount_display",
        "recipient_name",
        "by_book_entry",
        "recorded_at_ny",
        "delivered_at_ny",
    )
    list_filter = ("series", "by_book_entry", ("delivered_at", admin.EmptyFieldListFilter))
    search_fields = ("tender__reference", "recipient_name", "delivery_instructions")
    list_select_related = ("tender", "series")
    date_hierarchy = "recorded_at"
    ordering = ("-recorded_at", "-id")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "tender",
                    "series",
                    "amount_display",
                    "recipient_name",
                    "delivery_instructions",
                    "by_book_entry",
                    "recorded_at_ny",
                    "delivered_at_ny",
                )
            },
        ),
    )

    amount_display = money_column("amount", "Amount")
    recorded_at_ny = ny_time("recorded_at", "Recorded")
    delivered_at_ny = ny_time("delivered_at", "Delivered")


@admin.register(NoteReturn)
class NoteReturnAdmin(TransitionAdmin):
    view_only = True
    desk_transitions = NOTE_RETURN_TRANSITIONS
    list_display = (
        "tender",
        "reason",
        "amount_display",
        "by_book_entry",
        "withdrawal",
        "recorded_at_ny",
        "returned_at_ny",
    )
    list_filter = ("reason", "by_book_entry", ("returned_at", admin.EmptyFieldListFilter))
    search_fields = ("tender__reference", "tender__holder__name", "withdrawal__reference")
    list_select_related = ("tender", "withdrawal")
    date_hierarchy = "recorded_at"
    ordering = ("-recorded_at", "-id")
    inlines = (HistoryInline,)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "tender",
                    "withdrawal",
                    "reason",
                    "amount_display",
                    "by_book_entry",
                    "recorded_at_ny",
                    "returned_at_ny",
                )
            },
        ),
    )

    amount_display = money_column("amount", "Amount")
    recorded_at_ny = ny_time("recorded_at", "Recorded")
    returned_at_ny = ny_time("returned_at", "Returned")
