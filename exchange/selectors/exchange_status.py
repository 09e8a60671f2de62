"""How far the exchange has got, honestly: which tenders are still open after expiration
(and so keep the results preliminary), for the dashboard, the final results and the
job page alike."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Sum

from exchange.models import ExchangeOffer, OfferState, Tender, TenderState
from exchange.models.tenders import TENDER_OPEN_STATES
from exchange.terms import calendars
from exchange.terms.money import ZERO

# How a still-open tender is described to the desk, in the order the exchange waits on them.
OPEN_STATE_WORDS: dict[str, str] = {
    TenderState.RECEIVED: "received, not yet reviewed",
    TenderState.IN_REVIEW: "in review",
    TenderState.DEFICIENT: "deficient (cure or the issuer's waiver awaited)",
    TenderState.PENDING_DELIVERY: "pending guaranteed delivery",
    TenderState.VALID: "valid, not yet accepted",
    TenderState.ACCEPTED: "accepted, new notes not yet issued",
}


@dataclass(frozen=True)
class OpenTenders:
    """Tenders neither exchanged nor returned nor withdrawn: what the exchange still waits on."""

    count: int = 0
    amount: Decimal = ZERO
    by_state: tuple[tuple[str, int, Decimal], ...] = field(default_factory=tuple)

    def describe(self) -> str:
        """ "3 received, not yet reviewed ($2,000,000.00); 1 in review ($1,500,000.00)"."""
        return "; ".join(
            f"{n} {OPEN_STATE_WORDS.get(state, state)} (${amount:,.2f})"
            for state, n, amount in self.by_state
        )


def _open_by_offer(offer_ids: list[int]) -> dict[int, OpenTenders]:
    """Open tenders per offer (any state that may still end in an exchange), by state:
    one grouped query, whatever the number of offers."""
    states = [*TENDER_OPEN_STATES, TenderState.ACCEPTED]
    rows: dict[int, dict[str, tuple[int, Decimal]]] = {pk: {} for pk in offer_ids}
    for row in (
        Tender.objects.filter(offer_id__in=offer_ids, state__in=states)
        .values("offer_id", "state")
        .annotate(n=Count("id"), live=Sum(F("amount") - F("withdrawn_amount")))
    ):
        rows[row["offer_id"]][row["state"]] = (row["n"], row["live"] or ZERO)
    result = {}
    for pk, by in rows.items():
        by_state = tuple((s, *by[s]) for s in OPEN_STATE_WORDS if s in by)
        result[pk] = OpenTenders(
            count=sum(n for _, n, _ in by_state),
            amount=sum((a for _, _, a in by_state), ZERO),
            by_state=by_state,
        )
    return result


def open_tenders(offer: ExchangeOffer) -> OpenTenders:
    return _open_by_offer([offer.pk])[offer.pk]


def after_expiration(offer: ExchangeOffer) -> bool:
    return offer.state in (OfferState.EXPIRED, OfferState.ACCEPTED, OfferState.COMPLETED)


def results_are_final(offer: ExchangeOffer, still_open: OpenTenders | None = None) -> bool:
    """Final only once the offer has expired and been accepted and no tender is open:
    before that, any total accepted may still grow (or a tender be returned)."""
    if offer.state not in (OfferState.ACCEPTED, OfferState.COMPLETED):
        return False
    return (still_open or open_tenders(offer)).count == 0


def exchange_dates_waiting(offers: list[ExchangeOffer], now: dt.datetime) -> dict[int, str]:
    """What the exchange-date job of each expired or accepted offer is waiting for, in
    words ("" when nothing: it is done, or the offer is not that far). Two queries in all."""
    from exchange.models import WithdrawalNotice, WithdrawalState

    offers = [o for o in offers if o.state in (OfferState.EXPIRED, OfferState.ACCEPTED)]
    still_open = _open_by_offer([o.pk for o in offers])
    notices = dict(
        WithdrawalNotice.objects.filter(
            tender__offer__in=[o.pk for o in offers], state=WithdrawalState.RECEIVED
        )
        .values("tender__offer_id")
        .annotate(n=Count("id"))
        .values_list("tender__offer_id", "n")
    )
    result = {}
    for offer in offers:
        reasons = []
        if offer.stop_order_in_effect:
            reasons.append("the lifting of the stop order")
        if calendars.ny_date(now) < offer.exchange_date:
            reasons.append(f"the exchange date, {offer.exchange_date:%A, %B %d, %Y}")
        if offer.state == OfferState.EXPIRED and not offer.acceptance_automatic:
            reasons.append("the issuer's written notice of acceptance")
        waiting = still_open[offer.pk]
        if waiting.count:
            reasons.append(
                f"{waiting.count} open tender(s) (${waiting.amount:,.2f}): {waiting.describe()}"
            )
        if notices.get(offer.pk):
            reasons.append(
                f"{notices[offer.pk]} notice(s) of withdrawal awaiting a clerk's decision"
            )
        result[offer.pk] = "; ".join(reasons)
    return result


@dataclass(frozen=True)
class TenderOutcome:
    """A tender's outcome as a holder or clerk reads it: "Still tendered" only while the
    notes are still subject to the offer."""

    label: str
    amount: Decimal


def tender_outcome(tender: Tender) -> TenderOutcome:
    live = tender.amount - tender.withdrawn_amount
    if tender.state in TENDER_OPEN_STATES:
        return TenderOutcome("Still tendered", live)
    if tender.state == TenderState.ACCEPTED:
        return TenderOutcome("Accepted: new notes being issued", live)
    if tender.state == TenderState.EXCHANGED:
        return TenderOutcome("Exchanged for new notes", live)
    if tender.state == TenderState.WITHDRAWN:
        return TenderOutcome("Withdrawn: original notes being returned", tender.amount)
    if tender.state == TenderState.REJECTED:
        return TenderOutcome("Rejected: original notes being returned", live)
    return TenderOutcome("Original notes returned", tender.amount)
