"""Notices of guaranteed delivery from an eligible guarantor institution: the deadline
shown and tracked, the delivery that completes one, the lapse of another; the guarantor
never learns a holder's position."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from exchange.jobs.runner import run_due_jobs
from exchange.models import GuaranteedDelivery, GuaranteedDeliveryState, Tender, TenderState
from tests.factories import ny
from tests.holders.conftest import Cast, counts, letter_data

pytestmark = pytest.mark.django_db

FORM = reverse("portal:gd_form", args=["level3-2000", "2008-senior"])
# Executed Monday 2000-06-26: NYSE trading days after it are Tue 27, Wed 28, Thu 29.
DEADLINE = ny(2000, 6, 30, 0, 0)


def notice_data(cast: Cast, **overrides: Any) -> dict[str, str]:
    data = {
        "tendering_holder": "Ardsley Pension Trust",
        "tendering_holder_address": "1 Ardsley Plaza\nArdsley, NY 10502",
        "registered_names": "Ardsley Pension Trust",
        "amount": "1,000,000",
        "certificate_numbers": "R08-0002",
        "executed_on": "2000-06-26",
        "states_tender": "on",
        "guarantee": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_form_shows_the_deadline_and_defaults_to_today(cast: Cast, during: dt.datetime) -> None:
    html = cast.client(cast.empire).get(FORM).content.decode()
    assert "the end of Thursday, June 29, 2000 (midnight, New York City time)" in html
    assert 'value="2000-06-26"' in html
    # Rule changed on purpose: the guarantor types the holder's name as on the paper
    # notice; the page lists no one of the register and none of their holdings.
    assert "Ardsley Pension Trust" not in html and "Margaret Chen" not in html
    assert "Bayside" not in html
    assert "R08-0001" not in html


def test_a_notice_is_received_with_its_deadline(cast: Cast, during: dt.datetime) -> None:
    response = cast.client(cast.empire).post(FORM, notice_data(cast))
    gd = GuaranteedDelivery.objects.get()
    assert response["Location"] == reverse("portal:guaranteed_delivery", args=[gd.reference])
    assert gd.guarantor == cast.seed.guarantor
    assert gd.tender.holder == cast.seed.registered
    assert gd.tender.state == TenderState.PENDING_DELIVERY
    assert gd.deadline_at == DEADLINE
    assert gd.received_at == during
    page = cast.client(cast.empire).get(response["Location"]).content.decode()
    assert "the end of Thursday, June 29, 2000 (midnight, New York City time)" in page
    assert 'data-countdown="309600"' in page  # 3 days 14 hours
    # The tendering holder sees it too, from its own login.
    assert cast.client(cast.ardsley).get(response["Location"]).status_code == 200


def test_the_amount_is_checked_without_showing_the_position(
    cast: Cast, during: dt.datetime
) -> None:
    before = counts()
    response = cast.client(cast.empire).post(FORM, notice_data(cast, amount="9,000,000"))
    assert counts() == before
    html = response.content.decode()
    assert "could not record this notice as given" in html
    assert "$6,000,000.00" not in html  # what Ardsley holds stays unknown to the guarantor
    # The refusal is word for word the one for a name nobody on the register bears, and
    # for a participant's name (only registered holders tender under a notice).
    for name in ("Nobody Of That Name", "Bayside Securities LLC"):
        other = cast.client(cast.empire).post(FORM, notice_data(cast, tendering_holder=name))
        assert _errors(other.content.decode()) == _errors(html)
    assert counts() == before


def _errors(html: str) -> list[str]:
    import re

    return sorted(set(re.findall(r"<li>([^<]*could not record[^<]*)</li>", html)))


def test_the_notice_is_matched_to_the_holder_named(cast: Cast, during: dt.datetime) -> None:
    # Case, spacing and punctuation as a person types them.
    cast.client(cast.empire).post(
        FORM,
        notice_data(
            cast,
            tendering_holder="margaret  chen.",
            registered_names="Margaret Chen",
            amount="250,000",
            certificate_numbers="",
        ),
    )
    gd = GuaranteedDelivery.objects.get()
    assert gd.tender.holder == cast.seed.second_registered


def test_a_future_execution_date_records_nothing(cast: Cast, during: dt.datetime) -> None:
    before = counts()
    response = cast.client(cast.empire).post(FORM, notice_data(cast, executed_on="2000-06-27"))
    assert counts() == before
    assert 'id="id_executed_on_error"' in response.content.decode()


def test_after_expiration_the_notice_form_is_closed(cast: Cast) -> None:
    with time_machine.travel(ny(2000, 7, 12, 17, 0, 1), tick=False):
        before = counts()
        response = cast.client(cast.empire).post(FORM, notice_data(cast, executed_on="2000-07-12"))
    assert "The exchange offer expired" in response.content.decode()
    assert counts() == before


def deliver_data(**overrides: Any) -> dict[str, str]:
    return letter_data(**{"certificates": "R08-0002 1,000,000", **overrides})


def test_the_guarantor_completes_the_delivery_in_time(cast: Cast, during: dt.datetime) -> None:
    client = cast.client(cast.empire)
    client.post(FORM, notice_data(cast))
    gd = GuaranteedDelivery.objects.get()
    url = reverse("portal:gd_deliver", args=[gd.reference])
    page = client.get(url).content.decode()
    assert "Certificates registered to" not in page  # no holdings table for the guarantor
    with time_machine.travel(DEADLINE - dt.timedelta(seconds=1), tick=False):
        client = cast.client(cast.empire)  # days later: a new session (idle ones end)
        response = client.post(url, deliver_data())
    assert response.status_code == 302
    gd.refresh_from_db()
    assert gd.state == GuaranteedDeliveryState.FULFILLED
    assert gd.fulfilled_at == DEADLINE - dt.timedelta(seconds=1)
    tender = Tender.objects.get()
    assert tender.state == TenderState.RECEIVED
    assert tender.signed and tender.w9_tin_last4 == "6789"
    assert [c.certificate_number for c in tender.certificates.all()] == ["R08-0002"]
    assert (
        "completed in time"
        in client.get(reverse("portal:guaranteed_delivery", args=[gd.reference])).content.decode()
    )


def test_the_holder_may_deliver_with_its_certificates_shown(
    cast: Cast, during: dt.datetime
) -> None:
    cast.client(cast.empire).post(FORM, notice_data(cast))
    gd = GuaranteedDelivery.objects.get()
    client = cast.client(cast.ardsley)
    url = reverse("portal:gd_deliver", args=[gd.reference])
    assert "Certificates registered to Ardsley" in client.get(url).content.decode()
    assert client.post(url, letter_data(certificates="R08-0002")).status_code == 302
    gd.refresh_from_db()
    assert gd.state == GuaranteedDeliveryState.FULFILLED


def test_a_delivery_the_service_refuses_keeps_the_position_hidden(
    cast: Cast, during: dt.datetime
) -> None:
    client = cast.client(cast.empire)
    client.post(FORM, notice_data(cast, amount="2,000,000"))
    gd = GuaranteedDelivery.objects.get()
    response = client.post(
        reverse("portal:gd_deliver", args=[gd.reference]),
        deliver_data(certificates="R08-0002 2,000,000"),
    )
    html = response.content.decode()
    # The form refuses it before the service is asked (every error at once), in words
    # that tell the guarantor to check with the holder and keep the holder's position out.
    assert "does not have the amount given free to tender: check it with the holder" in html
    assert "$1,000,000.00" not in html
    gd.refresh_from_db()
    assert gd.state == GuaranteedDeliveryState.RECEIVED


def test_at_the_deadline_delivery_is_refused_and_the_notice_lapses(
    cast: Cast, during: dt.datetime
) -> None:
    client = cast.client(cast.empire)
    client.post(FORM, notice_data(cast))
    gd = GuaranteedDelivery.objects.get()
    url = reverse("portal:gd_deliver", args=[gd.reference])
    with time_machine.travel(DEADLINE, tick=False):
        client = cast.client(cast.empire)  # days later: a new session (idle ones end)
        before = counts()
        response = client.post(url, deliver_data())
        assert "a late delivery needs the issuer&#x27;s waiver" in response.content.decode()
        assert counts() == before
    run_due_jobs(DEADLINE)
    gd.refresh_from_db()
    assert gd.state == GuaranteedDeliveryState.LAPSED
    assert Tender.objects.get().state == TenderState.REJECTED
    with time_machine.travel(DEADLINE + dt.timedelta(hours=1), tick=False):
        client = cast.client(cast.empire)
        page = client.get(
            reverse("portal:guaranteed_delivery", args=[gd.reference])
        ).content.decode()
        assert "Lapsed" in page and "tender" in page
        assert "The guaranteed delivery lapsed" in page  # the history, in words
        assert "data-countdown" not in page
