"""Accreted Value of senior discount notes, per $1,000 principal amount at maturity.

Pure functions: no models, no database, so the figures can be checked by hand.

The indenture (Level 3 senior discount notes due 2010, prospectus "Definitions -
Accreted Value") defines the value as the issue price ($533.08 per $1,000 principal
amount at maturity on the issue date, 2000-02-29) plus original issue discount
"amortized on a daily basis and compounded semiannually on each March 15 and
September 15 at a rate of 12 7/8% per annum from the Issue Date through the date of
determination on the basis of a 360-day year of twelve 30-day months", and on or
after the full-accretion date (2005-03-15) the principal amount at maturity.

Nothing here rounds: callers get the unrounded Decimal, or cents via ``to_cents``
from ``accreted_value_per_1000_cents``, so rounding happens once, at the edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal, localcontext

from exchange.terms.daycount import days_30_360
from exchange.terms.money import PER_THOUSAND, WORKING_PRECISION, to_cents

# A semiannual period on the 30/360 basis; the indenture's rate is per annum and
# compounds twice a year, so each full period accrues annual_rate / 2.
DAYS_IN_SEMIANNUAL_PERIOD = 180

# Any non-leap year: a compounding date has to exist every year, so February 29
# is refused by validating against a year that lacks it.
_NON_LEAP_YEAR = 2001


def _validate(
    *,
    issue_date: date,
    issue_price: Decimal,
    annual_rate: Decimal,
    compounding_dates: Sequence[tuple[int, int]],
    full_accretion_date: date,
    principal_at_maturity: Decimal,
) -> tuple[tuple[int, int], ...]:
    """Check the note's terms; return the compounding dates sorted within a year."""
    # Floats would silently bring binary rounding into money; refuse them outright.
    for name, amount in (
        ("issue_price", issue_price),
        ("annual_rate", annual_rate),
        ("principal_at_maturity", principal_at_maturity),
    ):
        if not isinstance(amount, Decimal):
            raise TypeError(f"{name} must be a Decimal, not {type(amount).__name__}")
        if not amount.is_finite():
            raise ValueError(f"{name} must be a finite Decimal, got {amount}")
    if issue_price <= 0:
        raise ValueError(f"issue_price must be positive, got {issue_price}")
    if annual_rate <= 0:
        raise ValueError(f"annual_rate must be positive, got {annual_rate}")
    if principal_at_maturity <= 0:
        raise ValueError(f"principal_at_maturity must be positive, got {principal_at_maturity}")
    if issue_price > principal_at_maturity:
        # A discount note is issued below its principal amount at maturity.
        raise ValueError(
            f"issue_price {issue_price} exceeds principal_at_maturity {principal_at_maturity}"
        )
    if full_accretion_date <= issue_date:
        raise ValueError(
            f"full_accretion_date {full_accretion_date} must be after issue_date {issue_date}"
        )
    if not compounding_dates:
        raise ValueError("compounding_dates must name at least one (month, day)")
    for month_day in compounding_dates:
        if len(month_day) != 2:
            raise ValueError(f"compounding date {month_day!r} must be a (month, day) pair")
        month, day = month_day
        try:
            date(_NON_LEAP_YEAR, month, day)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"compounding date (month={month!r}, day={day!r}) is not a day of every year"
            ) from exc
    ordered = tuple(sorted((int(m), int(d)) for m, d in compounding_dates))
    if len(set(ordered)) != len(ordered):
        raise ValueError(f"compounding_dates repeat a date: {list(compounding_dates)!r}")
    return ordered


def _compounding_dates_between(
    after: date, through: date, month_days: Sequence[tuple[int, int]]
) -> list[date]:
    """Compounding dates d with after < d <= through, in order."""
    found: list[date] = []
    for year in range(after.year, through.year + 1):
        for month, day in month_days:
            candidate = date(year, month, day)
            if after < candidate <= through:
                found.append(candidate)
    return found


def accreted_value_per_1000(
    on: date,
    *,
    issue_date: date,
    issue_price: Decimal,
    annual_rate: Decimal,
    compounding_dates: Sequence[tuple[int, int]],
    full_accretion_date: date,
    principal_at_maturity: Decimal = PER_THOUSAND,
) -> Decimal:
    """Accreted Value on ``on`` per $1,000 principal amount at maturity, unrounded.

    The value starts at ``issue_price`` on ``issue_date``. Each accrual period runs
    from one compounding date (or the issue date, for a short first period) to the
    next. Within a period the discount amortizes daily and simply:

        value = value_at_period_start * (1 + annual_rate / 2 * days / 180)

    with days on the 30/360 bond basis from the period start to ``on``; a short
    first period uses the same formula with its own 30/360 days. On each
    compounding date the period's whole accrual joins the base (compounding).

    On or after ``full_accretion_date`` the value is ``principal_at_maturity``.
    Raises ValueError for a date before issue or invalid terms.
    """
    month_days = _validate(
        issue_date=issue_date,
        issue_price=issue_price,
        annual_rate=annual_rate,
        compounding_dates=compounding_dates,
        full_accretion_date=full_accretion_date,
        principal_at_maturity=principal_at_maturity,
    )
    if on < issue_date:
        raise ValueError(f"no Accreted Value on {on}: the notes were issued on {issue_date}")
    if on >= full_accretion_date:
        # The indenture's own words: on or after this date, the principal amount at maturity.
        return principal_at_maturity

    with localcontext() as ctx:
        ctx.prec = WORKING_PRECISION
        half_rate = annual_rate / 2
        value = issue_price
        period_start = issue_date
        for compounding_date in _compounding_dates_between(issue_date, on, month_days):
            days = days_30_360(period_start, compounding_date)
            value = value * (1 + half_rate * days / DAYS_IN_SEMIANNUAL_PERIOD)
            period_start = compounding_date
        days = days_30_360(period_start, on)
        value = value * (1 + half_rate * days / DAYS_IN_SEMIANNUAL_PERIOD)

    # The stated rate is only "approximately" the yield from $533.08 to $1,000: at
    # exactly 12 7/8% the value passes $1,000 (about $1,000.16 on 2005-03-14, the day
    # before full accretion, and it would be $1,000.50 on 2005-03-15). Accreted Value
    # is never more than the principal amount at maturity, so cap it there; for these
    # notes the cap changes only 2005-03-14 ($999.83 the day before that is below it).
    return min(value, principal_at_maturity)


def accreted_value_per_1000_cents(
    on: date,
    *,
    issue_date: date,
    issue_price: Decimal,
    annual_rate: Decimal,
    compounding_dates: Sequence[tuple[int, int]],
    full_accretion_date: date,
    principal_at_maturity: Decimal = PER_THOUSAND,
) -> Decimal:
    """``accreted_value_per_1000`` rounded to cents with the desk's one rounding rule."""
    return to_cents(
        accreted_value_per_1000(
            on,
            issue_date=issue_date,
            issue_price=issue_price,
            annual_rate=annual_rate,
            compounding_dates=compounding_dates,
            full_accretion_date=full_accretion_date,
            principal_at_maturity=principal_at_maturity,
        )
    )
