"""Validity is a determination: the desk's own checks (the review queue's suggestions)
must each be recorded and then cured or waived before a tender is valid; Mark valid no
longer makes a tender valid while they list open defects nobody recorded."""

from __future__ import annotations

import pytest

from exchange.models import DeficiencyKind, StateChange, TenderState
from exchange.services.base import DeskError
from exchange.services.review import (
    cure_deficiency,
    record_deficiencies,
    validate_tender,
    waive_deficiency,
)
from tests.factories import CLERK, SUPERVISOR, SeedOffer, ny, paper_tender

pytestmark = pytest.mark.django_db

DURING = ny(2000, 6, 26, 10)


@pytest.mark.parametrize(
    "letter",
    [
        {"signed": False},
        {"rep_ordinary_course": False},
        {"special_delivery_name": "Custodian Bank", "special_delivery_address": "2 Main"},
    ],
    ids=["unsigned", "no-representations", "third-party-delivery-without-guarantee"],
)
def test_mark_valid_is_refused_while_the_checks_find_unrecorded_defects(
    seed: SeedOffer, letter: dict[str, object]
) -> None:
    tender = paper_tender(seed, DURING, **letter)
    history = StateChange.objects.count()
    with pytest.raises(DeskError, match="not recorded and then cured or waived"):
        validate_tender(tender.pk, actor=CLERK, now=DURING)
    tender.refresh_from_db()
    assert tender.state == TenderState.RECEIVED
    assert StateChange.objects.count() == history


def test_recorded_then_cured_by_the_desk_or_waived_by_the_issuer_is_valid(
    seed: SeedOffer,
) -> None:
    tender = paper_tender(seed, DURING, signed=False, rep_ordinary_course=False)
    signature, reps = record_deficiencies(
        tender.pk,
        defects=[
            (DeficiencyKind.SIGNATURE, "Sign the letter."),
            (DeficiencyKind.REPRESENTATIONS, "Make the representations."),
        ],
        actor=CLERK,
        now=DURING,
    )
    cure_deficiency(signature.pk, actor=CLERK, now=DURING, note="Signed copy received.")
    waive_deficiency(reps.pk, authorized_by="Treasurer, Level 3", actor=SUPERVISOR, now=DURING)
    tender.refresh_from_db()
    assert tender.state == TenderState.VALID
