"""What every portal page shares: the signed-in holder, the actor, the closed-offer page.

Every page that shows a document looks it up through the signed-in holder's own
querysets (holders.selectors), so another holder's reference answers 404 exactly like a
reference that does not exist. Every write passes the server's clock (timezone.now()) and
the signed-in login as the actor; the owner is never read from the request.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from exchange.models import (
    ActorKind,
    ExchangeOffer,
)
from exchange.services.base import Actor
from holders import selectors
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
        return view(request, holder, *args, **kwargs)

    return wrapper


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
