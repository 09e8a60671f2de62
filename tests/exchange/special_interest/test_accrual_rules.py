"""The rate ladder and the 30/360 day: pure functions, checked by hand and by property."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.special_interest.accrual import accrual_days_30_360, rate_on
from exchange.terms.daycount import days_30_360

D = dt.date
START = D(2000, 5, 30)  # day 1 of a stream


@pytest.mark.parametrize(
    ("day", "rate"),
    [
        (D(2000, 5, 30), "0.0050"),  # day 1
        (D(2000, 8, 27), "0.0050"),  # day 90: May 30-31 (2) + June (30) + July (31) + Aug 1-27 (27)
        (D(2000, 8, 28), "0.0075"),  # day 91: the step takes effect at its start
        (D(2000, 11, 25), "0.0075"),  # day 180
        (D(2000, 11, 26), "0.0100"),  # day 181
        (D(2001, 2, 23), "0.0100"),  # day 270
        (D(2001, 2, 24), "0.0100"),  # day 271: would be 1.25%, capped at 1.00%
        (D(2003, 1, 1), "0.0100"),
    ],
)
def test_rate_ladder(day: dt.date, rate: str) -> None:
    assert rate_on(START, day) == Decimal(rate)


def test_no_rate_before_the_stream() -> None:
    with pytest.raises(ValueError):
        rate_on(START, START - dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("day", "days"),
    [
        (D(2000, 5, 30), 1),
        (D(2000, 5, 31), 0),  # the 31st: a month has 30 days
        (D(2000, 6, 30), 1),  # the 30th of a 30-day month
        (D(2000, 2, 28), 1),
        (D(2000, 2, 29), 2),  # leap year: February's last day makes it up to 30
        (D(2001, 2, 28), 3),  # common year
        (D(2000, 12, 31), 0),
    ],
)
def test_each_day_accrues_its_30_360_days(day: dt.date, days: int) -> None:
    assert accrual_days_30_360(day) == days


def test_a_month_accrues_30_days_and_a_half_year_180() -> None:
    def total(start: dt.date, end: dt.date) -> int:
        return sum(accrual_days_30_360(start + dt.timedelta(n)) for n in range((end - start).days))

    assert total(D(2000, 3, 1), D(2000, 4, 1)) == 30
    assert total(D(2000, 2, 1), D(2000, 3, 1)) == 30
    assert total(D(2000, 3, 15), D(2000, 9, 15)) == 180
    assert total(D(2000, 9, 15), D(2001, 3, 15)) == 180
    # March 1 to (excluding) March 31 is 30 days on the bond basis; so is the sum here.
    # days_30_360(d, d + 1) per day would give 29: it counts 0 for the 30th, 1 for the 31st.
    assert days_30_360(D(2000, 3, 1), D(2000, 3, 31)) == 30
    assert total(D(2000, 3, 1), D(2000, 3, 31)) == 30
    assert days_30_360(D(2000, 3, 30), D(2000, 3, 31)) == 0


@given(
    start=st.dates(min_value=D(1999, 1, 1), max_value=D(2012, 12, 31)).filter(
        lambda d: d.day <= 29
    ),
    length=st.integers(min_value=0, max_value=800),
)
def test_days_sum_to_the_bond_basis_for_periods_starting_before_the_30th(
    start: dt.date, length: int
) -> None:
    end = start + dt.timedelta(days=length)
    total = sum(accrual_days_30_360(start + dt.timedelta(n)) for n in range(length))
    assert total == days_30_360(start, end)
