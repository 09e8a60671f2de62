"""An honest exchange date: after the replay of the seed offer, tenders still open keep
the dashboard warning (no countdown), the final results preliminary (no press release of
final totals) and the job page saying what the exchange date waits for."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from exchange.admin.dashboard import _status
from exchange.models import ExchangeOffer, Tender, TenderState
from exchange.services.review import reject_tender
from tests.exchange.services.test_register import replay
from tests.factories import SUPERVISOR, SeedOffer, ny

SECOND = dt.timedelta(seconds=1)


def clerk_client() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username="clerk"))
    return client


def close_the_open_tenders(offer: ExchangeOffer) -> None:
    for tender in Tender.objects.filter(
        offer=offer, state__in=[TenderState.RECEIVED, TenderState.IN_REVIEW]
    ):
        reject_tender(
            tender.pk,
            actor=SUPERVISOR,
            now=ny(2000, 7, 13, 15),
            reason="Not in proper form by the exchange date.",
        )
    call_command("run_jobs", "--as-of", "2000-07-14 09:00", stdout=StringIO())


@pytest.mark.django_db
def test_dashboard_warns_of_open_tenders_and_shows_no_countdown_after_the_exchange_date() -> None:
    offer = replay()
    page = clerk_client().get(reverse("admin:index")).content.decode()
    # Ardsley's $2,000,000 letter never reviewed, Hudson's $1,500,000 in review, and the
    # demo ATOP activity's five Bayside tenders never reviewed: $23,000,000 tendered, less
    # the $2,000,000 its withdrawal took back.
    assert "accepted — 7 tenders ($24,500,000.00) still open" in page
    assert "6 received, not yet reviewed ($23,000,000.00)" in page
    assert "in review ($1,500,000.00)" in page
    assert 'class="errornote" role="status" data-offer-status' in page
    assert 'class="countdown"' not in page and " left." not in page
    close_the_open_tenders(offer)
    offer.refresh_from_db()
    page = clerk_client().get(reverse("admin:index")).content.decode()
    assert "still open" not in page  # completed: off the dashboard or plainly stated


@pytest.mark.django_db
def test_the_countdown_runs_until_the_expiration_instant_and_not_at_it(seed: SeedOffer) -> None:
    expiration = seed.offer.expiration_at
    assert _status(seed.offer, expiration - SECOND) == ("Open", False, True)
    text, warning, countdown = _status(seed.offer, expiration)
    assert (warning, countdown) == (False, False)
    assert "passed" in text


@pytest.mark.django_db
def test_final_results_stay_preliminary_while_tenders_are_open() -> None:
    offer = replay()
    client = clerk_client()
    url = reverse("admin:exchange_exchangeoffer_report_final", args=[offer.pk])
    page = client.get(url).content.decode()
    assert "PRELIMINARY: not final until every tender is accepted or returned." in page
    # Ardsley's and Hudson's letters and the five ATOP tenders of the demo ($21,000,000 live).
    assert "7 tender(s) ($24,500,000.00) still open" in page
    assert "No press release of final results can be drafted yet" in page
    assert "announced today the final results" not in page
    out = StringIO()
    call_command("final_results", "level3-2000", stdout=out)
    assert "PRELIMINARY" in out.getvalue()
    assert "announced today the final results" not in out.getvalue()
    # Once every tender is accepted or returned, the totals are final and the draft states them.
    close_the_open_tenders(offer)
    page = client.get(url).content.decode()
    assert "PRELIMINARY" not in page
    assert "announced today the final results" in page
    assert "$25,000,000 aggregate principal amount of its 11% Senior Notes due 2008" in page


@pytest.mark.django_db
def test_job_page_says_what_the_exchange_date_waits_for() -> None:
    offer = replay()
    page = clerk_client().get(reverse("admin:exchange_jobrun_changelist")).content.decode()
    assert "data-waits-for" in page
    # Ardsley's and Hudson's letters and the five ATOP tenders of the demo ($21,000,000 live).
    assert "level3-2000: 7 open tender(s) ($24,500,000.00)" in page
    close_the_open_tenders(offer)
    page = clerk_client().get(reverse("admin:exchange_jobrun_changelist")).content.decode()
    assert "data-waits-for" not in page


@pytest.mark.django_db
def test_dashboard_warns_while_a_cusip_is_missing(seed: SeedOffer) -> None:
    from exchange.admin.dashboard import offer_dashboards

    (board,) = offer_dashboards(ny(2000, 6, 26, 10))
    assert any(
        "11% Senior Notes due 2008: enter the CUSIP of the new notes and of the original notes" in w
        for w in board.cusip_warnings
    )
    seed.offer.series.update(original_cusip="52729NAA8", new_cusip="52729NAD2")
    (board,) = offer_dashboards(ny(2000, 6, 26, 10))
    assert board.cusip_warnings == []


@pytest.mark.django_db
def test_delivery_and_return_lists_carry_the_cusips() -> None:
    from exchange.reports.lists import delivery_list, return_list

    offer = replay()
    deliveries = list(delivery_list(offer))
    cusip = deliveries[0].index("new_cusip")
    assert {row[cusip] for row in deliveries[1:]} == {"52729NAD2", "52729NAE0", "52729NAF7"}
    returns = list(return_list(offer))
    cusip = returns[0].index("original_cusip")
    assert {row[cusip] for row in returns[1:]} == {"52729NAA8", "52729NAC4"}
