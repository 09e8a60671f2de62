"""The conditions of the exchange offer ("Conditions to the Exchange Offer", p.29) and the
issuer's assertions of them, for the whole offer or for named series."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from exchange.models.offers import ExchangeOffer, NoteSeries, OfferEvent


class ConditionKind(models.TextChoices):
    """Every offer carries these four: the prospectus's three and the stop-order condition."""

    PROCEEDING = (
        "proceeding",
        "(1) An action or proceeding, injunction, order or decree restraining the offer, "
        "seeking damages, or materially delaying acceptance",
    )
    LAW = (
        "law",
        "(2) A statute, rule, regulation, order or governmental action with those "
        "consequences, or making it inadvisable to proceed",
    )
    ADVERSE_CHANGE = "adverse_change", "(3) A material adverse change in Level 3"
    STOP_ORDER = (
        "stop_order",
        "A stop order threatened or in effect (registration statement or indenture qualification)",
    )


class ConditionAssertion(models.Model):
    """The issuer asserts a condition for one series (asserting it for the whole offer makes
    one row per series). A waiver, in whole or in part, closes rows; nothing is deleted.

    While a row is open, nothing of its series is accepted.
    """

    offer = models.ForeignKey(
        ExchangeOffer, on_delete=models.PROTECT, related_name="condition_assertions"
    )
    kind = models.CharField(max_length=20, choices=ConditionKind.choices)
    series = models.ForeignKey(
        NoteSeries, on_delete=models.PROTECT, related_name="condition_assertions"
    )
    asserted_at = models.DateTimeField()
    asserted_event = models.ForeignKey(OfferEvent, on_delete=models.PROTECT, related_name="+")
    waived_at = models.DateTimeField(null=True, blank=True)
    waived_event = models.ForeignKey(
        OfferEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["asserted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "kind"],
                condition=Q(waived_at__isnull=True),
                name="one_open_assertion_per_series_and_condition",
            )
        ]

    def __str__(self) -> str:
        status = "waived" if self.waived_at else "asserted"
        return f"{self.get_kind_display()} — {self.series} ({status})"
