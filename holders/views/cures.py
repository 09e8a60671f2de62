"""A holder's cure of one deficiency of its tender."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from exchange.models import (
    TENDER_OPEN_STATES,
    DeficiencyStatus,
    TenderState,
)
from exchange.services.base import DeskError
from exchange.services.cure_periods import cure_deadline
from exchange.services.review import cure_deficiency
from holders import selectors
from holders.forms.cures import CureForm
from holders.forms.fields import field_errors_summary
from holders.models import Holder
from holders.views.common import closed_page, portal_actor, portal_view, submit_once
from holders.views.letter import curable_here


@portal_view
@sensitive_post_parameters("tin")
@require_http_methods(["GET", "POST"])
def cure(request: HttpRequest, holder: Holder, reference: str, deficiency_id: int) -> HttpResponse:
    tender = get_object_or_404(
        selectors.owned_tenders(holder).select_related("offer__issuer", "series", "holder"),
        reference=reference,
    )
    deficiency = get_object_or_404(tender.deficiencies, pk=deficiency_id)
    if not curable_here(deficiency.kind, tender):
        raise Http404("This deficiency is not cured through the portal.")
    back = reverse("portal:tender_status", args=[tender.reference])
    if deficiency.status != DeficiencyStatus.OPEN:
        messages.info(
            request,
            f"“{deficiency.get_kind_display()}” is already {deficiency.get_status_display().lower()}.",
        )
        return redirect(back)
    now = timezone.now()
    closed = selectors.cure_closed_reason(tender, now)
    if not closed and tender.state not in TENDER_OPEN_STATES:
        closed = f"Tender {tender.reference} is {tender.get_state_display().lower()}; nothing can be cured."
    if closed:
        return closed_page(request, holder, f"Cure: {deficiency.get_kind_display()}", closed, back)
    form = CureForm(request.POST or None, tender=tender, kind=deficiency.kind)
    if request.method == "POST" and form.is_valid():
        try:
            submit_once(
                request,
                "cure",
                lambda: cure_deficiency(
                    deficiency.pk,
                    actor=portal_actor(request),
                    now=timezone.now(),
                    note=form.cleaned_data.get("note", ""),
                    letter_updates=form.letter(),
                ),
                lambda _: back,
            )
        except DeskError as exc:
            form.add_desk_error(exc)
        else:
            tender.refresh_from_db()
            messages.success(
                request,
                f"“{deficiency.get_kind_display()}” is cured."
                + (
                    f" Every deficiency is resolved: tender {tender.reference} is back with "
                    f"the exchange agent, who checks the cure before the tender is valid."
                    if tender.state == TenderState.IN_REVIEW
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
            "cure_deadline": cure_deadline(tender),
            "form": form,
            "error_summary": field_errors_summary(form) if form.is_bound else [],
        },
    )


# --- withdrawal -------------------------------------------------------------------------------------
