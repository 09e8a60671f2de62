"""The history of every state change, read-only: who, when, from, to, why."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from exchange.admin.base import DeskAdmin, ny_time
from exchange.models import (
    RecordedRowChange,
    SignatureGuarantee,
    StateChange,
)


class HistorySubjectFilter(admin.SimpleListFilter):
    title = "record"
    parameter_name = "subject"
    SUBJECTS = (
        ("exchange", "exchangeoffer"),
        ("exchange", "tender"),
        ("exchange", "deficiency"),
        ("exchange", "guaranteeddelivery"),
        ("exchange", "withdrawalnotice"),
        ("exchange", "notereturn"),
        ("exchange", "registrationevent"),
        ("exchange", "registrationdefault"),
        ("holders", "signuprequest"),
    )

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (f"{app}.{model}", model.replace("notice", " notice").capitalize())
            for app, model in self.SUBJECTS
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[StateChange]
    ) -> QuerySet[StateChange]:
        if not self.value() or "." not in self.value():
            return queryset
        app, model = self.value().split(".", 1)
        return queryset.filter(content_type__app_label=app, content_type__model=model)


@admin.register(StateChange)
class StateChangeAdmin(DeskAdmin):
    """The whole audit trail: view-only for everyone, superusers included."""

    view_only = True
    list_display = (
        "at_ny",
        "action",
        "subject_link",
        "from_state",
        "to_state",
        "actor_kind",
        "actor_label",
        "offer",
    )
    # A fixed list of the kinds of record that write history: RelatedOnlyFieldListFilter would
    # scan the whole append-only table for its distinct content types on every page.
    list_filter = ("actor_kind", HistorySubjectFilter, "offer", ("at", admin.DateFieldListFilter))
    search_fields = ("action", "actor_label", "reason", "from_state", "to_state")
    list_select_related = ("content_type", "offer")
    ordering = ("-at", "-id")
    fieldsets = (
        (None, {"fields": ("at_ny", "action", "subject_link", "offer")}),
        ("Change", {"fields": ("from_state", "to_state", "reason")}),
        ("Who", {"fields": ("actor_kind", "actor_label", "actor_user")}),
    )

    at_ny = ny_time("at", "At")

    @admin.display(description="Subject")
    def subject_link(self, obj: StateChange) -> str:
        # Built from the content type alone: fetching every subject would be a query a row.
        ct = obj.content_type
        label = f"{ct.name} #{obj.object_id}"
        try:
            url = reverse(f"admin:{ct.app_label}_{ct.model}_change", args=[obj.object_id])
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    # Stated outright (DeskAdmin's view_only already implies them) because the audit
    # trail's immutability must not hinge on a flag someone might flip.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


@admin.register(RecordedRowChange)
class RecordedRowChangeAdmin(DeskAdmin):
    """Changes the database itself captured on letters, notices and terms, whatever path
    made them; view-only for everyone."""

    view_only = True
    list_display = ("at_ny", "table_name", "row_id", "changed_columns", "db_user")
    list_filter = ("table_name",)
    search_fields = ("table_name",)
    ordering = ("-at", "-id")
    fieldsets = ((None, {"fields": ("at_ny", "table_name", "row_id", "changes", "db_user")}),)

    at_ny = ny_time("at", "At")

    @admin.display(description="Columns changed")
    def changed_columns(self, obj: RecordedRowChange) -> str:
        return ", ".join(sorted(obj.changes))

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


@admin.register(SignatureGuarantee)
class SignatureGuaranteeAdmin(DeskAdmin):
    """Medallion signature guarantees as recorded: confirmed by the guarantor from its own
    login, or a stamp a clerk recorded from the paper (its button on the tender or the
    notice). View-only: a recorded guarantee is never edited."""

    view_only = True
    list_display = ("recorded_at_ny", "document", "institution_name", "program", "source")
    list_filter = ("source", "program")
    search_fields = ("tender__reference", "withdrawal__reference", "institution_name")
    list_select_related = ("tender", "withdrawal")
    ordering = ("-recorded_at", "-id")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "document",
                    "source",
                    "guarantor",
                    "institution_name",
                    "program",
                    "stamp_number",
                    "recorded_at_ny",
                    "recorded_by_label",
                )
            },
        ),
    )

    recorded_at_ny = ny_time("recorded_at", "Recorded")

    @admin.display(description="Letter or notice")
    def document(self, obj: SignatureGuarantee) -> str:
        return str(obj.tender or obj.withdrawal)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False
