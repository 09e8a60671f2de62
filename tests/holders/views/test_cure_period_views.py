"""The portal's cure forms follow the time the issuer allows to cure: a guaranteed-delivery
tender's delivery deadline, one holder's recorded extension; closed at the instant."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from exchange.models import DeficiencyKind, DeficiencyStatus, Tender, TenderState
from exchange.services.cure_periods import extend_cure_for_holder
from exchange.services.guaranteed_deliveries import (
    NoticeOfGuaranteedDelivery,
    fulfil_guaranteed_delivery,
    receive_guaranteed_delivery,
)
from exchange.services.offers import expire_offer
from exchange.services.review import record_deficiencies, validate_tender
from exchange.services.tenders import CertificateTendered
from tests.factories import CLERK, JOB, SUPERVISOR, complete_letter, ny, paper_tender
from tests.holders.conftest import EXPIRATION, Cast

pytestmark = pytest.mark.django_db

ONE_SECOND = dt.timedelta(seconds=1)
GD_DEADLINE = ny(2000, 7, 18)  # end of Monday July 17, three NYSE trading days after July 12
SIGNED = {
    "signer_name": "Ardsley Pension Trust",
    "signer_capacity": "registered_holder",
    "signed": "on",
}


def _cure_url(tender: Tender) -> str:
    deficiency = tender.deficiencies.get(kind=DeficiencyKind.SIGNATURE)
    return reverse("portal:cure", args=[tender.reference, deficiency.pk])


def _guaranteed_tender(cast: Cast) -> Tender:
    seed = cast.seed
    gd = receive_guaranteed_delivery(
        offer_id=seed.offer.pk,
        series_id=seed.senior_2008.pk,
        holder_id=seed.registered.pk,
        guarantor_id=seed.guarantor.pk,
        notice=NoticeOfGuaranteedDelivery(
            "Ardsley Pension Trust",
            "1 Ardsley Plaza",
            "Ardsley Pension Trust",
            "R08-0001",
            Decimal("5000000"),
            dt.date(2000, 7, 12),
        ),
        actor=CLERK,
        now=ny(2000, 7, 12, 16),
    )
    fulfil_guaranteed_delivery(
        gd.pk,
        by_book_entry=False,
        certificates=[CertificateTendered("R08-0001", Decimal("5000000"))],
        letter=complete_letter(signed=False),
        actor=CLERK,
        now=ny(2000, 7, 13, 10),
    )
    record_deficiencies(
        gd.tender_id,
        defects=[(DeficiencyKind.SIGNATURE, "Sign the letter as registered.")],
        actor=CLERK,
        now=ny(2000, 7, 13, 11),
    )
    expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION)
    return Tender.objects.get(pk=gd.tender_id)


def _the_desk_checks_the_cure(tender: Tender, now: dt.datetime) -> None:
    """The holder's cure is taken: the deficiency is cured and the tender goes back to the
    desk (a holder's cure never makes it valid by itself); the clerk's check does."""
    tender = Tender.objects.get(pk=tender.pk)
    assert tender.deficiencies.get().status == DeficiencyStatus.CURED
    assert tender.state == TenderState.IN_REVIEW
    validate_tender(tender.pk, actor=CLERK, now=now)
    assert Tender.objects.get(pk=tender.pk).state == TenderState.VALID


def test_a_guaranteed_delivery_tender_is_cured_in_the_portal_on_july_14(cast: Cast) -> None:
    tender = _guaranteed_tender(cast)
    client = cast.client(cast.ardsley)
    with time_machine.travel(ny(2000, 7, 14, 10), tick=False):
        status = client.get(reverse("portal:tender_status", args=[tender.reference]))
        assert _cure_url(tender) in status.content.decode()
        assert "12:00 a.m. New York City time, Tuesday, July 18, 2000" in status.content.decode()
        response = client.post(_cure_url(tender), SIGNED)
    assert response.status_code == 302
    _the_desk_checks_the_cure(tender, ny(2000, 7, 14, 11))


def test_the_portal_cure_closes_at_the_delivery_deadline(cast: Cast) -> None:
    tender = _guaranteed_tender(cast)
    client = cast.client(cast.ardsley)
    with time_machine.travel(GD_DEADLINE, tick=False):
        response = client.post(_cure_url(tender), SIGNED)
    assert "only the issuer can now waive" in response.content.decode()
    assert tender.deficiencies.get().status == DeficiencyStatus.OPEN
    with time_machine.travel(GD_DEADLINE - ONE_SECOND, tick=False):
        response = client.post(_cure_url(tender), SIGNED)
    assert response.status_code == 302
    assert tender.deficiencies.get().status == DeficiencyStatus.CURED


def test_one_holders_extension_opens_the_portal_cure_after_expiration(cast: Cast) -> None:
    tender = paper_tender(cast.seed, ny(2000, 6, 20, 10), signed=False)
    record_deficiencies(
        tender.pk,
        defects=[(DeficiencyKind.SIGNATURE, "Sign the letter.")],
        actor=CLERK,
        now=ny(2000, 6, 20, 10),
    )
    client = cast.client(cast.ardsley)
    with time_machine.travel(EXPIRATION, tick=False):
        refused = client.post(_cure_url(tender), SIGNED)
    assert "only the issuer can now waive" in refused.content.decode()
    extend_cure_for_holder(
        tender.pk,
        until=ny(2000, 7, 14, 17),
        authorized_by="R. Officer",
        actor=SUPERVISOR,
        now=ny(2000, 7, 12, 18),
    )
    with time_machine.travel(ny(2000, 7, 14, 16, 59, 59), tick=False):
        client = cast.client(cast.ardsley)  # days later: a new session (idle ones end)
        response = client.post(_cure_url(tender), SIGNED)
    assert response.status_code == 302
    _the_desk_checks_the_cure(tender, ny(2000, 7, 14, 17))
