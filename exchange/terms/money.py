"""Money and amounts: Decimal end to end, one rounding rule, named here once.

Amounts of notes (principal, principal amount at maturity) are whole dollars in
$1,000 denominations; computed figures (accreted value, interest) are rounded to
cents only at the edge, with MONEY_ROUNDING.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
PER_THOUSAND = Decimal("1000")

# Half-up is the corporate-trust convention for paying agents' per-$1,000 figures.
MONEY_ROUNDING = ROUND_HALF_UP

# Intermediate precision for compounding and accruals; far beyond a cent on any
# amount the desk can hold, so only the final quantize rounds.
WORKING_PRECISION = 34


def to_cents(value: Decimal) -> Decimal:
    """Round a computed dollar figure to cents with the desk's one rounding rule."""
    with localcontext() as ctx:
        ctx.prec = WORKING_PRECISION
        return value.quantize(CENT, rounding=MONEY_ROUNDING)


def format_usd(value: Decimal) -> str:
    """$1,234,567.89 — how clerks and holders read amounts."""
    cents = to_cents(value)
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents):,.2f}"
