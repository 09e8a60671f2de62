"""Worked examples, computed by hand from the rules and written as arithmetic.

The rules (README "Registration defaults and special interest"):
- deadlines 2000-05-29 (filed), 2000-07-28 (effective), 2000-08-27 (completed or shelf
  effective); a missed deadline is a default from the next day;
- special interest runs from and including the day a default occurs to but excluding
  the day all defaults are cured; 0.50% a year for days 1-90 of the stream, 0.75% for
  days 91-180, 1.00% from day 181 (the cap);
- each day accrues basis x rate x d / 360 per $1,000, d its 30/360 days (1; 0 on the
  31st; February's last day 2 in 2000, 3 in 2001); basis $1,000, or for the discount
  notes their accreted value that day;
- paid on the next March 15 / September 15 to holders of record on March 1 /
  September 1: gross = accrued per $1,000 x held / 1,000 rounded once to cents;
  withholding = 31% of gross, to cents, for Margaret Chen (TIN not certified).

"S" below is the period's sum of basis x rate x d per $1,000 (the ledger keeps it
undivided); the period's accrual per $1,000 is S / 360.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, localcontext

import pytest

from exchange.models import RegistrationDefault, RegistrationDefaultTrigger
from exchange.terms.money import to_cents
from tests.exchange.special_interest.helpers import (
    ARDSLEY,
    BAYSIDE,
    CHEN,
    DISC,
    S2008,
    S2010,
    D,
    K,
    accrue,
    figures,
    milestone,
    payments,
)
from tests.factories import SeedOffer

pytestmark = pytest.mark.django_db


def gross(s: Decimal, held: int) -> Decimal:
    """held x S / 360 / 1,000, rounded once."""
    with localcontext() as ctx:
        ctx.prec = 80
        return to_cents(s * held / 360 / 1000)


def on_time_registration(seed: SeedOffer) -> None:
    milestone(seed, K.EXCHANGE_FILED, D(2000, 4, 14))
    milestone(seed, K.EXCHANGE_EFFECTIVE, D(2000, 6, 9))


def late_filing_only(seed: SeedOffer) -> None:
    """Example 1's milestones: filed June 2 (default May 30 to June 1), the rest on time."""
    milestone(seed, K.EXCHANGE_FILED, D(2000, 6, 2))
    milestone(seed, K.EXCHANGE_EFFECTIVE, D(2000, 6, 9))
    milestone(seed, K.EXCHANGE_COMPLETED, D(2000, 7, 13))


# --- 1. a late filing cured within days --------------------------------------------------------


def test_example_1_late_filing_cured_within_days(seed: SeedOffer) -> None:
    """Filed June 2 instead of by May 29: default May 30, cured June 2.

    Days accrued: May 30 (1), May 31 (0: the 31st), June 1 (1) = 2 days at 0.50%.
    S = 1,000 x 0.005 x 2 = 10, so $10 / 360 = $0.02777... per $1,000.
    """
    late_filing_only(seed)
    accrue(seed, D(2000, 9, 14))

    [default] = RegistrationDefault.objects.filter(offer=seed.offer)
    assert (default.trigger, default.occurred_on, default.cured_on) == (
        RegistrationDefaultTrigger.NOT_FILED,
        D(2000, 5, 30),
        D(2000, 6, 2),
    )
    paid = payments(seed, D(2000, 9, 15))  # record date 2000-09-01
    s = Decimal(1000) * Decimal("0.005") * 2
    assert s == 10
    # Ardsley 6,000,000 x 10 / 360,000 = 166.666... -> 166.67, certified TIN.
    assert gross(s, 6_000_000) == Decimal("166.67")
    assert figures(paid[(ARDSLEY, S2008)]) == ("166.67", "0.00", "166.67")
    # Chen 250,000 x 10 / 360,000 = 6.9444... -> 6.94; 6.94 x 31% = 2.1514 -> 2.15.
    assert figures(paid[(CHEN, S2008)]) == ("6.94", "2.15", "4.79")
    # Bayside 120,000,000 x 10 / 360,000 = 3,333.333... -> 3,333.33.
    assert figures(paid[(BAYSIDE, S2008)]) == ("3333.33", "0.00", "3333.33")
    # Chen 100,000 of the 2010s: 2.777... -> 2.78; 2.78 x 31% = 0.8618 -> 0.86.
    assert figures(paid[(CHEN, S2010)]) == ("2.78", "0.86", "1.92")
    # Bayside 40,000,000: 1,111.111... -> 1,111.11.
    assert figures(paid[(BAYSIDE, S2010)]) == ("1111.11", "0.00", "1111.11")
    for p in paid.values():
        assert (p.days, p.rate_steps) == (2, "0.50%")
    # Completed in time, so nothing more: the March 2001 payment has no special interest.
    accrue(seed, D(2001, 3, 14))
    assert payments(seed, D(2001, 3, 15)) == {}


# --- 2. completion missed by months: a rate step and a payment date ------------------------


def test_example_2_completion_late_by_months_crosses_a_step_and_a_payment_date(
    seed: SeedOffer,
) -> None:
    """Filed and effective in time, completed December 20 instead of by August 27.

    Default August 28 (day 1); day 90 is November 25 (Aug 28-31: 4, Sep: 30, Oct: 31,
    Nov 1-25: 25); 0.75% from November 26 (day 91); cured December 20.
    """
    on_time_registration(seed)
    milestone(seed, K.EXCHANGE_COMPLETED, D(2000, 12, 20))
    accrue(seed, D(2001, 3, 14))

    # Paid 2000-09-15: Aug 28, 29, 30 (3) + Aug 31 (0) + Sep 1-14 (14) = 17 days at 0.50%.
    # S = 1,000 x 0.005 x 17 = 85.
    september = payments(seed, D(2000, 9, 15))
    s1 = Decimal(1000) * Decimal("0.005") * 17
    assert s1 == 85
    # Ardsley: 6,000,000 x 85 / 360,000 = 1,416.666... -> 1,416.67.
    assert gross(s1, 6_000_000) == Decimal("1416.67")
    assert figures(september[(ARDSLEY, S2008)]) == ("1416.67", "0.00", "1416.67")
    # Chen: 250,000 x 85 / 360,000 = 59.0277... -> 59.03; x 31% = 18.2993 -> 18.30.
    assert figures(september[(CHEN, S2008)]) == ("59.03", "18.30", "40.73")
    assert (september[(CHEN, S2008)].days, september[(CHEN, S2008)].rate_steps) == (17, "0.50%")

    # Paid 2001-03-15: Sep 15 - Nov 25 at 0.50% = 30/360 days(Sep 15, Nov 26) = 71;
    # Nov 26 - Dec 19 at 0.75% = days(Nov 26, Dec 20) = 24; 95 days in all.
    # S = 1,000 x (0.005 x 71 + 0.0075 x 24) = 355 + 180 = 535.
    march = payments(seed, D(2001, 3, 15))
    s2 = Decimal(1000) * (Decimal("0.005") * 71 + Decimal("0.0075") * 24)
    assert s2 == 535
    # Ardsley: 6,000,000 x 535 / 360,000 = 8,916.666... -> 8,916.67.
    assert figures(march[(ARDSLEY, S2008)]) == ("8916.67", "0.00", "8916.67")
    # Chen: 250,000 x 535 / 360,000 = 371.527... -> 371.53; x 31% = 115.1743 -> 115.17.
    assert figures(march[(CHEN, S2008)]) == ("371.53", "115.17", "256.36")
    # Bayside 2010s: 40,000,000 x 535 / 360,000 = 59,444.444... -> 59,444.44.
    assert figures(march[(BAYSIDE, S2010)]) == ("59444.44", "0.00", "59444.44")
    assert (march[(ARDSLEY, S2008)].days, march[(ARDSLEY, S2008)].rate_steps) == (
        95,
        "0.50%;0.75%",
    )


# --- 3. a default reaching the cap --------------------------------------------------------------


def test_example_3_default_reaching_the_cap(seed: SeedOffer) -> None:
    """Nothing filed until a shelf on October 2; the shelf effective only April 2, 2001.

    Not filed from May 30, not effective from July 29, not completed from August 28:
    overlapping, one stream from May 30 (day 1) to April 1, 2001. Day 91 is August 28
    (0.75%), day 181 November 26 (1.00%), day 271 February 24, 2001 (capped: 1.00%).
    """
    milestone(seed, K.SHELF_FILED, D(2000, 10, 2))
    milestone(seed, K.SHELF_EFFECTIVE, D(2001, 4, 2))
    accrue(seed, D(2001, 9, 14))

    triggers = set(
        RegistrationDefault.objects.filter(offer=seed.offer).values_list("trigger", "cured_on")
    )
    assert triggers == {
        (RegistrationDefaultTrigger.NOT_FILED, D(2000, 10, 2)),
        (RegistrationDefaultTrigger.NOT_EFFECTIVE, D(2001, 4, 2)),
        (RegistrationDefaultTrigger.NOT_COMPLETED, D(2001, 4, 2)),
    }

    # 2000-09-15: May 30 - Aug 27 at 0.50%: days(May 30, Aug 28) = 90 - 2 = 88;
    # Aug 28 - Sep 14 at 0.75%: 17. S = 5 x 88 + 7.5 x 17 = 440 + 127.5 = 567.5.
    first = payments(seed, D(2000, 9, 15))
    s1 = 5 * Decimal(88) + Decimal("7.5") * 17
    assert s1 == Decimal("567.5")
    # Bayside 120,000,000 x 567.5 / 360,000 = 189,166.666... -> 189,166.67.
    assert figures(first[(BAYSIDE, S2008)]) == ("189166.67", "0.00", "189166.67")
    assert (first[(BAYSIDE, S2008)].days, first[(BAYSIDE, S2008)].rate_steps) == (
        105,
        "0.50%;0.75%",
    )

    # 2001-03-15: Sep 15 - Nov 25 at 0.75%: 71; Nov 26 - Feb 23 at 1.00%:
    # days(Nov 26, Feb 24, 2001) = 360 - 270 - 2 = 88; Feb 24 - Mar 14 still 1.00% (cap):
    # Feb 24-27 (4) + Feb 28, 2001 (3) + Mar 1-14 (14) = 21. 71 + 88 + 21 = 180.
    # S = 7.5 x 71 + 10 x (88 + 21) = 532.5 + 1,090 = 1,622.5.
    second = payments(seed, D(2001, 3, 15))
    s2 = Decimal("7.5") * 71 + 10 * Decimal(88 + 21)
    assert s2 == Decimal("1622.5")
    # Chen 250,000 x 1,622.5 / 360,000 = 1,126.736... -> 1,126.74; x 31% = 349.2894 -> 349.29.
    assert figures(second[(CHEN, S2008)]) == ("1126.74", "349.29", "777.45")
    assert (second[(CHEN, S2008)].days, second[(CHEN, S2008)].rate_steps) == (180, "0.75%;1.00%")

    # 2001-09-15: Mar 15 - Apr 1 at 1.00%: days(Mar 15, Apr 2) = 17. S = 10 x 17 = 170.
    third = payments(seed, D(2001, 9, 15))
    # Ardsley 6,000,000 x 170 / 360,000 = 2,833.333... -> 2,833.33.
    assert figures(third[(ARDSLEY, S2008)]) == ("2833.33", "0.00", "2833.33")
    assert (third[(ARDSLEY, S2008)].days, third[(ARDSLEY, S2008)].rate_steps) == (17, "1.00%")
    # And never above the cap.
    assert max(p.rate_steps for p in third.values()) == "1.00%"


# --- 4. a default on the discount notes -----------------------------------------------------------


def test_example_4_discount_notes_accrue_on_the_accreted_value_of_each_day(
    seed: SeedOffer,
) -> None:
    """Completed on time; the registration statement unusable October 2 to 11, 2000.

    Ten days at 0.50%, none a 31st. The discount notes' basis is the accreted value per
    $1,000 principal amount at maturity of each day: $533.08 at issue (Feb 29), accreting
    at 12 7/8% (half-year 6.4375%) compounded on March 15 and September 15, daily 30/360:

        A(Sep 15, 2000) = 533.08 x (1 + 0.064375 x 16/180) x (1 + 0.064375 x 180/180)
        A(Oct d)        = A(Sep 15) x (1 + 0.064375 x k/180), k = days(Sep 15, Oct d) = 15 + d

    For October 2..11, k = 17..26 (sum 215), so
        S = 0.005 x A(Sep 15) x (10 + 0.064375 x 215 / 180).
    """
    on_time_registration(seed)
    milestone(seed, K.EXCHANGE_COMPLETED, D(2000, 7, 13))
    milestone(seed, K.CEASED_USABLE, D(2000, 10, 2))
    milestone(seed, K.USABLE_AGAIN, D(2000, 10, 12))
    accrue(seed, D(2001, 3, 14))

    with localcontext() as ctx:
        ctx.prec = 34
        half = Decimal("0.064375")
        a_sep15 = Decimal("533.08") * (1 + half * 16 / 180) * (1 + half * 180 / 180)
        s = Decimal("0.005") * a_sep15 * (10 + half * 215 / 180)
    # A(Sep 15, 2000) = 570.6437... ; S / 360 = 0.0798655... per $1,000 at maturity.
    assert to_cents(a_sep15) == Decimal("570.64")
    paid = payments(seed, D(2001, 3, 15))
    # Ardsley 3,000,000 at maturity x S / 360,000 = 239.596... -> 239.60.
    assert gross(s, 3_000_000) == Decimal("239.60")
    assert figures(paid[(ARDSLEY, DISC)]) == ("239.60", "0.00", "239.60")
    # Bayside 95,000,000 x S / 360,000 = 7,587.22.
    assert figures(paid[(BAYSIDE, DISC)]) == ("7587.22", "0.00", "7587.22")
    assert paid[(BAYSIDE, DISC)].basis == Decimal("95000000")
    # The notes issued at par get $1,000 x 0.005 x 10 = 50: Ardsley 6,000,000 x 50 / 360,000.
    assert figures(paid[(ARDSLEY, S2008)]) == ("833.33", "0.00", "833.33")
    assert (paid[(ARDSLEY, DISC)].days, paid[(ARDSLEY, DISC)].rate_steps) == (10, "0.50%")


# --- 5. a cure, then a new default ------------------------------------------------------------


def test_example_5_a_new_default_after_a_full_cure_starts_again_at_050(seed: SeedOffer) -> None:
    """Completion late (August 28 to December 19, reaching 0.75% on November 26), then the
    statement unusable January 10 to 19, 2001: a new stream, at 0.50% again, not 0.75%."""
    on_time_registration(seed)
    milestone(seed, K.EXCHANGE_COMPLETED, D(2000, 12, 20))
    milestone(seed, K.CEASED_USABLE, D(2001, 1, 10))
    milestone(seed, K.USABLE_AGAIN, D(2001, 1, 20))
    accrue(seed, D(2001, 3, 14))

    # 2001-03-15: first stream as in example 2 (71 days at 0.50%, 24 at 0.75%: S = 535),
    # then Jan 10-19 at 0.50%: 10 days, 1,000 x 0.005 x 10 = 50. S = 585, 105 days.
    paid = payments(seed, D(2001, 3, 15))
    s = Decimal(535) + Decimal(1000) * Decimal("0.005") * 10
    assert s == 585
    # Ardsley 6,000,000 x 585 / 360,000 = 9,750.00 exactly.
    assert figures(paid[(ARDSLEY, S2008)]) == ("9750.00", "0.00", "9750.00")
    # Chen's 2010s: 100,000 x 585 / 360,000 = 162.50; 31% = 50.375, half a cent: up, 50.38.
    assert figures(paid[(CHEN, S2010)]) == ("162.50", "50.38", "112.12")
    assert (paid[(CHEN, S2010)].days, paid[(CHEN, S2010)].rate_steps) == (
        105,
        "0.50%;0.75%;0.50%",
    )


def test_a_default_the_day_another_is_cured_continues_at_the_stream_rate(
    seed: SeedOffer,
) -> None:
    """Contrast with example 5: unusable from December 20, the very day completion cured
    the first default. No day passed with every default cured: one stream, still 0.75%."""
    on_time_registration(seed)
    milestone(seed, K.EXCHANGE_COMPLETED, D(2000, 12, 20))
    milestone(seed, K.CEASED_USABLE, D(2000, 12, 20))
    milestone(seed, K.USABLE_AGAIN, D(2000, 12, 30))
    accrue(seed, D(2001, 3, 14))

    # Dec 20-29 at 0.75%: 10 days, 7.5 x 10 = 75. S = 535 + 75 = 610.
    paid = payments(seed, D(2001, 3, 15))
    # Ardsley 6,000,000 x 610 / 360,000 = 10,166.666... -> 10,166.67.
    assert figures(paid[(ARDSLEY, S2008)]) == ("10166.67", "0.00", "10166.67")
    assert paid[(ARDSLEY, S2008)].rate_steps == "0.50%;0.75%"
    assert paid[(ARDSLEY, S2008)].days == 105


def test_completed_on_time_no_special_interest(seed: SeedOffer) -> None:
    on_time_registration(seed)
    milestone(seed, K.EXCHANGE_COMPLETED, D(2000, 7, 13))
    result = accrue(seed, D(2001, 3, 14))
    assert result.added == 0
    assert not RegistrationDefault.objects.exists()
    report = payments(seed, D(2000, 9, 15))
    assert report == {}


def test_exempt_payees_have_nothing_withheld(seed: SeedOffer) -> None:
    seed.second_registered.tin_status = "exempt"
    seed.second_registered.save(update_fields=["tin_status"])
    late_filing_only(seed)
    accrue(seed, D(2000, 9, 14))
    paid = payments(seed, D(2000, 9, 15))
    assert figures(paid[(CHEN, S2008)]) == ("6.94", "0.00", "6.94")


def test_holders_of_record_on_the_record_date_are_paid(seed: SeedOffer) -> None:
    """A transfer after the record date does not move the payment; one before does."""
    from holders.models import Holding

    late_filing_only(seed)
    accrue(seed, D(2000, 9, 14))
    chen = Holding.objects.get(certificate_number="R08-0003")
    # Chen sells to Ardsley on September 5, after the September 1 record date.
    Holding.objects.filter(pk=chen.pk).update(effective_until=D(2000, 9, 5))
    Holding.objects.create(
        holder=seed.registered,
        series=seed.senior_2008,
        form="certificate",
        certificate_number="R08-0009",
        amount=Decimal("250000"),
        effective_from=D(2000, 9, 5),
    )
    paid = payments(seed, D(2000, 9, 15))
    assert figures(paid[(CHEN, S2008)]) == ("6.94", "2.15", "4.79")
    assert paid[(ARDSLEY, S2008)].basis == Decimal("6000000")
    # Had it been August 25, before the record date, Ardsley would hold 6,250,000:
    # 6,250,000 x 10 / 360,000 = 173.611... -> 173.61.
    Holding.objects.filter(pk=chen.pk).update(effective_until=D(2000, 8, 25))
    Holding.objects.filter(certificate_number="R08-0009").update(effective_from=D(2000, 8, 25))
    paid = payments(seed, D(2000, 9, 15))
    assert (CHEN, S2008) not in paid
    assert figures(paid[(ARDSLEY, S2008)]) == ("173.61", "0.00", "173.61")
    assert paid[(ARDSLEY, S2008)].basis == Decimal("6250000")


def test_the_payment_date_must_be_an_interest_payment_date(seed: SeedOffer) -> None:
    from exchange.services.base import DeskError
    from exchange.special_interest.payments import build_payment_report

    with pytest.raises(DeskError, match="not an interest payment date"):
        build_payment_report(seed.offer, dt.date(2000, 9, 1))
