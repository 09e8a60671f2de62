"""What a portal page costs in queries: the pages a deadline rush hits are held to their
count (bench/deadline_rush.py measures their CPU; a query more is the first sign of more)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.holders.conftest import Cast, letter_data

pytestmark = pytest.mark.django_db

LETTER = reverse("portal:tender_form", args=["level3-2000", "2008-senior"])


def test_the_login_and_its_holder_are_read_in_one_query(cast: Cast, during: dt.datetime) -> None:
    client = cast.client(cast.ardsley)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("portal:prospectus")).status_code == 200
    sql = [q["sql"] for q in captured.captured_queries]
    assert any('FROM "auth_user" LEFT OUTER JOIN "holders_holder"' in q for q in sql), sql
    assert not any(q.startswith('SELECT "holders_holder"') for q in sql), sql


def test_the_letter_page_and_its_submission_keep_their_query_counts(
    cast: Cast, during: dt.datetime
) -> None:
    client = cast.client(cast.ardsley)
    client.get(LETTER)  # the session's first stamp is written once
    with CaptureQueriesContext(connection) as page:
        assert client.get(LETTER).status_code == 200
    with CaptureQueriesContext(connection) as submission:
        assert client.post(LETTER, letter_data()).status_code == 302
    # Session, login with holder, series with offer, position (3), guarantors' list.
    assert len(page) == 7, [q["sql"][:80] for q in page.captured_queries]
    assert len(submission) <= 26, [q["sql"][:80] for q in submission.captured_queries]
