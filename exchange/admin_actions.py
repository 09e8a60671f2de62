"""What the desk's admin does beyond Django's defaults.

- Display helpers: New York times with the zone named, dollar amounts with separators.
- `DeskAdmin`: the base of every desk ModelAdmin (read-only unless a field is named as
  editable; nothing of the desk is deleted).
- `DeskTransition` and `TransitionAdmin`: the state changes a clerk or a supervisor may
  make on a record *right now*, shown as buttons on its change form. Each button opens a
  confirmation page that says what will happen; confirming calls the one service that
  performs the change (never the model's transition method: the services lock, re-check,
  and write the history row). A service's `DeskError` becomes a message.

The transitions are listed at the bottom of this module, one table per model, so what
the desk can do from the admin reads in one place.
"""

from __future__ import annotations

import datetime as dt
import re
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
from django.forms.boundfield import BoundField
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.functional import cached_property

from exchange import calendars
from exchange.models import (
    TENDER_OPEN_STATES,
    ActorKind,
    Deficiency,
    DeficiencyKind,
    DeficiencyStatus,
    ExchangeOffer,
    GuaranteedDelivery,
    NoteReturn,
    OfferState,
    Tender,
    TenderState,
    WithdrawalNotice,
    WithdrawalState,
)
from exchange.review import suggested_defects
from exchange.services import guaranteed_deliveries, offers, tenders, withdrawals
from exchange.services.base import Actor, DeskError

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
            raise PermissionDenied
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


# --- forms ------------------------------------------------------------------------------


def _text(label: str, help_text: str = "", *, required: bool = True, rows: int = 3) -> forms.Field:
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=required,
        widget=forms.Textarea(attrs={"rows": rows, "cols": 60}),
    )


class RejectTenderForm(forms.Form):
    reason = _text("Reason for rejection", "The holder will be told it, as written here.")


class TerminateOfferForm(forms.Form):
    reason = _text(
        "The issuer's reason",
        "The condition not met (an action or proceeding, a statute or rule, a material "
        "adverse change), as the issuer's notice states it.",
    )


class StopOrderForm(forms.Form):
    reason = _text("What the agent was told", "Who gave notice, and of what.", rows=2)


class AnnouncementForm(forms.Form):
    text = _text(
        "The announcement as released",
        "The text of the press release or Dow Jones News Service release.",
        rows=6,
    )


class AcceptOfferForm(forms.Form):
    reason = _text(
        "The issuer's written notice of acceptance",
        "Date and reference of the notice, as received.",
        required=False,
        rows=2,
    )


class CommenceOfferForm(forms.Form):
    mailed_on = forms.DateField(
        label="Notice mailed on",
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"placeholder": "YYYY-MM-DD"}),
        help_text="The day notice of the offer was first mailed (YYYY-MM-DD); blank: today. "
        "The minimum open periods count from it.",
    )


_NY_MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")


class ExtendOfferForm(forms.Form):
    new_expiration = forms.CharField(
        label="New expiration (New York time)",
        max_length=16,
        help_text="As YYYY-MM-DD HH:MM in New York City time, e.g. 2000-07-19 17:00.",
        widget=forms.TextInput(attrs={"placeholder": "YYYY-MM-DD HH:MM"}),
    )
    reason = _text("The issuer's notice, as received", required=False, rows=2)

    def clean_new_expiration(self) -> dt.datetime:
        text = self.cleaned_data["new_expiration"].strip()
        # The time is required: "2000-07-19" alone would mean midnight, the start of
        # the day, when an extension "to July 19" almost always means 5:00 p.m.
        if not _NY_MINUTE.match(text):
            raise forms.ValidationError(
                "Give the new expiration as YYYY-MM-DD HH:MM, New York City time "
                "(e.g. 2000-07-19 17:00)."
            )
        try:
            return calendars.parse_ny(text)
        except ValueError:
            raise forms.ValidationError(f"{text} is not a date and time that exists.") from None


class AmendOfferForm(forms.Form):
    description = _text(
        "The amendment or waiver", "As the issuer's notice states it; it is announced as written."
    )
    material = forms.BooleanField(
        label="Material",
        required=False,
        help_text="A material amendment, or the waiver of a material condition: the offer then "
        "stays open at least to the fifth business day from, and including, today.",
    )
    waiver_of_condition = forms.BooleanField(
        label="Waiver of a condition",
        required=False,
        help_text="The issuer waives a condition of the offer rather than changing its terms; "
        "a waiver counts as material (amend_offer applies the five-business-day rule to it).",
    )


class WaiverForm(forms.Form):
    authorized_by = forms.CharField(
        label="Authorised by",
        max_length=200,
        help_text="The issuer's officer who authorised the waiver.",
    )


class DeficiencyWaiverForm(WaiverForm):
    note = _text("Note", required=False, rows=2)


class CureDeficiencyForm(forms.Form):
    note = _text("What the holder sent", "E.g. “Signed letter received by mail.”", required=False)


class DeficiencyChecklistForm(forms.Form):
    """One checkbox per kind of defect, and what the holder must do to cure each.

    A ticked defect without a note is left to the service to refuse (its message names
    the defect); a note without its tick is refused here, since it would be dropped.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in DeficiencyKind:
            self.fields[f"defect_{kind.value}"] = forms.BooleanField(
                label=kind.label, required=False
            )
            self.fields[f"note_{kind.value}"] = forms.CharField(
                label=f"What the holder must do: {kind.label}",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2, "cols": 50}),
            )

    @property
    def checklist_rows(self) -> list[tuple[str, BoundField, BoundField]]:
        return [
            (kind.label, self[f"defect_{kind.value}"], self[f"note_{kind.value}"])
            for kind in DeficiencyKind
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        defects: list[tuple[DeficiencyKind, str]] = []
        for kind in DeficiencyKind:
            ticked = cleaned.get(f"defect_{kind.value}", False)
            note = cleaned.get(f"note_{kind.value}", "")
            if ticked:
                defects.append((kind, note))
            elif note:
                self.add_error(f"note_{kind.value}", f"Tick “{kind.label}” or clear its note.")
        cleaned["defects"] = defects
        return cleaned


# --- the transitions of each model -----------------------------------------------------


def _tender_of(obj: Tender) -> str:
    return f"tender {obj.reference} ({money(obj.live_amount)} of the {obj.series})"


def _start_review(tender: Tender, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    tender = tenders.start_review(tender.pk, actor=actor, now=now)
    return Outcome(f"Tender {tender.reference} is in review.")


def _validate(tender: Tender, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    tender = tenders.validate_tender(tender.pk, actor=actor, now=now)
    return Outcome(f"Tender {tender.reference} is valid.")


def _reject(tender: Tender, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    tender = tenders.reject_tender(tender.pk, actor=actor, now=now, reason=data["reason"])
    return Outcome(
        f"Tender {tender.reference} is rejected; the notes the agent holds are recorded for return."
    )


def _record_deficiencies(
    tender: Tender, data: dict[str, Any], actor: Actor, now: dt.datetime
) -> Outcome:
    created = tenders.record_deficiencies(tender.pk, defects=data["defects"], actor=actor, now=now)
    return Outcome(
        f"Recorded {len(created)} deficienc{'y' if len(created) == 1 else 'ies'} on tender "
        f"{tender.reference}; it is deficient until each is cured or waived. Tell the holder."
    )


def _may_record_deficiencies(tender: Tender, now: dt.datetime) -> bool:
    # The FSM's find_deficient covers received, in review and valid; the service also
    # adds further defects to a tender already deficient (no state change then).
    return tender.state == TenderState.DEFICIENT or "find_deficient" in available_fsm_transitions(
        tender
    )


TENDER_TRANSITIONS: tuple[DeskTransition, ...] = (
    DeskTransition(
        name="start_review",
        label="Start review",
        fsm="start_review",
        consequence=lambda t, now: (
            f"Tender {t.reference} moves to In review: the desk is checking the letter. "
            f"Nothing is decided yet."
        ),
        perform=_start_review,
    ),
    DeskTransition(
        name="validate",
        label="Valid",
        fsm="validate",
        consequence=lambda t, now: (
            f"Tender {t.reference} is recorded as valid: in proper form, with no open "
            f"deficiency. Unless withdrawn before expiration, its notes will be accepted on "
            f"the exchange date."
        ),
        perform=_validate,
    ),
    DeskTransition(
        name="find_deficient",
        label="Record deficiencies",
        allowed_now=_may_record_deficiencies,
        consequence=lambda t, now: (
            f"Tender {t.reference} becomes deficient until every defect ticked below is cured "
            f"by the holder (before the offer expires, "
            f"{calendars.format_ny(t.offer.expiration_at)}) or waived by the issuer."
        ),
        perform=_record_deficiencies,
        form_class=DeficiencyChecklistForm,
        # The checklist opens with what the letter shows on its face already ticked.
        initial=lambda t, now: {
            key: value
            for kind, note in suggested_defects(t)
            for key, value in ((f"defect_{kind}", True), (f"note_{kind}", note))
        },
    ),
    DeskTransition(
        name="reject",
        label="Reject",
        fsm="reject",
        issuer_decision=True,
        consequence=lambda t, now: (
            f"The issuer rejects {_tender_of(t)}. It will not be accepted; the notes the "
            f"agent holds for it are recorded for return to the holder, who is told the reason."
        ),
        perform=_reject,
        form_class=RejectTenderForm,
    ),
)


# Deficiencies have a plain status field, not an FSM: the rules are the services'.


def _may_cure(d: Deficiency, now: dt.datetime) -> bool:
    return (
        d.status == DeficiencyStatus.OPEN
        and d.tender.state in TENDER_OPEN_STATES
        and now < d.tender.offer.expiration_at
    )


def _may_waive(d: Deficiency, now: dt.datetime) -> bool:
    return d.status == DeficiencyStatus.OPEN and d.tender.state in TENDER_OPEN_STATES


def _after_resolution(d: Deficiency, verb: str) -> Outcome:
    tender = Tender.objects.get(pk=d.tender_id)
    then = (
        f" Every deficiency is resolved: tender {tender.reference} is now valid."
        if tender.state == TenderState.VALID
        else ""
    )
    return Outcome(f"“{d.get_kind_display()}” on tender {tender.reference} {verb}.{then}")


def _cure(d: Deficiency, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    d = tenders.cure_deficiency(d.pk, actor=actor, now=now, note=data["note"])
    return _after_resolution(d, "is cured")


def _waive(d: Deficiency, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    d = tenders.waive_deficiency(
        d.pk, authorized_by=data["authorized_by"], actor=actor, now=now, note=data["note"]
    )
    return _after_resolution(d, f"is waived (authorised by {d.waiver_authorized_by})")


DEFICIENCY_TRANSITIONS: tuple[DeskTransition, ...] = (
    DeskTransition(
        name="cure",
        label="Cured by the holder",
        allowed_now=_may_cure,
        consequence=lambda d, now: (
            f"“{d.get_kind_display()}” on tender {d.tender.reference} is recorded as cured by "
            f"the holder. If it is the last open deficiency, the tender becomes valid."
        ),
        perform=_cure,
        form_class=CureDeficiencyForm,
    ),
    DeskTransition(
        name="waive",
        label="Waive (issuer)",
        issuer_decision=True,
        allowed_now=_may_waive,
        consequence=lambda d, now: (
            f"The issuer waives “{d.get_kind_display()}” for tender {d.tender.reference} only "
            f"(other holders' same defect stays a defect). If it is the last open deficiency, "
            f"the tender becomes valid."
        ),
        perform=_waive,
        form_class=DeficiencyWaiverForm,
    ),
)


def _commence(o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    o = offers.commence_offer(o.pk, actor=actor, now=now, mailed_on=data["mailed_on"])
    return Outcome(
        f"The offer is open; notice mailed {o.notice_mailed_on:%Y-%m-%d}. It expires "
        f"{calendars.format_ny(o.expiration_at)}."
    )


def _extend(o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    # Drafted from the offer as it stood, so it names the expiration that was scheduled.
    draft = offers.extension_announcement(o, data["new_expiration"], now)
    event = offers.extend_offer(
        o.pk, new_expiration=data["new_expiration"], actor=actor, now=now, reason=data["reason"]
    )
    assert event.announcement_due_at is not None  # extend_offer always sets it
    return Outcome(
        f"Extended to {calendars.format_ny(data['new_expiration'])}. Announce it by "
        f"{calendars.format_ny(event.announcement_due_at)} (Rule 14e-1(d)). Draft: {draft}"
    )


def _extension_consequence(o: ExchangeOffer, now: dt.datetime) -> str:
    due = calendars.ny_instant(
        calendars.next_business_day(o.expiration_date), offers.ANNOUNCEMENT_TIME
    )
    totals = "; ".join(
        f"{name}: ${total:,.0f}" for name, total in offers.tendered_to_date(o).items()
    )
    return (
        f"The issuer extends the offer, now expiring {calendars.format_ny(o.expiration_at)}, "
        f"to the new expiration below. Every tendered note stays tendered and withdrawal "
        f"rights continue; the exchange date moves to the business day after. Announce it by "
        f"{calendars.format_ny(due)} with the approximate amount tendered so far "
        f"({totals or 'nothing yet'}); the announcement is drafted for you on confirming."
    )


def _amendment_consequence(o: ExchangeOffer, now: dt.datetime) -> str:
    moved = offers.five_business_day_expiration(o, calendars.ny_date(now))
    effect = (
        f"If it is material (or waives a condition), the offer, now expiring "
        f"{calendars.format_ny(o.expiration_at)}, is extended to {calendars.format_ny(moved)}: "
        f"the fifth business day from, and including, today."
        if moved
        else f"The offer expires {calendars.format_ny(o.expiration_at)}, on or after the fifth "
        f"business day from today: a material change does not extend it."
    )
    return f"The issuer's amendment (or waiver of a condition) is recorded and announced. {effect}"


def _amend(o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    event = offers.amend_offer(
        o.pk,
        description=data["description"],
        material=data["material"],
        waiver_of_condition=data["waiver_of_condition"],
        actor=actor,
        now=now,
    )
    moved = event.new_expiration_at != event.previous_expiration_at
    assert event.new_expiration_at is not None
    return Outcome(
        f"Recorded: {event.get_kind_display()}."
        + (
            f" The offer now expires {calendars.format_ny(event.new_expiration_at)} (fifth "
            f"business day from the notice)."
            if moved
            else ""
        )
    )


def _terminate(o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    offers.terminate_offer(o.pk, actor=actor, now=now, reason=data["reason"])
    returns = NoteReturn.objects.filter(tender__offer_id=o.pk, returned_at__isnull=True).count()
    return Outcome(
        f"The offer is terminated. Every open tender was rejected; {returns} return(s) of "
        f"original notes are waiting to be sent."
    )


def _stop_order(in_effect: bool) -> Perform:
    def perform(o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
        offers.set_stop_order(
            o.pk, in_effect=in_effect, actor=actor, now=now, reason=data["reason"]
        )
        return Outcome(
            "Stop order recorded: nothing may be accepted while it stands."
            if in_effect
            else "Stop order lifted: acceptance may proceed."
        )

    return perform


def _accept(o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    offers.accept_offer(o.pk, actor=actor, now=now, reason=data["reason"])
    return Outcome("The issuer's notice of acceptance is recorded: the offer is accepted.")


def _expire(o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    o = offers.expire_offer(o.pk, actor=actor, now=now)
    return Outcome(
        f"The offer expired; the exchange date is {o.exchange_date:%A, %B %d, %Y}.",
    )


def _complete(o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    offers.complete_offer(o.pk, actor=actor, now=now)
    return Outcome("The offer is completed.")


def _before_expiration(o: ExchangeOffer, now: dt.datetime) -> bool:
    return now < o.expiration_at


def _at_or_after_expiration(o: ExchangeOffer, now: dt.datetime) -> bool:
    return now >= o.expiration_at


def _on_or_after_exchange_date(o: ExchangeOffer, now: dt.datetime) -> bool:
    return calendars.ny_date(now) >= o.exchange_date


def _stop_order_can_change(to: bool) -> Rule:
    def rule(o: ExchangeOffer, now: dt.datetime) -> bool:
        closed = o.state in (OfferState.COMPLETED, OfferState.TERMINATED)
        return not closed and o.stop_order_in_effect != to

    return rule


def _announce(o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    offers.record_announcement(o.pk, text=data["text"], actor=actor, now=now)
    return Outcome("The announcement is recorded in the offer's events and history.")


def _open_tender_count(o: ExchangeOffer) -> int:
    return Tender.objects.filter(offer=o, state__in=TENDER_OPEN_STATES).count()


def _ny_minute(moment: dt.datetime) -> str:
    return f"{calendars.ny_localtime(moment):%Y-%m-%d %H:%M}"


OFFER_TRANSITIONS: tuple[DeskTransition, ...] = (
    DeskTransition(
        name="commence",
        label="Commence",
        fsm="commence",
        issuer_decision=True,
        consequence=lambda o, now: (
            f"The offer opens to tenders now. It expires "
            f"{calendars.format_ny(o.expiration_at)}, which must leave it open at least "
            f"{o.minimum_open_days} days and {o.minimum_open_business_days} business days "
            f"after notice is mailed."
        ),
        perform=_commence,
        form_class=CommenceOfferForm,
        initial=lambda o, now: {"mailed_on": calendars.ny_date(now)},
    ),
    DeskTransition(
        name="extend",
        label="Extend",
        fsm="extend",
        issuer_decision=True,
        allowed_now=_before_expiration,
        consequence=_extension_consequence,
        perform=_extend,
        form_class=ExtendOfferForm,
        initial=lambda o, now: {"new_expiration": _ny_minute(o.expiration_at)},
    ),
    DeskTransition(
        name="amend",
        label="Amend or waive a condition",
        fsm="amend",
        issuer_decision=True,
        allowed_now=_before_expiration,
        consequence=_amendment_consequence,
        perform=_amend,
        form_class=AmendOfferForm,
    ),
    DeskTransition(
        name="stop_order_on",
        label="Stop order in effect",
        issuer_decision=True,
        allowed_now=_stop_order_can_change(True),
        consequence=lambda o, now: (
            "A stop order is threatened or in effect on the registration statement or the "
            "indentures' qualification: while it stands no original notes may be accepted and "
            "no new notes issued."
        ),
        perform=_stop_order(True),
        form_class=StopOrderForm,
    ),
    DeskTransition(
        name="stop_order_off",
        label="Stop order lifted",
        issuer_decision=True,
        allowed_now=_stop_order_can_change(False),
        consequence=lambda o, now: (
            "The stop order is lifted: acceptance may proceed on or after the exchange date."
        ),
        perform=_stop_order(False),
        form_class=StopOrderForm,
    ),
    DeskTransition(
        name="expire",
        label="Expire",
        fsm="expire",
        allowed_now=_at_or_after_expiration,
        consequence=lambda o, now: (
            f"The expiration instant ({calendars.format_ny(o.expiration_at)}) has passed: the "
            f"offer closes to new tenders and withdrawals. The exchange date is "
            f"{o.exchange_date:%A, %B %d, %Y}."
        ),
        perform=_expire,
    ),
    DeskTransition(
        name="accept",
        label="Accept (notice of acceptance)",
        fsm="accept",  # its FSM condition: no stop order in effect
        issuer_decision=True,
        allowed_now=_on_or_after_exchange_date,
        consequence=lambda o, now: (
            f"The issuer's written notice of acceptance is recorded: notes validly tendered and "
            f"not withdrawn are accepted, and new notes become due. "
            f"{_open_tender_count(o)} tender(s) are still undecided."
        ),
        perform=_accept,
        form_class=AcceptOfferForm,
    ),
    DeskTransition(
        name="complete",
        label="Complete",
        fsm="complete",
        consequence=lambda o, now: (
            "Every new note has been delivered and everything not accepted returned: the offer "
            "is completed. Refused while any tender is neither accepted nor rejected."
        ),
        perform=_complete,
    ),
    DeskTransition(
        name="terminate",
        label="Terminate",
        fsm="terminate",
        issuer_decision=True,
        consequence=lambda o, now: (
            f"The issuer terminates the offer: nothing will be accepted. The "
            f"{_open_tender_count(o)} tender(s) still open are rejected and their notes "
            f"recorded for return. This cannot be undone."
        ),
        perform=_terminate,
        form_class=TerminateOfferForm,
    ),
    DeskTransition(
        name="announce",
        label="Record an announcement",
        issuer_decision=True,
        allowed_now=lambda o, now: o.state != OfferState.DRAFT,
        consequence=lambda o, now: (
            "The issuer's public announcement (press release, Dow Jones News Service) is "
            "recorded with the offer's events, as released."
        ),
        perform=_announce,
        form_class=AnnouncementForm,
    ),
)


def _lapse(gd: GuaranteedDelivery, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    gd = guaranteed_deliveries.lapse_guaranteed_delivery(gd.pk, actor=actor, now=now)
    return Outcome(f"Guaranteed delivery {gd.reference} lapsed; its tender is rejected.")


def _waive_late(
    gd: GuaranteedDelivery, data: dict[str, Any], actor: Actor, now: dt.datetime
) -> Outcome:
    gd = guaranteed_deliveries.waive_late_delivery(
        gd.pk, authorized_by=data["authorized_by"], actor=actor, now=now
    )
    return Outcome(
        f"Late delivery under {gd.reference} waived (authorised by {gd.lapse_waived_by}); "
        f"it will not lapse."
    )


GUARANTEED_DELIVERY_TRANSITIONS: tuple[DeskTransition, ...] = (
    DeskTransition(
        name="lapse",
        label="Lapse",
        fsm="lapse",
        allowed_now=lambda gd, now: not gd.lapse_waived_by and now >= gd.deadline_at,
        consequence=lambda gd, now: (
            f"The notes were due by {calendars.format_ny(gd.deadline_at)} (three NYSE trading "
            f"days after execution) and have not arrived: the notice lapses and tender "
            f"{gd.tender.reference} is rejected."
        ),
        perform=_lapse,
    ),
    DeskTransition(
        name="waive_late_delivery",
        label="Waive late delivery (issuer)",
        fsm="lapse",  # only while the notice could still lapse
        issuer_decision=True,
        allowed_now=lambda gd, now: not gd.lapse_waived_by,
        consequence=lambda gd, now: (
            f"The issuer accepts late delivery under this guarantee: it will not lapse at "
            f"{calendars.format_ny(gd.deadline_at)}, and the notes may still be delivered."
        ),
        perform=_waive_late,
        form_class=WaiverForm,
    ),
)


def _process(
    notice: WithdrawalNotice, data: dict[str, Any], actor: Actor, now: dt.datetime
) -> Outcome:
    notice = withdrawals.process_withdrawal(notice.pk, actor=actor, now=now)
    if notice.state == WithdrawalState.REJECTED:
        # Processing worked; its outcome is a refusal the holder must hear about.
        return Outcome(
            f"Notice {notice.reference} is rejected: {notice.rejection_reason}", messages.WARNING
        )
    return Outcome(
        f"Notice {notice.reference} is effective: {money(notice.amount)} withdrawn; the notes "
        f"are recorded for return."
    )


WITHDRAWAL_TRANSITIONS: tuple[DeskTransition, ...] = (
    DeskTransition(
        name="process",
        label="Process",
        fsm="make_effective",
        consequence=lambda n, now: (
            f"The notice is checked for the six elements the prospectus requires and for "
            f"receipt before the expiration instant (received {ny_text(n.received_at)}). If it "
            f"passes, {money(n.amount)} of tender {n.tender.reference} is withdrawn and the "
            f"notes recorded for return; otherwise the notice is rejected, naming what it lacks."
        ),
        perform=_process,
    ),
)


def _mark_returned(nr: NoteReturn, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    nr = tenders.complete_return(nr.pk, actor=actor, now=now)
    tender = Tender.objects.get(pk=nr.tender_id)
    then = (
        f" Tender {tender.reference} is returned." if tender.state == TenderState.RETURNED else ""
    )
    return Outcome(f"Return of {money(nr.amount)} recorded as sent.{then}")


NOTE_RETURN_TRANSITIONS: tuple[DeskTransition, ...] = (
    DeskTransition(
        name="mark_returned",
        label="Mark returned",
        allowed_now=lambda nr, now: nr.returned_at is None,
        consequence=lambda nr, now: (
            f"Records that {money(nr.amount)} of original notes of tender {nr.tender.reference} "
            f"went back to the holder now "
            f"({'credited back at DTC' if nr.by_book_entry else 'certificates mailed'}). When "
            f"nothing else is left to return, the tender becomes Returned."
        ),
        perform=_mark_returned,
    ),
)


# A registration default is cured by the milestone that cures it (recorded on the "Record a
# registration milestone" page): a cure typed in by hand would have no milestone behind it,
# and the accrual job, which follows the milestones, would keep special interest running.
REGISTRATION_DEFAULT_TRANSITIONS: tuple[DeskTransition, ...] = ()
