"""Reconciliation also proves that no certificate and no holder position is tendered above
its amount, and fails when one is, whatever wrote the claim."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from exchange.models import TenderedCertificate
from exchange.selectors.reconciliation import reconcile
from tests.factories import SeedOffer, book_entry_tender, ny, paper_tender

pytestmark = pytest.mark.django_db

DURING = ny(2000, 6, 26, 10)


def _row(seed: SeedOffer, slug: str = "2008-senior"):  # type: ignore[no-untyped-def]
    return next(r for r in reconcile(seed.offer) if r.series.slug == slug)


def test_a_certificate_tendered_twice_fails_reconciliation(seed: SeedOffer) -> None:
    first = paper_tender(seed, DURING, certificates=(("R08-0002", "1000000"),))
    assert _row(seed).balanced
    call_command("reconcile", seed.offer.slug)
    # A second claim on R08-0002 written past the services (what the race in the delivery
    # path produced): the sums still balance, the certificate does not.
    second = paper_tender(seed, DURING, certificates=(("R08-0001", "1000000"),))
    TenderedCertificate.objects.filter(tender=second).update(
        certificate_number="R08-0002",
        holding=TenderedCertificate.objects.get(tender=first).holding,
    )
    row = _row(seed)
    assert not row.balanced
    assert row.tendered == row.pending  # the old check alone said "balanced"
    assert any(
        "certificate R08-0002 tendered for $2,000,000.00, more than its $1,000,000.00" in a
        for a in row.anomalies
    )
    with pytest.raises(CommandError, match="2008-senior"):
        call_command("reconcile", seed.offer.slug)


def test_a_position_tendered_above_its_amount_fails_reconciliation(seed: SeedOffer) -> None:
    tender = book_entry_tender(seed, DURING, amount="100000000")
    assert _row(seed).balanced
    type(tender).objects.filter(pk=tender.pk).update(amount=Decimal("130000000"))
    row = _row(seed)
    assert not row.balanced
    assert any(
        "Bayside Securities LLC tendered $130,000,000.00, more than the $120,000,000.00" in a
        for a in row.anomalies
    )


def test_a_partial_withdrawal_frees_what_it_took_back(seed: SeedOffer) -> None:
    # Claims are live amounts: tendered less withdrawn.
    paper_tender(seed, DURING, certificates=(("R08-0002", "1000000"),))
    TenderedCertificate.objects.filter(certificate_number="R08-0002").update(
        withdrawn_amount=Decimal("1000000")
    )
    assert not any("R08-0002" in a for a in _row(seed).anomalies)
