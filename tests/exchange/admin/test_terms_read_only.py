"""After commencement the offer's and the series' terms are read-only in the admin: the
changes a clerk saved on the live seed offer (acceptance no longer automatic, 99% backup
withholding, a ten-year registration deadline, a $1 denomination, a 0.01% coupon) change
nothing now."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse

from exchange.models import ExchangeOffer, NoteSeries, StateChange
from tests.factories import SeedOffer, build_seed_offer, staff_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("group", ["Clerks", "Supervisors"])
def test_the_terms_of_a_commenced_offer_cannot_be_saved(seed: SeedOffer, group: str) -> None:
    client = Client()
    client.force_login(staff_user("someone", group))
    offer_before = ExchangeOffer.objects.values().get(pk=seed.offer.pk)
    series_before = NoteSeries.objects.values().get(pk=seed.senior_2008.pk)
    history = StateChange.objects.count()
    page = client.get(reverse("admin:exchange_exchangeoffer_change", args=[seed.offer.pk]))
    html = page.content.decode()
    for box in ("acceptance_automatic", "backup_withholding_rate", "slug"):
        assert f'name="{box}"' not in html
    client.post(
        reverse("admin:exchange_exchangeoffer_change", args=[seed.offer.pk]),
        {"backup_withholding_rate": "0.99", "slug": "other", "name": "Renamed"},
    )
    client.post(
        reverse("admin:exchange_noteseries_change", args=[seed.senior_2008.pk]),
        {
            "denomination": "1.00",
            "coupon_rate": "0.0001",
            "amount_outstanding": "1",
            "offer": str(build_seed_offer(slug="another").offer.pk),
            "slug": "renamed",
        },
    )
    assert ExchangeOffer.objects.values().get(pk=seed.offer.pk) == offer_before
    assert NoteSeries.objects.values().get(pk=seed.senior_2008.pk) == series_before
    assert seed.offer.backup_withholding_rate == Decimal("0.31")
    assert StateChange.objects.filter(offer=seed.offer).count() <= history


def test_a_draft_offers_terms_are_still_set_in_the_admin(db: None) -> None:
    draft = build_seed_offer(commence=False, slug="draft-offer")
    request = RequestFactory().get("/")
    request.user = staff_user("setter", "Supervisors")
    offer_admin = admin.site._registry[ExchangeOffer]
    series_admin = admin.site._registry[NoteSeries]
    assert "backup_withholding_rate" in offer_admin.editable_fields(request, draft.offer)
    assert "denomination" in series_admin.editable_fields(request, draft.senior_2008)


def test_a_supervisor_amends_a_term_through_the_desk_and_a_clerk_cannot(seed: SeedOffer) -> None:
    import time_machine

    from tests.factories import ny

    url = reverse("admin:exchange_exchangeoffer_transition", args=[seed.offer.pk, "amend_term"])
    data = {
        "series": "2008-senior",
        "term": "denomination",
        "value": "5000",
        "description": "Authorized denominations of $5,000.",
        "notice_on": "2000-06-26",
    }
    with time_machine.travel(ny(2000, 6, 26, 10), tick=False):
        clerk = Client()
        clerk.force_login(staff_user("clerk-t", "Clerks"))
        assert clerk.post(url, data).status_code == 403
        supervisor = Client()
        supervisor.force_login(staff_user("super-t", "Supervisors"))
        supervisor.post(url, data)
    seed.senior_2008.refresh_from_db()
    assert seed.senior_2008.denomination == Decimal("5000")
    row = StateChange.objects.get(action="exchange.offer.term_amended")
    assert row.actor_label == "super-t" and "denomination: 1000.00 → 5000.00" in row.reason
