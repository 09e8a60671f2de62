"""The guarantor's own login gives the medallion guarantee; the holder's letter form checks
who signs; the desk records a stamp from the paper through its button."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from exchange.models import GuaranteeSource, SignatureGuarantee, TenderState
from tests.factories import paper_tender, staff_user
from tests.holders.conftest import Cast, letter_data

pytestmark = pytest.mark.django_db

URL = "/signature-guarantees/"


def _letter_naming_the_guarantor(cast: Cast, now: dt.datetime):  # type: ignore[no-untyped-def]
    return paper_tender(
        cast.seed,
        now,
        special_delivery_name="Custodian Bank",
        special_delivery_address="2 Main Street",
        medallion_guarantor=cast.seed.guarantor,
    )


def test_the_guarantor_sees_what_names_it_and_confirms_it(cast: Cast, during: dt.datetime) -> None:
    tender = _letter_naming_the_guarantor(cast, during)
    client = cast.client(cast.empire)
    page = client.get(URL).content.decode()
    assert tender.reference in page and "Ardsley Pension Trust" in page
    assert "Signature guarantees" in client.get(reverse("portal:notices")).content.decode()
    token = re.search(r'name="page_token" value="([0-9a-f-]{36})"', page).group(1)  # type: ignore[union-attr]
    response = client.post(
        URL,
        {
            "reference": tender.reference.lower(),
            "signer_name": "ardsley pension trust",
            "registered_holder_name": "Ardsley Pension Trust",
            "confirm": "on",
            "page_token": token,
        },
        follow=True,
    )
    assert "Your guarantee of the signature on" in response.content.decode()
    guarantee = SignatureGuarantee.objects.get(tender=tender)
    assert guarantee.source == GuaranteeSource.GUARANTOR_LOGIN
    assert guarantee.recorded_by == cast.empire
    # Sent again (the same page): still one guarantee.
    client.post(
        URL,
        {
            "reference": tender.reference,
            "signer_name": "Ardsley Pension Trust",
            "registered_holder_name": "Ardsley Pension Trust",
            "confirm": "on",
            "page_token": token,
        },
    )
    assert SignatureGuarantee.objects.count() == 1
    assert tender.reference not in client.get(URL).content.decode().split("Guarantee a")[0]


def test_a_wrong_name_is_refused_without_revealing_the_letter(
    cast: Cast, during: dt.datetime
) -> None:
    tender = _letter_naming_the_guarantor(cast, during)
    client = cast.client(cast.empire)
    page = client.post(
        URL,
        {
            "reference": tender.reference,
            "signer_name": "Someone Else",
            "registered_holder_name": "Ardsley Pension Trust",
            "confirm": "on",
        },
    ).content.decode()
    assert "No letter of transmittal or notice of withdrawal with reference" in page
    assert not SignatureGuarantee.objects.exists()


def test_a_holder_has_no_guarantee_page(cast: Cast, during: dt.datetime) -> None:
    tender = _letter_naming_the_guarantor(cast, during)
    client = cast.client(cast.ardsley)
    assert client.get(URL).status_code == 404
    response = client.post(
        URL,
        {
            "reference": tender.reference,
            "signer_name": "Ardsley Pension Trust",
            "registered_holder_name": "Ardsley Pension Trust",
            "confirm": "on",
        },
    )
    assert response.status_code == 404
    assert not SignatureGuarantee.objects.exists()


# --- the holder's letter form ---------------------------------------------------------------


def _post_letter(client: Client, **overrides: str) -> str:
    url = reverse("portal:tender_form", args=["level3-2000", "2008-senior"])
    return client.post(url, letter_data(**overrides)).content.decode()


def test_the_letter_form_refuses_a_stranger_signing_as_the_registered_holder(
    cast: Cast, during: dt.datetime
) -> None:
    page = _post_letter(cast.client(cast.ardsley), signer_name="John Q. Stranger")
    assert "The notes are registered to Ardsley Pension Trust" in page
    from exchange.models import Tender

    assert not Tender.objects.exists()


def test_the_letter_form_asks_a_representative_for_its_evidence(
    cast: Cast, during: dt.datetime
) -> None:
    page = _post_letter(
        cast.client(cast.ardsley), signer_name="J. Q. Trustee", signer_capacity="trustee"
    )
    assert "say what evidence of your authority" in page
    from exchange.models import Tender

    assert not Tender.objects.exists()


# --- the desk records a stamp --------------------------------------------------------------


def test_the_desk_records_the_stamp_through_its_button(cast: Cast, during: dt.datetime) -> None:
    tender = _letter_naming_the_guarantor(cast, during)
    client = Client()
    client.force_login(staff_user("clara", "Clerks"))
    url = reverse("admin:exchange_tender_transition", args=[tender.pk, "record_stamp"])
    assert client.get(url).status_code == 200
    client.post(url, {"institution": "First Example Bank", "program": "STAMP", "stamp_number": ""})
    assert not SignatureGuarantee.objects.exists()  # the number is required
    client.post(
        url, {"institution": "First Example Bank", "program": "STAMP", "stamp_number": "S7654321"}
    )
    guarantee = SignatureGuarantee.objects.get(tender=tender)
    assert (guarantee.source, guarantee.recorded_by_label) == (GuaranteeSource.PAPER_STAMP, "clara")
    page = client.get(reverse("admin:exchange_tender_change", args=[tender.pk])).content.decode()
    assert "S7654321" in page
    tender.refresh_from_db()
    assert tender.state == TenderState.RECEIVED  # recorded; the clerk still decides validity


def test_the_review_queue_suggests_the_guarantee_until_it_is_recorded(
    cast: Cast, during: dt.datetime
) -> None:
    from tests.factories import guarantee_letter

    tender = _letter_naming_the_guarantor(cast, during)
    client = Client()
    client.force_login(staff_user("clara", "Clerks"))
    queue = reverse("admin:exchange_tenderawaitingreview_changelist")
    assert "Medallion signature guarantee required" in client.get(queue).content.decode()
    guarantee_letter(cast.seed, tender, during)
    assert "Medallion signature guarantee required" not in client.get(queue).content.decode()
