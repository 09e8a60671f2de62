"""The holder's home, the offer page and the prospectus."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from exchange.models import (
    AtopExceptionStatus,
    AtopInstruction,
    AtopOutcome,
    ExchangeOffer,
    OfferState,
)
from exchange.terms import calendars
from holders import selectors
from holders.models import Holder, HolderKind
from holders.views.common import TENDERING_KINDS, offer_url, portal_view


@portal_view
def home(request: HttpRequest, holder: Holder) -> HttpResponse:
    offer = selectors.current_offer()
    if offer is None:
        return render(request, "holders/no_offer.html", {"holder": holder})
    return redirect(offer_url(offer))


@portal_view
def offer_page(request: HttpRequest, holder: Holder, slug: str) -> HttpResponse:
    offer = get_object_or_404(ExchangeOffer.objects.select_related("issuer"), slug=slug)
    now = timezone.now()
    today = calendars.ny_date(now)
    tenders = (
        selectors.visible_tenders(holder)
        .filter(offer=offer)
        .select_related("series", "holder")
        .order_by("-received_at")
    )
    remaining = (offer.expiration_at - now).total_seconds()
    return render(
        request,
        "holders/offer.html",
        {
            "holder": holder,
            "offer": offer,
            "now": now,
            "positions": selectors.positions(holder, offer, today),
            "tenders": tenders,
            "withdrawals": selectors.visible_withdrawals(holder)
            .filter(tender__offer=offer)
            .select_related("tender")
            .order_by("-received_at"),
            "guaranteed_deliveries": selectors.visible_guaranteed_deliveries(holder)
            .filter(tender__offer=offer)
            .select_related("tender__series", "tender__holder")
            .order_by("-received_at"),
            "atop_instructions": [
                atop_row(instruction)
                for instruction in selectors.visible_atop_instructions(holder)
                .filter(offer=offer)
                .select_related("tender", "withdrawal")
                .prefetch_related("exceptions")
                .order_by("-dtc_timestamp", "-id")
            ],
            "closed_reason": selectors.tender_closed_reason(offer, now),
            "counting_down": offer.state == OfferState.OPEN and remaining > 0,
            "remaining_seconds": int(max(remaining, 0)),
            "tenders_here": holder.kind in TENDERING_KINDS,
            "guarantees_here": holder.kind == HolderKind.ELIGIBLE_GUARANTOR,
            "other_offers": ExchangeOffer.objects.exclude(pk=offer.pk)
            .exclude(state=OfferState.DRAFT)
            .order_by("-expiration_at"),
        },
    )


@dataclass(frozen=True)
class AtopRow:
    instruction: AtopInstruction
    status: str
    link_text: str = ""
    link: str = ""


def atop_row(instruction: AtopInstruction) -> AtopRow:
    """What became of one ATOP instruction, in words, with its document when there is one."""
    if instruction.outcome == AtopOutcome.APPLIED:
        if instruction.withdrawal is not None:
            notice = instruction.withdrawal
            return AtopRow(
                instruction,
                f"Applied: notice of withdrawal ({notice.get_state_display().lower()})",
                notice.reference,
                reverse("portal:withdrawal", args=[notice.reference]),
            )
        tender = instruction.tender
        if tender is not None:
            return AtopRow(
                instruction,
                f"Applied: tender ({tender.get_state_display().lower()})",
                tender.reference,
                reverse("portal:tender_status", args=[tender.reference]),
            )
        return AtopRow(instruction, "Applied")
    own = [e for e in instruction.exceptions.all() if e.content_hash == instruction.content_hash]
    if not own:
        return AtopRow(instruction, "Not applied")
    exception = own[0]
    status = f"Not applied: {exception.get_kind_display().lower()} — {exception.message}"
    if exception.status == AtopExceptionStatus.REJECTED:
        status += f" Rejected by the exchange agent: {exception.resolution_note}"
    elif exception.status in (AtopExceptionStatus.OPEN, AtopExceptionStatus.ESCALATED):
        status += " The exchange agent is reviewing it."
    return AtopRow(instruction, status)


@dataclass(frozen=True)
class ProspectusSection:
    anchor: str
    title: str
    text: str


PROSPECTUS_DIR = Path(__file__).resolve().parents[1] / "static" / "holders" / "prospectus"
SECTION_TITLES = (
    "Purpose of the Exchange Offer",
    "Terms of the Exchange",
    "Shelf Registration Statement",
    "Special Interest",
    "Expiration Date; Extensions; Termination; Amendments",
    "How to Tender",
    "Terms and Conditions of the Letters of Transmittal",
    "Withdrawal Rights",
    "Acceptance of Original Notes for Exchange; Delivery of New Notes",
    "Conditions to the Exchange Offer",
    "Exchange Agent",
    "Solicitation of Tenders; Expenses",
    "Appraisal Rights",
    "United States Federal Income Tax Consequences",
    "Other",
)


@lru_cache(maxsize=1)
def prospectus_sections() -> tuple[ProspectusSection, ...]:
    """ "The Exchange Offer" of the prospectus, cut at its headings so pages can link to them."""
    lines = (PROSPECTUS_DIR / "the-exchange-offer.txt").read_text().splitlines()
    sections: list[ProspectusSection] = []
    title, body = "", []
    for line in lines:
        if line.strip() == "<PAGE>":  # the filing's page-break markup, not the prospectus's text
            continue
        if line.strip() in SECTION_TITLES and line == line.lstrip():
            if title:
                sections.append(_section(title, body))
            title, body = line.strip(), []
        elif title:
            body.append(line)
    sections.append(_section(title, body))
    return tuple(sections)


def _section(title: str, body: list[str]) -> ProspectusSection:
    anchor = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return ProspectusSection(anchor=anchor, title=title, text="\n".join(body).strip("\n"))


def prospectus(request: HttpRequest) -> HttpResponse:
    """Public: the offer's terms are for anyone who holds, or may hold, the notes."""
    return render(
        request,
        "holders/prospectus.html",
        {"sections": prospectus_sections(), "offer": selectors.current_offer()},
    )


# --- letter of transmittal ---------------------------------------------------------------------
