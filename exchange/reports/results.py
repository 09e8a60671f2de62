"""The figures reports: the daily tender report as of any instant, and the final results
with the draft of the press release.

Each report is a function returning rows (for CSV, the printable page and the
management command alike), so the three always say the same thing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from exchange.models import (
    ExchangeOffer,
    NewNoteDelivery,
    NoteSeries,
    OfferState,
    StateChange,
    Tender,
    TenderState,
    WithdrawalNotice,
    WithdrawalState,
)
from exchange.selectors.exchange_status import OpenTenders, open_tenders, results_are_final
from exchange.terms import calendars
from exchange.terms.money import CENT, MONEY_ROUNDING

ZERO = Decimal("0.00")


# --- the daily tender report -------------------------------------------------------------


@dataclass
class TenderReportRow:
    series: NoteSeries
    tendered: Decimal = ZERO  # received by the instant, as tendered
    withdrawn: Decimal = ZERO  # effective withdrawals decided by the instant
    pending_guaranteed_delivery: Decimal = ZERO
    deficient: Decimal = ZERO
    valid: Decimal = ZERO  # valid, or accepted/exchanged by the instant
    in_review: Decimal = ZERO  # received or in review, not yet decided
    rejected: Decimal = ZERO
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def outstanding_percent(self) -> Decimal:
        live = self.tendered - self.withdrawn - self.rejected
        if not self.series.amount_outstanding:
            return ZERO
        return (live * 100 / self.series.amount_outstanding).quantize(CENT, rounding=MONEY_ROUNDING)


TENDER_REPORT_COLUMNS = [
    "series",
    "tendered",
    "withdrawn",
    "pending_guaranteed_delivery",
    "in_review",
    "deficient",
    "valid",
    "rejected",
    "percent_of_outstanding",
]


def _states_as_of(offer: ExchangeOffer, moment: dt.datetime) -> Iterator[dict[str, object]]:
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
    return (
        Tender.objects.filter(offer=offer, received_at__lte=moment)
        .annotate(
            state_then=Subquery(state_then),
            withdrawn_then=Coalesce(Subquery(withdrawn_then), ZERO),
        )
        .values("series_id", "amount", "state_then", "withdrawn_then")
        .iterator(chunk_size=5000)
    )


def tender_report(offer: ExchangeOffer, moment: dt.datetime) -> list[TenderReportRow]:
    """Per series, as of `moment`: amounts tendered, withdrawn, pending guaranteed delivery,
    in review, deficient, valid (including accepted) and rejected."""
    rows = {s.pk: TenderReportRow(series=s) for s in offer.series.order_by("maturity_date", "name")}
    buckets = {
        TenderState.PENDING_DELIVERY: "pending_guaranteed_delivery",
        TenderState.RECEIVED: "in_review",
        TenderState.IN_REVIEW: "in_review",
        TenderState.DEFICIENT: "deficient",
        TenderState.VALID: "valid",
        TenderState.ACCEPTED: "valid",
        TenderState.EXCHANGED: "valid",
        TenderState.REJECTED: "rejected",
        TenderState.RETURNED: "rejected",
    }
    for tender in _states_as_of(offer, moment):
        row = rows[tender["series_id"]]
        amount: Decimal = tender["amount"]  # type: ignore[assignment]
        withdrawn: Decimal = tender["withdrawn_then"]  # type: ignore[assignment]
        state = str(tender["state_then"] or TenderState.RECEIVED)
        row.tendered += amount
        row.withdrawn += withdrawn
        row.counts[state] = row.counts.get(state, 0) + 1
        if state in (TenderState.WITHDRAWN,):
            continue
        if state == TenderState.RETURNED and withdrawn == amount:
            continue  # a fully withdrawn tender whose notes went back
        bucket = buckets.get(TenderState(state))
        if bucket:
            setattr(row, bucket, getattr(row, bucket) + amount - withdrawn)
    return list(rows.values())


def tender_report_csv_rows(rows: Iterable[TenderReportRow]) -> Iterator[list[str]]:
    yield TENDER_REPORT_COLUMNS
    for r in rows:
        yield [
            r.series.slug,
            f"{r.tendered:.2f}",
            f"{r.withdrawn:.2f}",
            f"{r.pending_guaranteed_delivery:.2f}",
            f"{r.in_review:.2f}",
            f"{r.deficient:.2f}",
            f"{r.valid:.2f}",
            f"{r.rejected:.2f}",
            f"{r.outstanding_percent:.2f}",
        ]


# --- final results for the press release --------------------------------------------------


@dataclass(frozen=True)
class FinalResult:
    series: NoteSeries
    accepted: Decimal
    tenders: int
    holders: int

    @property
    def percent(self) -> Decimal:
        return (self.accepted * 100 / self.series.amount_outstanding).quantize(
            CENT, rounding=MONEY_ROUNDING
        )


def final_results(offer: ExchangeOffer) -> list[FinalResult]:
    """What was validly tendered and accepted, per series (new notes recorded)."""
    figures = {
        row["series"]: row
        for row in NewNoteDelivery.objects.filter(tender__offer=offer)
        .values("series")
        .annotate(
            total=Sum("amount"),
            tenders=Count("id"),
            holders=Count("tender__holder", distinct=True),
        )
    }
    results = []
    for series in offer.series.order_by("maturity_date", "name"):
        row = figures.get(series.pk, {})
        results.append(
            FinalResult(
                series=series,
                accepted=row.get("total") or ZERO,
                tenders=row.get("tenders", 0),
                holders=row.get("holders", 0),
            )
        )
    return results


def preliminary_notice(offer: ExchangeOffer, still_open: OpenTenders | None = None) -> str:
    """Why the results are not final yet ("" once they are): the figures so far may still
    grow, or shrink by a return, while the offer is open or any tender is."""
    still_open = still_open or open_tenders(offer)
    if results_are_final(offer, still_open):
        return ""
    if offer.state in (OfferState.DRAFT, OfferState.OPEN):
        return "PRELIMINARY: the offer has not expired; these are the figures so far."
    if offer.state == OfferState.TERMINATED:
        return "The offer was terminated: nothing is accepted and there are no final results."
    parts = ["PRELIMINARY: not final until every tender is accepted or returned."]
    if offer.state == OfferState.EXPIRED:
        parts.append("The issuer has not yet accepted the tenders.")
    if still_open.count:
        parts.append(
            f"{still_open.count} tender(s) (${still_open.amount:,.2f}) still open: "
            f"{still_open.describe()}."
        )
    return " ".join(parts)


def press_release_text(offer: ExchangeOffer, results: list[FinalResult]) -> str:
    notice = preliminary_notice(offer)
    if notice:
        # A press release states final totals; a draft from preliminary figures would
        # announce numbers the issuer may have to correct.
        return (
            f"No press release of final results can be drafted yet. {notice} "
            "Draft it once the exchange date has dealt with every tender."
        )
    closing = (
        f"expired at {calendars.format_ny(offer.expiration_at)}"
        if offer.expired_at
        else f"expires at {calendars.format_ny(offer.expiration_at)}"
    )
    parts = [
        f"${r.accepted:,.0f} aggregate {r.series.amount_label} of its {r.series.name} "
        f"({r.percent}% of the ${r.series.amount_outstanding:,.0f} outstanding)"
        for r in results
    ]
    listing = (
        "; ".join(parts[:-1]) + ("; and " if len(parts) > 1 else "") + parts[-1] if parts else ""
    )
    return (
        f"{offer.issuer.name} announced today the final results of its offer to exchange "
        f"registered new notes for its outstanding original notes, which {closing}. "
        f"{offer.exchange_agent}, the exchange agent, has advised that {listing} were validly "
        f"tendered and not withdrawn, and have been accepted for exchange."
    )
