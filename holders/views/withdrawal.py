"""The notice of withdrawal and its receipt."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from exchange.models import (
    TENDER_OPEN_STATES,
)
from exchange.services.base import DeskError
from exchange.services.withdrawals import awaits_guarantee, receive_withdrawal
from holders import selectors
from holders.forms.fields import field_errors_summary
from holders.forms.withdrawal import WithdrawalForm
from holders.models import Holder
from holders.views.common import closed_page, portal_actor, portal_view, submit_once


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
        return closed_page(
            request, holder, f"Notice of withdrawal — {tender.reference}", closed, back
        )
    form = WithdrawalForm(request.POST or None, tender=tender)
    if request.method == "POST" and form.is_valid():
        try:
            notice = submit_once(
                request,
                "withdrawal",
                lambda: receive_withdrawal(
                    tender.pk,
                    notice=form.notice(),
                    actor=portal_actor(request),
                    now=timezone.now(),
                    process=True,  # the holder is signed in: decide at once
                ),
                lambda n: reverse("portal:withdrawal", args=[n.reference]),
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
            "awaits_guarantee": awaits_guarantee(notice, notice.tender),
            "note_return": getattr(notice, "note_return", None),
        },
    )


# --- guaranteed delivery -----------------------------------------------------------------------------
