"""One lock order for every path that claims notes: a letter and the delivery completing a
guaranteed delivery, racing for one certificate with real threads on PostgreSQL, cannot
both claim it (the delivery path used to skip the holder's lock)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections
from django.db.models import Sum

from exchange.models import GuaranteedDeliveryState, TenderedCertificate
from exchange.selectors.reconciliation import reconcile
from exchange.services import guaranteed_deliveries as gd_services
from exchange.services import tenders as tender_services
from exchange.services.guaranteed_deliveries import (
    NoticeOfGuaranteedDelivery,
    fulfil_guaranteed_delivery,
    receive_guaranteed_delivery,
)
from exchange.services.tenders import CertificateTendered
from tests.exchange.services.test_concurrency import _run_concurrently
from tests.factories import CLERK, SeedOffer, complete_letter, ny, paper_tender

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

DURING = ny(2000, 6, 26, 10)


@pytest.fixture(autouse=True)
def _database_restored_after(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    yield
    with django_db_blocker.unblock():
        contents = getattr(connection, "_test_serialized_contents", None)
        if contents:
            connection.creation.deserialize_db_from_string(contents)
        connections.close_all()


def _both_meet_in_the_certificate_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both paths call _match_certificates after taking their locks: make them meet there
    (for at most a second). Without a common lock both pass the check on the same state."""
    meeting = threading.Barrier(2)
    original = tender_services._match_certificates

    def meet_then_match(*args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait(1.0)
        return original(*args, **kwargs)

    monkeypatch.setattr(tender_services, "_match_certificates", meet_then_match)
    monkeypatch.setattr(gd_services, "_match_certificates", meet_then_match)


def test_a_letter_and_a_delivery_cannot_both_claim_one_certificate(
    seed: SeedOffer, monkeypatch: pytest.MonkeyPatch
) -> None:
    gd = receive_guaranteed_delivery(
        offer_id=seed.offer.pk,
        series_id=seed.senior_2008.pk,
        holder_id=seed.registered.pk,
        guarantor_id=seed.guarantor.pk,
        notice=NoticeOfGuaranteedDelivery(
            tendering_holder_name="Ardsley Pension Trust",
            tendering_holder_address="1 Wall Street",
            registered_names="Ardsley Pension Trust",
            certificate_numbers="R08-0002",
            amount=Decimal("1000000"),
            executed_on=DURING.date(),
        ),
        actor=CLERK,
        now=DURING,
    )
    _both_meet_in_the_certificate_check(monkeypatch)
    outcomes = _run_concurrently(
        lambda: fulfil_guaranteed_delivery(
            gd.pk,
            by_book_entry=False,
            certificates=[CertificateTendered("R08-0002", Decimal("1000000"))],
            letter=complete_letter(),
            actor=CLERK,
            now=DURING,
        ),
        lambda: paper_tender(seed, DURING, certificates=(("R08-0002", "1000000"),)),
    )
    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"]
    claimed = TenderedCertificate.objects.filter(certificate_number="R08-0002").aggregate(
        t=Sum("amount")
    )["t"]
    assert claimed == Decimal("1000000")
    gd.refresh_from_db()
    fulfilled = gd.state == GuaranteedDeliveryState.FULFILLED
    assert fulfilled == (outcomes[0][0] == "ok")
    assert all(row.balanced for row in reconcile(seed.offer))
