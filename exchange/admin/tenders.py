"""The desk's pages for tenders: the tender list, the review queue, certificates, deficiencies."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from exchange.admin.base import (
    DeskAdmin,
    TransitionAdmin,
    money,
    money_column,
    ny_text,
    ny_time,
)
from exchange.admin.bulk import admin_actions
from exchange.admin.inlines import HistoryInline, ReadOnlyTabularInline, admin_link
from exchange.admin.review import defect_headline, suggested_defects
from exchange.admin.transitions.tenders import DEFICIENCY_TRANSITIONS, TENDER_TRANSITIONS
from exchange.models import (
    Deficiency,
    GuaranteedDelivery,
    NewNoteDelivery,
    NoteReturn,
    SignatureGuarantee,
    Tender,
    TenderAwaitingReview,
    TenderedCertificate,
    TenderState,
    WithdrawalNotice,
)
from exchange.selectors.exchange_status import tender_outcome

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


def truncated(text: str, title: str | None = None) -> str:
    """A cell that ends in an ellipsis when its column is too narrow; the whole text on
    hover. The text itself is all in the page, so screen readers and search see it."""
    return format_html('<span class="desk-cell" title="{}">{}</span>', title or text, text)


# A reference a holder reads out: LT-7K3Q-9X2M.
TENDER_REFERENCE = re.compile(r"LT-[A-Z0-9]{4}-[A-Z0-9]{4}", re.IGNORECASE)


@admin.register(Tender)
class TenderAdmin(TransitionAdmin):
    desk_transitions = TENDER_TRANSITIONS
    created_by_services = True  # receive_tender checks holdings, denominations, timing
    actions = admin_actions()
    # What a clerk reads on each row, in a width that fits 1280 px without scrolling
    # (exchange/static/exchange/desk.css); long names end in an ellipsis, whole on hover.
    list_display = (
        "reference",
        "holder_cell",
        "series_cell",
        "amount_display",
        "state",
        "waiting",
        "suggested",
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
    list_select_related = ("holder", "series", "offer", "medallion_guarantor")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tender]:
        # The suggested defects read whether a letter's guarantee was recorded: answered
        # in the page's own query, not one query per row (nor one more for the page).
        # The page of one tender reads its holder (the signer check), series and offer.
        return (
            super()
            .get_queryset(request)
            .select_related("holder", "series", "offer")
            .annotate(
                has_recorded_guarantee=Exists(
                    SignatureGuarantee.objects.filter(
                        tender=OuterRef("pk"), signer_name=OuterRef("signer_name")
                    )
                )
            )
        )

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

    # A plain select of the eligible guarantor institutions (limit_choices_to): they are
    # few, and Django's autocomplete widget gives its box no accessible name.
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
                    "authority_evidence",
                    "endorsed_or_instrument_of_transfer",
                    "requires_medallion_guarantee",
                    "medallion_guarantor",
                    "medallion_program",
                    "signature_guarantee",
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

    @admin.display(description="Holder", ordering="holder__name")
    def holder_cell(self, obj: Tender) -> str:
        return truncated(str(obj.holder))

    @admin.display(description="Series", ordering="series__maturity_date")
    def series_cell(self, obj: Tender) -> str:
        # The series' short name (as the operator commands take it); the full one on hover.
        return truncated(obj.series.slug, str(obj.series))

    @admin.display(description="Age", ordering="received_at")
    def waiting(self, obj: Tender) -> str:
        age = timezone.now() - obj.received_at
        hours = max(int(age.total_seconds() // 3600), 0)
        text = f"{hours // 24} d {hours % 24} h" if hours >= 24 else f"{hours} h"
        return truncated(text, f"Received {ny_text(obj.received_at)}")

    @admin.display(description="Suggested defects")
    def suggested(self, obj: Tender) -> str:
        # Read off the letter's face for tenders still waiting for a decision; a decided
        # tender's defects are its recorded deficiencies (on its page).
        if obj.state not in (TenderState.RECEIVED, TenderState.IN_REVIEW):
            return self.get_empty_value_display()
        found = suggested_defects(obj, check_certificates=False)
        return truncated(
            "; ".join(defect_headline(obj, kind) for kind, _ in found) or "none on the face of it"
        )

    @admin.display(description="Still tendered / outcome")
    def live_amount_display(self, obj: Tender) -> str:
        # Exchanged or returned notes are no longer "still tendered": say what became of them.
        outcome = tender_outcome(obj)
        if outcome.label == "Still tendered":
            return money(outcome.amount) or "-"
        return f"{outcome.label}: {money(outcome.amount)}"

    @admin.display(description="Guaranteed delivery")
    def guaranteed_delivery_link(self, obj: Tender) -> str:
        return admin_link(GuaranteedDelivery.objects.filter(tender=obj).first())

    @admin.display(description="New notes")
    def new_note_delivery_link(self, obj: Tender) -> str:
        return admin_link(
            NewNoteDelivery.objects.filter(tender=obj).select_related("series").first()
        )

    @admin.display(description="Medallion guarantee recorded")
    def signature_guarantee(self, obj: Tender) -> str:
        guarantee = obj.guarantee_of_signature()
        if guarantee is None:
            return "None recorded (naming a guarantor on the letter guarantees nothing)"
        return (
            f"{guarantee.institution_name} ({guarantee.program}"
            + (f", stamp {guarantee.stamp_number}" if guarantee.stamp_number else "")
            + f"), {guarantee.get_source_display().lower()}, {ny_text(guarantee.recorded_at)}"
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
        # A letter is kept as received: no box is an input. A keying slip is corrected by
        # the "Record a correction" button (review.correct_letter), which records who,
        # when, why and the old and new value; a holder's own letter is cured, not edited.
        return []

    def has_transition_permission(self, request: HttpRequest) -> bool:
        # The bulk actions are the buttons repeated: the buttons' permission.
        return self.may_run_transitions(request)

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
        "holder_cell",
        "series_cell",
        "amount_display",
        "state",
        "waiting",
        "suggested",
    )
    list_filter = ("state", "channel", "series")
    ordering = ("received_at", "id")
    date_hierarchy = None

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> Any:
        title = "Review queue: tenders waiting for a clerk, oldest first"
        return super().changelist_view(request, {**(extra_context or {}), "title": title})

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
