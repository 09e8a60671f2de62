"""A submitted letter is kept as received: the admin's change form edits nothing of it,
and a correction is a recorded act (who, when, why, old and new value) shown in the
tender's history, in the audit CSV and on the holder's page."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from exchange.models import StateChange, Tender
from exchange.reports.lists import audit_history
from exchange.services.base import DeskError
from exchange.services.review import correct_letter, validate_tender
from tests.factories import CLERK, SeedOffer, ny, paper_tender, staff_user

pytestmark = pytest.mark.django_db

DURING = ny(2000, 6, 26, 10)


@pytest.fixture
def clerk_client(seed: SeedOffer) -> Client:
    client = Client()
    client.force_login(staff_user("clara", "Clerks"))
    return client


def test_a_clerk_cannot_rewrite_a_signed_letter_through_the_change_form(
    seed: SeedOffer, clerk_client: Client
) -> None:
    """The case seen: untick Signed, change the signer's name, Save: no history."""
    tender = paper_tender(seed, DURING)
    history = StateChange.objects.count()
    with time_machine.travel(DURING, tick=False):
        response = clerk_client.post(
            reverse("admin:exchange_tender_change", args=[tender.pk]),
            {"signer_name": "Someone Else", "signer_capacity": "registered_holder"},
        )
    assert response.status_code == 403
    tender.refresh_from_db()
    assert tender.signed and tender.signer_name == "Ardsley Pension Trust"
    assert StateChange.objects.count() == history


def test_a_correction_is_recorded_with_old_and_new_values(
    seed: SeedOffer, clerk_client: Client
) -> None:
    tender = paper_tender(seed, DURING)
    url = reverse("admin:exchange_tender_transition", args=[tender.pk, "correct_letter"])
    with time_machine.travel(DURING, tick=False):
        clerk_client.post(
            url,
            {
                "box": "signer_name",
                "value": "Ardsley Pension Trust, Jr.",
                "reason": "The paper letter reads Jr.; keyed without it.",
            },
        )
    tender.refresh_from_db()
    assert tender.signer_name == "Ardsley Pension Trust, Jr."
    change = StateChange.objects.get(action="exchange.tender.letter_corrected")
    assert change.actor_label == "clara" and change.at == DURING
    assert "signer_name: 'Ardsley Pension Trust' → 'Ardsley Pension Trust, Jr.'" in change.reason
    assert "keyed without it" in change.reason
    audit = [row for row in audit_history(seed.offer) if "exchange.tender.letter_corrected" in row]
    assert audit and any(
        "'Ardsley Pension Trust' → 'Ardsley Pension Trust, Jr.'" in cell for cell in audit[0]
    )
    # Read at the clerk's own moment: a session idle since then would have ended.
    with time_machine.travel(DURING, tick=False):
        page = clerk_client.get(reverse("admin:exchange_tender_change", args=[tender.pk]))
    assert "Ardsley Pension Trust, Jr." in page.content.decode()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"box": "signed", "value": False, "reason": ""}, "Say why"),
        ({"box": "amount", "value": "1", "reason": "x"}, "not a box"),
        ({"box": "signed", "value": "no", "reason": "x"}, "yes or no"),
        (
            {"box": "signer_name", "value": "Ardsley Pension Trust", "reason": "x"},
            "nothing to correct",
        ),
    ],
)
def test_a_correction_the_service_refuses_changes_nothing(
    seed: SeedOffer, kwargs: dict[str, Any], message: str
) -> None:
    tender = paper_tender(seed, DURING)
    history = StateChange.objects.count()
    with pytest.raises(DeskError, match=message):
        correct_letter(tender.pk, actor=CLERK, now=DURING, **kwargs)
    assert StateChange.objects.count() == history


def test_a_valid_letter_or_a_holders_own_letter_is_not_corrected(seed: SeedOffer) -> None:
    from django.contrib.auth import get_user_model

    tender = paper_tender(seed, DURING)
    validate_tender(tender.pk, actor=CLERK, now=DURING)
    with pytest.raises(DeskError, match="no longer corrected"):
        correct_letter(tender.pk, box="signer_name", value="X", reason="x", actor=CLERK, now=DURING)
    holder_login = get_user_model().objects.create_user("ardsley-portal")
    own = paper_tender(seed, DURING, certificates=(("R08-0002", "1000000"),))
    Tender.objects.filter(pk=own.pk).update(submitted_by=holder_login)
    with pytest.raises(DeskError, match="never edited"):
        correct_letter(own.pk, box="signer_name", value="X", reason="x", actor=CLERK, now=DURING)
