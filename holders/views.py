"""The holder portal's pages. Thin: the forms parse, the services act, the selectors scope.

Every page that shows a document looks it up through the signed-in holder's own
querysets (holders.selectors), so another holder's reference answers 404 exactly like a
reference that does not exist. Every write passes the server's clock (timezone.now()) and
the signed-in login as the actor; the owner is never read from the request.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from exchange import calendars
from exchange.models import (
    TENDER_OPEN_STATES,
    ActorKind,
    Channel,
    Deficiency,
    DeficiencyKind,
    DeficiencyStatus,
    ExchangeOffer,
    GuaranteedDelivery,
    GuaranteedDeliveryState,
    NoteSeries,
    OfferState,
    Tender,
    TenderState,
)
from exchange.services.base import Actor, DeskError
from exchange.services.guaranteed_deliveries import (
    delivery_deadline,
    fulfil_guaranteed_delivery,
    receive_guaranteed_delivery,
)
from exchange.services.tenders import cure_deficiency, receive_tender
from exchange.services.withdrawals import receive_withdrawal
from holders import selectors
from holders.forms import (
    CURABLE,
    NOT_CURABLE_HERE,
    CureForm,
    DeliveryForm,
    GuaranteedDeliveryForm,
    LetterOfTransmittalForm,
    PortalLoginForm,
    SignUpForm,
    WithdrawalForm,
    field_errors_summary,
)
from holders.models import Holder, HolderKind
from holders.services import request_sign_up

PortalView = Callable[..., HttpResponse]
TENDERING_KINDS = (HolderKind.REGISTERED_HOLDER, HolderKind.DTC_PARTICIPANT)


def portal_view(view: PortalView) -> PortalView:
    """Signed in, and acting for a holder: the view gets that holder as its second argument."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        holder = selectors.holder_for(request.user)
        if holder is None:
            return render(request, "holders/no_holder.html", status=403)
        return view(request, holder, *args, **kwargs)

    return wrapper


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, ActorKind.HOLDER)  # type: ignore[arg-type]


def _closed(
    request: HttpRequest, holder: Holder, title: str, message: str, back: str
) -> HttpResponse:
    """The page a form shows instead of itself when nothing can be recorded now."""
    return render(
        request,
        "holders/closed.html",
        {"holder": holder, "title": title, "message": message, "back": back},
    )


def _offer_url(offer: ExchangeOffer) -> str:
    return reverse("portal:offer", args=[offer.slug])


# --- the offer -------------------------------------------------------------------------------


@portal_view
def home(request: HttpRequest, holder: Holder) -> HttpResponse:
    offer = selectors.current_offer()
    if offer is None:
        return render(request, "holders/no_offer.html", {"holder": holder})
    return redirect(_offer_url(offer))


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
class ProspectusSection:
    anchor: str
    title: str
    text: str


PROSPECTUS_DIR = Path(__file__).resolve().parent / "static" / "holders" / "prospectus"
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


def _series(slug: str, series_slug: str) -> NoteSeries:
    offer = get_object_or_404(ExchangeOffer.objects.select_related("issuer"), slug=slug)
    return get_object_or_404(
        NoteSeries.objects.select_related("offer__issuer"), offer=offer, slug=series_slug
    )


@portal_view
@sensitive_post_parameters("tin")
@require_http_methods(["GET", "POST"])
def tender_form(request: HttpRequest, holder: Holder, slug: str, series_slug: str) -> HttpResponse:
    if holder.kind not in TENDERING_KINDS:
        raise Http404("Only holders and DTC participants tender notes.")
    series = _series(slug, series_slug)
    offer = series.offer
    now = timezone.now()
    closed = selectors.tender_closed_reason(offer, now)
    if closed:
        return _closed(
            request, holder, f"Letter of transmittal — {series.name}", closed, _offer_url(offer)
        )
    lines = selectors.certificate_lines(holder, series, calendars.ny_date(now))
    position = next(
        p for p in selectors.positions(holder, offer, calendars.ny_date(now)) if p.series == series
    )
    form = LetterOfTransmittalForm(
        request.POST or None, holder=holder, series=series, certificate_lines=lines
    )
    if request.method == "POST" and form.is_valid():
        try:
            tender = receive_tender(
                offer_id=offer.pk,
                series_id=series.pk,
                holder_id=holder.pk,  # the signed-in holder, never a value from the form
                submission=form.submission(),
                actor=_actor(request),
                now=timezone.now(),  # receipt time: the server's clock at submission
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


def _curable_here(kind: str, tender: Tender) -> bool:
    # A book-entry confirmation is a box of book-entry letters only.
    return kind in CURABLE and (
        kind != DeficiencyKind.BOOK_ENTRY_CONFIRMATION or tender.channel == Channel.BOOK_ENTRY
    )


def _open_deficiency(
    d: Deficiency, tender: Tender, *, owner: bool, cure_closed: str | None
) -> OpenDeficiency:
    """What the holder can do about an open deficiency, in words."""
    if not _curable_here(d.kind, tender):
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
        instruction=f"Correct the boxes concerned before the offer expires "
        f"({calendars.format_ny(tender.offer.expiration_at)}); after that only the issuer can "
        f"waive it, and an uncured tender may be rejected.",
    )


@portal_view
def tender_status(request: HttpRequest, holder: Holder, reference: str) -> HttpResponse:
    tender = _tender_for(holder, reference)
    now = timezone.now()
    owner = selectors.owned_tenders(holder).filter(pk=tender.pk).exists()
    cure_closed = selectors.cure_closed_reason(tender.offer, now)
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


@portal_view
@sensitive_post_parameters("tin")
@require_http_methods(["GET", "POST"])
def cure(request: HttpRequest, holder: Holder, reference: str, deficiency_id: int) -> HttpResponse:
    tender = get_object_or_404(
        selectors.owned_tenders(holder).select_related("offer__issuer", "series", "holder"),
        reference=reference,
    )
    deficiency = get_object_or_404(tender.deficiencies, pk=deficiency_id)
    if not _curable_here(deficiency.kind, tender):
        raise Http404("This deficiency is not cured through the portal.")
    back = reverse("portal:tender_status", args=[tender.reference])
    if deficiency.status != DeficiencyStatus.OPEN:
        messages.info(
            request,
            f"“{deficiency.get_kind_display()}” is already {deficiency.get_status_display().lower()}.",
        )
        return redirect(back)
    now = timezone.now()
    closed = selectors.cure_closed_reason(tender.offer, now)
    if not closed and tender.state not in TENDER_OPEN_STATES:
        closed = f"Tender {tender.reference} is {tender.get_state_display().lower()}; nothing can be cured."
    if closed:
        return _closed(request, holder, f"Cure: {deficiency.get_kind_display()}", closed, back)
    form = CureForm(request.POST or None, tender=tender, kind=deficiency.kind)
    if request.method == "POST" and form.is_valid():
        try:
            cure_deficiency(
                deficiency.pk,
                actor=_actor(request),
                now=timezone.now(),
                note=form.cleaned_data.get("note", ""),
                letter_updates=form.letter(),
            )
        except DeskError as exc:
            form.add_desk_error(exc)
        else:
            tender.refresh_from_db()
            messages.success(
                request,
                f"“{deficiency.get_kind_display()}” is cured."
                + (
                    f" Every deficiency is resolved: tender {tender.reference} is valid."
                    if tender.state == TenderState.VALID
                    else ""
                ),
            )
            return redirect(back)
    return render(
        request,
        "holders/cure.html",
        {
            "holder": holder,
            "tender": tender,
            "deficiency": deficiency,
            "form": form,
            "error_summary": field_errors_summary(form) if form.is_bound else [],
        },
    )


# --- withdrawal -------------------------------------------------------------------------------------


@portal_view
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, holder: Holder, reference: str) -> HttpResponse:
    tender = get_object_or_404(
        selectors.owned_tenders(holder).select_related("offer", "series", "holder"),
        reference=reference,
    )
    back = reverse("portal:tender_status", args=[tender.reference])
    now = timezone.now()
    closed = selectors.withdrawal_closed_reason(tender.offer, now)
    if not closed and (tender.state not in TENDER_OPEN_STATES or tender.live_amount <= 0):
        closed = (
            f"Tender {tender.reference} is {tender.get_state_display().lower()}; there is "
            f"nothing to withdraw."
        )
    if closed:
        return _closed(request, holder, f"Notice of withdrawal — {tender.reference}", closed, back)
    form = WithdrawalForm(request.POST or None, tender=tender)
    if request.method == "POST" and form.is_valid():
        try:
            notice = receive_withdrawal(
                tender.pk,
                notice=form.notice(),
                actor=_actor(request),
                now=timezone.now(),
                process=True,  # the holder is signed in: decide at once
            )
        except DeskError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, f"Your notice of withdrawal was received: reference {notice.reference}."
            )
            return redirect("portal:withdrawal", reference=notice.reference)
    return render(
        request,
        "holders/withdraw.html",
        {
            "holder": holder,
            "tender": tender,
            "form": form,
            "error_summary": field_errors_summary(form) if form.is_bound else [],
        },
    )


@portal_view
def withdrawal(request: HttpRequest, holder: Holder, reference: str) -> HttpResponse:
    notice = get_object_or_404(
        selectors.visible_withdrawals(holder).select_related("tender__series", "tender__offer"),
        reference=reference,
    )
    return render(
        request,
        "holders/withdrawal.html",
        {
            "holder": holder,
            "notice": notice,
            "tender": notice.tender,
            "history": selectors.subject_history(notice, request.user),
            "note_return": getattr(notice, "note_return", None),
        },
    )


# --- guaranteed delivery -----------------------------------------------------------------------------


def _guarantor_safe(exc: DeskError, holder_name: str, series: NoteSeries) -> tuple[str | None, str]:
    """The service's refusal, without the tendering holder's position in it: a guarantor
    sees no one's holdings beyond what it typed."""
    if exc.field == "amount":
        return (
            "amount",
            f"That amount is more than {holder_name} has free to tender of the {series.name}. "
            f"The exchange agent does not show holders' positions to guarantors: check the "
            f"amount with the holder.",
        )
    if exc.field == "certificates" and " is for $" in exc.message:
        number = exc.message.split(" is for $", 1)[0].removeprefix("Certificate ")
        return (
            "certificates",
            f"Certificate {number} does not have the amount given free to tender: check it "
            f"with the holder.",
        )
    return exc.field, exc.message


@portal_view
@require_http_methods(["GET", "POST"])
def gd_form(request: HttpRequest, holder: Holder, slug: str, series_slug: str) -> HttpResponse:
    if holder.kind != HolderKind.ELIGIBLE_GUARANTOR:
        raise Http404(
            "Only eligible guarantor institutions execute notices of guaranteed delivery."
        )
    series = _series(slug, series_slug)
    offer = series.offer
    now = timezone.now()
    closed = selectors.tender_closed_reason(offer, now)
    if closed:
        return _closed(
            request,
            holder,
            f"Notice of guaranteed delivery — {series.name}",
            closed,
            _offer_url(offer),
        )
    form = GuaranteedDeliveryForm(request.POST or None, series=series, now=now)
    if request.method == "POST" and form.is_valid():
        tendering = form.cleaned_data["tendering_holder"]
        try:
            gd = receive_guaranteed_delivery(
                offer_id=offer.pk,
                series_id=series.pk,
                holder_id=tendering.pk,
                guarantor_id=holder.pk,  # the signed-in institution
                notice=form.notice(),
                actor=_actor(request),
                now=timezone.now(),
            )
        except DeskError as exc:
            name, message = _guarantor_safe(exc, tendering.name, series)
            form.add_error(name if name in form.fields else None, message)
        else:
            messages.success(
                request,
                f"Your notice of guaranteed delivery was received: reference {gd.reference}.",
            )
            return redirect("portal:guaranteed_delivery", reference=gd.reference)
    executed = form["executed_on"].value()
    return render(
        request,
        "holders/gd_form.html",
        {
            "holder": holder,
            "offer": offer,
            "series": series,
            "form": form,
            "error_summary": field_errors_summary(form) if form.is_bound else [],
            "deadline_if_today": delivery_deadline(calendars.ny_date(now)),
            "executed": executed,
        },
    )


def _gd_for(holder: Holder, reference: str) -> GuaranteedDelivery:
    return get_object_or_404(
        selectors.visible_guaranteed_deliveries(holder).select_related(
            "tender__series", "tender__offer__issuer", "tender__holder", "guarantor"
        ),
        reference=reference,
    )


def _delivery_closed(gd: GuaranteedDelivery, now: dt.datetime) -> str | None:
    if gd.state == GuaranteedDeliveryState.FULFILLED:
        return f"The notes were delivered under {gd.reference} at {calendars.format_ny(gd.fulfilled_at)}."  # type: ignore[arg-type]
    if gd.state == GuaranteedDeliveryState.LAPSED:
        return (
            f"Guaranteed delivery {gd.reference} lapsed at {calendars.format_ny(gd.deadline_at)}: "
            f"the notes did not arrive in time, and the tender was rejected."
        )
    if now >= gd.deadline_at and not gd.lapse_waived_by:
        return (
            f"The notes were due by {calendars.format_ny(gd.deadline_at)} (three NYSE trading "
            f"days after execution); a late delivery needs the issuer's waiver."
        )
    if gd.tender.state != TenderState.PENDING_DELIVERY:
        return f"Tender {gd.tender.reference} is {gd.tender.get_state_display().lower()}."
    return None


@portal_view
def guaranteed_delivery(request: HttpRequest, holder: Holder, reference: str) -> HttpResponse:
    gd = _gd_for(holder, reference)
    now = timezone.now()
    remaining = (gd.deadline_at - now).total_seconds()
    return render(
        request,
        "holders/gd.html",
        {
            "holder": holder,
            "gd": gd,
            "tender": gd.tender,
            "may_deliver": _delivery_closed(gd, now) is None
            and selectors.may_deliver_notes(holder, gd),
            "counting_down": gd.state == GuaranteedDeliveryState.RECEIVED and remaining > 0,
            "remaining_seconds": int(max(remaining, 0)),
            "history": selectors.subject_history(gd, request.user),
            "is_guarantor": gd.guarantor_id == holder.pk,
        },
    )


@portal_view
@sensitive_post_parameters("tin")
@require_http_methods(["GET", "POST"])
def gd_deliver(request: HttpRequest, holder: Holder, reference: str) -> HttpResponse:
    gd = _gd_for(holder, reference)
    if not selectors.may_deliver_notes(holder, gd):
        raise Http404("Not a delivery this login may make.")
    back = reverse("portal:guaranteed_delivery", args=[gd.reference])
    now = timezone.now()
    closed = _delivery_closed(gd, now)
    if closed:
        return _closed(request, holder, f"Delivery under {gd.reference}", closed, back)
    tender = gd.tender
    is_guarantor = gd.guarantor_id == holder.pk
    # The tendering holder sees its own certificates; the guarantor sees no holdings.
    lines = (
        None
        if is_guarantor
        else selectors.certificate_lines(tender.holder, tender.series, calendars.ny_date(now))
    )
    form = DeliveryForm(request.POST or None, tender=tender, certificate_lines=lines)
    if request.method == "POST" and form.is_valid():
        try:
            fulfil_guaranteed_delivery(
                gd.pk,
                by_book_entry=False,
                certificates=form.cleaned_data["resolved_certificates"],
                letter=form.letter(),
                actor=_actor(request),
                now=timezone.now(),
            )
        except DeskError as exc:
            name, message = (
                _guarantor_safe(exc, tender.holder.name, tender.series)
                if is_guarantor
                else (exc.field, exc.message)
            )
            form.add_error(name if name in form.fields else None, message)
        else:
            messages.success(
                request,
                f"The notes and the letter were received under {gd.reference}; tender "
                f"{tender.reference} is now received.",
            )
            return redirect(back)
    return render(
        request,
        "holders/gd_deliver.html",
        {
            "holder": holder,
            "gd": gd,
            "tender": tender,
            "form": form,
            "certificate_lines": lines,
            "error_summary": field_errors_summary(form) if form.is_bound else [],
        },
    )


# --- accounts -------------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "holders/login.html"
    authentication_form = PortalLoginForm
    redirect_authenticated_user = True


class AcceptInviteView(auth_views.PasswordResetConfirmView):
    """An invited holder chooses its password through the one-time link, then is signed in."""

    template_name = "holders/accept_invite.html"
    post_reset_login = True
    # Two backends are configured (django-axes first): name the one that signs in.
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("portal:home")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, "Your password is set and you are signed in.")
        return response


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("portal:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            request_sign_up(form.sign_up(), now=timezone.now())
        except DeskError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return redirect("portal:sign_up_done")
    return render(
        request,
        "holders/sign_up.html",
        {"form": form, "error_summary": field_errors_summary(form) if form.is_bound else []},
    )


def sign_up_done(request: HttpRequest) -> HttpResponse:
    return render(request, "holders/sign_up_done.html")
