"""Every portal page, at 390 px (a phone) and 1280 px: no horizontal overflow, and no
accessibility violation that axe-core rates serious or critical. On the live demo data
(`seed_offer --live`), so the pages carry the seed's real documents and long names."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Page

from exchange.models import (
    Deficiency,
    DeficiencyStatus,
    GuaranteedDelivery,
    Tender,
    WithdrawalNotice,
)
from holders.models import Holder
from tests.holders.browser.checks import WIDTHS, assert_fits_and_accessible, problems
from tests.holders.browser.conftest import Browse

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DEMO_PASSWORD = "tender-desk-demo"


@dataclass
class Demo:
    browse: Browse

    def page(self, width: int, username: str | None) -> Page:
        context = self.browse.browser.new_context(
            base_url=self.browse.base_url,
            viewport={"width": width, "height": 800},
            # axe-core is injected as a script; the pages' CSP (rightly) refuses that.
            bypass_csp=True,
        )
        context.set_default_timeout(10_000)
        self.browse.contexts.append(context)
        page = context.new_page()
        if username:
            page.goto(reverse("portal:login"))
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state()
        return page


@pytest.fixture
def demo(browse: Browse) -> Iterator[Demo]:
    call_command("seed_offer", "--live", stdout=io.StringIO())
    yield Demo(browse)


def portal_pages() -> dict[str, list[str]]:
    """The portal's pages, by the login that sees them (None: a visitor)."""
    ardsley = Holder.objects.get(user__username="ardsley")
    empire = Holder.objects.get(user__username="empire")
    tenders = Tender.objects.filter(holder=ardsley).order_by("received_at")
    tender = tenders.first()
    assert tender is not None
    open_defect = (
        Deficiency.objects.filter(status=DeficiencyStatus.OPEN, tender__holder__user__isnull=False)
        .select_related("tender__holder__user")
        .first()
    )
    withdrawal = WithdrawalNotice.objects.select_related("tender__holder__user").first()
    notice = GuaranteedDelivery.objects.filter(guarantor=empire).first()
    series = tender.series.slug
    pages: dict[str, list[str]] = {
        "": [
            reverse("portal:login"),
            reverse("portal:sign_up"),
        ],
        "ardsley": [
            reverse("portal:offer", args=["level3-2000"]),
            reverse("portal:prospectus"),
            reverse("portal:tender_form", args=["level3-2000", series]),
            reverse("portal:tender_status", args=[tender.reference]),
            reverse("portal:tender_receipt", args=[tender.reference]),
            reverse("portal:withdraw", args=[tender.reference]),
        ],
        "empire": [
            reverse("portal:gd_form", args=["level3-2000", series]),
        ],
    }
    if notice is not None:
        pages["empire"] += [
            reverse("portal:guaranteed_delivery", args=[notice.reference]),
            reverse("portal:gd_deliver", args=[notice.reference]),
        ]
    if withdrawal is not None and withdrawal.tender.holder.user is not None:
        pages.setdefault(withdrawal.tender.holder.user.get_username(), []).append(
            reverse("portal:withdrawal", args=[withdrawal.reference])
        )
    if open_defect is not None:
        user = open_defect.tender.holder.user.get_username()
        pages.setdefault(user, []).append(
            reverse("portal:cure", args=[open_defect.tender.reference, open_defect.pk])
        )
    return pages


@pytest.mark.parametrize("width", WIDTHS)
def test_every_portal_page_fits_and_has_no_serious_violation(demo: Demo, width: int) -> None:
    checked, wrong = 0, []
    for username, paths in portal_pages().items():
        page = demo.page(width, username or None)
        for path in paths:
            response = page.goto(path)
            assert response is not None and response.status == 200, (path, response)
            wrong += problems(page, f"{path} at {width} px as {username or 'a visitor'}")
            checked += 1
    assert checked >= 12
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_refused_letter_fits_and_has_no_serious_violation(demo: Demo, width: int) -> None:
    page = demo.page(width, "ardsley")
    page.goto(reverse("portal:tender_form", args=["level3-2000", "2008-senior"]))
    page.get_by_role("button", name="Sign and submit the letter of transmittal").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary, [role=alert]").count() >= 1
    # The keyboard starts at the summary of what to correct, not at the top of the page.
    assert page.evaluate("() => document.activeElement.classList.contains('error-summary')")
    assert_fits_and_accessible(page, f"the refused letter at {width} px")
