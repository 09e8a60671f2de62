"""The agent's DTC account position per CUSIP against the book-entry tenders it should hold."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Sum

from exchange.models import (
    TENDER_OPEN_STATES,
    Channel,
    DtcPosition,
    ExchangeOffer,
    NoteReturn,
    NoteSeries,
    Tender,
    TenderState,
)
from exchange.terms.money import ZERO


@dataclass(frozen=True)
class PositionReconciliation:
    """What the agent's DTC account should hold in one CUSIP: book-entry tenders pending
    (received, in review, deficient, valid) and accepted (not yet exchanged), and notes
    withdrawn or rejected still to be credited back; against DTC's latest position."""

    series: NoteSeries
    pending: Decimal
    accepted: Decimal
    awaiting_return: Decimal
    position: DtcPosition | None

    @property
    def expected(self) -> Decimal:
        return self.pending + self.accepted + self.awaiting_return

    @property
    def held(self) -> Decimal:
        """DTC's latest figure; none on record for this CUSIP reads as nothing held."""
        return self.position.quantity if self.position is not None else ZERO

    @property
    def difference(self) -> Decimal:
        return self.held - self.expected

    @property
    def balanced(self) -> bool:
        return self.difference == 0


def _live(offer: ExchangeOffer, states: list[str]) -> dict[int, Decimal]:
    return dict(
        Tender.objects.filter(offer=offer, channel=Channel.BOOK_ENTRY, state__in=states)
        .values_list("series_id")
        .annotate(total=Sum(F("amount") - F("withdrawn_amount")))
    )


def reconcile_positions(
    offer: ExchangeOffer, as_of: dt.datetime | None = None
) -> list[PositionReconciliation]:
    """Per series with a CUSIP; an empty list while no DTC position is on record for the
    offer (an offer whose notes are not at DTC has nothing to reconcile here)."""
    positions = DtcPosition.objects.filter(offer=offer)
    if as_of is not None:
        positions = positions.filter(as_of__lte=as_of)
    if not positions.exists():
        return []
    latest: dict[str, DtcPosition] = {}
    for position in positions.order_by("cusip", "-as_of", "-id"):
        latest.setdefault(position.cusip, position)
    pending = _live(offer, [s for s in TENDER_OPEN_STATES if s != TenderState.PENDING_DELIVERY])
    accepted = _live(offer, [TenderState.ACCEPTED])
    returns = dict(
        NoteReturn.objects.filter(tender__offer=offer, by_book_entry=True, returned_at__isnull=True)
        .values_list("tender__series_id")
        .annotate(total=Sum("amount"))
    )
    return [
        PositionReconciliation(
            series=series,
            pending=pending.get(series.pk, ZERO),
            accepted=accepted.get(series.pk, ZERO),
            awaiting_return=returns.get(series.pk, ZERO),
            position=latest.get(series.original_cusip.upper()),
        )
        for series in offer.series.exclude(original_cusip="").order_by("slug")
    ]
