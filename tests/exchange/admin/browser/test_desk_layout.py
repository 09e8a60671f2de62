"""The desk at 1280 x 800 and on a 390 px phone, on the live demo data: every changelist
fits its width without scrolling sideways (the tender list and the review queue with the
columns a clerk reads), long values end in an ellipsis with the whole text on hover, and
the main desk pages have no horizontal overflow and no serious axe-core violation."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Page

from exchange.models import ExchangeOffer, Tender, TenderState
from tests.holders.browser.checks import WIDTHS, problems
from tests.holders.browser.conftest import Browse

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DEMO_PASSWORD = "tender-desk-demo"
QUEUE_COLUMNS = ["Tender", "Holder", "Series", "Amount", "State", "Age", "Suggested defects"]


@pytest.fixture
def demo(browse: Browse) -> Iterator[Browse]:
    call_command("seed_offer", "--live", stdout=io.StringIO())
    yield browse


def clerk_page(browse: Browse, width: int, username: str = "clerk") -> Page:
    context = browse.browser.new_context(
        base_url=browse.base_url,
        viewport={"width": width, "height": 800},
        bypass_csp=True,  # axe-core is injected as a script
    )
    context.set_default_timeout(10_000)
    browse.contexts.append(context)
    page = context.new_page()
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    return page


def table_fits(page: Page) -> dict[str, float]:
    return page.evaluate(
        """() => {
          const table = document.querySelector('#result_list');
          const box = table.closest('.results');
          return {table: table.scrollWidth, box: box.clientWidth,
                  right: table.getBoundingClientRect().right,
                  viewport: document.documentElement.clientWidth};
        }"""
    )


def changelists() -> list[str]:
    return sorted(
        reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist")
        for m in admin.site._registry
    )


def test_every_changelist_fits_1280(demo: Browse) -> None:
    page = clerk_page(demo, 1280, "supervisor")
    wrong = []
    for url in changelists():
        response = page.goto(url)
        assert response is not None
        if response.status != 200:
            continue  # a list this role may not see
        if page.locator("#result_list").count() == 0:
            continue  # an empty list has no table
        fits = table_fits(page)
        if fits["table"] > fits["box"] or fits["right"] > fits["viewport"]:
            wrong.append(f"{url}: {fits}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    "url", ["/admin/exchange/tenderawaitingreview/", "/admin/exchange/tender/"]
)
def test_the_queue_and_the_tender_list_show_what_a_clerk_reads(demo: Browse, url: str) -> None:
    page = clerk_page(demo, 1280)
    page.goto(url)
    headers = [h.strip() for h in page.locator("#result_list thead th").all_text_contents()]
    expected = QUEUE_COLUMNS if "awaiting" in url else ["Reference", *QUEUE_COLUMNS[1:]]
    assert [h for h in headers if h] == expected
    # Every header and every cell lies inside the viewport: nothing to scroll to.
    rights = page.evaluate(
        "() => [...document.querySelectorAll('#result_list th, #result_list td')]"
        ".map(c => c.getBoundingClientRect().right)"
    )
    assert max(rights) <= 1280
    # A long value is clipped with an ellipsis and whole on hover.
    holder = page.locator("#result_list td.field-holder_cell .desk-cell").first
    assert holder.get_attribute("title") == holder.inner_text().strip()
    assert holder.evaluate("e => getComputedStyle(e).textOverflow") == "ellipsis"
    series = page.locator("#result_list td.field-series_cell .desk-cell").first
    assert series.get_attribute("title").endswith(" due 2010") or series.get_attribute(
        "title"
    ).endswith(" due 2008")
    # One line per row: a reference no longer wraps over three lines.
    heights = page.evaluate(
        "() => [...document.querySelectorAll('#result_list tbody tr')]"
        ".map(r => r.getBoundingClientRect().height)"
    )
    assert heights and max(heights) < 40


def main_desk_pages() -> list[str]:
    offer = ExchangeOffer.objects.get(slug="level3-2000")
    waiting = Tender.objects.filter(state=TenderState.RECEIVED).first()
    deficient = Tender.objects.filter(state=TenderState.DEFICIENT).first()
    assert waiting is not None and deficient is not None
    return [
        reverse("admin:index"),
        reverse("admin:exchange_tenderawaitingreview_changelist"),
        reverse("admin:exchange_tender_changelist"),
        reverse("admin:exchange_tender_change", args=[deficient.pk]),
        reverse("admin:exchange_tender_transition", args=[waiting.pk, "find_deficient"]),
        reverse("admin:exchange_deficiency_changelist"),
        reverse("admin:exchange_withdrawalnotice_changelist"),
        reverse("admin:exchange_guaranteeddelivery_changelist"),
        reverse("admin:exchange_statechange_changelist"),
        reverse("admin:exchange_jobrun_changelist"),
        reverse("admin:exchange_exchangeoffer_change", args=[offer.pk]),
        reverse("admin:exchange_exchangeoffer_report_tender", args=[offer.pk]),
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_main_desk_pages_fit_and_have_no_serious_violation(demo: Browse, width: int) -> None:
    page = clerk_page(demo, width)
    wrong = []
    for url in main_desk_pages():
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        wrong += problems(page, f"{url} at {width} px")
    assert not wrong, "\n".join(wrong)


def test_the_bulk_confirmation_page_fits_and_has_no_serious_violation(demo: Browse) -> None:
    page = clerk_page(demo, 1280)
    page.goto(reverse("admin:exchange_tenderawaitingreview_changelist"))
    page.locator("#action-toggle").check()
    page.locator("select[name=action]").select_option("bulk_start_review")
    page.get_by_role("button", name="Go").click()
    page.wait_for_load_state()
    assert page.get_by_text("What will happen to each selected tender").count() == 1
    wrong = problems(page, "the bulk confirmation at 1280 px")
    assert not wrong, "\n".join(wrong)
