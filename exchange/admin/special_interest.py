"""The admin of registration defaults and special interest.

- The special interest ledger (read-only: only the accrual writes it).
- "Record a registration milestone": the clerk's form for the events that meet or break
  the registration agreement's deadlines, through record_registration_event (the
  RegistrationEvent list itself stays read-only, as every service-made record is).
- The special interest payment report: per interest payment date, one row per holder of
  record and series (basis, days, rates, gross, withholding, net) and a total per series,
  the figures of `manage.py special_interest_report`; and each offer's milestones,
  deadlines and defaults as of today.

Imported at the end of exchange/admin.py, so the desk's admin site has it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from exchange.admin.base import DeskAdmin
from exchange.models import (
    ActorKind,
    ExchangeOffer,
    RegistrationEvent,
    RegistrationEventKind,
    SpecialInterestAccrual,
)
from exchange.services.base import Actor, DeskError
from exchange.services.registration import record_registration_event
from exchange.special_interest.accrual import detect_for_offer
from exchange.special_interest.payments import build_payment_report, format_rate, report_csv
from exchange.terms import calendars

DATE_WIDGET = forms.DateInput(format="%Y-%m-%d", attrs={"placeholder": "YYYY-MM-DD"})


ROWS_SHOWN = 500


class PaymentReportForm(forms.Form):
    offer = forms.ModelChoiceField(queryset=ExchangeOffer.objects.order_by("name"))
    payment_date = forms.DateField(
        input_formats=["%Y-%m-%d"],
        widget=DATE_WIDGET,
        help_text="An interest payment date (March 15 or September 15 in the seed).",
    )


class RecordMilestoneForm(forms.Form):
    offer = forms.ModelChoiceField(queryset=ExchangeOffer.objects.order_by("name"))
    kind = forms.ChoiceField(choices=RegistrationEventKind.choices, label="What happened")
    occurred_on = forms.DateField(
        label="On", input_formats=["%Y-%m-%d"], widget=DATE_WIDGET, help_text="YYYY-MM-DD"
    )
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Where the desk learned it (the issuer's notice, the SEC's order...).",
    )


@admin.register(SpecialInterestAccrual)
class SpecialInterestAccrualAdmin(DeskAdmin):
    view_only = True  # the accrual writes the ledger; nobody types a figure into it
    change_list_template = "admin/special_interest/change_list.html"
    list_display = (
        "day",
        "series",
        "stream_start",
        "rate_display",
        "days_30_360",
        "basis_display",
        "amount_display",
    )
    list_filter = ("offer", "series", "rate")
    search_fields = ("series__name", "offer__name", "offer__slug")
    list_select_related = ("series",)
    date_hierarchy = "day"
    ordering = ("-day", "series__maturity_date", "series__name")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "offer",
                    "series",
                    "day",
                    "stream_start",
                    "rate",
                    "days_30_360",
                    "basis_per_1000",
                    "accrual_360ths_per_1000",
                    "amount_display",
                )
            },
        ),
    )
    readonly_fields = ("amount_display",)

    @admin.display(description="Rate", ordering="rate")
    def rate_display(self, obj: SpecialInterestAccrual) -> str:
        return format_rate(obj.rate)

    @admin.display(description="Basis per $1,000", ordering="basis_per_1000")
    def basis_display(self, obj: SpecialInterestAccrual) -> str:
        return f"{obj.basis_per_1000:.6f}"

    @admin.display(description="Accrued per $1,000 (unrounded)")
    def amount_display(self, obj: SpecialInterestAccrual) -> str:
        return f"{obj.amount_per_1000:.12f}"

    # --- pages of their own ----------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts
        own = [
            path(
                "report/",
                self.admin_site.admin_view(self.report_view),
                name=f"{opts.app_label}_{opts.model_name}_report",
            ),
            path(
                "record-milestone/",
                self.admin_site.admin_view(self.record_milestone_view),
                name=f"{opts.app_label}_{opts.model_name}_record_milestone",
            ),
        ]
        return own + super().get_urls()

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {"may_record_milestones": self._may_record(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context=context)

    def _may_record(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("exchange.add_registrationevent"))

    def _context(self, request: HttpRequest, title: str) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "may_record_milestones": self._may_record(request),
        }

    def report_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        today = calendars.ny_date(now)
        form = PaymentReportForm(request.GET or None)
        report = None
        error = None
        if form.is_bound and form.is_valid():
            try:
                report = build_payment_report(
                    form.cleaned_data["offer"], form.cleaned_data["payment_date"]
                )
            except DeskError as exc:
                error = exc.message
        if report is not None and request.GET.get("format") == "csv":
            response = HttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = (
                f'attachment; filename="{report.offer.slug}-special-interest-'
                f'{form.cleaned_data["payment_date"]:%Y-%m-%d}.csv"'
            )
            return response
        offer = form.cleaned_data.get("offer") if form.is_bound and form.is_valid() else None
        context = {
            **self._context(request, "Special interest"),
            "form": form,
            "report": report,
            # A page shows the first rows of each series and every total; the CSV has all.
            "rows_shown": ROWS_SHOWN,
            "error": error,
            "today": today,
            "generated": calendars.format_ny(now),
            "offers": [
                _offer_status(o, today)
                for o in ([offer] if offer else ExchangeOffer.objects.order_by("name"))
            ],
        }
        return TemplateResponse(request, "admin/special_interest/report.html", context)

    def record_milestone_view(self, request: HttpRequest) -> HttpResponse:
        if not self._may_record(request):
            raise PermissionDenied(
                "Your role may not record registration milestones. Ask a supervisor of "
                "the desk to record it, or to grant your role that step."
            )
        initial = {"offer": request.GET.get("offer")} if request.GET.get("offer") else None
        form = RecordMilestoneForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            user: AbstractBaseUser = request.user  # type: ignore[assignment]
            offer = form.cleaned_data["offer"]
            try:
                event = record_registration_event(
                    offer.pk,
                    kind=RegistrationEventKind(form.cleaned_data["kind"]),
                    occurred_on=form.cleaned_data["occurred_on"],
                    actor=Actor.for_user(user, ActorKind.CLERK),
                    now=timezone.now(),
                    note=form.cleaned_data["note"],
                )
            except DeskError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    f"Recorded for {offer}: {event}. The daily accrual takes it into account "
                    "from tonight; `manage.py accrue_special_interest` does it now.",
                    messages.SUCCESS,
                )
                return redirect(
                    reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_report")
                    + f"?offer={offer.pk}"
                )
        context = {
            **self._context(request, "Record a registration milestone"),
            "form": form,
        }
        return TemplateResponse(request, "admin/special_interest/record_milestone.html", context)


def _offer_status(offer: ExchangeOffer, today: dt.date) -> dict[str, Any]:
    """An offer's milestones, deadlines, and defaults as of today, for the report page."""
    detection = detect_for_offer(offer, today)
    events = list(RegistrationEvent.objects.filter(offer=offer).order_by("occurred_on", "id"))
    tracked = any(e.kind != RegistrationEventKind.EXCHANGE_COMPLETED for e in events)
    return {
        "offer": offer,
        "events": events,
        "tracked": tracked,
        "deadlines": detection.deadlines,
        "defaults": detection.defaults,
        "streams": detection.streams,
        "notes": detection.notes,
    }
