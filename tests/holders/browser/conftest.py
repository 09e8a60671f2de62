"""A real browser (Debian's Chromium, driven by Playwright's sync API) against pytest-django's
live server. Each test gets a fresh browser context (its own cookies); the browser itself is
started once per session.

The browser tests need committed data the live server's thread can read, so they use
transactional tests with serialized_rollback: a flush alone would delete the Clerks and
Supervisors groups that the migrations create, and the tests after these need them.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connections
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect, sync_playwright

from exchange.models import ExchangeOffer, NoteSeries
from exchange.services.offers import commence_offer
from exchange.terms import calendars
from holders.models import Holder, HolderKind
from tests.factories import SUPERVISOR, give_certificate, make_holder, make_offer, make_series

PASSWORD = "browser-Tests-passphrase-1"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    """Chromium for one test (starting it takes a fraction of a second).

    Playwright's sync API keeps an asyncio loop running in this thread while it is started,
    and Django then refuses the test's own ORM calls as "async-unsafe". Those are plain
    synchronous calls between browser steps, so the check is lifted for exactly as long
    as Playwright runs (monkeypatch restores it after this fixture, before the database
    is flushed).
    """
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"The browser tests drive {CHROMIUM}: `make test` installs Debian's chromium.")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
            headless=True,
        )
        yield browser
        browser.close()
        # ORM calls made while Playwright's loop runs open their own connection (Django keeps
        # connections per asyncio context); close it, or it keeps the test database in use.
        connections.close_all()


@pytest.fixture
def fast_passwords(settings: Any) -> None:
    # Sign-in goes through the real form (and django-axes); a fast hasher keeps it quick.
    # The live server runs in this process, so it sees the same setting.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Browse:
    """Opens pages of the live server, one browser context (one set of cookies) a person."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[Any] = []

    def new_page(self) -> Page:
        context = self.browser.new_context(
            base_url=self.base_url, viewport={"width": 1100, "height": 900}
        )
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        return context.new_page()

    def signed_in(self, username: str, *, path: str = "/accounts/login/") -> Page:
        page = self.new_page()
        page.goto(path)
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in" if "admin" not in path else "Log in").click()
        page.wait_for_load_state()
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browse(browser: Browser, live_server: Any, fast_passwords: None) -> Iterator[Browse]:
    b = Browse(browser, live_server.url)
    yield b
    b.close()


@dataclass
class LiveOffer:
    """An offer open now (the real clock), as the portal's users meet it."""

    offer: ExchangeOffer
    series: NoteSeries
    ardsley: Holder
    chen: Holder
    empire: Holder


def user_for(holder: Holder, username: str) -> AbstractBaseUser:
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    holder.user = user
    holder.save(update_fields=["user"])
    return user


def build_live_offer(days_left: int = 14) -> LiveOffer:
    now = timezone.now()
    expiration = calendars.ny_instant(
        calendars.ny_date(now) + dt.timedelta(days=days_left), dt.time(17, 0)
    )
    offer = make_offer(slug="portal-live", expiration=expiration)
    series = make_series(offer, "2008-senior", name="11% Senior Notes due 2008")
    ardsley = make_holder(name="Ardsley Pension Trust")
    chen = make_holder(name="Margaret Chen")
    empire = make_holder(HolderKind.ELIGIBLE_GUARANTOR, name="Empire Trust Company")
    give_certificate(ardsley, series, "R08-0001", "5000000")
    give_certificate(ardsley, series, "R08-0002", "1000000")
    give_certificate(chen, series, "R08-0003", "250000")
    for holder, username in ((ardsley, "ardsley"), (chen, "mchen"), (empire, "empire")):
        user_for(holder, username)
    # Commenced (notice mailed) 40 days before it expires: open now, and long enough for
    # the 30-day and 20-business-day minimums counted from the mailing.
    mailed = calendars.ny_date(expiration) - dt.timedelta(days=40)
    commence_offer(
        offer.pk,
        actor=SUPERVISOR,
        now=calendars.ny_instant(mailed, dt.time(9, 0)),
        mailed_on=mailed,
    )
    offer.refresh_from_db()
    return LiveOffer(offer, series, ardsley, chen, empire)


@pytest.fixture
def live_offer(transactional_db: None) -> LiveOffer:
    return build_live_offer()


def fill_letter(
    page: Page, *, amount: str, certificates: str, tin: str | None = "123-45-6789"
) -> None:
    """The boxes of a plain letter signed by the registered holder."""
    page.get_by_label("Principal amount tendered").fill(amount)
    page.get_by_label("Certificates delivered").fill(certificates)
    fill_letter_boxes(page, tin=tin)


def fill_letter_boxes(page: Page, *, tin: str | None = "123-45-6789") -> None:
    page.get_by_label("Name of the person signing").fill("Ardsley Pension Trust")
    page.get_by_label("I have full power and authority").check()
    page.get_by_label("I am not an affiliate").check()
    page.get_by_label("I am not a broker-dealer that owns").check()
    page.get_by_label("I am acquiring the new notes").check()
    page.get_by_label("I have no arrangement").check()
    if tin:
        page.get_by_label("Taxpayer identification number (TIN)").fill(tin)
        page.get_by_label("Under penalties of perjury").check()
    page.get_by_label("I sign this letter of transmittal").check()


__all__ = ["expect"]
