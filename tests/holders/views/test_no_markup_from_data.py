"""Nothing built from data is markup: a certificate number and names carrying HTML are shown
as text on every portal page a holder sees and on the desk's main pages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from exchange.models import StateChange, TenderedCertificate
from exchange.services.withdrawals import NoticeOfWithdrawal, receive_withdrawal
from holders.models import Holder
from tests.factories import CLERK, give_certificate, paper_tender, staff_user
from tests.holders.conftest import DURING, Cast

pytestmark = pytest.mark.django_db

# Upper case: certificate numbers are normalised to it, and HTML is case-blind anyway.
CERTIFICATE = "<A HREF=//EVIL.EXAMPLE>X</A>"
NAME = "<script>alert(1)</script><b>Trust</b>"
SIGNER = '<img src=x onerror="alert(2)">'
RAW = ("<a href=//evil.example", "<script>alert", "<b>trust", "<img src=x")
ESCAPED = ("&lt;A HREF=//EVIL.EXAMPLE&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;")


def hostile_record(cast: Cast) -> tuple[str, str]:
    seed = cast.seed
    Holder.objects.filter(pk=seed.registered.pk).update(name=NAME)
    seed.registered.refresh_from_db()
    give_certificate(seed.registered, seed.senior_2010, CERTIFICATE, "2000000")
    tender = paper_tender(
        seed,
        DURING,
        series=seed.senior_2010,
        certificates=((CERTIFICATE, "1000000"),),
        signer_name=SIGNER,
    )
    assert TenderedCertificate.objects.filter(certificate_number=CERTIFICATE).exists()
    withdrawal = receive_withdrawal(
        tender_id=tender.pk,
        notice=NoticeOfWithdrawal(
            tendering_person_name=NAME,
            certificate_numbers=CERTIFICATE,
            amount=tender.amount / 2,
            states_withdrawal=True,
            registered_holder_name=NAME,
            signed_as_letter=True,
        ),
        actor=CLERK,
        now=DURING,
    )
    return tender.reference, withdrawal.reference


def assert_no_markup(client: Client, url: str) -> str:
    response = client.get(url, follow=True)
    assert response.status_code == 200, url
    html = response.content.decode()
    lowered = html.lower()
    for raw in RAW:
        assert raw not in lowered, f"{url} renders {raw!r} as markup"
    return html


def test_portal_pages_show_hostile_data_as_text(cast: Cast, during: object) -> None:
    tender, withdrawal = hostile_record(cast)
    client = cast.client(cast.ardsley)
    offer = cast.seed.offer.slug
    series = cast.seed.senior_2010.slug
    pages = {
        "home": reverse("portal:home"),
        "offer": reverse("portal:offer", args=[offer]),
        "letter": reverse("portal:tender_form", args=[offer, series]),
        "status": reverse("portal:tender_status", args=[tender]),
        "receipt": reverse("portal:tender_receipt", args=[tender]),
        "withdraw": reverse("portal:withdraw", args=[tender]),
        "withdrawal": reverse("portal:withdrawal", args=[withdrawal]),
    }
    html = {name: assert_no_markup(client, url) for name, url in pages.items()}
    # The data is there, as text: the letter's help names the certificate (the path a
    # clerk's typed number took to become a live link), the receipt names both.
    assert ESCAPED[0] in html["letter"]
    assert ESCAPED[0] in html["receipt"] and ESCAPED[1] in html["offer"]


def test_desk_pages_show_hostile_data_as_text(cast: Cast, during: object) -> None:
    tender_ref, _ = hostile_record(cast)
    from exchange.models import Tender

    tender = Tender.objects.get(reference=tender_ref)
    client = Client()
    client.force_login(staff_user("clerk", "Clerks"))
    pages = [
        reverse("admin:index"),
        reverse("admin:holders_holder_changelist"),
        reverse("admin:holders_holder_change", args=[cast.seed.registered.pk]),
        reverse("admin:holders_holding_changelist"),
        reverse("admin:exchange_tender_changelist"),
        reverse("admin:exchange_tender_change", args=[tender.pk]),
        reverse("admin:exchange_tenderawaitingreview_changelist"),
        reverse("admin:exchange_tenderedcertificate_changelist"),
        reverse("admin:exchange_withdrawalnotice_changelist"),
        reverse("admin:exchange_statechange_changelist"),
    ]
    rendered = [assert_no_markup(client, url) for url in pages]
    assert any(ESCAPED[0] in html for html in rendered)
    assert StateChange.objects.exists()


def test_the_guarantors_page_shows_hostile_names_as_text(cast: Cast, during: object) -> None:
    # The letters naming the guarantor list their signer and registered holder.
    Holder.objects.filter(pk=cast.seed.registered.pk).update(name=NAME)
    tender = paper_tender(
        cast.seed,
        DURING,
        signer_name=SIGNER,
        signer_capacity="attorney_in_fact",
        authority_evidence=NAME,
        medallion_guarantor=cast.seed.guarantor,
    )
    html = assert_no_markup(cast.client(cast.empire), reverse("portal:guarantees"))
    assert tender.reference in html and "&lt;img src=x" in html
