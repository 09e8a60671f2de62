"""Authorization by walking the URL configuration, so a new URL is covered without anyone
remembering to add it: every portal URL that takes a document answers its owner, 404 to
another holder and the sign-in page to a visitor; every issuer's decision in the admin
answers a clerk who posts its URL directly with 403."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
import time_machine
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse

from exchange.admin.base import TransitionAdmin
from exchange.models import StateChange
from tests.exchange.admin.test_admin import build_graph
from tests.factories import ny, staff_user
from tests.holders.conftest import Cast
from tests.holders.views.test_access import EARLIER, documents

pytestmark = pytest.mark.django_db

# Portal URLs reachable without a holder's login, and why.
PUBLIC = {
    "prospectus": "the prospectus is public",
    "login": "signing in",
    "sign_up": "asking for access",
    "sign_up_done": "asking for access",
    "accept_invite": "guarded by its one-time token, not by a login",
    "password_reset": "asking for a new password (one answer whatever the address)",
    "password_reset_done": "asking for a new password",
    "logout": "signing out",
}


def portal_patterns() -> list[URLPattern]:
    _, resolver = next(
        (prefix, r)
        for prefix, r in get_resolver().namespace_dict.values()
        if r.namespace == "portal"
    )
    return [p for p in resolver.url_patterns if isinstance(p, URLPattern)]


def candidates(cast: Cast) -> dict[str, list[Any]]:
    """Every value each URL parameter can take among Ardsley's documents and the offer."""
    documents(cast)  # a tender, a deficiency, a withdrawal, a guaranteed delivery
    from exchange.models import Deficiency, GuaranteedDelivery, Tender, WithdrawalNotice

    references = [
        *Tender.objects.values_list("reference", flat=True),
        *WithdrawalNotice.objects.values_list("reference", flat=True),
        *GuaranteedDelivery.objects.values_list("reference", flat=True),
    ]
    return {
        "reference": references,
        "deficiency_id": list(Deficiency.objects.values_list("pk", flat=True)),
        "slug": [cast.seed.offer.slug],
        "series_slug": [s.slug for s in cast.seed.all_series],
    }


def test_every_portal_url_taking_a_document_is_guarded(cast: Cast) -> None:
    values = candidates(cast)
    owners = [cast.client(cast.ardsley), cast.client(cast.empire)]
    stranger = cast.client(cast.chen)
    visitor = Client()
    with time_machine.travel(ny(2000, 6, 26, 10), tick=False):
        for pattern in portal_patterns():
            name = pattern.name or ""
            if name in PUBLIC:
                continue
            params = list(pattern.pattern.converters)
            if not params:  # the home page: a visitor is sent to sign in
                response = visitor.get(reverse(f"portal:{name}"))
                assert response.status_code == 302 and "/accounts/login/" in response["Location"], (
                    name
                )
                continue
            unknown = [p for p in params if p not in values]
            assert not unknown, (
                f"portal:{name} takes {unknown}: add documents for them to this sweep"
            )
            owned = 0
            for combo in itertools.product(*(values[p] for p in params)):
                url = reverse(f"portal:{name}", kwargs=dict(zip(params, combo, strict=True)))
                if not any(client.get(url).status_code == 200 for client in owners):
                    continue
                owned += 1
                response = visitor.get(url)
                assert response.status_code == 302 and "/accounts/login/" in response["Location"], (
                    url
                )
                if {"reference", "deficiency_id"} & set(params):
                    assert stranger.get(url).status_code == 404, url
                    assert stranger.post(url, {}).status_code == 404, url
            assert owned, f"portal:{name}: no document of the sweep is reachable by its owner"


def test_a_clerk_cannot_record_an_issuers_decision_by_posting_its_url(seed, client: Client) -> None:  # type: ignore[no-untyped-def]
    build_graph(seed)
    client.force_login(staff_user("sweep-clerk", "Clerks"))
    checked = 0
    with time_machine.travel(EARLIER + dt.timedelta(days=6), tick=False):
        for model, model_admin in admin.site._registry.items():
            if not isinstance(model_admin, TransitionAdmin):
                continue
            obj = model._default_manager.order_by("pk").first()
            if obj is None:
                continue
            for transition in model_admin.desk_transitions:
                if not transition.issuer_decision:
                    continue
                before = StateChange.objects.count()
                url = reverse(
                    f"admin:{model._meta.app_label}_{model._meta.model_name}_transition",
                    args=[obj.pk, transition.name],
                )
                assert client.post(url, {"reason": "x", "authorized_by": "x"}).status_code == 403, (
                    url
                )
                assert client.get(url).status_code == 403, url
                assert StateChange.objects.count() == before
                checked += 1
    assert checked >= 8  # offer decisions, waivers, rejection
