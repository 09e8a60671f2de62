"""The desk's admin machinery beyond Django's defaults.

- Display helpers: New York times with the zone named, dollar amounts with separators.
- `DeskAdmin`: the base of every desk ModelAdmin (read-only unless a field is named as
  editable; nothing of the desk is deleted).
- `DeskTransition` and `TransitionAdmin`: the state changes a clerk or a supervisor may
  make on a record *right now*, shown as buttons on its change form. Each button opens a
  confirmation page that says what will happen; confirming calls the one service that
  performs the change (never the model's transition method: the services lock, re-check,
  and write the history row). A service's `DeskError` becomes a message.

The tables of transitions live in exchange.admin.transitions, one module per subject.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection, models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.functional import cached_property

from exchange.models import (
    ActorKind,
)
from exchange.services.base import Actor, DeskError
from exchange.terms import calendars

ISSUER_DECISION_PERMISSION = "exchange.record_issuer_decision"


# --- display ------------------------------------------------------------------------


def ny_text(moment: dt.datetime | None) -> str | None:
    """'2000-07-12 17:00:00 EDT': New York wall-clock time with the zone it was in.

    The abbreviation (EDT/EST) is shown because a time near a DST change is ambiguous
    without it, and receipt "at or before 5:00 p.m." is decided to the second.
    """
    if moment is None:
        return None
    local = calendars.ny_localtime(moment)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


def ny_time(field: str, label: str) -> Callable[[Any, models.Model], str]:
    """A ModelAdmin/inline column showing a datetime field in New York time, sortable."""

    @admin.display(description=f"{label} (New York)", ordering=field)
    def display(self: Any, obj: models.Model) -> str:
        # The empty-value dash by hand: read-only form fields would print "None".
        return ny_text(getattr(obj, field)) or self.get_empty_value_display()

    display.__name__ = f"{field}_ny"
    return display


def money(amount: Decimal | None) -> str | None:
    if amount is None:
        return None
    return f"${amount:,.2f}"


def money_column(field: str, label: str) -> Callable[[Any, models.Model], str]:
    """A column showing a Decimal amount as dollars with thousands separators, sortable."""

    @admin.display(description=label, ordering=field)
    def display(self: Any, obj: models.Model) -> str:
        return money(getattr(obj, field)) or self.get_empty_value_display()

    display.__name__ = f"{field}_display"
    return display


# --- the base ModelAdmin ------------------------------------------------------------------


class EstimatedCountPaginator(Paginator):
    """Counts without scanning a large table on every page.

    An unfiltered changelist of a big table takes PostgreSQL's own row estimate
    (pg_class.reltuples, kept by autovacuum); under it, or when filtered, or on another
    database, the exact count. The estimate is only ever shown for tables past
    `ESTIMATE_ABOVE` rows, where a page count that is off by a little harms nobody.
    """

    ESTIMATE_ABOVE = 50_000

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is not None and not query.where and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [self.object_list.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] > self.ESTIMATE_ABOVE:
                return int(row[0])
        return super().count


class DeskAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only unless named editable; never deletes; shows New York time on inputs.

    Subclasses list every field in `fieldsets`. `editable_fields(obj)` names the few a
    person may change; everything else is read-only, so a new model field is read-only
    until someone decides otherwise (state fields, receipt times, references and amounts
    the desk computed must never be typed over).
    """

    # At 100,000 tenders a changelist must not count the whole table twice per page:
    # no "N total" beside a filtered count, and an estimate for the unfiltered one.
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    #: Records only services make (tenders, notices, history...): no add form, no edits.
    view_only: ClassVar[bool] = False
    #: Rows only services create, even when some of their fields may be corrected.
    created_by_services: ClassVar[bool] = False

    def editable_fields(self, request: HttpRequest, obj: models.Model | None) -> Collection[str]:
        """The fields a person may change on `obj` (None: the add form). Default: the
        model's editable fields in the fieldsets that `readonly_fields` does not name."""
        if self.view_only:
            return ()
        model_fields = {f.name for f in self.opts.get_fields() if getattr(f, "editable", False)}
        names = flatten_fieldsets(self.get_fieldsets(request, obj))
        return [n for n in names if n in model_fields and n not in self.readonly_fields]

    def get_readonly_fields(
        self, request: HttpRequest, obj: models.Model | None = None
    ) -> Sequence[str]:
        if not self.fieldsets:
            return super().get_readonly_fields(request, obj)
        editable = set(self.editable_fields(request, obj))
        return [n for n in flatten_fieldsets(self.get_fieldsets(request, obj)) if n not in editable]

    def has_add_permission(self, request: HttpRequest) -> bool:
        if self.view_only or self.created_by_services:
            # A row made here would skip the service's checks and its history row.
            return False
        return super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        if self.view_only:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        # The history refers to these rows by (content type, id), which no foreign key
        # protects: a deleted row would leave an audit trail about nothing. Records end
        # by a transition, never by deletion.
        return False

    def formfield_for_dbfield(
        self, db_field: models.Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and isinstance(db_field, models.DateTimeField):
            # TIME_ZONE is New York, so the widget already shows and reads New York time;
            # the label says so, since the desk's deadlines are all New York time.
            formfield.label = f"{formfield.label or db_field.verbose_name} (New York)"
        return formfield


# --- transitions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    message: str
    level: int = messages.SUCCESS


Perform = Callable[[Any, dict[str, Any], Actor, dt.datetime], Outcome]
Rule = Callable[[Any, dt.datetime], bool]
Describe = Callable[[Any, dt.datetime], str]


class NoForm(forms.Form):
    """Transitions that need nothing but the confirmation itself."""


@dataclass(frozen=True)
class DeskTransition:
    name: str  # the URL segment: <pk>/transition/<name>/
    label: str  # the button
    consequence: Describe  # what confirming will do, in the desk's words
    perform: Perform  # calls the service; returns what to tell the user
    # The django-fsm transition method the service performs on the model: the button
    # shows only when get_available_state_transitions() offers it (state and conditions).
    fsm: str | None = None
    # A rule of the clock (or of a non-FSM status) the service will also enforce: hiding
    # the button spares the clerk a refusal that nothing they do now could avoid.
    allowed_now: Rule | None = None
    # The issuer's decisions are recorded by supervisors only (record_issuer_decision).
    issuer_decision: bool = False
    form_class: type[forms.Form] = NoForm
    initial: Callable[[Any, dt.datetime], dict[str, Any]] | None = None

    def is_available(self, obj: models.Model, now: dt.datetime) -> bool:
        if self.fsm is not None and self.fsm not in available_fsm_transitions(obj):
            return False
        return self.allowed_now is None or self.allowed_now(obj, now)

    @property
    def actor_kind(self) -> ActorKind:
        # The history says whose decision it was: the issuer's (through a supervisor) or
        # the desk's own work.
        return ActorKind.SUPERVISOR if self.issuer_decision else ActorKind.CLERK


def available_fsm_transitions(obj: models.Model) -> set[str]:
    """Names of the django-fsm transitions allowed from obj's state, conditions met."""
    return {t.name for t in obj.get_available_state_transitions()}  # type: ignore[attr-defined]


def may_record_issuer_decisions(user: Any) -> bool:
    return bool(user.has_perm(ISSUER_DECISION_PERMISSION))


class TransitionAdmin(DeskAdmin):
    """A DeskAdmin whose change form shows the transitions allowed now as buttons."""

    desk_transitions: ClassVar[Sequence[DeskTransition]] = ()
    change_form_template = "admin/desk/change_form.html"
    transition_template = "admin/desk/transition_confirm.html"

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts
        own = [
            path(
                "<path:object_id>/transition/<str:name>/",
                self.admin_site.admin_view(self.transition_view),
                name=f"{opts.app_label}_{opts.model_name}_transition",
            )
        ]
        # Before Django's own: its "<path:object_id>/" catch-all would swallow ours.
        return own + super().get_urls()

    def may_run_transitions(self, request: HttpRequest) -> bool:
        """Transitions change the record: they need the model's change permission, even
        where the admin shows the record read-only (its fields are the services' to set)."""
        codename = get_permission_codename("change", self.opts)
        return bool(request.user.has_perm(f"{self.opts.app_label}.{codename}"))

    def may_run(self, request: HttpRequest, transition: DeskTransition) -> bool:
        if not self.may_run_transitions(request):
            return False
        return not transition.issuer_decision or may_record_issuer_decisions(request.user)

    def transitions_now(
        self, request: HttpRequest, obj: models.Model, now: dt.datetime
    ) -> list[DeskTransition]:
        return [
            t
            for t in self.desk_transitions
            if self.may_run(request, t) and t.is_available(obj, now)
        ]

    def transition_url(self, obj: models.Model, name: str) -> str:
        opts = self.opts
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_transition",
            args=[obj.pk, name],
            current_app=self.admin_site.name,
        )

    def change_url(self, obj: models.Model) -> str:
        opts = self.opts
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change",
            args=[obj.pk],
            current_app=self.admin_site.name,
        )

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: models.Model | None = None,
    ) -> HttpResponse:
        if obj is not None and not add:
            context["desk_transitions"] = [
                {
                    "name": t.name,
                    "label": t.label,
                    "url": self.transition_url(obj, t.name),
                    "issuer_decision": t.issuer_decision,
                }
                for t in self.transitions_now(request, obj, timezone.now())
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def transition_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        transition = next((t for t in self.desk_transitions if t.name == name), None)
        if transition is None:
            raise Http404(f"No transition “{name}” for {self.opts.verbose_name}.")
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with id {object_id}.")
        # Refused outright, not merely hidden: a clerk may post the URL by hand.
        if not self.may_run(request, transition):
            # The 403 page shows this: what the role may not do, and whom to ask.
            raise PermissionDenied(
                f"“{transition.label}” records the issuer's decision: only a supervisor "
                f"may record it. Ask a supervisor of the desk to do it."
                if transition.issuer_decision
                else f"Your role may not “{transition.label}” on a {self.opts.verbose_name}. "
                f"Ask a supervisor of the desk to do it, or to grant your role that step."
            )
        now = timezone.now()
        change_url = self.change_url(obj)
        if not transition.is_available(obj, now):
            state = getattr(obj, "get_state_display", None)
            where = f" ({obj} is {state().lower()})" if state else ""
            self.message_user(
                request, f"“{transition.label}” is not possible now{where}.", messages.ERROR
            )
            return redirect(change_url)

        if request.method == "POST":
            form = transition.form_class(request.POST)
            if form.is_valid():
                user: AbstractBaseUser = request.user  # type: ignore[assignment]
                actor = Actor.for_user(user, transition.actor_kind)
                try:
                    outcome = transition.perform(obj, form.cleaned_data, actor, now)
                except DeskError as exc:
                    # The service wrote nothing; say why, in its words.
                    self.message_user(request, exc.message, messages.ERROR)
                else:
                    self.log_change(request, obj, transition.label)
                    self.message_user(request, outcome.message, outcome.level)
                return redirect(change_url)
        else:
            initial = transition.initial(obj, now) if transition.initial else None
            form = transition.form_class(initial=initial)

        context = {
            **self.admin_site.each_context(request),
            "title": f"{transition.label}: {obj}",
            "subtitle": None,
            "opts": self.opts,
            "object": obj,
            "transition": transition,
            "consequence": transition.consequence(obj, now),
            "form": form,
            "checklist_rows": getattr(form, "checklist_rows", None),
            "change_url": change_url,
            "media": self.media + form.media,
            "has_view_permission": self.has_view_permission(request, obj),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.transition_template, context)
