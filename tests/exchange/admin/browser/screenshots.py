"""Retake the README's screenshots of the review queue (1280 x 800) and of the offer page
on a phone (390 px), against the demo data.

    python manage.py migrate && python manage.py seed_offer --live   # a demo database
    python manage.py runserver 127.0.0.1:8000 --noreload &            # desk and portal
    .venv/bin/python -m tests.exchange.admin.browser.screenshots [http://127.0.0.1:8000]

Not a test (pytest collects test_*.py only).
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parents[4]
QUEUE = ROOT / "exchange" / "static" / "exchange" / "review-queue-1280.png"
OFFER = ROOT / "holders" / "static" / "holders" / "offer-page-390.png"
DEMO_PASSWORD = "tender-desk-demo"  # the seed's demo cast


def queue(browser: Browser, base: str) -> None:
    page = browser.new_page(base_url=base, viewport={"width": 1280, "height": 800})
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("clerk")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/admin/exchange/tenderawaitingreview/")
    page.screenshot(path=str(QUEUE))


def offer(browser: Browser, base: str) -> None:
    page = browser.new_page(base_url=base, viewport={"width": 390, "height": 844})
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("ardsley")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    page.get_by_role("heading", name="Your documents").scroll_into_view_if_needed()
    page.screenshot(path=str(OFFER))


def main(base: str = "http://127.0.0.1:8000") -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
            headless=True,
        )
        queue(browser, base)
        offer(browser, base)
        browser.close()
    print(f"wrote {QUEUE} and {OFFER}")


if __name__ == "__main__":
    main(*sys.argv[1:])
