"""Holders of original notes, their nominees and guarantors, and what they hold."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from exchange.admin_actions import money_column
from holders.models import Holder, Holding


class CurrentHoldingFilter(admin.SimpleListFilter):
    title = "in force"
    parameter_name = "in_force"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Current (no end date)"), ("no", "Ended")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Holding]) -> QuerySet[Holding]:
        if self.value() == "yes":
            return queryset.filter(effective_until__isnull=True)
        if self.value() == "no":
            return queryset.filter(effective_until__isnull=False)
        return queryset


class HoldingInline(admin.TabularInline):  # type: ignore[type-arg]
    """A holder's holdings for context; each is changed on its own page."""

    model = Holding
    fields = (
        "series",
        "form",
        "certificate_number",
        "amount_display",
        "beneficial_owner",
        "effective_from",
        "effective_until",
    )
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    amount_display = money_column("amount", "Amount")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Holding]:
        # Each row shows its series (and the change link its __str__, which names both).
        return super().get_queryset(request).select_related("series", "holder")

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


@admin.register(Holder)
class HolderAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "name",
        "kind",
        "dtc_participant_number",
        "medallion_program",
        "tin_status",
        "is_broker_dealer",
        "is_affiliate",
        "user",
    )
    list_filter = ("kind", "tin_status", "medallion_program", "is_broker_dealer", "is_affiliate")
    search_fields = ("name", "email", "dtc_participant_number", "address")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    ordering = ("name",)
    inlines = (HoldingInline,)
    fieldsets = (
        (None, {"fields": ("kind", "name", "address", "email", "user")}),
        ("DTC and guarantees", {"fields": ("dtc_participant_number", "medallion_program")}),
        ("Status", {"fields": ("is_broker_dealer", "is_affiliate", "tin_status")}),
    )


@admin.register(Holding)
class HoldingAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "holder",
        "series",
        "form",
        "certificate_number",
        "amount_display",
        "beneficial_owner",
        "effective_from",
        "effective_until",
    )
    list_filter = (CurrentHoldingFilter, "form", "series", "holder__kind")
    search_fields = ("certificate_number", "holder__name", "beneficial_owner")
    list_select_related = ("holder", "series")
    autocomplete_fields = ("holder", "series")
    date_hierarchy = "effective_from"
    ordering = ("series", "holder__name", "certificate_number")
    fieldsets = (
        (None, {"fields": ("holder", "series", "form", "certificate_number", "amount")}),
        ("Period", {"fields": ("beneficial_owner", "effective_from", "effective_until")}),
    )

    amount_display = money_column("amount", "Amount")

    # Holdings are effective-dated: a transfer ends a row and starts another, so the
    # holders of record on any past date stay knowable. What a row says it held, and
    # from when, is never rewritten; only its end (and the beneficial owner a DTC
    # position is held for) may be recorded later.
    IMMUTABLE = ("holder", "series", "form", "certificate_number", "amount", "effective_from")

    def get_readonly_fields(
        self, request: HttpRequest, obj: Holding | None = None
    ) -> tuple[str, ...]:
        return self.IMMUTABLE if obj is not None else ()
