"""Bulk actions on the tender list and the review queue: a confirmation page that says what
will happen to each tender and why any is skipped, then the single button's service call
per tender, each with its history row."""

from __future__ import annotations

import pytest
import time_machine
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from exchange.models import Deficiency, DeficiencyKind, StateChange, Tender, TenderState
from exchange.services.review import record_deficiencies, start_review
from tests.factories import (
    CLERK,
    SeedOffer,
    book_entry_tender,
    ny,
    paper_tender,
    staff_user,
)

pytestmark = pytest.mark.django_db

DURING = ny(2000, 6, 26, 10)
LATER = ny(2000, 6, 26, 15)
QUEUE = "/admin/exchange/tenderawaitingreview/"
TENDERS = "/admin/exchange/tender/"


def history(tender: Tender, action: str) -> list[StateChange]:
    return list(StateChange.objects.filter(object_id=tender.pk, action=action))


def act(client: Client, url: str, action: str, tenders: list[Tender], **extra: str) -> str:
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(t.pk) for t in tenders], **extra}
    with time_machine.travel(LATER, tick=False):
        return client.post(url, data, follow=True).content.decode()


@pytest.fixture
def clerk(seed: SeedOffer, client: Client) -> Client:
    client.force_login(staff_user("bulk-clerk", "Clerks"))
    return client


def three_tenders(seed: SeedOffer) -> tuple[Tender, Tender, Tender]:
    received = paper_tender(seed, DURING)
    in_review = book_entry_tender(seed, ny(2000, 6, 26, 11))
    start_review(in_review.pk, actor=CLERK, now=ny(2000, 6, 26, 12))
    deficient = paper_tender(
        seed,
        ny(2000, 6, 26, 13),
        series=seed.discount_2010,
        certificates=(("D10-0001", "3000000"),),
    )
    record_deficiencies(
        deficient.pk,
        defects=[(DeficiencyKind.SIGNATURE, "Sign the letter as registered.")],
        actor=CLERK,
        now=ny(2000, 6, 26, 14),
    )
    return received, in_review, deficient


def test_start_review_confirms_first_and_skips_with_a_reason(
    seed: SeedOffer, clerk: Client
) -> None:
    received, in_review, _ = three_tenders(seed)
    page = act(clerk, QUEUE, "bulk_start_review", [received, in_review])
    # The confirmation page: nothing changed yet.
    assert Tender.objects.get(pk=received.pk).state == TenderState.RECEIVED
    assert "1 of 2 selected tenders will change" in page
    assert f"Tender {received.reference} moves to In review" in page
    assert "Skipped: it is in review, so “Start review” is not possible." in page

    page = act(clerk, QUEUE, "bulk_start_review", [received, in_review], confirmed="yes")
    assert Tender.objects.get(pk=received.pk).state == TenderState.IN_REVIEW
    assert Tender.objects.get(pk=in_review.pk).state == TenderState.IN_REVIEW
    (row,) = history(received, "exchange.tender.review_started")
    assert row.actor_user is not None and row.actor_user.get_username() == "bulk-clerk"
    assert row.at == LATER
    assert "Start review: 1 done, 1 skipped." in page


def test_the_same_defect_on_several_tenders(
    seed: SeedOffer, clerk: Client, django_capture_on_commit_callbacks: object
) -> None:
    received, in_review, _ = three_tenders(seed)
    page = act(clerk, TENDERS, "bulk_record_defect", [received, in_review])
    assert "What the holder must do to cure it" in page
    # A defect without what to do is refused on the confirmation page, nothing recorded.
    page = act(
        clerk,
        TENDERS,
        "bulk_record_defect",
        [received, in_review],
        confirmed="yes",
        kind="signature",
    )
    assert "Please correct the errors below." in page
    assert not Deficiency.objects.filter(tender__in=[received, in_review]).exists()
    # A missing W-9 is backup withholding, not a defect: the bulk form does not offer it.
    assert 'value="w9"' not in page
    page = act(
        clerk,
        TENDERS,
        "bulk_record_defect",
        [received, in_review],
        confirmed="yes",
        kind="w9",
        note="Complete and sign the Substitute Form W-9.",
    )
    assert "Please correct the errors below." in page
    assert not Deficiency.objects.filter(tender__in=[received, in_review]).exists()
    act(
        clerk,
        TENDERS,
        "bulk_record_defect",
        [received, in_review],
        confirmed="yes",
        kind="signature",
        note="Sign the letter of transmittal as the notes are registered.",
    )
    for tender in (received, in_review):
        assert Tender.objects.get(pk=tender.pk).state == TenderState.DEFICIENT
        (d,) = Deficiency.objects.filter(tender=tender)
        assert (d.kind, d.note) == (
            "signature",
            "Sign the letter of transmittal as the notes are registered.",
        )
        assert StateChange.objects.filter(
            object_id=tender.pk, to_state=TenderState.DEFICIENT
        ).exists()


def test_mark_valid_only_those_without_an_open_defect(seed: SeedOffer, clerk: Client) -> None:
    received, in_review, deficient = three_tenders(seed)
    chosen = [received, in_review, deficient]
    page = act(clerk, TENDERS, "bulk_validate", chosen)
    assert "Skipped: 1 open deficiency (cure or waive each first)." in page
    assert "2 of 3 selected tenders will change" in page
    act(clerk, TENDERS, "bulk_validate", chosen, confirmed="yes")
    states = {t.pk: Tender.objects.get(pk=t.pk).state for t in chosen}
    assert states == {
        received.pk: TenderState.VALID,
        in_review.pk: TenderState.VALID,
        deficient.pk: TenderState.DEFICIENT,
    }
    assert len(history(received, "exchange.tender.valid")) == 1
    assert history(deficient, "exchange.tender.valid") == []


def test_a_user_without_the_change_permission_gets_no_bulk_action(
    seed: SeedOffer, client: Client
) -> None:
    received, _, _ = three_tenders(seed)
    viewer = staff_user("bulk-viewer", "Clerks")
    viewer.groups.clear()
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_tender"))
    client.force_login(viewer)
    page = client.get(TENDERS).content.decode()
    assert "bulk_start_review" not in page
    act(client, TENDERS, "bulk_start_review", [received], confirmed="yes")
    assert Tender.objects.get(pk=received.pk).state == TenderState.RECEIVED
