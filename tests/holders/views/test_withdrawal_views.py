"""Notices of withdrawal through the portal: received strictly before the expiration instant,
decided at once, refused afterwards with a clear message and nothing recorded."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from exchange.models import NoteReturn, Tender, TenderState, WithdrawalNotice, WithdrawalState
from tests.factories import book_entry_tender, ny, paper_tender
from tests.holders.conftest import EXPIRATION, Cast, counts

pytestmark = pytest.mark.django_db

ONE_SECOND = dt.timedelta(seconds=1)


def notice_data(**overrides: Any) -> dict[str, str]:
    data = {
        "tendering_person_name": "Ardsley Pension Trust",
        "certificate_numbers": "R08-0001",
        "amount": "5,000,000",
        "states_withdrawal": "on",
        "registered_holder_name": "Ardsley Pension Trust",
        "signed_as_letter": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def withdraw_url(tender: Tender) -> str:
    return reverse("portal:withdraw", args=[tender.reference])


def test_the_form_starts_from_the_letter(cast: Cast, during: dt.datetime) -> None:
    tender = paper_tender(cast.seed, ny(2000, 6, 20, 10))
    html = cast.client(cast.ardsley).get(withdraw_url(tender)).content.decode()
    for element in ("(1)", "(2)", "(3)", "(4)", "(5)", "(6)"):
        assert element in html
    assert "R08-0001</textarea>" in html
    assert 'value="5,000,000"' in html


def test_a_complete_notice_takes_effect_at_once(cast: Cast, during: dt.datetime) -> None:
    tender = paper_tender(cast.seed, ny(2000, 6, 20, 10))
    response = cast.client(cast.ardsley).post(withdraw_url(tender), notice_data())
    notice = WithdrawalNotice.objects.get()
    assert response["Location"] == reverse("portal:withdrawal", args=[notice.reference])
    assert notice.state == WithdrawalState.EFFECTIVE
    assert notice.received_at == during
    assert notice.submitted_by == cast.ardsley
    tender.refresh_from_db()
    assert tender.state == TenderState.WITHDRAWN
    assert NoteReturn.objects.get().amount == Decimal("5000000")
    receipt = cast.client(cast.ardsley).get(response["Location"]).content.decode()
    assert notice.reference in receipt
    assert "10:00:00 a.m. EDT (New York City time), Monday, June 26, 2000" in receipt
    assert "The withdrawal took effect" in receipt
    assert "may tender notes again" in receipt


def test_part_of_a_tender(cast: Cast, during: dt.datetime) -> None:
    tender = paper_tender(cast.seed, ny(2000, 6, 20, 10))
    cast.client(cast.ardsley).post(withdraw_url(tender), notice_data(amount="2,000,000"))
    tender.refresh_from_db()
    assert tender.live_amount == Decimal("3000000")
    assert tender.state == TenderState.RECEIVED


def test_book_entry_needs_no_certificate_numbers(cast: Cast, during: dt.datetime) -> None:
    tender = book_entry_tender(cast.seed, ny(2000, 6, 20, 10))
    client = cast.client(cast.bayside)
    assert "id_certificate_numbers" not in client.get(withdraw_url(tender)).content.decode()
    client.post(
        withdraw_url(tender),
        notice_data(
            tendering_person_name="Bayside Securities LLC",
            certificate_numbers=None,
            amount="10,000,000",
            registered_holder_name="Cede & Co.",
        ),
    )
    notice = WithdrawalNotice.objects.get()
    assert notice.state == WithdrawalState.EFFECTIVE, notice.rejection_reason


def test_an_incomplete_notice_records_nothing(cast: Cast, during: dt.datetime) -> None:
    tender = paper_tender(cast.seed, ny(2000, 6, 20, 10))
    before = counts()
    response = cast.client(cast.ardsley).post(
        withdraw_url(tender), notice_data(states_withdrawal=None, signed_as_letter=None)
    )
    assert counts() == before
    html = response.content.decode()
    assert 'id="id_states_withdrawal_error"' in html
    assert 'id="id_signed_as_letter_error"' in html


def test_a_second_before_the_expiration_instant(cast: Cast) -> None:
    tender = paper_tender(cast.seed, ny(2000, 6, 20, 10))
    with time_machine.travel(EXPIRATION - ONE_SECOND, tick=False):
        cast.client(cast.ardsley).post(withdraw_url(tender), notice_data())
    assert WithdrawalNotice.objects.get().state == WithdrawalState.EFFECTIVE


@pytest.mark.parametrize("after", [dt.timedelta(0), ONE_SECOND, dt.timedelta(days=3)])
def test_at_or_after_the_expiration_instant_nothing_is_recorded(
    cast: Cast, after: dt.timedelta
) -> None:
    tender = paper_tender(cast.seed, ny(2000, 6, 20, 10))
    client = cast.client(cast.ardsley)
    with time_machine.travel(EXPIRATION + after, tick=False):
        page = client.get(withdraw_url(tender)).content.decode()
        before = counts()
        response = client.post(withdraw_url(tender), notice_data())
    message = "Withdrawal rights ended at 5:00 p.m. New York City time, Wednesday, July 12, 2000"
    assert message in page and "id_amount" not in page
    assert message in response.content.decode()
    assert counts() == before
    tender.refresh_from_db()
    assert tender.state == TenderState.RECEIVED


def test_a_notice_the_service_would_reject_is_returned_unrecorded(
    cast: Cast, during: dt.datetime
) -> None:
    """Names not as the letter gives them: the service's own element test, before anything
    is recorded (a rejected notice would otherwise stand in the record)."""
    tender = paper_tender(cast.seed, ny(2000, 6, 20, 10))
    before = counts()
    response = cast.client(cast.ardsley).post(
        withdraw_url(tender), notice_data(tendering_person_name="Somebody Else")
    )
    assert counts() == before
    assert 'id="id_tendering_person_name_error"' in response.content.decode()


def test_nothing_left_to_withdraw(cast: Cast, during: dt.datetime) -> None:
    tender = paper_tender(cast.seed, ny(2000, 6, 20, 10))
    client = cast.client(cast.ardsley)
    client.post(withdraw_url(tender), notice_data())
    before = counts()
    response = client.post(withdraw_url(tender), notice_data())
    assert "there is nothing to withdraw" in response.content.decode()
    assert counts() == before
