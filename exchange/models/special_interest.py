"""The special-interest ledger: what accrued, per note series and per $1,000, day by day.

A row is one day of one series while a registration-default stream is open. Rows are a
materialisation of a pure computation (exchange.special_interest.accrual): the
milestones recorded, the offer's deadlines and the series' terms give every row, so the
daily job, a re-run, or a rebuild from scratch writes the same rows.

Nothing here is rounded. The day's accrual per $1,000 is basis x rate x days / 360, and
1/360 has no finite decimal expansion, so the ledger stores the undivided product
(`accrual_360ths_per_1000`, a finite decimal): a payment sums a period's products and
divides by 360 once, together with the holder's amount, and only then rounds to cents.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from django.db import models

from exchange.models.fields import ExactDecimalField
from exchange.terms.daycount import DAYS_IN_YEAR_30_360
from exchange.terms.money import WORKING_PRECISION

# Digits the ledger keeps: any value the accretion arithmetic produces (34 significant
# digits, WORKING_PRECISION) of at least $0.000001 fits these places exactly, and so does
# its product with a rate of four places and a day count; the computation checks that it
# never has to round to store a value.
BASIS_MAX_DIGITS = 44
BASIS_DECIMAL_PLACES = 40
ACCRUAL_MAX_DIGITS = 48
ACCRUAL_DECIMAL_PLACES = 44


class SpecialInterestAccrual(models.Model):
    """One day's special interest on one series, per $1,000 (principal amount at maturity
    for the discount notes), for original and new notes alike."""

    offer = models.ForeignKey(
        "exchange.ExchangeOffer", on_delete=models.PROTECT, related_name="special_interest_accruals"
    )
    series = models.ForeignKey(
        "exchange.NoteSeries", on_delete=models.PROTECT, related_name="special_interest_accruals"
    )
    day = models.DateField()
    stream_start = models.DateField(
        help_text="The day the default stream began: day 1 of its 90-day rate periods."
    )
    rate = models.DecimalField(
        max_digits=5, decimal_places=4, help_text="Annual rate in force that day: 0.0050 is 0.50%."
    )
    days_30_360 = models.PositiveSmallIntegerField(
        help_text="The day's 30/360 days: 1; 0 on the 31st; 2 or 3 on the last day of February."
    )
    basis_per_1000 = ExactDecimalField(
        max_digits=BASIS_MAX_DIGITS,
        decimal_places=BASIS_DECIMAL_PLACES,
        help_text="$1,000 of principal, or the accreted value of $1,000 principal amount at "
        "maturity that day (unrounded).",
    )
    accrual_360ths_per_1000 = ExactDecimalField(
        max_digits=ACCRUAL_MAX_DIGITS,
        decimal_places=ACCRUAL_DECIMAL_PLACES,
        help_text="basis x rate x 30/360 days: the day's accrual per $1,000 times 360 (exact).",
    )

    class Meta:
        ordering = ["offer", "series", "day"]
        verbose_name = "special interest accrual"
        verbose_name_plural = "special interest ledger"
        constraints = [
            models.UniqueConstraint(fields=["series", "day"], name="one_accrual_per_series_day"),
            models.CheckConstraint(
                condition=models.Q(rate__gte=Decimal("0.0050"), rate__lte=Decimal("0.0100")),
                name="special_interest_rate_between_050_and_100",
            ),
            models.CheckConstraint(
                condition=models.Q(days_30_360__lte=3), name="special_interest_day_count_at_most_3"
            ),
            models.CheckConstraint(
                condition=models.Q(day__gte=models.F("stream_start")),
                name="special_interest_day_in_its_stream",
            ),
        ]
        indexes = [models.Index(fields=["offer", "day"])]

    def __str__(self) -> str:
        return f"{self.series} {self.day}: {self.rate * 100:.2f}%"

    @property
    def amount_per_1000(self) -> Decimal:
        """The day's accrual per $1,000, for reading (payments divide a period's sum once)."""
        with localcontext() as ctx:
            ctx.prec = WORKING_PRECISION
            return self.accrual_360ths_per_1000 / DAYS_IN_YEAR_30_360
