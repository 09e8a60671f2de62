"""The figures reports: the daily tender report as of any instant, and the final results
with the draft of the press release.

Each report is a function returning rows (for CSV, the printable page and the
management command alike), so the three always say the same thing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from exchange.models import (
    ExchangeOffer,
    NoteSeries,
    OfferState,
)
from exchange.selectors.exchange_status import OpenTenders, open_tenders, results_are_final
from exchange.selectors.figures import SeriesTally, offer_tally
from exchange.terms import calendars
from exchange.terms.money import CENT, MONEY_ROUNDING

ZERO = Decimal("0.00")


# --- the daily tender report -------------------------------------------------------------

# The report's rows are the offer's tally (exchange.selectors.figures), the same figures
# the dashboard, offer_status and the final results show.
TenderReportRow = SeriesTally

TENDER_REPORT_COLUMNS = [
    "series",
    "tendered",
    "withdrawn",
    "pending_guaranteed_delivery",
    "in_review",
    "deficient",
    "valid",
    "accepted",
    "exchanged",
    "rejected",
    "percent_of_outstanding",
]


def tender_report(offer: ExchangeOffer, moment: dt.datetime) -> list[TenderReportRow]:
    """Per series, as of `moment`: amounts tendered, withdrawn, pending guaranteed delivery,
    in review, deficient, valid, accepted, exchanged and rejected."""
    return offer_tally(offer, moment)


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
            f"{r.accepted:.2f}",
            f"{r.exchanged:.2f}",
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
    """What was validly tendered and accepted, per series: the tally's accepted and
    exchanged tenders, as the dashboard and the tender report count them."""
    return [
        FinalResult(
            series=t.series,
            accepted=t.accepted_for_exchange,
            tenders=t.accepted_tenders,
            holders=len(t.accepted_holders),
        )
        for t in offer_tally(offer)
    ]


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
