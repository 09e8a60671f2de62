"""The Content-Security-Policy allows no inline style, and no page of the portal or the desk
needs one: Chromium loads each page and reports no violation."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from tests.holders.browser.conftest import PASSWORD, Browse, LiveOffer

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


def _watch(page: Any) -> list[str]:
    console: list[str] = []
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.add_init_script(RECORD_VIOLATIONS)
    return console


def _visit(page: Any, console: list[str], path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    policy = response.headers["content-security-policy"]
    assert "style-src 'self';" in policy and "unsafe-inline" not in policy
    page.wait_for_load_state("load")
    violations = page.evaluate("window.__cspViolations")
    assert (path, violations, console) == (path, [], [])


def test_no_page_needs_an_inline_style(browse: Browse, live_offer: LiveOffer) -> None:
    holder = browse.signed_in("ardsley")
    console = _watch(holder)
    offer = live_offer.offer
    for path in (
        f"/offers/{offer.slug}/",
        f"/offers/{offer.slug}/series/{live_offer.series.slug}/letter-of-transmittal/",
        "/notices/",
        "/accounts/password-reset/",
    ):
        _visit(holder, console, path)

    supervisor = get_user_model().objects.create_user(
        username="sam", password=PASSWORD, is_staff=True
    )
    supervisor.groups.add(Group.objects.get(name="Supervisors"))
    desk = browse.signed_in("sam", path="/admin/login/")
    console = _watch(desk)
    for path in (
        "/admin/",
        f"/admin/exchange/exchangeoffer/{offer.pk}/change/",
        f"/admin/exchange/exchangeoffer/{offer.pk}/reports/tender/",
        f"/admin/exchange/exchangeoffer/{offer.pk}/transition/extend/",
        "/admin/exchange/jobrun/",
        "/admin/exchange/outboxmessage/",
    ):
        _visit(desk, console, path)
