"""Day counts for the notes: 30/360 US bond basis.

The indenture accretes original issue discount "on the basis of a 360-day year of
twelve 30-day months". That is the 30/360 bond basis of ISDA 2006 Definitions
section 4.16(f) ("30/360", "360/360", "Bond Basis"), the convention US corporate
indentures of the period mean by that phrase. Actual-day conventions would make a
clerk's figure disagree with the paying agent's by cents, so the desk uses this one.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, localcontext

from exchange.terms.money import WORKING_PRECISION

DAYS_IN_YEAR_30_360 = 360


def days_30_360(start: date, end: date) -> int:
    """Days from ``start`` to ``end`` on the 30/360 US bond basis (ISDA 2006 4.16(f)).

    360 * (Y2 - Y1) + 30 * (M2 - M1) + (D2 - D1), where
    - D1 = 31 becomes 30;
    - D2 = 31 becomes 30 only if D1 (after the rule above) is 30 or 31.

    There is deliberately no February end-of-month adjustment: that belongs to the
    "30/360 US (SIA)" variant, not to the bond basis the indenture describes. So
    2000-02-29 to 2000-03-15 counts 16 days and 2000-02-28 to 2000-03-01 counts 3.

    Negative when ``end`` is before ``start``, so callers can subtract day counts.
    """
    d1 = start.day
    d2 = end.day
    if d1 == 31:
        d1 = 30
    if d2 == 31 and d1 == 30:
        d2 = 30
    return (
        DAYS_IN_YEAR_30_360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)
    )


def year_fraction_30_360(start: date, end: date) -> Decimal:
    """Fraction of a 360-day year from ``start`` to ``end``: days_30_360 / 360.

    Unrounded Decimal at the desk's working precision; round only at the money edge.
    """
    with localcontext() as ctx:
        ctx.prec = WORKING_PRECISION
        return Decimal(days_30_360(start, end)) / DAYS_IN_YEAR_30_360
