"""Helpers for the special-interest tests: record milestones, accrue, read the payments.

The seed offer (tests.factories.build_seed_offer) was issued 2000-02-29, so its
deadlines are 2000-05-29 (filing, 90 days), 2000-07-28 (effective, 150 days) and
2000-08-27 (completed or shelf effective, 180 days); a default from a missed deadline
occurs the next day. Holders of record on every record date (holdings since issue):

    2008 senior notes     Ardsley Pension Trust  6,000,000  TIN certified
                          Margaret Chen            250,000  TIN not certified (31%)
                          Bayside Securities   120,000,000  certified
    2010 senior notes     Margaret Chen            100,000  not certified
                          Bayside Securities    40,000,000  certified
    2010 discount notes   Ardsley Pension Trust  3,000,000  principal amount at maturity
                          Bayside Securities    95,000,000  principal amount at maturity
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from exchange.models import RegistrationEvent, RegistrationEventKind
from exchange.services.registration import record_registration_event
from exchange.special_interest.accrual import AccrualResult, accrue_special_interest
from exchange.special_interest.payments import HolderPayment, build_payment_report
from tests.factories import CLERK, JOB, SeedOffer, ny

K = RegistrationEventKind
D = dt.date


def milestone(seed: SeedOffer, kind: RegistrationEventKind, day: dt.date) -> RegistrationEvent:
    """Record a milestone the evening it happened."""
    return record_registration_event(
        seed.offer.pk,
        kind=kind,
        occurred_on=day,
        actor=CLERK,
        now=ny(day.year, day.month, day.day, 18),
    )


def accrue(seed: SeedOffer, through: dt.date) -> AccrualResult:
    """Accrue as the job would the morning after `through`."""
    morning = through + dt.timedelta(days=1)
    return accrue_special_interest(
        seed.offer.pk,
        through=through,
        actor=JOB,
        now=ny(morning.year, morning.month, morning.day, 0, 5),
    )


def payments(seed: SeedOffer, payment_date: dt.date) -> dict[tuple[str, str], HolderPayment]:
    """(holder name, series slug) -> the payment, for `payment_date`."""
    report = build_payment_report(seed.offer, payment_date)
    return {(p.holder.name, p.series.slug): p for p in report.payments}


def figures(payment: HolderPayment) -> tuple[str, str, str]:
    return (str(payment.gross), str(payment.withholding), str(payment.net))


ARDSLEY = "Ardsley Pension Trust"
CHEN = "Margaret Chen"
BAYSIDE = "Bayside Securities LLC"
S2008 = "2008-senior"
S2010 = "2010-senior"
DISC = "2010-senior-discount"
WITHHOLDING = Decimal("0.31")
