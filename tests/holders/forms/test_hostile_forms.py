"""Property-based hostile input to every portal form (Hypothesis): whatever arrives in
whichever box, the answer is the form again with a message (200), a refusal page, or, for
a letter that really is in order, the receipt; never a server error, and nothing is
recorded unless the submission was accepted. An oversized body is refused with 400."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange.models import GuaranteedDelivery, Tender, WithdrawalNotice
from tests.factories import legacy_w9_deficiency, paper_tender
from tests.holders.conftest import Cast, book_entry_data, counts, letter_data
from tests.holders.views.test_gd_views import FORM as GD_FORM
from tests.holders.views.test_gd_views import notice_data as gd_data
from tests.holders.views.test_tender_views import form_url
from tests.holders.views.test_withdrawal_views import notice_data as withdrawal_data
from tests.holders.views.test_withdrawal_views import withdraw_url

pytestmark = pytest.mark.django_db

ANYTHING = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "-1,000",
            "1,000.50",
            "1e6",
            "0x3E8",
            "１０００",
            "9" * 40,
            "1,000,000,000,000,000,000",
            "NaN",
            "Infinity",
            "R08-0001 1,000\nR08-0001 1,000",
            "R08-0003 250,000",  # another holder's certificate
            "<script>alert(1)</script>",
            "Robert'); DROP TABLE exchange_tender;--",
            "\x00\x01\x1b[2J",
            "\u202eevil",
            "",
        ]
    ),
)
RELAXED = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _submit(client: Client, url: str, data: dict[str, str]) -> tuple[int, bool]:
    before = counts()
    response = client.post(url, data)
    assert response.status_code in (200, 302, 400, 404), response.status_code
    accepted = response.status_code == 302
    if not accepted:
        assert counts() == before, data
    return response.status_code, accepted


def _with(base: dict[str, str], box: str, value: str) -> dict[str, str]:
    data = dict(base)
    data[box] = value
    return data


@RELAXED
@given(box=st.sampled_from(sorted(letter_data())), value=ANYTHING)
def test_letter_of_transmittal(cast: Cast, during: dt.datetime, box: str, value: str) -> None:
    _submit(cast.client(cast.ardsley), form_url(), _with(letter_data(), box, value))


@RELAXED
@given(box=st.sampled_from(sorted(book_entry_data())), value=ANYTHING)
def test_book_entry_letter(cast: Cast, during: dt.datetime, box: str, value: str) -> None:
    _submit(cast.client(cast.bayside), form_url(), _with(book_entry_data(), box, value))


@RELAXED
@given(box=st.sampled_from(sorted(withdrawal_data())), value=ANYTHING)
def test_notice_of_withdrawal(cast: Cast, during: dt.datetime, box: str, value: str) -> None:
    tender = Tender.objects.filter(
        holder=cast.seed.registered, state="received"
    ).first() or paper_tender(cast.seed, during - dt.timedelta(days=1))
    _status, accepted = _submit(
        cast.client(cast.ardsley), withdraw_url(tender), _with(withdrawal_data(), box, value)
    )
    if not accepted:
        assert not WithdrawalNotice.objects.filter(tender=tender, state="effective").exists()


@RELAXED
@given(
    box=st.sampled_from(
        [
            "tendering_holder_address",
            "registered_names",
            "amount",
            "certificate_numbers",
            "executed_on",
            "tendering_holder",
        ]
    ),
    value=ANYTHING,
)
def test_notice_of_guaranteed_delivery(
    cast: Cast, during: dt.datetime, box: str, value: str
) -> None:
    before = GuaranteedDelivery.objects.count()
    _, accepted = _submit(cast.client(cast.empire), GD_FORM, _with(gd_data(cast), box, value))
    assert GuaranteedDelivery.objects.count() == before + int(accepted)


@RELAXED
@given(box=st.sampled_from(["w9_certified", "tin", "w9_exempt_payee"]), value=ANYTHING)
def test_cure_form(cast: Cast, during: dt.datetime, box: str, value: str) -> None:
    tender = Tender.objects.filter(holder=cast.seed.registered, state="deficient").first()
    if tender is None:  # the last example cured it: a new small letter with the same defect
        tender = paper_tender(
            cast.seed,
            during - dt.timedelta(days=1),
            certificates=(("R08-0001", "1000"),),
            w9_certified=False,
            w9_tin_last4="",
        )
        legacy_w9_deficiency(tender.pk, during, "Certify.")
    deficiency = tender.deficiencies.get()
    data: dict[str, Any] = {"tin": "123-45-6789", "w9_certified": "on", box: value}
    client = cast.client(cast.ardsley)
    before = counts()
    response = client.post(f"/tenders/{tender.reference}/deficiencies/{deficiency.pk}/cure/", data)
    assert response.status_code in (200, 302), response.status_code
    if response.status_code != 302:
        assert counts() == before


def test_an_oversized_body_is_refused_and_records_nothing(cast: Cast, during: dt.datetime) -> None:
    before = counts()
    huge = letter_data(registered_names="A" * 3_000_000)  # past DATA_UPLOAD_MAX_MEMORY_SIZE
    response = cast.client(cast.ardsley).post(form_url(), huge)
    assert response.status_code == 400
    assert counts() == before
