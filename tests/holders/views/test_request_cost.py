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
    # Session, login with holder, series with offer, position, guarantors' list.
    assert len(page) == 5, [q["sql"][:80] for q in page.captured_queries]
    assert len(submission) <= 26, [q["sql"][:80] for q in submission.captured_queries]


def test_the_letters_position_is_the_offers_position_for_that_series(
    cast: Cast, during: dt.datetime
) -> None:
    """position_in (one statement, for the letter) and positions (the offer page's) agree:
    certificates tendered in part and whole, a withdrawal, another series untouched."""
    from exchange.services.withdrawals import NoticeOfWithdrawal, receive_withdrawal
    from holders import selectors
    from tests.factories import CLERK, paper_tender

    seed = cast.seed
    paper_tender(seed, during, certificates=(("R08-0001", "2000000"),))
    whole = paper_tender(seed, during, certificates=(("R08-0002", "1000000"),))
    receive_withdrawal(
        whole.pk,
        notice=NoticeOfWithdrawal(
            tendering_person_name="Ardsley Pension Trust",
            certificate_numbers="R08-0002",
            amount=whole.amount / 2,
            states_withdrawal=True,
            registered_holder_name="Ardsley Pension Trust",
            signed_as_letter=True,
        ),
        actor=CLERK,
        now=during,
    )
    on = during.date()
    for holder in (seed.registered, seed.second_registered, seed.participant):
        for series in seed.all_series:
            expected = next(
                p for p in selectors.positions(holder, seed.offer, on) if p.series == series
            )
            got = selectors.position_in(holder, series, on)
            assert (got.held, got.tendered) == (expected.held, expected.tendered)
            assert [h.pk for h in got.holdings] == [h.pk for h in expected.holdings]
            assert [(c.holding.pk, c.tendered, c.free) for c in got.certificates] == [
                (c.holding.pk, c.tendered, c.free) for c in expected.certificates
            ]
