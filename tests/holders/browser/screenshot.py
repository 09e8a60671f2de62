"""Retake the README's screenshot of the letter of transmittal, against the demo data.

    python manage.py migrate && python manage.py seed_offer --live   # a demo database
    python manage.py runserver 127.0.0.1:8000 --noreload &            # the portal
    .venv/bin/python -m tests.holders.browser.screenshot [http://127.0.0.1:8000]

Not a test (pytest collects test_*.py only): it writes holders/static/holders/tender-form.png.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parents[3] / "holders" / "static" / "holders" / "tender-form.png"
DEMO_PASSWORD = (
    "tender-desk-demo"  # the seed's demo cast (exchange/management/commands/seed_offer.py)
)


def main(base: str = "http://127.0.0.1:8000") -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
            headless=True,
        )
        page = browser.new_page(base_url=base, viewport={"width": 1000, "height": 800})
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("ardsley")
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Tender 12 7/8% Senior Discount Notes due 2010").click()
        page.get_by_label("Principal amount at maturity tendered").fill("1,000,000")
        page.get_by_label("Certificates delivered").fill("D10-0001 1,000,000")
        page.get_by_label("Name of the person signing").fill("Eleanor Ward, Trustee")
        page.screenshot(path=str(OUT), full_page=True)
        browser.close()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(*sys.argv[1:])
