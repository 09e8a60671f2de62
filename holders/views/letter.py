"""The letter of transmittal: the form, the receipt, and the tender's status page."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from exchange.models import (
    TENDER_OPEN_STATES,
    Channel,
    Deficiency,
    DeficiencyKind,
    DeficiencyStatus,
    GuaranteedDelivery,
    GuaranteedDeliveryState,
    NoteSeries,
    Tender,
)
from exchange.services.base import DeskError
from exchange.services.cure_periods import cure_deadline
from exchange.services.tenders import receive_tender
from exchange.terms import calendars
from holders import selectors
from holders.forms.cures import CURABLE, NOT_CURABLE_HERE
from holders.forms.fields import field_errors_summary
from holders.forms.letter import LetterOfTransmittalForm
from holders.models import Holder
from holders.views.common import (
    TENDERING_KINDS,
    closed_page,
    offer_url,
    portal_actor,
    portal_view,
    submit_once,
)


def series_or_404(slug: str, series_slug: str) -> NoteSeries:
    # One query for the offer, its issuer and the series (every letter page and
    # submission comes through here).
    return get_object_or_404(
        NoteSeries.objects.select_related("offer__issuer"), offer__slug=slug, slug=series_slug
    )


@portal_view
@sensitive_post_parameters("tin")
@require_http_methods(["GET", "POST"])
def tender_form(request: HttpRequest, holder: Holder, slug: str, series_slug: str) -> HttpResponse:
    if holder.kind not in TENDERING_KINDS:
        raise Http404("Only holders and DTC participants tender notes.")
    series = series_or_404(slug, series_slug)
    offer = series.offer
    now = timezone.now()
    closed = selectors.tender_closed_reason(offer, now)
    if closed:
        return closed_page(
            request, holder, f"Letter of transmittal — {series.name}", closed, offer_url(offer)
        )
    position = selectors.position_in(holder, series, calendars.ny_date(now))
    form = LetterOfTransmittalForm(
        request.POST or None,
        holder=holder,
        series=series,
        certificate_lines=position.certificates,
        available=position.available,
    )
    if request.method == "POST" and form.is_valid():
        try:
            tender = submit_once(
                request,
                "letter",
                lambda: receive_tender(
                    offer_id=offer.pk,
                    series_id=series.pk,
                    holder_id=holder.pk,  # the signed-in holder, never a value from the form
                    submission=form.submission(),
                    actor=portal_actor(request),
                    now=timezone.now(),  # receipt time: the server's clock at submission
                ),
                lambda t: reverse("portal:tender_receipt", args=[t.reference]),
            )
        except DeskError as exc:
            form.add_desk_error(exc)
        else:
            messages.success(
                request,
                f"Your letter of transmittal was received: reference {tender.reference}.",
            )
            return redirect("portal:tender_receipt", reference=tender.reference)
    return render(
        request,
        "holders/tender_form.html",
        {
            "holder": holder,
            "offer": offer,
            "series": series,
            "form": form,
            "position": position,
            "error_summary": field_errors_summary(form) if form.is_bound else [],
            "book_entry": form.channel == Channel.BOOK_ENTRY,
        },
    )


def _tender_for(holder: Holder, reference: str) -> Tender:
    return get_object_or_404(
        selectors.visible_tenders(holder).select_related(
            "offer__issuer", "series", "holder", "medallion_guarantor"
        ),
        reference=reference,
    )


@dataclass(frozen=True)
class OpenDeficiency:
    deficiency: Deficiency
    curable: bool
    instruction: str


def curable_here(kind: str, tender: Tender) -> bool:
    # A book-entry confirmation is a box of book-entry letters only.
    return kind in CURABLE and (
        kind != DeficiencyKind.BOOK_ENTRY_CONFIRMATION or tender.channel == Channel.BOOK_ENTRY
    )


def _open_deficiency(
    d: Deficiency, tender: Tender, *, owner: bool, cure_closed: str | None
) -> OpenDeficiency:
    """What the holder can do about an open deficiency, in words."""
    if not curable_here(d.kind, tender):
        instruction = NOT_CURABLE_HERE.get(d.kind, NOT_CURABLE_HERE[DeficiencyKind.OTHER])
        return OpenDeficiency(d, curable=False, instruction=instruction)
    if not owner:
        return OpenDeficiency(d, False, "The tendering holder cures it through its own login.")
    if tender.state not in TENDER_OPEN_STATES:
        return OpenDeficiency(d, False, "")
    if cure_closed:
        return OpenDeficiency(d, False, cure_closed)
    return OpenDeficiency(
        d,
        curable=True,
        instruction=f"Correct the boxes concerned before "
        f"{calendars.format_ny(cure_deadline(tender))}, the time the issuer allows to cure; "
        f"after that only the issuer can waive it, and an uncured tender may be rejected.",
    )


@portal_view
def tender_status(request: HttpRequest, holder: Holder, reference: str) -> HttpResponse:
    tender = _tender_for(holder, reference)
    now = timezone.now()
    owner = selectors.owned_tenders(holder).filter(pk=tender.pk).exists()
    cure_closed = selectors.cure_closed_reason(tender, now)
    still_open = tender.state in TENDER_OPEN_STATES
    deficiencies = [
        _open_deficiency(d, tender, owner=owner, cure_closed=cure_closed)
        for d in tender.deficiencies.filter(status=DeficiencyStatus.OPEN)
    ]
    gd = GuaranteedDelivery.objects.filter(tender=tender).first()
    return render(
        request,
        "holders/tender_status.html",
        {
            "holder": holder,
            "tender": tender,
            "state_text": selectors.TENDER_STATE_WORDS.get(tender.state, ""),
            "owner": owner,
            "open_deficiencies": deficiencies,
            "resolved_deficiencies": tender.deficiencies.exclude(status=DeficiencyStatus.OPEN),
            "cure_closed": cure_closed,
            "withdrawals": tender.withdrawals.all() if owner else [],
            "gd": gd,
            "may_deliver": gd is not None
            and gd.state == GuaranteedDeliveryState.RECEIVED
            and selectors.may_deliver_notes(holder, gd),
            "may_withdraw": owner
            and still_open
            and tender.live_amount > 0
            and selectors.withdrawal_closed_reason(tender.offer, now) is None,
            "withdrawal_closed": selectors.withdrawal_closed_reason(tender.offer, now),
            "history": selectors.tender_history(tender, request.user, include_withdrawals=owner),
            "returns": tender.returns.all(),
        },
    )


@portal_view
def tender_receipt(request: HttpRequest, holder: Holder, reference: str) -> HttpResponse:
    tender = _tender_for(holder, reference)
    return render(
        request,
        "holders/tender_receipt.html",
        {
            "holder": holder,
            "tender": tender,
            "certificates": tender.certificates.all(),
            "gd": GuaranteedDelivery.objects.filter(tender=tender).first(),
        },
    )
