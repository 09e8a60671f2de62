"""Special interest after an exchange date (README, "Special interest after the exchange"):
while a default runs it is owed on the original notes and the new notes alike, to the
holders of record of each on the record date; the ledger per $1,000 does not change."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from exchange.models import RegistrationEventKind, SpecialInterestAccrual
from exchange.special_interest.accrual import accrue_special_interest
from exchange.special_interest.payments import build_payment_report, report_csv
from holders.models import NotesKind
from tests.exchange.services.test_register import replay
from tests.factories import JOB, ny

M = Decimal("1000000")


@pytest.mark.django_db
def test_a_default_after_the_exchange_date_pays_on_original_and_new_notes() -> None:
    # Two tenders still open after the exchange date keep the exchange from completing:
    # the 180th day (August 27, 2000) passes, a default runs from August 28.
    offer = replay()
    assert not offer.registration_events.filter(
        kind=RegistrationEventKind.EXCHANGE_COMPLETED
    ).exists()
    accrue_special_interest(
        offer.pk, through=dt.date(2000, 9, 14), actor=JOB, now=ny(2000, 9, 15, 0, 5)
    )
    assert SpecialInterestAccrual.objects.filter(offer=offer, day=dt.date(2000, 8, 28)).exists()
    report = build_payment_report(offer, dt.date(2000, 9, 15))
    rows = {(p.holder.name, p.series.slug, p.notes): p for p in report.payments}
    ardsley_old = rows["Ardsley Pension Trust", "2008-senior", NotesKind.ORIGINAL]
    ardsley_new = rows["Ardsley Pension Trust", "2008-senior", NotesKind.NEW]
    assert (ardsley_old.basis, ardsley_new.basis) == (1 * M, 5 * M)
    assert ardsley_new.cusip == "52729NAD2" and ardsley_old.cusip == "52729NAA8"
    # Each row is its own payment, rounded once, at the same per-$1,000 accrual.
    (section,) = [s for s in report.sections if s.series.slug == "2008-senior"]
    assert ardsley_new.gross == section.accrual.gross_for(5 * M)
    assert ardsley_old.gross == section.accrual.gross_for(1 * M)
    chen_new = rows["Margaret Chen", "2010-senior", NotesKind.NEW]
    chen_old = rows["Margaret Chen", "2010-senior", NotesKind.ORIGINAL]
    assert (chen_old.basis, chen_new.basis) == (Decimal("60000"), Decimal("40000"))
    assert chen_new.withholding > 0  # her TIN is still not certified, on the new notes too
    assert (
        rows["Bayside Securities LLC (DTC participant 0901)", "2008-senior", NotesKind.NEW].basis
        == 20 * M
    )
    # The exchange moves no dollar of the basis: what the register held before the
    # exchange date is what is paid on now, original and new together.
    assert section.total_basis == (1 + 5 + 115 + 20) * M + Decimal("250000") + Decimal("750000")
    csv = report_csv(report)
    assert "Ardsley Pension Trust,2008-senior,5000000.00," in csv
    assert ",new,52729NAD2" in csv
