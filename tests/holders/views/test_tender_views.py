"""The letter of transmittal through the portal: what is recorded, for whom, when; what a
refusal says and that it records nothing; the offer page and the receipt."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from exchange.models import Channel, StateChange, Tender, TenderState
from exchange.services.offers import expire_offer, terminate_offer
from tests.factories import JOB, SUPERVISOR, build_seed_offer, deliver_outbox, ny, paper_tender
from tests.holders.conftest import (
    EXPIRATION,
    Cast,
    book_entry_data,
    counts,
    letter_data,
    login_for,
)

pytestmark = pytest.mark.django_db

ONE_SECOND = dt.timedelta(seconds=1)


def form_url(series_slug: str = "2008-senior") -> str:
    return reverse("portal:tender_form", args=["level3-2000", series_slug])


def post_letter(client: Client, data: dict[str, str], series_slug: str = "2008-senior") -> object:
    return client.post(form_url(series_slug), data)


def test_offer_page_shows_expiration_countdown_holdings_and_links(
    cast: Cast, during: dt.datetime
) -> None:
    paper_tender(cast.seed, ny(2000, 6, 20, 10), certificates=(("R08-0001", "2000000"),))
    client = cast.client(cast.ardsley)
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("portal:offer", args=["level3-2000"])
    html = response.content.decode()
    assert "5:00 p.m. New York City time, Wednesday, July 12, 2000" in html
    # The countdown: server-computed, readable without JavaScript; the script only ticks it.
    assert 'data-countdown="1407600"' in html  # 16 days 7 hours to 17:00 on July 12
    assert "16 days, 7 hours" in html
    assert "R08-0001" in html and "$5,000,000.00" in html
    assert "$2,000,000.00" in html  # tendered and not withdrawn
    assert "$4,000,000.00" in html  # free to tender of the 2008 notes
    assert reverse("portal:prospectus") + "#how-to-tender" in html
    assert form_url() in html


def test_a_holder_tenders_and_gets_a_receipt(
    cast: Cast, during: dt.datetime, django_capture_on_commit_callbacks: Any
) -> None:
    client = cast.client(cast.ardsley)
    assert client.get(form_url()).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = post_letter(client, letter_data())
    tender = Tender.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:tender_receipt", args=[tender.reference])
    assert tender.holder == cast.seed.registered
    assert tender.submitted_by == cast.ardsley
    assert tender.received_at == during  # the server's clock
    assert tender.state == TenderState.RECEIVED
    assert tender.channel == Channel.PAPER_LETTER
    assert tender.amount == Decimal("1000000.00")
    assert [c.certificate_number for c in tender.certificates.all()] == ["R08-0002"]
    assert tender.w9_tin_last4 == "6789" and tender.w9_certified
    change = StateChange.objects.get(object_id=tender.pk, action="exchange.tender.received")
    assert change.actor_kind == "holder" and change.actor_user == cast.ardsley
    receipt = client.get(response["Location"]).content.decode()
    assert tender.reference in receipt
    assert "10:00:00 a.m. EDT (New York City time), Monday, June 26, 2000" in receipt
    assert "TIN ending 6789 certified" in receipt
    assert "@media print" not in receipt  # the print rules live in the stylesheet
    # The service e-mails the receipt; the portal does not send a second one.
    deliver_outbox()
    assert len(mail.outbox) == 1 and tender.reference in mail.outbox[0].subject


def test_the_full_tin_is_stored_nowhere(cast: Cast, during: dt.datetime) -> None:
    client = cast.client(cast.ardsley)
    post_letter(client, letter_data(tin="987-65-4321"))
    with connection.cursor() as cursor:
        for table in ("exchange_tender", "exchange_statechange", "django_session"):
            cursor.execute(f"SELECT * FROM {table}")
            dump = repr(cursor.fetchall())
            assert "987654321" not in dump and "987-65-4321" not in dump
    assert Tender.objects.get().w9_tin_last4 == "4321"


def test_the_owner_time_and_state_come_from_the_server(cast: Cast, during: dt.datetime) -> None:
    client = cast.client(cast.ardsley)
    data = letter_data(
        holder=str(cast.seed.second_registered.pk),
        holder_id=str(cast.seed.second_registered.pk),
        owner=str(cast.seed.second_registered.pk),
        received_at="2000-06-01 09:00",
        state="valid",
        channel="book_entry",
        withdrawn_amount="0",
    )
    post_letter(client, data)
    tender = Tender.objects.get()
    assert tender.holder == cast.seed.registered
    assert tender.received_at == during
    assert tender.state == TenderState.RECEIVED
    assert tender.channel == Channel.PAPER_LETTER


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"amount": "-1,000,000"}, "amount", "more than zero"),
        ({"amount": "1e6"}, "amount", "digits 0-9 only"),
        ({"amount": "1,000,000.50"}, "amount", "authorized denominations"),
        (
            {"certificates": "R08-0003 250,000", "amount": "250,000"},
            "certificates",
            "not registered to Ardsley",
        ),
        ({"signed": None}, "signed", "Sign the letter"),
        ({"tin": "12345"}, "tin", "9-digit TIN"),
    ],
)
def test_an_invalid_letter_records_nothing_and_says_why_next_to_the_box(
    cast: Cast, during: dt.datetime, overrides: dict[str, str | None], field: str, message: str
) -> None:
    client = cast.client(cast.ardsley)
    before = counts()
    response = post_letter(client, letter_data(**overrides))
    assert response.status_code == 200
    assert counts() == before
    html = response.content.decode()
    error = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', html, re.S)
    assert error is not None and message in error.group(1)
    # The input names its error, and is marked invalid.
    assert re.search(rf'<[^>]*id="id_{field}"[^>]*aria-invalid="true"', html) or re.search(
        rf'<[^>]*aria-invalid="true"[^>]*id="id_{field}"', html
    )
    assert f"id_{field}_error" in re.search(rf'<[^>]*id="id_{field}"[^>]*>', html).group(0)  # type: ignore[union-attr]
    assert "Nothing was recorded" in html


def test_the_services_refusal_is_shown_next_to_the_amount(cast: Cast, during: dt.datetime) -> None:
    """More than is free to tender: the service decides (under its lock) and names the box."""
    paper_tender(cast.seed, ny(2000, 6, 20, 10), certificates=(("R08-0001", "5000000"),))
    client = cast.client(cast.ardsley)
    before = counts()
    response = post_letter(client, letter_data(certificates="R08-0001 1,000,000"))
    assert counts() == before
    html = response.content.decode()
    assert re.search(r'id="id_certificates_error">.*already tendered', html, re.S)


def test_amount_above_the_holding(cast: Cast, during: dt.datetime) -> None:
    client = cast.client(cast.ardsley)
    response = post_letter(
        client,
        letter_data(amount="7,000,000", certificates="R08-0001 5,000,000\nR08-0002 2,000,000"),
    )
    html = response.content.decode()
    assert re.search(r'id="id_amount_error">.*can tender at most \$6,000,000\.00', html, re.S)
    assert Tender.objects.count() == 0


def test_a_nominee_tenders_by_book_entry(cast: Cast, during: dt.datetime) -> None:
    client = cast.client(cast.bayside)
    page = client.get(form_url()).content.decode()
    assert "id_book_entry_confirmation" in page and "id_certificates" not in page
    response = post_letter(client, book_entry_data())
    assert response.status_code == 302
    tender = Tender.objects.get()
    assert tender.holder == cast.seed.participant
    assert tender.channel == Channel.BOOK_ENTRY
    assert tender.dtc_participant_number == "0901"
    assert tender.book_entry_confirmation == "ATOP-000123"
    assert tender.is_broker_dealer and tender.broker_dealer_prospectus_acknowledged


def test_special_instructions_with_a_medallion_guarantee(cast: Cast, during: dt.datetime) -> None:
    client = cast.client(cast.ardsley)
    post_letter(
        client,
        letter_data(
            special_delivery_name="Custodian Bank",
            special_delivery_address="1 Custody Plaza\nNew York, NY",
            medallion_guarantor=str(cast.seed.guarantor.pk),
            medallion_program="STAMP",
        ),
    )
    tender = Tender.objects.get()
    assert tender.requires_medallion_guarantee
    assert tender.medallion_guarantor == cast.seed.guarantor
    assert tender.special_delivery_address == "1 Custody Plaza\nNew York, NY"


def test_csrf_is_required(cast: Cast, during: dt.datetime) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.ardsley)
    response = client.post(form_url(), letter_data())
    assert response.status_code == 403
    assert Tender.objects.count() == 0
    page = client.get(form_url()).content.decode()
    assert 'name="csrfmiddlewaretoken"' in page


def test_every_input_has_a_label(cast: Cast, during: dt.datetime) -> None:
    html = cast.client(cast.ardsley).get(form_url()).content.decode()
    inputs = re.findall(r'<(?:input|select|textarea)[^>]*\bid="(id_[a-z0-9_]+)"', html)
    assert len(inputs) > 20
    for input_id in inputs:
        assert f'<label for="{input_id}"' in html, input_id
    assert 'aria-describedby="id_amount_helptext"' in html
    assert "novalidate" in html  # the server's messages, next to the boxes, for everyone


# --- closed offers ---------------------------------------------------------------------------------


def _assert_closed(client: Client, message: str) -> None:
    page = client.get(form_url())
    assert message in page.content.decode()
    assert "id_amount" not in page.content.decode()
    before = counts()
    response = client.post(form_url(), letter_data())
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "Nothing was recorded" in response.content.decode()
    assert counts() == before


def test_at_the_expiration_instant_a_letter_is_still_received(cast: Cast) -> None:
    with time_machine.travel(EXPIRATION, tick=False):
        response = post_letter(cast.client(cast.ardsley), letter_data())
    assert response.status_code == 302
    assert Tender.objects.get().received_at == EXPIRATION


def test_a_second_after_expiration_nothing_is_recorded(cast: Cast) -> None:
    with time_machine.travel(EXPIRATION + ONE_SECOND, tick=False):
        _assert_closed(cast.client(cast.ardsley), "The exchange offer expired at 5:00 p.m.")


def test_after_the_expiration_job_ran(cast: Cast) -> None:
    expire_offer(cast.seed.offer.pk, actor=JOB, now=EXPIRATION)
    with time_machine.travel(EXPIRATION + dt.timedelta(days=1), tick=False):
        _assert_closed(cast.client(cast.ardsley), "The exchange offer expired at 5:00 p.m.")


def test_after_termination(cast: Cast) -> None:
    terminate_offer(
        cast.seed.offer.pk, actor=SUPERVISOR, now=ny(2000, 6, 25, 9), reason="Injunction"
    )
    with time_machine.travel(ny(2000, 6, 26, 10), tick=False):
        _assert_closed(cast.client(cast.ardsley), "The issuer terminated the exchange offer")


def test_before_commencement(db: None) -> None:
    seed = build_seed_offer(commence=False)
    user = login_for(seed.registered, "ardsley")
    client = Client()
    client.force_login(user)
    with time_machine.travel(ny(2000, 6, 8, 10), tick=False):
        _assert_closed(client, "The exchange offer has not commenced")


def test_the_offer_page_says_the_offer_is_closed(cast: Cast) -> None:
    with time_machine.travel(EXPIRATION + ONE_SECOND, tick=False):
        html = (
            cast.client(cast.ardsley)
            .get(reverse("portal:offer", args=["level3-2000"]))
            .content.decode()
        )
    assert "nothing can be tendered now" in html
    assert form_url() not in html
    assert "data-countdown" not in html


def test_a_guarantor_has_no_letter_form(cast: Cast, during: dt.datetime) -> None:
    assert cast.client(cast.empire).get(form_url()).status_code == 404


def test_tender_again_after_withdrawing(cast: Cast, during: dt.datetime) -> None:
    client = cast.client(cast.ardsley)
    post_letter(client, letter_data())
    first = Tender.objects.get()
    response = client.post(
        reverse("portal:withdraw", args=[first.reference]),
        {
            "tendering_person_name": "Ardsley Pension Trust",
            "certificate_numbers": "R08-0002",
            "amount": "1,000,000",
            "states_withdrawal": "on",
            "registered_holder_name": "Ardsley Pension Trust",
            "signed_as_letter": "on",
        },
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.state == TenderState.WITHDRAWN
    assert post_letter(client, letter_data()).status_code == 302
    assert Tender.objects.filter(state=TenderState.RECEIVED).count() == 1
