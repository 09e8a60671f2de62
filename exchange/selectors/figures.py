"""An offer's figures per series and per state: the one tally behind the dashboard,
`offer_status`, the tender report and the final results, so that none of them can file
an amount under another heading than the others do.

Every tender is counted once, in the bucket of its state (now, or as of an instant read
back from the history):

    tendered = withdrawn + rejected + pending guaranteed delivery + in review + deficient
               + valid + accepted + exchanged

where "rejected" is what a rejected (or returned after rejection) tender had left when it
was rejected; what was withdrawn before is "withdrawn". "Tendered and not withdrawn" is
every bucket but withdrawn and rejected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from exchange.models import (
    ExchangeOffer,
    NoteSeries,
    StateChange,
    Tender,
    TenderState,
    WithdrawalNotice,
    WithdrawalState,
)
from exchange.terms.money import CENT, MONEY_ROUNDING

ZERO = Decimal("0.00")

# The heading each state's amount (less what was withdrawn from it) is filed under. A
# withdrawn tender has nothing left: its whole amount is in "withdrawn".
BUCKET: dict[str, str | None] = {
    TenderState.PENDING_DELIVERY: "pending_guaranteed_delivery",
    TenderState.RECEIVED: "in_review",
    TenderState.IN_REVIEW: "in_review",
    TenderState.DEFICIENT: "deficient",
    TenderState.VALID: "valid",
    TenderState.ACCEPTED: "accepted",
    TenderState.EXCHANGED: "exchanged",
    TenderState.REJECTED: "rejected",
    TenderState.RETURNED: "rejected",  # returned after a withdrawal: nothing left to file
    TenderState.WITHDRAWN: None,
}
NOT_WITHDRAWN_BUCKETS = (
    "pending_guaranteed_delivery",
    "in_review",
    "deficient",
    "valid",
    "accepted",
    "exchanged",
)


@dataclass
class SeriesTally:
    series: NoteSeries
    tendered: Decimal = ZERO  # received, as tendered
    withdrawn: Decimal = ZERO  # effective withdrawals
    pending_guaranteed_delivery: Decimal = ZERO
    in_review: Decimal = ZERO  # received or in review, not yet decided
    deficient: Decimal = ZERO
    valid: Decimal = ZERO
    accepted: Decimal = ZERO  # accepted on the exchange date, new notes not yet delivered
    exchanged: Decimal = ZERO  # new notes delivered
    rejected: Decimal = ZERO
    counts: dict[str, int] = field(default_factory=dict)  # tenders per state
    accepted_holders: set[int] = field(default_factory=set)

    def add(self, state: str, amount: Decimal, withdrawn: Decimal, holder_id: int | None) -> None:
        self.tendered += amount
        self.withdrawn += withdrawn
        self.counts[state] = self.counts.get(state, 0) + 1
        bucket = BUCKET[state]
        if bucket is not None:
            setattr(self, bucket, getattr(self, bucket) + amount - withdrawn)
        if holder_id is not None and state in (TenderState.ACCEPTED, TenderState.EXCHANGED):
            self.accepted_holders.add(holder_id)

    @property
    def not_withdrawn(self) -> Decimal:
        """Tendered and neither withdrawn nor rejected: what the dashboard charts."""
        return sum((getattr(self, b) for b in NOT_WITHDRAWN_BUCKETS), ZERO)

    @property
    def accepted_for_exchange(self) -> Decimal:
        return self.accepted + self.exchanged

    @property
    def accepted_tenders(self) -> int:
        return self.counts.get(TenderState.ACCEPTED, 0) + self.counts.get(TenderState.EXCHANGED, 0)

    @property
    def outstanding(self) -> Decimal:
        """Original notes of the series not (yet) exchanged."""
        return self.series.amount_outstanding - self.accepted_for_exchange

    @property
    def outstanding_percent(self) -> Decimal:
        """Tendered and not withdrawn, as a percentage of the amount outstanding."""
        if not self.series.amount_outstanding:
            return ZERO
        return (self.not_withdrawn * 100 / self.series.amount_outstanding).quantize(
            CENT, rounding=MONEY_ROUNDING
        )


def _current(offer: ExchangeOffer) -> Iterator[dict[str, object]]:
    """Each tender's state and withdrawn amount now: one grouped query."""
    groups = (
        Tender.objects.filter(offer=offer)
        .values("series_id", "state")
        .annotate(n=Count("id"), amount=Sum("amount"), withdrawn=Sum("withdrawn_amount"))
        .order_by()
    )
    for g in groups:
        yield {**g, "holder_id": None}


def _as_of(offer: ExchangeOffer, moment: dt.datetime) -> Iterator[dict[str, object]]:
    """Each tender received by `moment` with its state then, read from the history."""
    tender_type = ContentType.objects.get_for_model(Tender)
    state_then = (
        StateChange.objects.filter(
            content_type=tender_type, object_id=OuterRef("pk"), at__lte=moment
        )
        .exclude(to_state="")
        .order_by("-at", "-id")
        .values("to_state")[:1]
    )
    withdrawn_then = (
        WithdrawalNotice.objects.filter(
            tender=OuterRef("pk"), state=WithdrawalState.EFFECTIVE, decided_at__lte=moment
        )
        .values("tender")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    rows = (
        Tender.objects.filter(offer=offer, received_at__lte=moment)
        .annotate(
            state_then=Subquery(state_then),
            withdrawn_then=Coalesce(Subquery(withdrawn_then), ZERO),
        )
        .values("series_id", "amount", "state_then", "withdrawn_then", "holder_id")
        .iterator(chunk_size=5000)
    )
    for row in rows:
        yield {
            "series_id": row["series_id"],
            "state": row["state_then"] or TenderState.RECEIVED,
            "holder_id": row["holder_id"],
            "n": 1,
            "amount": row["amount"],
            "withdrawn": row["withdrawn_then"],
        }


def offer_tally(offer: ExchangeOffer, moment: dt.datetime | None = None) -> list[SeriesTally]:
    """Per series (by maturity), the amounts and counts by state: now (`moment` None, from
    the tenders' own state) or as of `moment` (from the history)."""
    tallies = {s.pk: SeriesTally(series=s) for s in offer.series.order_by("maturity_date", "name")}
    groups = _current(offer) if moment is None else _as_of(offer, moment)
    for g in groups:
        tally = tallies[g["series_id"]]  # type: ignore[index]
        n: int = g["n"]  # type: ignore[assignment]
        state = str(g["state"])
        tally.add(state, g["amount"] or ZERO, g["withdrawn"] or ZERO, g["holder_id"])  # type: ignore[arg-type]
        tally.counts[state] += n - 1  # a group of n tenders was added as one
    if moment is None:
        # The grouped pass has no holders; the accepted ones are counted apart.
        for series_id, holder_id in (
            Tender.objects.filter(
                offer=offer, state__in=[TenderState.ACCEPTED, TenderState.EXCHANGED]
            )
            .values_list("series_id", "holder_id")
            .distinct()
        ):
            tallies[series_id].accepted_holders.add(holder_id)
    return list(tallies.values())
