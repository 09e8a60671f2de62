"""A refused form reports every error of the submission at once: a holder is not sent
back a second time for what the first refusal could already have said."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from exchange.models import Tender
from tests.holders.conftest import Cast, book_entry_data, letter_data

pytestmark = pytest.mark.django_db

FORM = reverse("portal:tender_form", args=["level3-2000", "2008-senior"])


def summary_items(html: str) -> list[str]:
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    return re.findall(r"<li>(.*?)</li>", summary, re.S)


def test_the_acknowledgment_and_more_than_held_in_one_refusal(
    cast: Cast, during: dt.datetime
) -> None:
    response = cast.client(cast.ardsley).post(
        FORM,
        letter_data(
            amount="9,000,000",
            certificates="R08-0001 5,000,000\nR08-0002 3,000,000\nR08-0009",
            is_broker_dealer="on",
        ),
    )
    html = response.content.decode()
    assert response.status_code == 200
    items = summary_items(html)
    text = " ".join(items)
    assert "acknowledge that it will deliver a prospectus" in text
    assert "can tender at most $6,000,000.00" in text and "$9,000,000.00 was given" in text
    # Each wrong certificate line, not only the first.
    assert "R08-0002: $1,000,000.00 of it is not already tendered" in html
    assert "R08-0009 is not registered" in html
    # The summary takes the keyboard focus when the page loads.
    assert "data-error-summary" in html and "autofocus" in html
    assert not Tender.objects.exists()


def test_a_participant_told_more_than_held_with_its_other_errors(
    cast: Cast, during: dt.datetime
) -> None:
    response = cast.client(cast.bayside).post(
        FORM, book_entry_data(amount="999,000,000", signed=None)
    )
    text = " ".join(summary_items(response.content.decode()))
    assert "can tender at most" in text
    assert len(summary_items(response.content.decode())) >= 2
    assert not Tender.objects.exists()
