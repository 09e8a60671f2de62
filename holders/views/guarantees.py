"""An eligible guarantor institution guarantees a signature from its own login.

The institution names the document, the signer and the registered holder, as its stamp
on paper would; it never sees the register, and a refusal reads the same whether the
reference does not exist or its names differ. Documents whose signer named this
institution are listed for it to pick from.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from exchange.services.base import DeskError
from exchange.services.guarantees import confirm_guarantee
from holders import selectors
from holders.forms.fields import field_errors_summary
from holders.forms.guarantees import GuaranteeForm
from holders.models import Holder, HolderKind
from holders.views.common import portal_actor, portal_view, submit_once


@portal_view
@require_http_methods(["GET", "POST"])
def guarantees(request: HttpRequest, holder: Holder) -> HttpResponse:
    if holder.kind != HolderKind.ELIGIBLE_GUARANTOR:
        raise Http404("Only an eligible guarantor institution guarantees signatures.")
    form = GuaranteeForm(request.POST or None, initial={"reference": request.GET.get("ref", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            guarantee = submit_once(
                request,
                "guarantee",
                lambda: confirm_guarantee(
                    guarantor=holder,
                    reference=data["reference"],
                    signer_name=data["signer_name"],
                    registered_holder_name=data["registered_holder_name"],
                    actor=portal_actor(request),
                    now=timezone.now(),
                ),
                lambda _: request.path,
            )
        except DeskError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            document = guarantee.tender or guarantee.withdrawal
            messages.success(
                request,
                f"Your guarantee of the signature on {document} is recorded "
                f"({holder.medallion_program}).",
            )
            return redirect(request.path)
    return render(
        request,
        "holders/guarantees.html",
        {
            "holder": holder,
            "form": form,
            "awaiting": selectors.awaiting_my_guarantee(holder),
            "error_summary": field_errors_summary(form) if form.is_bound else [],
        },
    )
