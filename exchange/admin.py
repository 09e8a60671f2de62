"""The desk's admin: every model of the offer domain, in New York time.

Clerks work here. What they may change is narrow on purpose: state fields and
everything the desk decides (receipt times, references, amounts withdrawn, state
timestamps) change only through the services, which the transition buttons call
(see exchange.admin_actions). Records only the services make have no add form.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.contenttypes.admin import GenericTabularInline
from django.db import models
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html

from exchange.admin_actions import (
    DEFICIENCY_TRANSITIONS,
    GUARANTEED_DELIVERY_TRANSITIONS,
    NOTE_RETURN_TRANSITIONS,
    OFFER_TRANSITIONS,
    REGISTRATION_DEFAULT_TRANSITIONS,
    TENDER_TRANSITIONS,
    WITHDRAWAL_TRANSITIONS,
    DeskAdmin,
    TransitionAdmin,
    money,
    money_column,
    ny_text,
    ny_time,
)
from exchange.admin_reports import OfferReportsMixin
from exchange.models import (
    Deficiency,
    DeficiencyKind,
    ExchangeOffer,
    GuaranteedDelivery,
    Issuer,
    JobRun,
    NewNoteDelivery,
    NoteReturn,
    NoteSeries,
    OfferEvent,
    OfferState,
    RegistrationDefault,
    RegistrationEvent,
    StateChange,
    Tender,
    TenderAwaitingReview,
    TenderedCertificate,
    TenderState,
    WithdrawalNotice,
)
from exchange.review import suggested_defects
from exchange.selectors import job_overview
from exchange.services.tenders import LETTER_FIELDS
from exchange.services.withdrawals import missing_elements


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
    desk_transitions = OFFER_TRANSITIONS
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
            names = [n for n in names if n not in self.TERMS]
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
        (None, {"fields": ("description",)}),
    )

    occurred_at_ny = ny_time("occurred_at", "When")
    previous_expiration_at_ny = ny_time("previous_expiration_at", "Previous expiration")
    new_expiration_at_ny = ny_time("new_expiration_at", "New expiration")
    announcement_due_at_ny = ny_time("announcement_due_at", "Announce by")


# --- tenders and what follows them ------------------------------------------------------


class TenderedCertificateInline(ReadOnlyTabularInline):
    model = TenderedCertificate
    fields = ("certificate_number", "amount_display", "withdrawn_amount_display")
    show_change_link = False

    amount_display = money_column("amount", "Amount")
    withdrawn_amount_display = money_column("withdrawn_amount", "Withdrawn")


class DeficiencyInline(ReadOnlyTabularInline):
    model = Deficiency
    fields = ("kind", "status", "note", "opened_at_ny", "resolved_at_ny", "waiver_authorized_by")
    ordering = ("opened_at", "id")

    opened_at_ny = ny_time("opened_at", "Opened")
    resolved_at_ny = ny_time("resolved_at", "Resolved")


class WithdrawalNoticeInline(ReadOnlyTabularInline):
    model = WithdrawalNotice
    fields = ("reference", "state", "amount_display", "received_at_ny", "rejection_reason")
    ordering = ("received_at", "id")

    amount_display = money_column("amount", "Amount")
    received_at_ny = ny_time("received_at", "Received")


class NoteReturnInline(ReadOnlyTabularInline):
    model = NoteReturn
    fk_name = "tender"
    fields = ("reason", "amount_display", "by_book_entry", "recorded_at_ny", "returned_at_ny")

    amount_display = money_column("amount", "Amount")
    recorded_at_ny = ny_time("recorded_at", "Recorded")
    returned_at_ny = ny_time("returned_at", "Returned")

    def get_queryset(self, request: HttpRequest) -> QuerySet[NoteReturn]:
        # Each row's change link is titled by __str__, which names the tender.
        return super().get_queryset(request).select_related("tender")


# A reference a holder reads out: LT-7K3Q-9X2M.
TENDER_REFERENCE = re.compile(r"LT-[A-Z0-9]{4}-[A-Z0-9]{4}", re.IGNORECASE)


@admin.register(Tender)
class TenderAdmin(TransitionAdmin):
    desk_transitions = TENDER_TRANSITIONS
    created_by_services = True  # receive_tender checks holdings, denominations, timing
    list_display = (
        "reference",
        "holder",
        "series",
        "channel",
        "state",
        "amount_display",
        "withdrawn_amount_display",
        "received_at_ny",
    )
    list_filter = (
        "state",
        "channel",
        "offer",
        "series",
        ("received_at", admin.DateFieldListFilter),
        "is_broker_dealer",
        "w9_certified",
    )
    search_fields = (
        "reference",
        "holder__name",
        "registered_names",
        "beneficial_owner",
        "book_entry_confirmation",
        "dtc_participant_number",
    )
    list_select_related = ("holder", "series", "offer")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Tender], search_term: str
    ) -> tuple[QuerySet[Tender], bool]:
        """A reference goes straight to its unique index; any other term searches the
        letter's names and numbers, and certificates through EXISTS, so no DISTINCT over
        the whole table is ever needed."""
        term = search_term.strip()
        if TENDER_REFERENCE.fullmatch(term):
            return queryset.filter(reference=term.upper()), False
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if term:
            on_certificate = TenderedCertificate.objects.filter(
                tender=OuterRef("pk"), certificate_number__iexact=term
            )
            results = results | queryset.filter(Exists(on_certificate))
        return results, may_have_duplicates

    autocomplete_fields = ("medallion_guarantor",)
    ordering = ("-received_at", "-id")
    inlines = (
        TenderedCertificateInline,
        DeficiencyInline,
        WithdrawalNoticeInline,
        NoteReturnInline,
        HistoryInline,
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "reference",
                    "offer",
                    "series",
                    "holder",
                    "channel",
                    "state",
                    "received_at_ny",
                    "amount_display",
                    "withdrawn_amount_display",
                    "live_amount_display",
                    "submitted_by",
                    "guaranteed_delivery_link",
                    "new_note_delivery_link",
                )
            },
        ),
        (
            "Box 1: notes tendered",
            {
                "fields": (
                    "registered_names",
                    "book_entry_confirmation",
                    "dtc_participant_number",
                    "agents_message",
                    "beneficial_owner",
                )
            },
        ),
        (
            "Special issuance and delivery instructions",
            {
                "fields": (
                    "special_issuance_name",
                    "special_issuance_address",
                    "special_delivery_name",
                    "special_delivery_address",
                )
            },
        ),
        (
            "Signature",
            {
                "fields": (
                    "signer_name",
                    "signer_capacity",
                    "signed",
                    "requires_medallion_guarantee",
                    "medallion_guarantor",
                    "medallion_program",
                )
            },
        ),
        (
            "Representations",
            {
                "fields": (
                    "rep_full_authority",
                    "rep_not_affiliate",
                    "rep_not_broker_dealer_from_issuer",
                    "rep_ordinary_course",
                    "rep_no_distribution",
                    "rep_affiliate_will_comply",
                    "representations_complete",
                    "is_broker_dealer",
                    "broker_dealer_prospectus_acknowledged",
                    "prospectus_copies_requested",
                )
            },
        ),
        (
            "Substitute Form W-9",
            {"fields": ("w9_tin_last4", "w9_certified", "w9_exempt_payee", "backup_withholding")},
        ),
    )

    amount_display = money_column("amount", "Amount")
    withdrawn_amount_display = money_column("withdrawn_amount", "Withdrawn")
    received_at_ny = ny_time("received_at", "Received")

    @admin.display(description="Still tendered")
    def live_amount_display(self, obj: Tender) -> str:
        return money(obj.live_amount) or "-"

    @admin.display(description="Guaranteed delivery")
    def guaranteed_delivery_link(self, obj: Tender) -> str:
        return admin_link(GuaranteedDelivery.objects.filter(tender=obj).first())

    @admin.display(description="New notes")
    def new_note_delivery_link(self, obj: Tender) -> str:
        return admin_link(
            NewNoteDelivery.objects.filter(tender=obj).select_related("series").first()
        )

    @admin.display(description="Medallion guarantee required", boolean=True)
    def requires_medallion_guarantee(self, obj: Tender) -> bool:
        return obj.requires_medallion_guarantee

    @admin.display(description="Representations complete", boolean=True)
    def representations_complete(self, obj: Tender) -> bool:
        return obj.representations_complete

    @admin.display(description="Backup withholding applies", boolean=True)
    def backup_withholding(self, obj: Tender) -> bool:
        return obj.backup_withholding_applies

    def editable_fields(self, request: HttpRequest, obj: Any) -> list[str]:
        # Only the letter's own boxes, as keyed from paper, and only until the desk has
        # found the letter valid: validity was judged on what the letter said then. To
        # correct a valid letter, record a deficiency first.
        open_to_correction = obj is not None and obj.state in (
            TenderState.RECEIVED,
            TenderState.PENDING_DELIVERY,
            TenderState.IN_REVIEW,
            TenderState.DEFICIENT,
        )
        if not open_to_correction:
            return []
        return [n for n in super().editable_fields(request, obj) if n in LETTER_FIELDS]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not self.editable_fields(request, obj):
            return False  # shown as a view page: no Save button that would save nothing
        return super().has_change_permission(request, obj)


class ReviewQueueChangeList(ChangeList):
    def get_queryset(
        self, request: HttpRequest, exclude_parameters: Any = None
    ) -> QuerySet[Tender]:
        return (
            super()
            .get_queryset(request, exclude_parameters)
            .filter(state__in=[TenderState.RECEIVED, TenderState.IN_REVIEW])
        )


@admin.register(TenderAwaitingReview)
class ReviewQueueAdmin(TenderAdmin):
    """Tenders waiting for a clerk, oldest receipt first, with what the letter shows on
    its face. Opening one gives the tender's page: its buttons, its defect checklist
    (pre-ticked with these suggestions), its history."""

    # Each row opens the tender's own page, which stays reachable after the tender
    # leaves the queue (this list only shows tenders still waiting).
    list_display_links = None
    list_display = (
        "tender_link",
        "received_at_ny",
        "waiting",
        "holder",
        "series",
        "channel",
        "amount_display",
        "state",
        "suggested",
    )
    list_filter = ("state", "channel", "series")
    ordering = ("received_at", "id")
    date_hierarchy = None

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        # Only the list is the queue; a tender opened from it stays reachable here after it
        # leaves the queue (found valid or deficient), so its page and buttons keep working.
        return ReviewQueueChangeList

    @admin.display(description="Tender", ordering="reference")
    def tender_link(self, obj: Tender) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:exchange_tender_change", args=[obj.pk]),
            obj.reference,
        )

    @admin.display(description="Waiting")
    def waiting(self, obj: Tender) -> str:
        age = timezone.now() - obj.received_at
        hours = int(age.total_seconds() // 3600)
        return f"{hours // 24} d {hours % 24} h" if hours >= 24 else f"{hours} h"

    @admin.display(description="Suggested defects")
    def suggested(self, obj: Tender) -> str:
        found = suggested_defects(obj, check_certificates=False)
        return (
            "; ".join(DeficiencyKind(kind).label for kind, _ in found) or "none on the face of it"
        )


@admin.register(TenderedCertificate)
class TenderedCertificateAdmin(DeskAdmin):
    view_only = True
    list_display = (
        "certificate_number",
        "tender",
        "holder",
        "amount_display",
        "withdrawn_amount_display",
    )
    list_filter = ("tender__series", "tender__state")
    search_fields = ("certificate_number", "tender__reference", "tender__holder__name")
    list_select_related = ("tender", "tender__holder")
    ordering = ("certificate_number", "id")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "tender",
                    "holding",
                    "certificate_number",
                    "amount_display",
                    "withdrawn_amount_display",
                )
            },
        ),
    )

    amount_display = money_column("amount", "Amount")
    withdrawn_amount_display = money_column("withdrawn_amount", "Withdrawn")

    @admin.display(description="Holder", ordering="tender__holder__name")
    def holder(self, obj: TenderedCertificate) -> str:
        return str(obj.tender.holder)


@admin.register(Deficiency)
class DeficiencyAdmin(TransitionAdmin):
    # What the holder was told to cure stays as told: cure and waiver are transitions.
    view_only = True
    desk_transitions = DEFICIENCY_TRANSITIONS
    list_display = (
        "tender",
        "holder",
        "kind",
        "status",
        "opened_at_ny",
        "opened_by_label",
        "resolved_at_ny",
        "waiver_authorized_by",
    )
    list_filter = ("status", "kind", "tender__offer")
    search_fields = ("tender__reference", "tender__holder__name", "note", "waiver_authorized_by")
    list_select_related = ("tender", "tender__holder")
    date_hierarchy = "opened_at"
    ordering = ("-opened_at", "-id")
    inlines = (HistoryInline,)
    fieldsets = (
        (None, {"fields": ("tender", "kind", "status", "note", "opened_at_ny", "opened_by_label")}),
        (
            "Resolution",
            {
                "fields": (
                    "resolved_at_ny",
                    "resolved_by_label",
                    "waiver_authorized_by",
                    "resolution_note",
                )
            },
        ),
    )

    opened_at_ny = ny_time("opened_at", "Opened")
    resolved_at_ny = ny_time("resolved_at", "Resolved")

    @admin.display(description="Holder", ordering="tender__holder__name")
    def holder(self, obj: Deficiency) -> str:
        return str(obj.tender.holder)


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


# --- operations -----------------------------------------------------------------------------


@admin.register(JobRun)
class JobRunAdmin(DeskAdmin):
    view_only = True  # the operator's record of what the scheduled jobs did
    list_display = (
        "job",
        "subject_label",
        "as_of_ny",
        "started_at_ny",
        "finished_at_ny",
        "outcome",
    )
    list_filter = ("job", "outcome")
    search_fields = ("subject_label", "detail")
    date_hierarchy = "started_at"
    ordering = ("-started_at", "-id")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "job",
                    "subject_id",
                    "subject_label",
                    "as_of_ny",
                    "started_at_ny",
                    "finished_at_ny",
                    "outcome",
                    "detail",
                )
            },
        ),
    )

    as_of_ny = ny_time("as_of", "As of")
    started_at_ny = ny_time("started_at", "Started")
    finished_at_ny = ny_time("finished_at", "Finished")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Above the runs: each job's schedule, last run, outcome and next due time."""
        now = timezone.now()
        rows = []
        for row in job_overview(now):
            last_run = row.last_run
            rows.append(
                {
                    "label": row.label,
                    "schedule": row.schedule,
                    "last_run": last_run,
                    "last_run_at": ny_text(last_run.started_at) if last_run else "",
                    "next_due": row.next_due,
                    "next_due_text": ny_text(row.next_due),
                    "next_due_past": row.next_due is not None and row.next_due <= now,
                    "next_due_subject": row.next_due_subject,
                    "pending": row.pending,
                }
            )
        context = {"job_overview": rows, "jobs_as_of": ny_text(now), **(extra_context or {})}
        return super().changelist_view(request, extra_context=context)


import exchange.admin_special_interest  # noqa: E402,F401 — registration defaults and special interest
