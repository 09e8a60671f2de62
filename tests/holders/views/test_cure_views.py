"""Deficiencies on the status page, with what to do; the cure form sends the corrected boxes
through cure_deficiency(letter_updates=...); refused after expiration; history in words."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from exchange.models import (
    Deficiency,
    DeficiencyKind,
    DeficiencyStatus,
    StateChange,
    Tender,
    TenderState,
)
from exchange.services.review import CURABLE_BOXES, record_deficiencies
from holders.forms.cures import CURABLE
from tests.factories import CLERK, guarantee_letter, legacy_w9_deficiency, ny, paper_tender
from tests.holders.conftest import EXPIRATION, Cast

pytestmark = pytest.mark.django_db

EARLIER = ny(2000, 6, 20, 10)


def deficient_tender(cast: Cast, *kinds: DeficiencyKind, **letter: Any) -> Tender:
    tender = paper_tender(cast.seed, EARLIER, **letter)
    recordable = [kind for kind in kinds if kind != DeficiencyKind.W9]
    if recordable:
        record_deficiencies(
            tender.pk,
            defects=[(kind, f"Please fix: {kind.label}.") for kind in recordable],
            actor=CLERK,
            now=EARLIER,
        )
    if DeficiencyKind.W9 in kinds:
        # A W-9 deficiency recorded before it stopped being one: still curable here.
        legacy_w9_deficiency(tender.pk, EARLIER, f"Please fix: {DeficiencyKind.W9.label}.")
    tender.refresh_from_db()
    return tender


def cure_url(tender: Tender, kind: DeficiencyKind) -> str:
    deficiency = tender.deficiencies.get(kind=kind)
    return reverse("portal:cure", args=[tender.reference, deficiency.pk])


def test_status_page_lists_open_deficiencies_with_what_to_do(
    cast: Cast, during: dt.datetime
) -> None:
    tender = deficient_tender(cast, DeficiencyKind.W9, DeficiencyKind.CERTIFICATES)
    html = (
        cast.client(cast.ardsley)
        .get(reverse("portal:tender_status", args=[tender.reference]))
        .content.decode()
    )
    assert "Not yet in proper form" in html
    assert "Please fix: Substitute Form W-9 incomplete." in html
    assert cure_url(tender, DeficiencyKind.W9) in html
    assert (
        "before 5:00 p.m. New York City time, Wednesday, July 12, 2000, the time the issuer "
        "allows to cure" in html
    )
    # Certificates cannot be changed on a letter received: the page says what to do instead.
    assert "withdraw this tender and tender again" in html
    assert cure_url(tender, DeficiencyKind.CERTIFICATES) not in html
    assert (
        cast.client(cast.ardsley).get(cure_url(tender, DeficiencyKind.CERTIFICATES)).status_code
        == 404
    )
    assert "The letter was found not in proper form" in html  # the history, in words
    assert "the exchange agent" in html and "test clerk" not in html  # roles, not clerks' names


def test_curing_the_w9_sends_the_tender_back_for_review(cast: Cast, during: dt.datetime) -> None:
    # Rule changed on purpose: a holder's cure no longer makes the tender valid by itself.
    tender = deficient_tender(cast, DeficiencyKind.W9, w9_tin_last4="", w9_certified=False)
    client = cast.client(cast.ardsley)
    url = cure_url(tender, DeficiencyKind.W9)
    page = client.get(url).content.decode()
    assert "Please fix: Substitute Form W-9 incomplete." in page
    assert "id_rep_full_authority" not in page  # only the boxes of this deficiency
    response = client.post(
        url, {"tin": "123-45-6789", "w9_certified": "on", "note": "Certified now."}
    )
    assert response.status_code == 302
    tender.refresh_from_db()
    assert tender.state == TenderState.IN_REVIEW
    assert tender.w9_tin_last4 == "6789" and tender.w9_certified
    deficiency = tender.deficiencies.get()
    assert deficiency.status == DeficiencyStatus.CURED
    assert deficiency.resolved_by == cast.ardsley and deficiency.resolved_at == during
    assert "123456789" not in deficiency.resolution_note
    assert not StateChange.objects.filter(reason__contains="123456789").exists()
    status = client.get(response["Location"]).content.decode()
    assert "is cured" in status and "tender" in status
    assert "A deficiency was cured" in status


def test_an_invalid_cure_records_nothing(cast: Cast, during: dt.datetime) -> None:
    tender = deficient_tender(cast, DeficiencyKind.W9, w9_tin_last4="", w9_certified=False)
    client = cast.client(cast.ardsley)
    before = StateChange.objects.count()
    response = client.post(cure_url(tender, DeficiencyKind.W9), {"tin": "12-34"})
    assert response.status_code == 200
    assert 'id="id_tin_error"' in response.content.decode()
    assert StateChange.objects.count() == before
    assert Deficiency.objects.get().status == DeficiencyStatus.OPEN


def test_a_medallion_guarantee_is_the_guarantors_to_give_not_the_holders_to_cure(
    cast: Cast, during: dt.datetime
) -> None:
    # The rule changed on purpose: a holder once "cured" it by picking a guarantor from a
    # dropdown. Now the holder is told how the guarantee is given, and the guarantor's own
    # confirmation sends the tender back to the desk.
    tender = deficient_tender(
        cast,
        DeficiencyKind.MEDALLION_GUARANTEE,
        signer_capacity="trustee",
        signer_name="J. Q. Trustee",
        authority_evidence="Trust agreement, certified copy",
        medallion_guarantor=cast.seed.guarantor,
    )
    client = cast.client(cast.ardsley)
    response = client.post(
        cure_url(tender, DeficiencyKind.MEDALLION_GUARANTEE),
        {"medallion_guarantor": str(cast.seed.guarantor.pk), "medallion_program": "STAMP"},
    )
    assert response.status_code == 404
    status = client.get(reverse("portal:tender_status", args=[tender.reference])).content.decode()
    assert "from its own login" in status
    tender.refresh_from_db()
    assert tender.state == TenderState.DEFICIENT
    guarantee_letter(cast.seed, tender, during)
    tender.refresh_from_db()
    assert tender.state == TenderState.IN_REVIEW  # the desk checks before it is valid


def test_curing_one_of_two_leaves_the_tender_deficient(cast: Cast, during: dt.datetime) -> None:
    tender = deficient_tender(cast, DeficiencyKind.SIGNATURE, DeficiencyKind.REPRESENTATIONS)
    cast.client(cast.ardsley).post(
        cure_url(tender, DeficiencyKind.SIGNATURE),
        {
            "signer_name": "Ardsley Pension Trust",
            "signer_capacity": "registered_holder",
            "signed": "on",
        },
    )
    tender.refresh_from_db()
    assert tender.signer_name == "Ardsley Pension Trust"
    assert tender.state == TenderState.DEFICIENT


def test_no_cure_at_or_after_expiration(cast: Cast) -> None:
    tender = deficient_tender(cast, DeficiencyKind.W9, w9_tin_last4="", w9_certified=False)
    client = cast.client(cast.ardsley)
    with time_machine.travel(EXPIRATION, tick=False):
        response = client.post(
            cure_url(tender, DeficiencyKind.W9), {"tin": "123-45-6789", "w9_certified": "on"}
        )
        status = client.get(
            reverse("portal:tender_status", args=[tender.reference])
        ).content.decode()
    assert "only the issuer can now waive" in response.content.decode()
    assert Deficiency.objects.get().status == DeficiencyStatus.OPEN
    assert cure_url(tender, DeficiencyKind.W9) not in status


def test_a_resolved_deficiency_is_not_cured_twice(cast: Cast, during: dt.datetime) -> None:
    tender = deficient_tender(cast, DeficiencyKind.W9, w9_tin_last4="", w9_certified=False)
    client = cast.client(cast.ardsley)
    data = {"tin": "123-45-6789", "w9_certified": "on"}
    client.post(cure_url(tender, DeficiencyKind.W9), data)
    before = StateChange.objects.count()
    response = client.post(cure_url(tender, DeficiencyKind.W9), data)
    assert response.status_code == 302
    assert StateChange.objects.count() == before


@pytest.mark.parametrize("kind", list(CURABLE))
def test_the_cure_form_sends_only_boxes_the_service_lets_a_holder_correct(kind: str) -> None:
    allowed = CURABLE_BOXES
    boxes = {"w9_tin_last4" if name == "tin" else name for name in CURABLE[kind]}
    assert boxes <= set(allowed[kind])


def test_an_agents_message_ticked_on_the_cure_form_waits_for_the_desk(
    cast: Cast, during: dt.datetime
) -> None:
    """The case seen: a DTC participant ticked "Agent's Message transmitted" on the cure
    form and the tender became valid at once, without the agent checking with DTC."""
    from exchange.jobs.runner import run_due_jobs
    from exchange.services.review import validate_tender
    from tests.factories import book_entry_tender

    seed = cast.seed
    seed.offer.acceptance_automatic = True
    seed.offer.save(update_fields=["acceptance_automatic"])
    tender = book_entry_tender(seed, EARLIER)
    type(tender).objects.filter(pk=tender.pk).update(agents_message=False)
    record_deficiencies(
        tender.pk,
        defects=[(DeficiencyKind.BOOK_ENTRY_CONFIRMATION, "Transmit the Agent's Message.")],
        actor=CLERK,
        now=EARLIER,
    )
    url = cure_url(tender, DeficiencyKind.BOOK_ENTRY_CONFIRMATION)
    response = cast.client(cast.bayside).post(
        url, {"book_entry_confirmation": "ATOP-000123", "agents_message": "on"}, follow=True
    )
    assert "checks the cure before the tender is valid" in response.content.decode()
    tender.refresh_from_db()
    assert tender.state == TenderState.IN_REVIEW
    history = [c.action for c in StateChange.objects.filter(object_id=tender.pk).order_by("id")]
    assert "exchange.tender.back_to_review" in history
    assert "exchange.tender.valid" not in history
    # Back in the review queue; the clerk's check (Mark valid) is what makes it valid.
    assert (
        type(tender)
        .objects.filter(pk=tender.pk, state__in=[TenderState.RECEIVED, TenderState.IN_REVIEW])
        .exists()
    )
    validate_tender(tender.pk, actor=CLERK, now=during)
    tender.refresh_from_db()
    assert tender.state == TenderState.VALID
    with time_machine.travel(ny(2000, 7, 13, 9), tick=False):
        run_due_jobs(EXPIRATION)
        run_due_jobs(ny(2000, 7, 13, 9))
    tender.refresh_from_db()
    assert tender.state in (TenderState.ACCEPTED, TenderState.EXCHANGED)


def test_an_unchecked_cure_is_not_accepted_on_the_exchange_date(
    cast: Cast, during: dt.datetime
) -> None:
    from exchange.jobs.runner import run_due_jobs

    seed = cast.seed
    seed.offer.acceptance_automatic = True
    seed.offer.save(update_fields=["acceptance_automatic"])
    tender = deficient_tender(cast, DeficiencyKind.SIGNATURE, signed=False)
    cast.client(cast.ardsley).post(
        cure_url(tender, DeficiencyKind.SIGNATURE),
        {"signer_name": "Jane Q. Trustee", "signer_capacity": "registered_holder", "signed": "on"},
    )
    with time_machine.travel(ny(2000, 7, 13, 9), tick=False):
        run_due_jobs(EXPIRATION)
        run_due_jobs(ny(2000, 7, 13, 9))
    tender.refresh_from_db()
    assert tender.state not in (TenderState.ACCEPTED, TenderState.EXCHANGED, TenderState.VALID)
