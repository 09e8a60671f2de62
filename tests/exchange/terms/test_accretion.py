"""Accreted Value of the Level 3 12 7/8% senior discount notes, figured by hand.

Expected values are written out as the indenture's arithmetic, at the desk's
working precision, so a reader can check each one without the code under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal, localcontext
from typing import Any

import pytest

from exchange.terms.accretion import accreted_value_per_1000, accreted_value_per_1000_cents
from exchange.terms.money import WORKING_PRECISION, to_cents

ISSUE_DATE = date(2000, 2, 29)
FULL_ACCRETION_DATE = date(2005, 3, 15)

TERMS: dict[str, Any] = {
    "issue_date": ISSUE_DATE,
    "issue_price": Decimal("533.08"),
    "annual_rate": Decimal("0.12875"),  # 12 7/8% per annum
    "compounding_dates": [(3, 15), (9, 15)],
    "full_accretion_date": FULL_ACCRETION_DATE,
}

# Half the annual rate: what one full 180-day semiannual period accrues.
HALF = Decimal("0.064375")


def value(on: date) -> Decimal:
    return accreted_value_per_1000(on, **TERMS)


def cents(on: date) -> Decimal:
    return accreted_value_per_1000_cents(on, **TERMS)


@pytest.fixture(autouse=True)
def working_precision() -> Iterator[None]:
    # Hand figures below use the same precision as the code, so they match exactly.
    with localcontext() as ctx:
        ctx.prec = WORKING_PRECISION
        yield


def at_first_compounding() -> Decimal:
    # Short first period: 2000-02-29 -> 2000-03-15 is 16 days on the bond basis.
    return Decimal("533.08") * (1 + HALF * 16 / 180)


def test_at_issue_is_issue_price() -> None:
    assert value(ISSUE_DATE) == Decimal("533.08")
    assert cents(ISSUE_DATE) == Decimal("533.08")


def test_first_compounding_date() -> None:
    expected = Decimal("533.08") * (1 + Decimal("0.064375") * 16 / 180)
    assert value(date(2000, 3, 15)) == expected
    assert cents(date(2000, 3, 15)) == Decimal("536.13")


def test_mid_period_amortizes_daily() -> None:
    # 2000-03-15 -> 2000-07-12: 30 * 4 + (12 - 15) = 117 days.
    expected = at_first_compounding() * (1 + HALF * 117 / 180)
    assert value(date(2000, 7, 12)) == expected
    assert cents(date(2000, 7, 12)) == Decimal("558.56")
    # One more day adds one day's simple accrual on the period's opening value.
    one_day = value(date(2000, 7, 13)) - value(date(2000, 7, 12))
    assert abs(one_day - at_first_compounding() * HALF / 180) < Decimal("1e-25")


def test_second_compounding_date() -> None:
    expected = Decimal("533.08") * (1 + HALF * 16 / 180) * (1 + HALF)
    assert value(date(2000, 9, 15)) == expected
    assert cents(date(2000, 9, 15)) == Decimal("570.64")


def test_third_compounding_date() -> None:
    expected = Decimal("533.08") * (1 + HALF * 16 / 180) * (1 + HALF) * (1 + HALF)
    assert value(date(2001, 3, 15)) == expected
    assert cents(date(2001, 3, 15)) == Decimal("607.38")


def test_last_compounding_before_full_accretion() -> None:
    # 2000-03-15 then nine full periods to 2004-09-15.
    expected = at_first_compounding()
    for _ in range(9):
        expected = expected * (1 + HALF)
    assert value(date(2004, 9, 15)) == expected
    assert cents(date(2004, 9, 15)) == Decimal("939.99")


def test_day_before_full_accretion_is_capped_at_principal() -> None:
    at_2004_09_15 = at_first_compounding()
    for _ in range(9):
        at_2004_09_15 = at_2004_09_15 * (1 + HALF)
    # 2004-09-15 -> 2005-03-14: 30 * 6 + (14 - 15) = 179 days.
    uncapped = at_2004_09_15 * (1 + HALF * 179 / 180)
    # The "approximately 12 7/8%" rate overshoots $1,000 by about 16 cents here ...
    assert to_cents(uncapped) == Decimal("1000.16")
    # ... so the Accreted Value is held at the principal amount at maturity.
    assert value(date(2005, 3, 14)) == Decimal("1000")
    assert cents(date(2005, 3, 14)) == Decimal("1000.00")
    # Two days before, 178 days in, the arithmetic is still under $1,000: no cap.
    two_days_before = at_2004_09_15 * (1 + HALF * 178 / 180)
    assert two_days_before < 1000
    assert value(date(2005, 3, 13)) == two_days_before
    assert cents(date(2005, 3, 13)) == Decimal("999.83")


@pytest.mark.parametrize(
    "on", [FULL_ACCRETION_DATE, date(2005, 3, 16), date(2007, 9, 15), date(2010, 3, 15)]
)
def test_on_or_after_full_accretion_is_principal(on: date) -> None:
    assert value(on) == Decimal("1000")
    assert cents(on) == Decimal("1000.00")


def test_principal_at_maturity_is_configurable() -> None:
    on = date(2005, 3, 14)
    assert accreted_value_per_1000(on, **TERMS, principal_at_maturity=Decimal("1001")) < 1001
    assert accreted_value_per_1000(
        FULL_ACCRETION_DATE, **TERMS, principal_at_maturity=Decimal("1001")
    ) == Decimal("1001")


def test_before_issue_raises() -> None:
    with pytest.raises(ValueError, match=r"2000-02-28.*issued on 2000-02-29"):
        value(date(2000, 2, 28))


def test_monotonic_non_decreasing_day_by_day() -> None:
    previous = value(ISSUE_DATE)
    day = ISSUE_DATE
    while day <= FULL_ACCRETION_DATE:
        current = value(day)
        assert current >= previous, day
        assert current <= Decimal("1000"), day
        assert cents(day) == to_cents(current), day
        previous = current
        day += timedelta(days=1)
    assert previous == Decimal("1000")


def test_rounds_to_cents_half_up_only_at_the_edge() -> None:
    unrounded = value(date(2000, 3, 15))
    # 536.13040222...: the unrounded value carries full working precision.
    assert unrounded != to_cents(unrounded)
    assert to_cents(unrounded) == Decimal("536.13")
    assert cents(date(2000, 3, 15)).as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"annual_rate": Decimal("0")}, ValueError),
        ({"annual_rate": Decimal("-0.12875")}, ValueError),
        ({"issue_price": Decimal("0")}, ValueError),
        ({"issue_price": Decimal("-533.08")}, ValueError),
        ({"issue_price": Decimal("1000.01")}, ValueError),
        ({"issue_price": Decimal("NaN")}, ValueError),
        ({"principal_at_maturity": Decimal("0")}, ValueError),
        ({"full_accretion_date": ISSUE_DATE}, ValueError),
        ({"compounding_dates": []}, ValueError),
        ({"compounding_dates": [(13, 15), (9, 15)]}, ValueError),
        ({"compounding_dates": [(2, 30), (9, 15)]}, ValueError),
        ({"compounding_dates": [(2, 29), (8, 29)]}, ValueError),  # not every year
        ({"compounding_dates": [(3, 15), (3, 15)]}, ValueError),
        ({"issue_price": 533.08}, TypeError),  # floats never reach money
        ({"annual_rate": 0.12875}, TypeError),
    ],
)
def test_invalid_terms_rejected(change: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        accreted_value_per_1000(date(2001, 1, 1), **{**TERMS, **change})
