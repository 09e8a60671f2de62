"""Who sees what: a holder its own documents, a nominee those of its participant account, a
guarantor the notices it guaranteed. Every other document answers 404, like one that does
not exist; a login not linked to a holder sees nothing; no one signed in is sent to sign in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from exchange.models import (
    Channel,
    Deficiency,
    DeficiencyKind,
    GuaranteedDelivery,
    WithdrawalNotice,
)
from exchange.services.guaranteed_deliveries import (
    NoticeOfGuaranteedDelivery,
    receive_guaranteed_delivery,
)
from exchange.services.review import record_deficiencies
from exchange.services.tenders import LetterOfTransmittal, receive_tender
from exchange.services.withdrawals import NoticeOfWithdrawal, receive_withdrawal
from holders.models import HolderKind
from tests.factories import (
    CLERK,
    book_entry_tender,
    give_position,
    make_holder,
    ny,
    paper_tender,
    staff_user,
)
from tests.holders.conftest import Cast, login_for

pytestmark = pytest.mark.django_db

EARLIER = ny(2000, 6, 20, 10)


def documents(cast: Cast) -> dict[str, list[str]]:
    """One of each document, Ardsley's, and the URLs that show or act on them."""
    seed = cast.seed
    tender = paper_tender(seed, EARLIER, certificates=(("R08-0001", "5000000"),))
    [deficiency] = record_deficiencies(
        tender.pk,
        defects=[(DeficiencyKind.SIGNATURE, "Sign the letter.")],
        actor=CLERK,
        now=EARLIER,
    )
    notice = receive_withdrawal(
        tender.pk,
        notice=NoticeOfWithdrawal(
            tendering_person_name="Ardsley Pension Trust",
            certificate_numbers="R08-0001",
            amount=Decimal("1000000"),
            states_withdrawal=True,
            registered_holder_name="Ardsley Pension Trust",
            signed_as_letter=True,
        ),
        actor=CLERK,
        now=EARLIER,
    )
    gd = receive_guaranteed_delivery(
        offer_id=seed.offer.pk,
        series_id=seed.discount_2010.pk,
        holder_id=seed.registered.pk,
        guarantor_id=seed.guarantor.pk,
        notice=NoticeOfGuaranteedDelivery(
            tendering_holder_name="Ardsley Pension Trust",
            tendering_holder_address="1 Ardsley Plaza",
            registered_names="Ardsley Pension Trust",
            certificate_numbers="",
            amount=Decimal("1000000"),
            executed_on=dt.date(2000, 6, 23),
        ),
        actor=CLERK,
        now=ny(2000, 6, 23, 12),
    )
    return {
        "tender": [
            reverse("portal:tender_status", args=[tender.reference]),
            reverse("portal:tender_receipt", args=[tender.reference]),
            reverse("portal:withdraw", args=[tender.reference]),
            reverse("portal:cure", args=[tender.reference, deficiency.pk]),
        ],
        "withdrawal": [reverse("portal:withdrawal", args=[notice.reference])],
        "gd": [
            reverse("portal:guaranteed_delivery", args=[gd.reference]),
            reverse("portal:gd_deliver", args=[gd.reference]),
            reverse("portal:tender_status", args=[gd.tender.reference]),
        ],
    }


def test_the_owner_reaches_every_one_of_its_documents(cast: Cast, during: dt.datetime) -> None:
    urls = documents(cast)
    client = cast.client(cast.ardsley)
    for url in urls["tender"] + urls["withdrawal"] + urls["gd"]:
        assert client.get(url).status_code == 200, url


def test_another_holder_gets_404_for_each_by_url(cast: Cast, during: dt.datetime) -> None:
    urls = documents(cast)
    client = cast.client(cast.chen)
    before = (WithdrawalNotice.objects.count(), Deficiency.objects.filter(status="open").count())
    for url in urls["tender"] + urls["withdrawal"] + urls["gd"]:
        assert client.get(url).status_code == 404, url
        assert (
            client.post(url, {"amount": "1,000,000", "states_withdrawal": "on"}).status_code == 404
        ), url
    assert (
        WithdrawalNotice.objects.count(),
        Deficiency.objects.filter(status="open").count(),
    ) == before


def test_a_made_up_reference_is_404_too(cast: Cast, during: dt.datetime) -> None:
    client = cast.client(cast.ardsley)
    for name in (
        "tender_status",
        "tender_receipt",
        "withdraw",
        "withdrawal",
        "guaranteed_delivery",
    ):
        assert client.get(reverse(f"portal:{name}", args=["LT-ZZZZ-ZZZZ"])).status_code == 404


def test_the_guarantor_sees_its_notices_only(cast: Cast, during: dt.datetime) -> None:
    urls = documents(cast)
    client = cast.client(cast.empire)
    for url in urls["gd"]:
        assert client.get(url).status_code == 200, url
    for url in urls["tender"] + urls["withdrawal"]:
        assert client.get(url).status_code == 404, url
    offer = client.get(reverse("portal:offer", args=["level3-2000"])).content.decode()
    assert "R08-0001" not in offer  # no holder's holdings on the guarantor's page
    another = make_holder(
        HolderKind.ELIGIBLE_GUARANTOR, name="Other Trust", medallion_program="MSP"
    )
    other_client = Client()
    other_client.force_login(login_for(another, "other"))
    for url in urls["gd"]:
        assert other_client.get(url).status_code == 404, url


def test_a_nominee_sees_the_documents_of_its_participant_account(
    cast: Cast, during: dt.datetime
) -> None:
    seed = cast.seed
    mine = book_entry_tender(seed, EARLIER)
    # Another desk of the same participant (same DTC number), and another participant.
    same_account = make_holder(HolderKind.DTC_PARTICIPANT, name="Bayside (desk 2)")
    other = make_holder(
        HolderKind.DTC_PARTICIPANT, name="Harbor Clearing", dtc_participant_number="0777"
    )
    give_position(same_account, seed.senior_2008, "1000000")
    give_position(other, seed.senior_2008, "1000000")

    def tender_for(holder_id: int) -> str:
        return receive_tender(
            offer_id=seed.offer.pk,
            series_id=seed.senior_2008.pk,
            holder_id=holder_id,
            submission=LetterOfTransmittal(
                amount=Decimal("1000000"),
                channel=Channel.BOOK_ENTRY,
                letter={"registered_names": "Cede & Co.", "book_entry_confirmation": "ATOP-1"},
            ),
            actor=CLERK,
            now=EARLIER,
        ).reference

    desk2, theirs = tender_for(same_account.pk), tender_for(other.pk)
    client = cast.client(cast.bayside)
    for reference in (mine.reference, desk2):
        assert client.get(reverse("portal:tender_status", args=[reference])).status_code == 200
    assert client.get(reverse("portal:tender_status", args=[theirs])).status_code == 404


def test_a_registered_holder_has_no_guaranteed_delivery_form(
    cast: Cast, during: dt.datetime
) -> None:
    url = reverse("portal:gd_form", args=["level3-2000", "2008-senior"])
    assert cast.client(cast.ardsley).get(url).status_code == 404
    assert cast.client(cast.bayside).get(url).status_code == 404
    assert cast.client(cast.empire).get(url).status_code == 200


def test_unknown_offer_or_series_is_404(cast: Cast, during: dt.datetime) -> None:
    client = cast.client(cast.ardsley)
    assert client.get(reverse("portal:offer", args=["nope"])).status_code == 404
    assert (
        client.get(reverse("portal:tender_form", args=["level3-2000", "nope"])).status_code == 404
    )


def test_signed_out_visitors_are_sent_to_sign_in(cast: Cast, during: dt.datetime) -> None:
    urls = documents(cast)
    client = Client()
    for url in ["/", *urls["tender"], *urls["gd"]]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("portal:login") + "?next=")


def test_a_login_without_a_holder_sees_nothing(cast: Cast, during: dt.datetime) -> None:
    urls = documents(cast)
    client = Client()
    client.force_login(staff_user("clara", "Clerks"))
    for url in ["/", *urls["tender"]]:
        response = client.get(url)
        assert response.status_code == 403
        assert "does not act for a holder" in response.content.decode()


def test_the_prospectus_is_public(db: None) -> None:
    response = Client().get(reverse("portal:prospectus"))
    assert response.status_code == 200
    html = response.content.decode()
    for anchor in (
        "how-to-tender",
        "withdrawal-rights",
        "terms-and-conditions-of-the-letters-of-transmittal",
    ):
        assert f'id="{anchor}"' in html
    assert "within three New York Stock Exchange trading days" in html
    assert "&lt;PAGE&gt;" not in html
    assert "/static/holders/prospectus/level3-2000-prospectus.txt" in html


def test_guaranteed_delivery_counts_in_the_tender_history_the_guarantor_reads(
    cast: Cast, during: dt.datetime
) -> None:
    documents(cast)
    gd = GuaranteedDelivery.objects.get()
    html = (
        cast.client(cast.empire)
        .get(reverse("portal:tender_status", args=[gd.tender.reference]))
        .content.decode()
    )
    assert "Notice of guaranteed delivery received" in html
    assert "Withdraw these notes" not in html  # the guarantor does not act for the holder
