"""Errors people understand: a 403 that says what the role may not do and whom to ask, 403
and 404 logged once at INFO without a traceback, and a 500 page that says nothing was
recorded only when that is certain."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from exchange.models import Tender
from tests.factories import SeedOffer, staff_user
from tests.holders.conftest import DURING, Cast, cast, letter_data
from tests.holders.views.test_tender_views import post_letter

__all__ = ["cast"]

pytestmark = pytest.mark.django_db


def _records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(("django", "exchange"))]


def test_a_clerk_is_told_what_the_role_may_not_do_and_whom_to_ask(
    seed: SeedOffer, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client()
    client.force_login(staff_user("clara", "Clerks"))
    terminate = reverse(
        "admin:exchange_exchangeoffer_transition", args=[seed.offer.pk, "terminate"]
    )
    with caplog.at_level(logging.DEBUG):
        response = client.post(terminate, {"reason": "A material adverse change."})
    assert response.status_code == 403
    page = response.content.decode()
    assert "Not allowed for your role" in page
    assert "(clerk)" in page
    assert "only a supervisor may record it. Ask a supervisor of the desk" in page
    records = _records(caplog)
    assert [(r.levelno, r.getMessage().split(" ")[0]) for r in records] == [
        (logging.INFO, "Forbidden")
    ]
    assert all(r.exc_info is None for r in caplog.records)


def test_a_missing_document_is_logged_once_at_info(
    cast: Cast, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        response = cast.client(cast.ardsley).get(
            reverse("portal:tender_status", args=["LT-NONE-NONE"])
        )
    assert response.status_code == 404
    assert "There is no such page or document" in response.content.decode()
    records = _records(caplog)
    assert [(r.levelno, r.getMessage().split(" ")[0]) for r in records] == [(logging.INFO, "Not")]
    assert all(r.exc_info is None for r in caplog.records)


def test_a_failed_page_that_only_reads_says_nothing_was_recorded(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr("holders.selectors.notices_sent", broken)
    client = cast.client(cast.ardsley)
    client.raise_request_exception = False
    response = client.get(reverse("portal:notices"))
    assert response.status_code == 500
    assert "nothing was recorded" in response.content.decode()


def test_a_failed_submission_never_claims_nothing_was_recorded(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fault comes after the tender is recorded: the page must not say "nothing".
    def broken(request: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a fault after the commit")

    monkeypatch.setattr("holders.views.letter.redirect", broken)
    client = cast.client(cast.ardsley)
    client.raise_request_exception = False
    with time_machine.travel(DURING, tick=False):
        response = post_letter(client, letter_data())
    assert response.status_code == 500
    page = response.content.decode()
    assert Tender.objects.count() == 1
    assert "nothing was recorded" not in page
    assert "may have been recorded" in page
