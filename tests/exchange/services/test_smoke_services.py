"""A first walk through the services on the seed offer: receive, validate, withdraw."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchange.models import NoteReturn, StateChange, TenderState
from exchange.services.review import validate_tender
from exchange.services.withdrawals import NoticeOfWithdrawal, receive_withdrawal
from tests.factories import CLERK, SeedOffer, paper_tender


@pytest.mark.django_db
def test_tender_validate_withdraw_records_history(seed: SeedOffer, during_offer) -> None:
    tender = paper_tender(seed, during_offer)
    assert tender.state == TenderState.RECEIVED
    validate_tender(tender.pk, actor=CLERK, now=during_offer)
    receive_withdrawal(
        tender.pk,
        notice=NoticeOfWithdrawal(
            tendering_person_name="Ardsley Pension Trust",
            certificate_numbers="R08-0001",
            amount=Decimal("5000000"),
            states_withdrawal=True,
            registered_holder_name="Ardsley Pension Trust",
            signed_as_letter=True,
        ),
        actor=CLERK,
        now=during_offer,
    )
    tender.refresh_from_db()
    assert tender.state == TenderState.WITHDRAWN
    assert NoteReturn.objects.get(tender=tender).amount == Decimal("5000000")
    actions = list(
        StateChange.objects.filter(
            object_id=tender.pk, action__startswith="exchange.tender"
        ).values_list("action", flat=True)
    )
    assert actions == [
        "exchange.tender.received",
        "exchange.tender.valid",
        "exchange.tender.withdrawn",
    ]
