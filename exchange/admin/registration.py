"""The desk's pages for the registration agreement's milestones and defaults."""

from __future__ import annotations

from django.contrib import admin

from exchange.admin.base import DeskAdmin, TransitionAdmin, ny_time
from exchange.admin.inlines import HistoryInline
from exchange.admin.transitions.notices import (
    REGISTRATION_DEFAULT_TRANSITIONS,
)
from exchange.models import (
    RegistrationDefault,
    RegistrationEvent,
)

# --- registration agreement -------------------------------------------------------------


@admin.register(RegistrationEvent)
class RegistrationEventAdmin(DeskAdmin):
    view_only = True
    list_display = ("kind", "offer", "occurred_on", "recorded_at_ny", "recorded_by_label")
    list_filter = ("kind", "offer")
    search_fields = ("note", "recorded_by_label", "offer__name")
    list_select_related = ("offer",)
    date_hierarchy = "occurred_on"
    ordering = ("-occurred_on", "-id")
    inlines = (HistoryInline,)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "offer",
                    "kind",
                    "occurred_on",
                    "recorded_at_ny",
                    "recorded_by_label",
                    "note",
                )
            },
        ),
    )

    recorded_at_ny = ny_time("recorded_at", "Recorded")


@admin.register(RegistrationDefault)
class RegistrationDefaultAdmin(TransitionAdmin):
    view_only = True
    desk_transitions = REGISTRATION_DEFAULT_TRANSITIONS
    list_display = ("trigger", "offer", "state", "occurred_on", "cured_on")
    list_filter = ("state", "trigger", "offer")
    search_fields = ("offer__name",)
    list_select_related = ("offer",)
    date_hierarchy = "occurred_on"
    ordering = ("-occurred_on", "-id")
    inlines = (HistoryInline,)
    fieldsets = ((None, {"fields": ("offer", "trigger", "state", "occurred_on", "cured_on")}),)
