"""Holders hear of receipt, deficiency, acceptance and return; a holder's cure may correct
the letter's boxes, and only those."""

from __future__ import annotations

import pytest
from django.core import mail

from exchange.jobs.runner import run_due_jobs
from exchange.models import DeficiencyKind, StateChange, TenderState
from exchange.services.base import DeskError
from exchange.services.review import cure_deficiency, record_deficiencies, validate_tender
from tests.factories import CLERK, SeedOffer, deliver_outbox, ny, paper_tender

DURING = ny(2000, 6, 26, 10)


@pytest.fixture
def mailed(seed: SeedOffer) -> SeedOffer:
    seed.registered.email = "custody@ardsley.example"
    seed.registered.save(update_fields=["email"])
    return seed


@pytest.mark.django_db(transaction=False)
def test_receipt_and_deficiency_are_mailed_after_commit(
    mailed: SeedOffer, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        tender = paper_tender(mailed, DURING)
    # Written with the tender; sent by the worker afterwards.
    assert mail.outbox == []
    deliver_outbox()
    assert len(mail.outbox) == 1
    assert tender.reference in mail.outbox[0].subject
    assert "10:00 a.m. New York City time, Monday, June 26, 2000" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        record_deficiencies(
            tender.pk,
            defects=[(DeficiencyKind.SIGNATURE, "Sign the letter as the notes are registered.")],
            actor=CLERK,
            now=DURING,
        )
    deliver_outbox()
    assert "Sign the letter as the notes are registered" in mail.outbox[1].body
    assert "5:00 p.m. New York City time, Wednesday, July 12, 2000" in mail.outbox[1].body


@pytest.mark.django_db
def test_a_rolled_back_tender_sends_nothing(
    mailed: SeedOffer, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DeskError):
        paper_tender(mailed, DURING, certificates=(("R08-0001", "5000001"),))
    assert deliver_outbox() == []


@pytest.mark.django_db
def test_acceptance_and_return_are_mailed(
    mailed: SeedOffer, django_capture_on_commit_callbacks
) -> None:
    mailed.offer.acceptance_automatic = True
    mailed.offer.save(update_fields=["acceptance_automatic"])
    accepted = paper_tender(mailed, DURING)
    validate_tender(accepted.pk, actor=CLERK, now=DURING)
    rejected = paper_tender(mailed, DURING, certificates=(("R08-0002", "1000000"),))
    record_deficiencies(
        rejected.pk,
        defects=[(DeficiencyKind.SIGNATURE, "Sign the letter.")],
        actor=CLERK,
        now=DURING,
    )
    deliver_outbox()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        run_due_jobs(ny(2000, 7, 13, 9))
    deliver_outbox()
    subjects = sorted(m.subject for m in mail.outbox)
    assert any(accepted.reference in s and "accepted" in s for s in subjects)
    assert any(rejected.reference in s and "returned" in s for s in subjects)


@pytest.mark.django_db
def test_a_cure_corrects_the_letter_and_records_what_changed(seed: SeedOffer) -> None:
    tender = paper_tender(seed, DURING, signed=False, signer_name="")
    [deficiency] = record_deficiencies(
        tender.pk, defects=[(DeficiencyKind.SIGNATURE, "Sign it.")], actor=CLERK, now=DURING
    )
    cure_deficiency(
        deficiency.pk,
        actor=CLERK,
        now=DURING,
        letter_updates={"signed": True, "signer_name": "J. Q. Trustee"},
    )
    tender.refresh_from_db()
    assert tender.state == TenderState.VALID
    assert tender.signed and tender.signer_name == "J. Q. Trustee"
    cured = StateChange.objects.get(action="exchange.deficiency.cured")
    assert "signed" in cured.reason and "signer_name" in cured.reason


@pytest.mark.django_db
def test_a_cure_cannot_touch_what_the_desk_decides(seed: SeedOffer) -> None:
    tender = paper_tender(seed, DURING)
    [deficiency] = record_deficiencies(
        tender.pk, defects=[(DeficiencyKind.OTHER, "Call the desk.")], actor=CLERK, now=DURING
    )
    with pytest.raises(DeskError, match="amount"):
        cure_deficiency(deficiency.pk, actor=CLERK, now=DURING, letter_updates={"amount": 1})
    tender.refresh_from_db()
    assert tender.state == TenderState.DEFICIENT
