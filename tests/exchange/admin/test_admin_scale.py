"""Every changelist costs the same number of queries however many rows there are, and a
big unfiltered table is not counted on every page."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from exchange.admin.base import EstimatedCountPaginator
from tests.exchange.admin.test_admin import accept_graph, build_graph
from tests.factories import build_seed_offer, ny, paper_tender

pytestmark = pytest.mark.django_db


def _changelists() -> list[str]:
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
        if model._meta.app_label in {"exchange", "holders"}
    ]


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def test_every_changelist_takes_the_same_queries_for_twice_the_rows(client: Client) -> None:
    client.force_login(get_user_model().objects.create_superuser("scale", "s@example.com", "pw"))
    first = build_graph(build_seed_offer())
    accept_graph(first)
    urls = _changelists()
    before = {url: _queries(client, url) for url in urls}
    # A second offer with one of everything again: every table has more rows.
    second = build_graph(build_seed_offer(slug="second-offer"))
    accept_graph(second)
    after = {url: _queries(client, url) for url in urls}
    grew = {url: (before[url], after[url]) for url in urls if after[url] != before[url]}
    assert not grew, grew


def test_an_unfiltered_big_table_is_estimated_not_counted(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = build_seed_offer()
    paper_tender(seed, ny(2000, 6, 26, 10))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE exchange_tender")
    monkeypatch.setattr(EstimatedCountPaginator, "ESTIMATE_ABOVE", -1)
    client.force_login(get_user_model().objects.create_superuser("scale2", "s2@example.com", "pw"))
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("admin:exchange_tender_changelist"))
    sql = [q["sql"] for q in captured.captured_queries]
    assert any("reltuples" in q for q in sql)
    assert not any("COUNT(*)" in q and '"exchange_tender"' in q and "WHERE" not in q for q in sql)
    # Filtered, the count is exact.
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("admin:exchange_tender_changelist"), {"state__exact": "received"})
    assert any("COUNT(*)" in q["sql"] for q in captured.captured_queries)


def test_extension_and_amendment_pages_show_their_consequences(client: Client) -> None:
    import time_machine

    from tests.factories import book_entry_tender, staff_user

    seed = build_seed_offer()
    book_entry_tender(seed, ny(2000, 6, 26, 10), amount="10000000")
    client.force_login(staff_user("sup-x", "Supervisors"))
    base = f"/admin/exchange/exchangeoffer/{seed.offer.pk}/transition/"
    with time_machine.travel(ny(2000, 7, 7, 10), tick=False):
        extend = client.get(base + "extend/").content.decode()
        # Announce by 9:00 a.m. on Thursday July 13, the business day after July 12.
        assert "9:00 a.m. New York City time, Thursday, July 13, 2000" in extend
        assert "11% Senior Notes due 2008: $10,000,000" in extend
        amend = client.get(base + "amend/").content.decode()
        # Notice on Friday July 7: the fifth business day from and including it is Thursday
        # July 13 (7, 10, 11, 12, 13), after the July 12 expiration.
        assert (
            "the day notice was first given: 5:00 p.m. New York City time, Thursday, July 13, "
            "2000 if that was today" in amend
        )
        response = client.post(
            base + "extend/",
            {"new_expiration": "2000-07-19 17:00", "reason": "Issuer's notice"},
            follow=True,
        )
    page = response.content.decode()
    assert "Draft:" in page
    assert "until 5:00 p.m. New York City time, Wednesday, July 19, 2000" in page
    assert "scheduled to expire at 5:00 p.m. New York City time, Wednesday, July 12, 2000" in page
    assert (
        "approximately $10,000,000 aggregate principal amount of its 11% Senior Notes due 2008"
        in page
    )


def test_tender_search_by_reference_certificate_or_name_without_distinct(client: Client) -> None:
    seed = build_seed_offer()
    tender = paper_tender(seed, ny(2000, 6, 26, 10))
    other = paper_tender(seed, ny(2000, 6, 26, 11), certificates=(("R08-0002", "1000000"),))
    client.force_login(get_user_model().objects.create_superuser("search", "q@example.com", "pw"))
    url = reverse("admin:exchange_tender_changelist")
    for term, expected in (
        (tender.reference.lower(), {tender.reference}),
        ("r08-0002", {other.reference}),
        ("Ardsley", {tender.reference, other.reference}),
    ):
        with CaptureQueriesContext(connection) as captured:
            page = client.get(url, {"q": term}).content.decode()
        found = {ref for ref in (tender.reference, other.reference) if ref in page}
        assert found == expected, term
        assert not any("DISTINCT" in q["sql"] for q in captured.captured_queries), term


def test_a_supervisor_records_an_announcement(client: Client) -> None:
    import time_machine

    from exchange.models import OfferEvent
    from tests.factories import staff_user

    seed = build_seed_offer()
    client.force_login(staff_user("sup-a", "Supervisors"))
    url = f"/admin/exchange/exchangeoffer/{seed.offer.pk}/transition/announce/"
    with time_machine.travel(ny(2000, 7, 13, 8, 30), tick=False):
        assert client.get(url).status_code == 200
        client.post(
            url,
            {
                "text": "Level 3 extends its exchange offer to July 19, 2000.",
                "channel": "Dow Jones News Service release",
            },
        )
    event = OfferEvent.objects.get(kind="announcement")
    assert event.announcement_channel == "Dow Jones News Service release"
    assert event.description.startswith("Level 3 extends")
    assert event.occurred_at == ny(2000, 7, 13, 8, 30)
