"""The review queue and the defect checklist's suggestions."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client

from exchange.admin.review import suggested_defects
from exchange.models import DeficiencyKind, TenderState
from exchange.services.review import record_deficiencies, start_review, validate_tender
from tests.factories import CLERK, SeedOffer, book_entry_tender, ny, paper_tender, staff_user

DURING = ny(2000, 6, 26, 10)


def kinds(found: list[tuple[str, str]]) -> set[str]:
    return {kind for kind, _ in found}


@pytest.mark.django_db
def test_a_complete_letter_suggests_nothing(seed: SeedOffer) -> None:
    assert suggested_defects(paper_tender(seed, DURING)) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("letter", "kind"),
    [
        ({"signed": False}, DeficiencyKind.SIGNATURE),
        (
            {"signer_capacity": "attorney_in_fact", "authority_evidence": "Power of attorney"},
            DeficiencyKind.MEDALLION_GUARANTEE,
        ),
        ({"special_delivery_name": "Custodian Bank"}, DeficiencyKind.MEDALLION_GUARANTEE),
        ({"rep_ordinary_course": False}, DeficiencyKind.REPRESENTATIONS),
        ({"is_broker_dealer": True}, DeficiencyKind.BROKER_DEALER_ACKNOWLEDGMENT),
    ],
)
def test_each_defect_on_the_face_of_the_letter_is_suggested(
    seed: SeedOffer, letter: dict[str, object], kind: str
) -> None:
    found = suggested_defects(paper_tender(seed, DURING, **letter))
    assert kinds(found) == {kind}
    assert all(note for _, note in found)


@pytest.mark.django_db
def test_a_book_entry_tender_without_the_agents_message(seed: SeedOffer) -> None:
    tender = book_entry_tender(seed, DURING)
    tender.agents_message = False
    assert DeficiencyKind.BOOK_ENTRY_CONFIRMATION in kinds(suggested_defects(tender))


@pytest.mark.django_db
def test_the_queue_lists_waiting_tenders_oldest_first(seed: SeedOffer, client: Client) -> None:
    late = paper_tender(
        seed, ny(2000, 6, 27, 9), certificates=(("R08-0002", "1000000"),), signed=False
    )
    early = paper_tender(seed, ny(2000, 6, 26, 9))
    in_review = book_entry_tender(seed, ny(2000, 6, 26, 12))
    start_review(in_review.pk, actor=CLERK, now=ny(2000, 6, 26, 13))
    done = paper_tender(
        seed, ny(2000, 6, 26, 8), series=seed.discount_2010, certificates=(("D10-0001", "3000000"),)
    )
    validate_tender(done.pk, actor=CLERK, now=DURING)
    client.force_login(staff_user("queue-clerk", "Clerks"))
    with time_machine.travel(ny(2000, 6, 28, 9), tick=False):
        page = client.get("/admin/exchange/tenderawaitingreview/").content.decode()
    order = [m for m in re.findall(r"LT-[A-Z0-9]{4}-[A-Z0-9]{4}", page)]
    listed = [
        ref
        for ref in dict.fromkeys(order)
        if ref in {early.reference, in_review.reference, late.reference, done.reference}
    ]
    assert listed == [early.reference, in_review.reference, late.reference]
    assert "Signature missing or not as registered" in page  # the late one's suggestion
    assert f"/admin/exchange/tender/{early.pk}/change/" in page
    assert "2 d 0 h" in page  # the early one has waited two days


@pytest.mark.django_db
def test_the_checklist_opens_with_the_suggestions_ticked(seed: SeedOffer, client: Client) -> None:
    tender = paper_tender(seed, DURING, signed=False, w9_certified=False)
    client.force_login(staff_user("checklist-clerk", "Clerks"))
    with time_machine.travel(DURING, tick=False):
        page = client.get(
            f"/admin/exchange/tender/{tender.pk}/transition/find_deficient/"
        ).content.decode()
        ticked = set(re.findall(r'name="defect_(\w+)"[^>]*checked', page)) | set(
            re.findall(r'checked[^>]*name="defect_(\w+)"', page)
        )
        # No W-9 on the letter: backup withholding, never a defect (rule changed on purpose).
        assert ticked == {DeficiencyKind.SIGNATURE.value}
        assert 'name="defect_w9"' not in page
        # The clerk confirms them as suggested: the tender is deficient, the holder told.
        data = {
            "defect_signature": "on",
            "note_signature": "Sign the letter.",
            "defect_w9": "on",  # an old page's box: ignored, not recorded
            "note_w9": "Certify your TIN.",
        }
        client.post(f"/admin/exchange/tender/{tender.pk}/transition/find_deficient/", data)
    tender.refresh_from_db()
    assert tender.state == TenderState.DEFICIENT
    assert list(tender.deficiencies.values_list("kind", flat=True)) == ["signature"]


@pytest.mark.django_db
def test_a_deficient_tender_leaves_the_queue(seed: SeedOffer, client: Client) -> None:
    tender = paper_tender(seed, DURING)
    record_deficiencies(
        tender.pk, defects=[(DeficiencyKind.OTHER, "Call us.")], actor=CLERK, now=DURING
    )
    client.force_login(staff_user("queue-clerk2", "Clerks"))
    assert (
        tender.reference not in client.get("/admin/exchange/tenderawaitingreview/").content.decode()
    )


@pytest.mark.django_db
def test_a_missing_w9_is_backup_withholding_not_a_suggested_defect(seed: SeedOffer) -> None:
    tender = paper_tender(seed, DURING, w9_certified=False, w9_tin_last4="")
    assert suggested_defects(tender) == []
    assert tender.backup_withholding_applies
