"""A missing or uncertified Substitute Form W-9 means backup withholding at the offer's
rate, never a defect of the tender; a certified W-9 on a letter sets the holder's TIN
status, with history, and special-interest payments follow it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchange.jobs.runner import run_due_jobs
from exchange.models import DeficiencyKind, StateChange, TenderState
from exchange.services.base import DeskError
from exchange.services.guaranteed_deliveries import (
    NoticeOfGuaranteedDelivery,
    fulfil_guaranteed_delivery,
    receive_guaranteed_delivery,
)
from exchange.services.review import record_deficiencies, validate_tender
from exchange.services.tenders import CertificateTendered
from exchange.special_interest.payments import withholding_rate
from holders.models import TinStatus
from tests.factories import CLERK, SeedOffer, complete_letter, ny, paper_tender

pytestmark = pytest.mark.django_db

DURING = ny(2000, 6, 26, 10)
CHEN_2008 = (("R08-0003", "250000"),)


def test_a_missing_w9_cannot_be_recorded_as_a_defect(seed: SeedOffer) -> None:
    tender = paper_tender(seed, DURING, w9_certified=False, w9_tin_last4="")
    history = StateChange.objects.count()
    with pytest.raises(DeskError, match="not a defect of the tender"):
        record_deficiencies(
            tender.pk, defects=[(DeficiencyKind.W9, "Certify.")], actor=CLERK, now=DURING
        )
    assert StateChange.objects.count() == history
    assert not tender.deficiencies.exists()


def test_a_tender_without_a_w9_is_valid_and_accepted_with_withholding(seed: SeedOffer) -> None:
    seed.offer.acceptance_automatic = True
    seed.offer.save(update_fields=["acceptance_automatic"])
    tender = paper_tender(
        seed,
        DURING,
        holder=seed.second_registered,
        certificates=CHEN_2008,
        w9_certified=False,
        w9_tin_last4="",
    )
    validate_tender(tender.pk, actor=CLERK, now=DURING)
    run_due_jobs(ny(2000, 7, 12, 17, 0))
    run_due_jobs(ny(2000, 7, 13, 9, 0))
    tender.refresh_from_db()
    assert tender.state in (TenderState.ACCEPTED, TenderState.EXCHANGED)
    assert tender.backup_withholding_applies
    seed.second_registered.refresh_from_db()
    assert withholding_rate(seed.offer, seed.second_registered) == Decimal("0.31")


def test_a_certified_w9_on_a_letter_sets_the_holders_tin_status(seed: SeedOffer) -> None:
    chen = seed.second_registered
    assert chen.tin_status == TinStatus.NOT_CERTIFIED
    assert withholding_rate(seed.offer, chen) == seed.offer.backup_withholding_rate
    tender = paper_tender(
        seed, DURING, holder=chen, certificates=CHEN_2008, w9_certified=True, w9_tin_last4="4321"
    )
    chen.refresh_from_db()
    assert chen.tin_status == TinStatus.CERTIFIED
    assert withholding_rate(seed.offer, chen) == Decimal("0")
    change = StateChange.objects.get(action="holders.holder.tin_status_changed")
    assert (change.from_state, change.to_state) == (TinStatus.NOT_CERTIFIED, TinStatus.CERTIFIED)
    assert change.object_id == chen.pk and tender.reference in change.reason
    assert "4321" in change.reason


def test_an_uncertified_letter_never_undoes_a_certification(seed: SeedOffer) -> None:
    ardsley = seed.registered
    assert ardsley.tin_status == TinStatus.CERTIFIED
    paper_tender(seed, DURING, w9_certified=False, w9_tin_last4="")
    ardsley.refresh_from_db()
    assert ardsley.tin_status == TinStatus.CERTIFIED
    assert not StateChange.objects.filter(action="holders.holder.tin_status_changed").exists()


def test_an_exempt_payee_is_recorded_as_exempt(seed: SeedOffer) -> None:
    chen = seed.second_registered
    paper_tender(
        seed,
        DURING,
        holder=chen,
        certificates=CHEN_2008,
        w9_certified=False,
        w9_tin_last4="",
        w9_exempt_payee=True,
    )
    chen.refresh_from_db()
    assert chen.tin_status == TinStatus.EXEMPT
    assert withholding_rate(seed.offer, chen) == Decimal("0")


def test_the_letter_completing_a_guaranteed_delivery_certifies_too(seed: SeedOffer) -> None:
    chen = seed.second_registered
    gd = receive_guaranteed_delivery(
        offer_id=seed.offer.pk,
        series_id=seed.senior_2008.pk,
        holder_id=chen.pk,
        guarantor_id=seed.guarantor.pk,
        notice=NoticeOfGuaranteedDelivery(
            tendering_holder_name="Margaret Chen",
            tendering_holder_address="1 Main Street",
            registered_names="Margaret Chen",
            certificate_numbers="R08-0003",
            amount=Decimal("250000"),
            executed_on=DURING.date(),
        ),
        actor=CLERK,
        now=DURING,
    )
    chen.refresh_from_db()
    assert chen.tin_status == TinStatus.NOT_CERTIFIED  # the notice carries no W-9
    fulfil_guaranteed_delivery(
        gd.pk,
        by_book_entry=False,
        certificates=[CertificateTendered("R08-0003", Decimal("250000"))],
        letter=complete_letter(registered_names="Margaret Chen", w9_tin_last4="9876"),
        actor=CLERK,
        now=ny(2000, 6, 27, 10),
    )
    chen.refresh_from_db()
    assert chen.tin_status == TinStatus.CERTIFIED
