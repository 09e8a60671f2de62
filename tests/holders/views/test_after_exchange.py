"""What holders and clerks see after the exchange date (the seed offer replayed): original
notes still held, new notes received with CUSIP and delivery, each tender's outcome."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from exchange.models import Tender, TenderState
from holders.models import Holder, Holding
from tests.exchange.services.test_register import replay


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def section(page: str, series_name: str) -> str:
    """The offer page's article for one series."""
    start = page.index(f">{series_name}</h3>")
    return page[start : page.index("</article>", start)]


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.django_db
def test_portal_shows_originals_left_new_notes_and_outcomes() -> None:
    offer = replay()
    page = signed_in("ardsley").get(reverse("portal:offer", args=[offer.slug])).content.decode()
    senior = text(section(page, "11% Senior Notes due 2008"))
    assert "R08-0001" not in senior  # exchanged in full: cancelled
    assert "R08-0002 $1,000,000.00" in senior
    assert "Held $1,000,000.00" in senior
    assert "Free to tender $1,000,000.00" in senior
    exchanged = Tender.objects.get(holder__user__username="ardsley", state=TenderState.EXCHANGED)
    assert "New notes received in exchange (CUSIP 52729NAD2)" in senior
    assert f"NN-{exchanged.pk} Ardsley Pension Trust" in senior
    assert "$5,000,000.00" in senior
    documents = text(page[page.index('id="documents-title"') :])
    assert "Exchanged for new notes: $5,000,000.00" in documents
    assert "Still tendered: $2,000,000.00" in documents  # the letter never reviewed
    assert "Still tendered: $5,000,000.00" not in documents

    status = (
        signed_in("ardsley")
        .get(reverse("portal:tender_status", args=[exchanged.reference]))
        .content.decode()
    )
    assert "data-new-notes" in status
    assert "CUSIP 52729NAD2" in status
    assert f"NN-{exchanged.pk}, registered in the name of Ardsley Pension Trust" in text(status)
    assert "Exchanged for new notes" in status and "Still tendered" not in status


@pytest.mark.django_db
def test_portal_shows_the_reissued_certificate_and_returned_notes() -> None:
    offer = replay()
    page = signed_in("mchen").get(reverse("portal:offer", args=[offer.slug])).content.decode()
    reissue = Holding.objects.get(reissued_from__certificate_number="R10-0002")
    senior_2010 = text(section(page, "11 1/4% Senior Notes due 2010"))
    assert f"{reissue.certificate_number} $60,000.00" in senior_2010
    assert "R10-0002" not in senior_2010
    assert "$40,000.00" in senior_2010 and "CUSIP 52729NAE0" in senior_2010
    documents = text(page[page.index('id="documents-title"') :])
    assert "Original notes returned: $250,000.00" in documents
    assert "Exchanged for new notes: $40,000.00" in documents


@pytest.mark.django_db
def test_participant_sees_its_reduced_positions_and_the_dtc_credit() -> None:
    offer = replay()
    page = signed_in("bayside").get(reverse("portal:offer", args=[offer.slug])).content.decode()
    senior = text(section(page, "11% Senior Notes due 2008"))
    assert "Held $115,000,000.00" in senior  # 135 less the 20 exchanged
    assert "Participant account" in senior and "DTC book-entry credit" in senior
    assert "$20,000,000.00" in senior


@pytest.mark.django_db
def test_desk_holder_page_shows_both_series_and_the_outcomes() -> None:
    replay()
    client = signed_in("clerk")
    chen = Holder.objects.get(user__username="mchen")
    page = text(client.get(reverse("admin:holders_holder_change", args=[chen.pk])).content.decode())
    reissue = Holding.objects.get(reissued_from__certificate_number="R10-0002")
    assert "R10-0002" in page and reissue.certificate_number in page
    assert "52729NAB6" in page and "52729NAE0" in page  # original and new CUSIPs
    assert "New notes (issued in the exchange)" in page
    exchanged = Tender.objects.get(holder__user__username="ardsley", state=TenderState.EXCHANGED)
    tender_page = text(
        client.get(reverse("admin:exchange_tender_change", args=[exchanged.pk])).content.decode()
    )
    assert "Exchanged for new notes: $5,000,000.00" in tender_page
