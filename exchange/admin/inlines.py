"""Links and read-only inlines the desk's model admins share."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.contenttypes.admin import GenericTabularInline
from django.db import models
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from exchange.admin.base import ny_time
from exchange.models import (
    StateChange,
)


def admin_link(obj: models.Model | None, text: str | None = None) -> str:
    """A link to obj's change page, or a dash when there is none."""
    if obj is None:
        return "-"
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text or str(obj))


# --- history ------------------------------------------------------------------------


class HistoryInline(GenericTabularInline):
    """The audit trail of one record, as the services wrote it: read, never written."""

    model = StateChange
    ct_field = "content_type"
    ct_fk_field = "object_id"
    fields = ("at_ny", "action", "from_state", "to_state", "actor_kind", "actor_label", "reason")
    readonly_fields = fields
    ordering = ("at", "id")
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name = "history entry"
    verbose_name_plural = "history"

    at_ny = ny_time("at", "At")

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


class ReadOnlyTabularInline(admin.TabularInline):  # type: ignore[type-arg]
    """Related rows shown for context, each linking to its own page where its actions are."""

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def get_readonly_fields(
        self, request: HttpRequest, obj: models.Model | None = None
    ) -> tuple[str, ...]:
        return tuple(self.fields or ())

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False
