"""The notice of guaranteed delivery, its receipt, and the delivery that completes it."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from exchange.models import (
    GuaranteedDelivery,
    GuaranteedDeliveryState,
    TenderState,
)
from exchange.services.base import DeskError
from exchange.services.guaranteed_deliveries import (
    delivery_deadline,
    fulfil_guaranteed_delivery,
    receive_guaranteed_delivery,
)
from exchange.terms import calendars
from holders import selectors
from holders.forms.fields import field_errors_summary
from holders.forms.guaranteed_delivery import DeliveryForm, GuaranteedDeliveryForm
from holders.models import Holder, HolderKind
from holders.views.common import closed_page, offer_url, portal_actor, portal_view, submit_once
from holders.views.letter import series_or_404

NOT_MATCHED = (
    "The exchange agent could not record this notice as given: the holder's name, the "
    "certificate numbers and the amount must match notes of the register that are free to "
    "tender. Check them with the holder. Nothing was recorded."
)


NOT_DELIVERABLE = (
    "The certificates listed do not match notes of the register free to tender for this "
    "notice. Check them with the holder. Nothing was recorded."
)


def _guarantor_safe(exc: DeskError, *, delivering: bool = False) -> tuple[str | None, str]:
    """The service's refusal, saying nothing of anyone's position: a notice naming a holder
    who has too little free, or certificates that are not that holder's, gets the same
    words as one naming nobody, so a guarantor cannot probe the register."""
    if exc.field in {"amount", "certificates", "holder", "series"}:
        return ("certificates", NOT_DELIVERABLE) if delivering else (None, NOT_MATCHED)
    return exc.field, exc.message


@portal_view
@require_http_methods(["GET", "POST"])
def gd_form(request: HttpRequest, holder: Holder, slug: str, series_slug: str) -> HttpResponse:
    if holder.kind != HolderKind.ELIGIBLE_GUARANTOR:
        raise Http404(
            "Only eligible guarantor institutions execute notices of guaranteed delivery."
        )
    series = series_or_404(slug, series_slug)
    offer = series.offer
    now = timezone.now()
    closed = selectors.tender_closed_reason(offer, now)
    if closed:
        return closed_page(
            request,
            holder,
            f"Notice of guaranteed delivery — {series.name}",
            closed,
            offer_url(offer),
        )
    form = GuaranteedDeliveryForm(request.POST or None, series=series, now=now)
    if request.method == "POST" and form.is_valid():
        tendering = selectors.holder_named_in_notice(
            form.cleaned_data["tendering_holder"],
            series,
            form.cleaned_data["certificate_numbers"].split(", "),
            calendars.ny_date(now),
        )
        try:
            if tendering is None:
                raise DeskError(NOT_MATCHED, field="holder")
            matched = tendering
            gd = submit_once(
                request,
                "guaranteed_delivery",
                lambda: receive_guaranteed_delivery(
                    offer_id=offer.pk,
                    series_id=series.pk,
                    holder_id=matched.pk,
                    guarantor_id=holder.pk,  # the signed-in institution
                    notice=form.notice(),
                    actor=portal_actor(request),
                    now=timezone.now(),
                ),
                lambda g: reverse("portal:guaranteed_delivery", args=[g.reference]),
            )
        except DeskError as exc:
            name, message = _guarantor_safe(exc)
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
        return closed_page(request, holder, f"Delivery under {gd.reference}", closed, back)
    tender = gd.tender
    is_guarantor = gd.guarantor_id == holder.pk
    # The tendering holder sees its own certificates; the guarantor sees no holdings, though
    # the form resolves a bare certificate number against them as the letter's form does.
    holder_lines = selectors.certificate_lines(tender.holder, tender.series, calendars.ny_date(now))
    lines = None if is_guarantor else holder_lines
    form = DeliveryForm(
        request.POST or None,
        tender=tender,
        certificate_lines=holder_lines,
        notice=gd,
        reveal_amounts=not is_guarantor,
    )
    if request.method == "POST" and form.is_valid():
        try:
            submit_once(
                request,
                "delivery",
                lambda: fulfil_guaranteed_delivery(
                    gd.pk,
                    by_book_entry=False,
                    certificates=form.cleaned_data["resolved_certificates"],
                    letter=form.letter(),
                    actor=portal_actor(request),
                    now=timezone.now(),
                ),
                lambda _: back,
            )
        except DeskError as exc:
            name, message = (
                _guarantor_safe(exc, delivering=True) if is_guarantor else (exc.field, exc.message)
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
