"""What every portal page shares: the signed-in holder, the actor, the closed-offer page.

Every page that shows a document looks it up through the signed-in holder's own
querysets (holders.selectors), so another holder's reference answers 404 exactly like a
reference that does not exist. Every write passes the server's clock (timezone.now()) and
the signed-in login as the actor; the owner is never read from the request.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from exchange.models import (
    ActorKind,
    ExchangeOffer,
)
from exchange.services.base import Actor
from holders import selectors, services
from holders.models import Holder, HolderKind

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
        # A page sent again gets the first receipt, before anything else is decided (the
        # tender it withdrew may be closed by now, which would otherwise answer instead).
        if request.method == "POST":
            first = services.first_receipt(request.user, page_token(request))  # type: ignore[arg-type]
            if first:
                return _answer_again(request, first)
        try:
            return view(request, holder, *args, **kwargs)
        except services.AlreadySubmitted as again:
            return _answer_again(request, again.receipt_url)

    return wrapper


PAGE_TOKEN = "page_token"
Receipt = TypeVar("Receipt")


def page_token(request: HttpRequest) -> uuid.UUID | None:
    """The one-time token of the page posted (holders/templatetags/portal_tags.page_token)."""
    try:
        return uuid.UUID(request.POST.get(PAGE_TOKEN, ""))
    except ValueError:
        return None


def _answer_again(request: HttpRequest, receipt_url: str) -> HttpResponse:
    messages.info(
        request,
        "This page was already sent and received; nothing new was recorded. Its receipt is below.",
    )
    return redirect(receipt_url or reverse("portal:home"))


def submit_once(
    request: HttpRequest,
    form: str,
    submit: Callable[[], Receipt],
    receipt_url: Callable[[Receipt], str],
) -> Receipt:
    """Call one service for this page at most once (a copy raises AlreadySubmitted, which
    portal_view turns into the first receipt)."""
    return services.submit_once(
        user=request.user,  # type: ignore[arg-type]
        token=page_token(request),
        form=form,
        now=timezone.now(),
        submit=submit,
        receipt_url=receipt_url,
    )


def portal_actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, ActorKind.HOLDER)  # type: ignore[arg-type]


def closed_page(
    request: HttpRequest, holder: Holder, title: str, message: str, back: str
) -> HttpResponse:
    """The page a form shows instead of itself when nothing can be recorded now."""
    return render(
        request,
        "holders/closed.html",
        {"holder": holder, "title": title, "message": message, "back": back},
    )


def offer_url(offer: ExchangeOffer) -> str:
    return reverse("portal:offer", args=[offer.slug])


# --- the offer -------------------------------------------------------------------------------
