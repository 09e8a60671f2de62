"""The desk's ATOP pages: upload an activity file, read its preview, confirm it, watch its
progress; the exceptions queue (match, reject, escalate; escalated lines are the
supervisors'); the instructions as recorded.

The preview and the import run in the worker: the upload enqueues the preview, the
confirmation the import (by task name, so the desk does not import the jobs room).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery import current_app
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from exchange.admin.base import (
    DeskAdmin,
    DeskTransition,
    Outcome,
    TransitionAdmin,
    money_column,
    ny_time,
)
from exchange.admin.inlines import HistoryInline
from exchange.models import (
    ActorKind,
    AtopException,
    AtopExceptionKind,
    AtopExceptionStatus,
    AtopImport,
    AtopImportState,
    AtopInstruction,
    DtcPosition,
    DtcPositionSource,
    ExchangeOffer,
    OfferState,
)
from exchange.selectors.atop import reconcile_positions
from exchange.services.atop import escalate_exception, match_exception, reject_exception
from exchange.services.atop.positions import record_positions
from exchange.services.atop.staged import confirm_staged, decode_upload, stage_upload
from exchange.services.base import Actor, DeskError
from holders.models import Holder, HolderKind

ATOP_IMPORT_TASK = "exchange.atop_import"


def enqueue(import_id: int) -> None:
    """Ask the worker for the import's next step, once the request's transaction commits."""
    transaction.on_commit(
        lambda: current_app.send_task(
            ATOP_IMPORT_TASK, args=[import_id], queue=settings.CELERY_TASK_DEFAULT_QUEUE
        )
    )


class UploadForm(forms.Form):
    offer = forms.ModelChoiceField(
        queryset=ExchangeOffer.objects.filter(state__in=[OfferState.OPEN, OfferState.EXPIRED]),
        help_text="The offer the activity is for (open, or expired and not yet accepted).",
    )
    file = forms.FileField(
        label="ATOP activity file",
        help_text="CSV as DTC sends it; the columns are in the README.",
    )


class AtopImportAdmin(DeskAdmin):
    view_only = True
    list_display = (
        "file_name",
        "offer",
        "state",
        "uploaded_at_ny",
        "actor_label",
        "lines",
        "new_tenders",
        "withdrawals",
        "protects",
        "covers",
        "exceptions",
        "already_recorded",
    )
    list_filter = ("state", "offer")
    search_fields = ("file_name", "sha256")
    list_select_related = ("offer",)
    ordering = ("-imported_at", "-id")
    change_list_template = "admin/exchange/atopimport/change_list.html"
    inlines = (HistoryInline,)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "offer",
                    "file_name",
                    "sha256",
                    "state",
                    "uploaded_at_ny",
                    "actor_label",
                    "confirmed_by_label",
                    "completed_at_ny",
                    "lines",
                    "new_tenders",
                    "withdrawals",
                    "protects",
                    "covers",
                    "exceptions",
                    "already_recorded",
                    "detail",
                )
            },
        ),
        ("The file as received", {"classes": ("collapse",), "fields": ("content",)}),
    )

    uploaded_at_ny = ny_time("imported_at", "Received")
    completed_at_ny = ny_time("completed_at", "Imported")

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        own = [
            path("upload/", wrap(self.upload_view), name="exchange_atopimport_upload"),
            path(
                "<int:pk>/progress/", wrap(self.progress_view), name="exchange_atopimport_progress"
            ),
            path("<int:pk>/confirm/", wrap(self.confirm_view), name="exchange_atopimport_confirm"),
        ]
        return own + super().get_urls()

    def may_upload(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("exchange.add_atopimport"))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "may_upload": self.may_upload(request)}
        return super().changelist_view(request, extra_context)

    def _context(self, request: HttpRequest, title: str) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "subtitle": None,
            "has_view_permission": self.has_view_permission(request),
        }

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not self.may_upload(request):
            raise PermissionDenied
        if request.method == "POST":
            form = UploadForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                user: AbstractBaseUser = request.user  # type: ignore[assignment]
                try:
                    text = decode_upload(upload.read())
                    staged = stage_upload(
                        form.cleaned_data["offer"].pk,
                        file_name=upload.name,
                        text=text,
                        actor=Actor.for_user(user, ActorKind.CLERK),
                        now=timezone.now(),
                    )
                except DeskError as error:
                    form.add_error("file", error.message)
                else:
                    enqueue(staged.pk)
                    return redirect("admin:exchange_atopimport_progress", pk=staged.pk)
        else:
            form = UploadForm()
        context = {**self._context(request, "Upload an ATOP activity file"), "form": form}
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/desk/atop_upload.html", context)

    def progress_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        staged = AtopImport.objects.select_related("offer").filter(pk=pk).first()
        if staged is None:
            raise Http404(f"No ATOP import {pk}.")
        working = staged.state in (AtopImportState.PREVIEWING, AtopImportState.IMPORTING)
        preview = staged.preview or {}
        context = {
            **self._context(request, f"{staged.file_name}: {staged.get_state_display()}"),
            "staged": staged,
            "working": working,
            "preview": preview,
            "may_confirm": self.may_upload(request) and staged.state == AtopImportState.PREVIEWED,
            "percent": int(100 * staged.lines_done / staged.lines) if staged.lines else 0,
            "exceptions_url": reverse("admin:exchange_atopexception_changelist")
            + f"?atop_import__id__exact={staged.pk}",
            "shown_exceptions": len(preview.get("exceptions", [])),
        }
        request.current_app = self.admin_site.name
        response = TemplateResponse(request, "admin/desk/atop_progress.html", context)
        if working:
            # The page looks again every two seconds while the worker works (no script).
            response["Refresh"] = "2"
        return response

    def confirm_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.may_upload(request):
            raise PermissionDenied
        user: AbstractBaseUser = request.user  # type: ignore[assignment]
        try:
            staged = confirm_staged(
                pk, actor=Actor.for_user(user, ActorKind.CLERK), now=timezone.now()
            )
        except AtopImport.DoesNotExist:
            raise Http404(f"No ATOP import {pk}.") from None
        except DeskError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            enqueue(staged.pk)
            self.message_user(request, f"Importing {staged.file_name}.", messages.SUCCESS)
        return redirect("admin:exchange_atopimport_progress", pk=pk)


admin.site.register(AtopImport, AtopImportAdmin)


@admin.register(AtopInstruction)
class AtopInstructionAdmin(DeskAdmin):
    view_only = True
    list_display = (
        "voi_number",
        "kind",
        "participant_number",
        "cusip",
        "quantity_display",
        "dtc_timestamp_ny",
        "agents_message",
        "outcome",
        "tender",
    )
    list_filter = ("kind", "outcome", "offer")
    search_fields = ("=voi_number", "=related_voi", "=participant_number", "=cusip")
    list_select_related = ("tender",)
    ordering = ("-dtc_timestamp", "-id")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "offer",
                    "voi_number",
                    "kind",
                    "related_voi",
                    "participant_number",
                    "participant_name",
                    "cusip",
                    "quantity",
                    "dtc_timestamp_ny",
                    "agents_message",
                    "beneficial_owners",
                    "first_import",
                    "line_number",
                    "outcome",
                    "tender",
                    "guaranteed_delivery",
                    "withdrawal",
                )
            },
        ),
    )

    quantity_display = money_column("quantity", "Quantity")
    dtc_timestamp_ny = ny_time("dtc_timestamp", "DTC timestamp")


# --- the exceptions queue ---------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the desk tells the participant; it is recorded in the history.",
    )


class EscalateForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="What the supervisor should decide."
    )


class MatchForm(forms.Form):
    holder = forms.ModelChoiceField(
        queryset=Holder.objects.filter(kind=HolderKind.DTC_PARTICIPANT).order_by("name"),
        help_text="The DTC participant of the register this line's participant is.",
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


def _reject(supervisor: bool) -> Any:
    def perform(
        exc: AtopException, data: dict[str, Any], actor: Actor, now: dt.datetime
    ) -> Outcome:
        reject_exception(exc.pk, reason=data["reason"], actor=actor, now=now, supervisor=supervisor)
        return Outcome(f"Line {exc.line_number} rejected; nothing of it is applied.")

    return perform


def _match(supervisor: bool) -> Any:
    def perform(
        exc: AtopException, data: dict[str, Any], actor: Actor, now: dt.datetime
    ) -> Outcome:
        done = match_exception(
            exc.pk,
            holder_id=data["holder"].pk,
            note=data["note"],
            actor=actor,
            now=now,
            supervisor=supervisor,
        )
        return Outcome(
            f"Line {exc.line_number} matched to {done.matched_holder} and applied at DTC's time."
        )

    return perform


def _escalate(exc: AtopException, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    escalate_exception(exc.pk, note=data["note"], actor=actor, now=now)
    return Outcome(f"Line {exc.line_number} escalated to a supervisor.", messages.WARNING)


def _is(status: str) -> Any:
    return lambda exc, now: exc.status == status


def _unknown_participant(status: str) -> Any:
    return lambda exc, now: (
        exc.status == status and exc.kind == AtopExceptionKind.UNKNOWN_PARTICIPANT
    )


ATOP_EXCEPTION_TRANSITIONS: tuple[DeskTransition, ...] = (
    DeskTransition(
        name="match",
        label="Match to a holder",
        allowed_now=_unknown_participant(AtopExceptionStatus.OPEN),
        consequence=lambda exc, now: (
            "The line's participant is matched to a DTC participant of the register and the "
            "instruction is applied through the same rules, at DTC's timestamp."
        ),
        perform=_match(False),
        form_class=MatchForm,
    ),
    DeskTransition(
        name="reject",
        label="Reject",
        allowed_now=_is(AtopExceptionStatus.OPEN),
        consequence=lambda exc, now: "The line stays unapplied; the reason is recorded.",
        perform=_reject(False),
        form_class=ReasonForm,
    ),
    DeskTransition(
        name="escalate",
        label="Escalate to a supervisor",
        allowed_now=_is(AtopExceptionStatus.OPEN),
        consequence=lambda exc, now: (
            "A supervisor decides this line; clerks can no longer resolve it."
        ),
        perform=_escalate,
        form_class=EscalateForm,
    ),
    DeskTransition(
        name="supervisor_match",
        label="Match to a holder (supervisor)",
        allowed_now=_unknown_participant(AtopExceptionStatus.ESCALATED),
        issuer_decision=True,
        consequence=lambda exc, now: (
            "The escalated line's participant is matched and the instruction applied at DTC's timestamp."
        ),
        perform=_match(True),
        form_class=MatchForm,
    ),
    DeskTransition(
        name="supervisor_reject",
        label="Reject (supervisor)",
        allowed_now=_is(AtopExceptionStatus.ESCALATED),
        issuer_decision=True,
        consequence=lambda exc, now: "The escalated line stays unapplied; the reason is recorded.",
        perform=_reject(True),
        form_class=ReasonForm,
    ),
)


@admin.register(AtopException)
class AtopExceptionAdmin(TransitionAdmin):
    view_only = True
    desk_transitions = ATOP_EXCEPTION_TRANSITIONS
    list_display = (
        "line_number",
        "atop_import",
        "voi_number",
        "kind",
        "status",
        "message_short",
        "raised_at_ny",
    )
    list_filter = ("status", "kind", "offer", "atop_import")
    search_fields = ("=voi_number", "line")
    list_select_related = ("atop_import",)
    ordering = ("status", "raised_at", "line_number")
    inlines = (HistoryInline,)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "offer",
                    "atop_import",
                    "line_number",
                    "line",
                    "voi_number",
                    "kind",
                    "message",
                    "instruction",
                    "status",
                    "raised_at_ny",
                    "resolved_at_ny",
                    "resolved_by_label",
                    "resolution_note",
                    "matched_holder",
                )
            },
        ),
    )

    raised_at_ny = ny_time("raised_at", "Raised")
    resolved_at_ny = ny_time("resolved_at", "Resolved")

    @admin.display(description="What is wrong")
    def message_short(self, obj: AtopException) -> str:
        return obj.message if len(obj.message) <= 140 else obj.message[:139] + "…"


# --- the agent's DTC position -----------------------------------------------------------


class PositionForm(forms.Form):
    offer = forms.ModelChoiceField(queryset=ExchangeOffer.objects.all())
    cusip = forms.CharField(label="CUSIP", max_length=9, min_length=9)
    quantity = forms.DecimalField(
        max_digits=17,
        decimal_places=2,
        min_value=0,
        help_text="The agent's DTC account position, as DTC shows it (principal amount; at "
        "maturity for the discount notes).",
    )
    as_of = forms.DateTimeField(
        label="As of (New York)", help_text="When DTC showed this position: YYYY-MM-DD HH:MM."
    )

    def clean_cusip(self) -> str:
        return self.cleaned_data["cusip"].strip().upper()


@admin.register(DtcPosition)
class DtcPositionAdmin(DeskAdmin):
    view_only = True
    list_display = ("cusip", "offer", "quantity_display", "as_of_ny", "source", "recorded_by_label")
    list_filter = ("offer", "source", "cusip")
    ordering = ("-as_of", "cusip", "-id")
    change_list_template = "admin/exchange/dtcposition/change_list.html"
    inlines = (HistoryInline,)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "offer",
                    "cusip",
                    "quantity",
                    "as_of_ny",
                    "source",
                    "recorded_at_ny",
                    "recorded_by_label",
                )
            },
        ),
    )

    quantity_display = money_column("quantity", "Position")
    as_of_ny = ny_time("as_of", "As of")
    recorded_at_ny = ny_time("recorded_at", "Recorded")

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "enter/",
                self.admin_site.admin_view(self.enter_view),
                name="exchange_dtcposition_enter",
            )
        ]
        return own + super().get_urls()

    def may_enter(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("exchange.add_dtcposition"))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # One offer's reconciliation, so the page costs the same however many offers there
        # are: the one the list is filtered by, else the latest with a position on record.
        offers = ExchangeOffer.objects.filter(dtc_positions__isnull=False).distinct()
        chosen = request.GET.get("offer__id__exact", "")
        if chosen.isdigit():
            offers = offers.filter(pk=int(chosen))
        offer = offers.order_by("-expiration_at", "-pk").first()
        rows = reconcile_positions(offer) if offer is not None else []
        extra_context = {
            **(extra_context or {}),
            "may_enter": self.may_enter(request),
            "reconciliations": [(offer, rows)] if rows else [],
        }
        return super().changelist_view(request, extra_context)

    def enter_view(self, request: HttpRequest) -> HttpResponse:
        if not self.may_enter(request):
            raise PermissionDenied
        if request.method == "POST":
            form = PositionForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                user: AbstractBaseUser = request.user  # type: ignore[assignment]
                try:
                    record_positions(
                        data["offer"].pk,
                        {data["cusip"]: data["quantity"]},
                        as_of=data["as_of"],
                        source=DtcPositionSource.CLERK,
                        actor=Actor.for_user(user, ActorKind.CLERK),
                        now=timezone.now(),
                    )
                except DeskError as error:
                    form.add_error(
                        error.field if error.field in form.fields else None, error.message
                    )
                else:
                    self.message_user(
                        request, f"Position in {data['cusip']} recorded.", messages.SUCCESS
                    )
                    return redirect("admin:exchange_dtcposition_changelist")
        else:
            form = PositionForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Enter the agent's DTC position",
            "subtitle": None,
            "form": form,
            "has_view_permission": self.has_view_permission(request),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/desk/dtc_position_enter.html", context)
