"""30/360 US bond basis (ISDA 2006 4.16(f)): the indenture's "twelve 30-day months"."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, localcontext

import pytest

from exchange.terms.daycount import days_30_360, year_fraction_30_360
from exchange.terms.money import WORKING_PRECISION


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Every month counts 30 days, whatever its length.
        (date(2001, 1, 15), date(2001, 2, 15), 30),
        (date(2001, 2, 15), date(2001, 3, 15), 30),
        (date(2001, 4, 30), date(2001, 5, 30), 30),
        (date(2001, 1, 1), date(2001, 1, 31), 30),
        # Same day: nothing accrues.
        (date(2001, 1, 31), date(2001, 1, 31), 0),
    ],
)
def test_months_are_thirty_days(start: date, end: date, expected: int) -> None:
    assert days_30_360(start, end) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # D1 = 31 becomes 30: 30 * 1 + (28 - 30).
        (date(2001, 1, 31), date(2001, 2, 28), 28),
        # D1 = 31 -> 30, then D2 = 31 -> 30 because D1 is now 30.
        (date(2001, 1, 31), date(2001, 3, 31), 60),
        (date(2001, 7, 31), date(2001, 8, 31), 30),
        # D1 = 30 already, so D2 = 31 -> 30.
        (date(2001, 4, 30), date(2001, 5, 31), 30),
        (date(2001, 1, 30), date(2001, 3, 31), 60),
        # D1 below 30: D2 = 31 stays 31, so the 31st counts a day.
        (date(2001, 1, 15), date(2001, 3, 31), 76),
        (date(2001, 5, 1), date(2001, 5, 31), 30),
        (date(2001, 7, 30), date(2001, 7, 31), 0),
        (date(2001, 7, 29), date(2001, 7, 31), 2),
        # 31st to 1st: 30 * 1 + (1 - 30).
        (date(2001, 7, 31), date(2001, 8, 1), 1),
    ],
)
def test_thirty_first_rules(start: date, end: date, expected: int) -> None:
    assert days_30_360(start, end) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # The notes' first, short period: 30 * 1 + (15 - 29).
        (date(2000, 2, 29), date(2000, 3, 15), 16),
        # No February end-of-month adjustment on the bond basis (that is the SIA variant).
        (date(2001, 2, 28), date(2001, 3, 1), 3),
        (date(2000, 2, 28), date(2000, 3, 1), 3),
        (date(2000, 2, 28), date(2000, 2, 29), 1),
        (date(2000, 2, 29), date(2000, 3, 1), 2),
        (date(2000, 2, 29), date(2000, 3, 31), 32),
        (date(2001, 2, 28), date(2001, 3, 31), 33),
        (date(2000, 2, 29), date(2000, 8, 31), 182),
        # Leap day to the next February's end is a day short of a year: 360 + (28 - 29).
        (date(2000, 2, 29), date(2001, 2, 28), 359),
        # A whole February is 30 days, leap year or not.
        (date(2000, 2, 1), date(2000, 3, 1), 30),
        (date(2001, 2, 1), date(2001, 3, 1), 30),
    ],
)
def test_february(start: date, end: date, expected: int) -> None:
    assert days_30_360(start, end) == expected


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2000, 3, 15), date(2001, 3, 15)),
        (date(2000, 1, 1), date(2001, 1, 1)),  # through a leap day
        (date(2001, 1, 1), date(2002, 1, 1)),
        (date(2000, 12, 31), date(2001, 12, 31)),
    ],
)
def test_a_year_is_360_days(start: date, end: date) -> None:
    assert days_30_360(start, end) == 360


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2000, 3, 15), date(2000, 9, 15)),
        (date(2000, 9, 15), date(2001, 3, 15)),  # across February
        (date(2004, 9, 15), date(2005, 3, 15)),
    ],
)
def test_a_half_year_is_180_days(start: date, end: date) -> None:
    assert days_30_360(start, end) == 180


def test_reversed_dates_count_negative() -> None:
    assert days_30_360(date(2000, 9, 15), date(2000, 3, 15)) == -180


def test_year_fraction() -> None:
    assert year_fraction_30_360(date(2000, 3, 15), date(2000, 9, 15)) == Decimal("0.5")
    assert year_fraction_30_360(date(2000, 3, 15), date(2001, 3, 15)) == Decimal("1")
    with localcontext() as ctx:
        ctx.prec = WORKING_PRECISION
        sixteen_days = Decimal(16) / 360
    assert year_fraction_30_360(date(2000, 2, 29), date(2000, 3, 15)) == sixteen_days
    assert isinstance(year_fraction_30_360(date(2000, 1, 1), date(2000, 1, 2)), Decimal)
