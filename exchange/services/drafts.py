"""The announcements drafted for the issuer with its decisions: the text each decision
stores (`OfferEvent.announcement_draft`) for a supervisor to release and record.

Pure text from the offer as it stands when the decision is recorded, plus the amount
tendered so far (Rule 14e-1(d) wants the approximate amount with an extension).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Sum

from exchange.models import ExchangeOffer, Tender, TenderState
from exchange.models.tenders import TENDER_OPEN_STATES
from exchange.terms import calendars


def tendered_to_date(offer: ExchangeOffer) -> dict[str, object]:
    """Approximate amount tendered so far per series, for announcements."""
    rows = (
        Tender.objects.filter(offer=offer, state__in=[*TENDER_OPEN_STATES, TenderState.ACCEPTED])
        .values("series__name")
        .annotate(total=Sum(F("amount") - F("withdrawn_amount")))
        .order_by("series__name")
    )
    return {row["series__name"]: row["total"] for row in rows}


def extension_announcement(
    offer: ExchangeOffer, new_expiration: dt.datetime, now: dt.datetime
) -> str:
    """The public announcement of an extension, drafted for the issuer (Rule 14e-1(d): by
    9:00 a.m. New York time on the business day after the scheduled expiration, with the
    approximate amount tendered to date)."""
    totals = tendered_to_date(offer)
    amounts = "; ".join(
        f"approximately ${total:,.0f} aggregate {series.amount_label} of its {series.name}"
        for series in offer.series.order_by("maturity_date", "name")
        if (total := totals.get(series.name))
    )
    return (
        f"{offer.issuer.name} announced today that it has extended its offer to exchange its "
        f"outstanding original notes for registered new notes until "
        f"{calendars.format_ny(new_expiration)}, unless further extended. The offer had been "
        f"scheduled to expire at {calendars.format_ny(offer.expiration_at)}. As of "
        f"{calendars.format_ny(now)}, {amounts or 'no original notes'} had been tendered and "
        f"not withdrawn. {offer.exchange_agent} is the exchange agent."
    )


def termination_announcement(offer: ExchangeOffer, reason: str) -> str:
    return (
        f"{offer.issuer.name} announced today that it has terminated its offer to exchange "
        f"registered new notes for its outstanding original notes. {reason.strip()} No original "
        f"notes will be accepted; all original notes tendered will be returned promptly. "
        f"{offer.exchange_agent} is the exchange agent."
    )


def results_announcement(offer: ExchangeOffer, now: dt.datetime) -> str:
    """The results, drafted with the notice of acceptance (amounts tendered and not withdrawn)."""
    totals = tendered_to_date(offer)
    amounts = "; ".join(
        f"${total:,.0f} aggregate {series.amount_label} of its {series.name}"
        for series in offer.series.order_by("maturity_date", "name")
        if (total := totals.get(series.name))
    )
    return (
        f"{offer.issuer.name} announced the results of its offer to exchange registered new "
        f"notes for its outstanding original notes, which expired at "
        f"{calendars.format_ny(offer.expiration_at)}: {amounts or 'no original notes'} were "
        f"validly tendered and not withdrawn, subject to the conditions of the offer. "
        f"{offer.exchange_agent} is the exchange agent."
    )
