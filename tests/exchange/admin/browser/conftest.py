"""The desk in a real browser: the portal's browser fixtures (Chromium, the live server)."""

from tests.holders.browser.conftest import browse, browser, fast_passwords  # noqa: F401
