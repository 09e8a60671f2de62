"""The desk's pages for the issuer, the offer, its note series and its events.

Clerks work here. What they may change is narrow on purpose: state fields and
everything the desk decides change only through the services, which the transition
buttons call (exchange.admin.transitions). Records only the services make have no add form.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from exchange.admin.base import DeskAdmin, TransitionAdmin, money_column, ny_time
from exchange.admin.inlines import HistoryInline, ReadOnlyTabularInline
from exchange.admin.reports import OfferReportsMixin
from exchange.admin.transitions.offers import OFFER_TRANSITIONS
from exchange.admin.transitions.terms import TERMS_TRANSITIONS
from exchange.models import (
    ConditionAssertion,
    ExchangeOffer,
    Issuer,
    NoteSeries,
    OfferEvent,
    OfferState,
)
from exchange.terms import calendars

# --- the issuer and the offer -------------------------------------------------------------


@admin.register(Issuer)
class IssuerAdmin(DeskAdmin):
    list_display = ("name", "offer_count")
    search_fields = ("name",)
    ordering = ("name",)
    fieldsets = ((None, {"fields": ("name",)}),)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Issuer]:
        return super().get_queryset(request).annotate(offer_count=Count("offers"))

    @admin.display(description="Offers", ordering="offer_count")
    def offer_count(self, obj: Any) -> int:
        return int(obj.offer_count)


class NoteSeriesInline(ReadOnlyTabularInline):
    model = NoteSeries
    fields = (
        "name",
        "slug",
        "coupon",
        "maturity_date",
        "amount_outstanding_display",
        "is_discount",
    )

    @admin.display(description="Coupon")
    def coupon(self, obj: NoteSeries) -> str:
        return percent(obj.coupon_rate)

    amount_outstanding_display = money_column("amount_outstanding", "Amount outstanding")

    def editable_fields(self, request: HttpRequest, obj: Any) -> list[str]:
        # A series of a commenced offer is part of the terms announced: read-only, as
        # the offer's own (denomination, coupon, amount outstanding, its offer and slug).
        if obj is not None and obj.offer.state != OfferState.DRAFT:
            return []
        return list(super().editable_fields(request, obj))


class OfferEventInline(ReadOnlyTabularInline):
    model = OfferEvent
    fields = (
        "occurred_at_ny",
        "kind",
        "actor_label",
        "description",
        "new_expiration_at_ny",
        "announcement_due_at_ny",
    )
    ordering = ("occurred_at", "id")
    show_change_link = False
    verbose_name_plural = "issuer's decisions and announcements"

    occurred_at_ny = ny_time("occurred_at", "When")
    new_expiration_at_ny = ny_time("new_expiration_at", "New expiration")
    announcement_due_at_ny = ny_time("announcement_due_at", "Announce by")


def percent(rate: Any) -> str:
    """0.12875 -> '12.875%'."""
    text = f"{rate * 100:.4f}".rstrip("0").rstrip(".")
    return f"{text}%"


@admin.register(ExchangeOffer)
class ExchangeOfferAdmin(OfferReportsMixin, TransitionAdmin):
    # The issuer's amendment of one term (old and new value) beside the offer's decisions.
    desk_transitions = (*OFFER_TRANSITIONS, *TERMS_TRANSITIONS)
    list_display = (
        "name",
        "slug",
        "issuer",
        "state",
        "expiration_at_ny",
        "exchange_date",
        "stop_order_in_effect",
    )
    list_filter = ("state", "stop_order_in_effect", "issuer")
    search_fields = ("name", "slug", "issuer__name", "exchange_agent")
    list_select_related = ("issuer",)
    autocomplete_fields = ("issuer",)
    date_hierarchy = "expiration_at"
    ordering = ("-expiration_at",)
    inlines = (NoteSeriesInline, OfferEventInline, HistoryInline)

    def get_urls(self) -> list[Any]:
        return self.report_urls() + super().get_urls()

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = {
            "reports_url": reverse("admin:exchange_exchangeoffer_reports", args=[object_id]),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context=context)

    # Terms fixed once notice of the offer is mailed: the minimum open periods and the
    # initial expiration are what holders were told.
    TERMS = (
        "issuer",
        "slug",
        "initial_expiration_at",
        "minimum_open_days",
        "minimum_open_business_days",
    )

    fieldsets = (
        (None, {"fields": ("issuer", "slug", "name", "exchange_agent", "dtc_account", "state")}),
        (
            "Dates",
            {
                "fields": (
                    "prospectus_date",
                    "registration_agreement_date",
                    "original_issue_date",
                    "notice_mailed_on",
                    "initial_expiration_at",
                    "expiration_at_ny",
                    "exchange_date",
                    "commenced_at_ny",
                    "expired_at_ny",
                    "accepted_at_ny",
                    "completed_at_ny",
                    "terminated_at_ny",
                )
            },
        ),
        (
            "Rules",
            {
                "fields": (
                    "stop_order_in_effect",
                    "acceptance_automatic",
                    "minimum_open_days",
                    "minimum_open_business_days",
                    "backup_withholding_rate",
                )
            },
        ),
        (
            "Registration agreement (days after original issue)",
            {
                "fields": (
                    "filing_deadline_days",
                    "effectiveness_deadline_days",
                    "completion_deadline_days",
                )
            },
        ),
        ("Audit", {"fields": ("all_history",)}),
    )
    add_fieldsets = (
        (None, {"fields": ("issuer", "slug", "name", "exchange_agent", "dtc_account")}),
        (
            "Dates",
            {
                "fields": (
                    "prospectus_date",
                    "registration_agreement_date",
                    "original_issue_date",
                    "initial_expiration_at",
                )
            },
        ),
        fieldsets[2],
        fieldsets[3],
    )

    expiration_at_ny = ny_time("expiration_at", "Expires")
    initial_expiration_at_ny = ny_time("initial_expiration_at", "Initial expiration")
    commenced_at_ny = ny_time("commenced_at", "Commenced")
    expired_at_ny = ny_time("expired_at", "Expired")
    accepted_at_ny = ny_time("accepted_at", "Accepted")
    completed_at_ny = ny_time("completed_at", "Completed")
    terminated_at_ny = ny_time("terminated_at", "Terminated")

    @admin.display(description="Exchange date")
    def exchange_date(self, obj: ExchangeOffer) -> str:
        return f"{obj.exchange_date:%a %Y-%m-%d}"

    @admin.display(description="History of the whole offer")
    def all_history(self, obj: ExchangeOffer) -> str:
        url = reverse("admin:exchange_statechange_changelist")
        return format_html(
            '<a href="{}?offer__id__exact={}">Every history entry of this offer, its tenders and notices</a>',
            url,
            obj.pk,
        )

    def get_fieldsets(self, request: HttpRequest, obj: ExchangeOffer | None = None) -> Any:
        if obj is None:
            return self.add_fieldsets
        if obj.state == OfferState.DRAFT:
            return self.fieldsets
        # After commencement the initial expiration is a fact: shown in New York time.
        return tuple(
            (
                name,
                {
                    **options,
                    "fields": tuple(
                        "initial_expiration_at_ny" if f == "initial_expiration_at" else f
                        for f in options["fields"]
                    ),
                },
            )
            for name, options in self.fieldsets
        )

    def editable_fields(self, request: HttpRequest, obj: Any) -> list[str]:
        # State, the current expiration (changed only by extension or amendment), the
        # mailing day and every state timestamp belong to the services.
        decided = {
            "state",
            "notice_mailed_on",
            "stop_order_in_effect",
            "expiration_at",
        }
        names = [n for n in super().editable_fields(request, obj) if n not in decided]
        if obj is not None and obj.state != OfferState.DRAFT:
            # Commenced: the issuer's terms as announced. None is an input any more (a
            # clerk turned acceptance_automatic off and the withholding rate to 0.99 on a
            # live offer, with no history); a change is the issuer's amendment, recorded
            # by a supervisor through the amendment service.
            return []
        return names

    def save_model(self, request: HttpRequest, obj: ExchangeOffer, form: Any, change: bool) -> None:
        if obj.state == OfferState.DRAFT:
            # Before commencement nothing has extended it: the current expiration is the
            # initial one (extend_offer moves only expiration_at later on).
            obj.expiration_at = obj.initial_expiration_at
        super().save_model(request, obj, form, change)


@admin.register(NoteSeries)
class NoteSeriesAdmin(DeskAdmin):
    list_display = (
        "name",
        "offer",
        "slug",
        "coupon",
        "maturity_date",
        "amount_outstanding_display",
        "is_discount",
        "original_cusip",
        "new_cusip",
    )
    list_filter = ("offer", "is_discount", "day_count")
    search_fields = ("name", "slug", "original_cusip", "new_cusip", "offer__name")
    list_select_related = ("offer",)
    autocomplete_fields = ("offer",)
    ordering = ("offer", "maturity_date", "name")
    fieldsets = (
        (None, {"fields": ("offer", "slug", "name", "original_cusip", "new_cusip")}),
        (
            "Terms",
            {
                "fields": (
                    "coupon_rate",
                    "issue_date",
                    "maturity_date",
                    "interest_payment_dates",
                    "record_dates",
                    "first_interest_payment_date",
                    "day_count",
                    "denomination",
                    "amount_outstanding",
                )
            },
        ),
        (
            "Discount notes",
            {
                "fields": (
                    "is_discount",
                    "issue_price_per_1000",
                    "accretion_rate",
                    "full_accretion_date",
                    "cash_interest_from",
                )
            },
        ),
    )

    @admin.display(description="Coupon", ordering="coupon_rate")
    def coupon(self, obj: NoteSeries) -> str:
        return percent(obj.coupon_rate)

    amount_outstanding_display = money_column("amount_outstanding", "Amount outstanding")

    def editable_fields(self, request: HttpRequest, obj: Any) -> list[str]:
        # A series of a commenced offer is part of the terms announced: read-only, as
        # the offer's own (denomination, coupon, amount outstanding, its offer and slug).
        if obj is not None and obj.offer.state != OfferState.DRAFT:
            return []
        return list(super().editable_fields(request, obj))


@admin.register(OfferEvent)
class OfferEventAdmin(DeskAdmin):
    view_only = True
    list_display = (
        "occurred_at_ny",
        "offer",
        "kind",
        "actor_label",
        "new_expiration_at_ny",
        "announcement_due_at_ny",
    )
    list_filter = ("kind", "offer")
    search_fields = ("description", "actor_label", "offer__name")
    list_select_related = ("offer",)
    date_hierarchy = "occurred_at"
    ordering = ("-occurred_at", "-id")
    fieldsets = (
        (None, {"fields": ("offer", "kind", "occurred_at_ny", "actor_label", "recorded_by")}),
        (
            "Expiration",
            {
                "fields": (
                    "previous_expiration_at_ny",
                    "new_expiration_at_ny",
                    "announcement_due_at_ny",
                )
            },
        ),
        (None, {"fields": ("description", "notice_on")}),
        (
            "Announcement",
            {
                "fields": (
                    "announcement_draft",
                    "announcement_status",
                    "announcement_channel",
                    "announces",
                )
            },
        ),
    )

    @admin.display(description="Announcement")
    def announcement_status(self, obj: OfferEvent) -> str:
        made = obj.announcements.order_by("occurred_at").first()
        if made is not None:
            return f"Made {calendars.format_ny(made.occurred_at)} ({made.announcement_channel or 'channel not given'})"
        if not obj.announcement_draft:
            return "-"
        if obj.announcement_late_at:
            return f"LATE: not recorded by {calendars.format_ny(obj.announcement_due_at)}"
        if obj.announcement_due_at:
            return f"Not yet made; due by {calendars.format_ny(obj.announcement_due_at)}"
        return "Not yet made"

    occurred_at_ny = ny_time("occurred_at", "When")
    previous_expiration_at_ny = ny_time("previous_expiration_at", "Previous expiration")
    new_expiration_at_ny = ny_time("new_expiration_at", "New expiration")
    announcement_due_at_ny = ny_time("announcement_due_at", "Announce by")


@admin.register(ConditionAssertion)
class ConditionAssertionAdmin(DeskAdmin):
    """Read-only: assertions and waivers are the issuer's decisions, made by the offer's
    "Assert a condition" and "Waive a condition" buttons."""

    view_only = True
    list_display = ("offer", "kind", "series", "asserted_at_ny", "waived_at_ny")
    list_filter = ("kind", "offer")
    list_select_related = ("offer", "series")
    ordering = ("-asserted_at", "-id")
    fieldsets = (
        (None, {"fields": ("offer", "kind", "series", "asserted_at_ny", "waived_at_ny")}),
        ("Decisions", {"fields": ("asserted_event", "waived_event")}),
    )

    asserted_at_ny = ny_time("asserted_at", "Asserted")
    waived_at_ny = ny_time("waived_at", "Waived")
