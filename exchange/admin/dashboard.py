"""The clerk's dashboard on the admin index: per active offer, what is tendered against
what is outstanding, counts by state and channel, guarantees falling due, the countdown
to expiration and the amount tendered over time.

A fixed handful of aggregate queries per offer, whatever the number of tenders: one
grouped pass over the offer's tenders for amounts and counts, one per day for the chart
(a few hundred milliseconds at 100,000 tenders; bench/admin_pages.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate

from exchange.models import (
    Channel,
    ExchangeOffer,
    GuaranteedDelivery,
    GuaranteedDeliveryState,
    OfferState,
    Tender,
    TenderState,
    WithdrawalNotice,
    WithdrawalState,
)
from exchange.models.tenders import TENDER_OPEN_STATES
from exchange.services.announcements import WARNING_AHEAD, decisions_awaiting_announcement
from exchange.services.conditions import held_back_series
from exchange.terms import calendars
from exchange.terms.money import CENT, MONEY_ROUNDING

ZERO = Decimal("0")
LIVE_STATES = [*TENDER_OPEN_STATES, TenderState.ACCEPTED, TenderState.EXCHANGED]
CHART_WIDTH, CHART_HEIGHT = 640, 180


@dataclass
class SeriesLine:
    name: str
    label: str
    tendered: Decimal
    outstanding: Decimal

    @property
    def percent(self) -> Decimal:
        if not self.outstanding:
            return ZERO
        return (self.tendered * 100 / self.outstanding).quantize(CENT, rounding=MONEY_ROUNDING)


@dataclass
class OfferDashboard:
    offer: ExchangeOffer
    expiration_text: str
    remaining_text: str
    exchange_date_text: str
    series: list[SeriesLine]
    by_state: list[tuple[str, int]]
    by_channel: list[tuple[str, int]]
    falling_due: list[GuaranteedDelivery]
    chart_points: str = ""
    chart_labels: list[tuple[int, str]] = field(default_factory=list)
    chart_max: Decimal = ZERO
    # The issuer's conditions holding series back, and announcements not yet made (issue 13).
    conditions_held: list[str] = field(default_factory=list)
    announcements_pending: list[AnnouncementLine] = field(default_factory=list)


@dataclass
class AnnouncementLine:
    """A decision awaiting its announcement: warned within the hour before its deadline,
    late after it."""

    text: str
    warned: bool
    late: bool


def _announcement_lines(offer: ExchangeOffer, now: dt.datetime) -> list[AnnouncementLine]:
    lines = []
    for event in decisions_awaiting_announcement(offer):
        due = event.announcement_due_at
        late = due is not None and now >= due
        warned = due is not None and not late and now >= due - WARNING_AHEAD
        lines.append(
            AnnouncementLine(
                text=f"{event.get_kind_display()} of {calendars.format_ny(event.occurred_at)}"
                + (f": announce by {calendars.format_ny(due)}" if due else ": not yet announced"),
                warned=warned,
                late=late,
            )
        )
    return lines


def _remaining(offer: ExchangeOffer, now: dt.datetime) -> str:
    if offer.state != OfferState.OPEN:
        return offer.get_state_display()
    if now >= offer.expiration_at:
        return "expiration instant passed; closing"
    left = offer.expiration_at - now
    hours, rest = divmod(left.seconds, 3600)
    return f"{left.days} days {hours} h {rest // 60} min"


def _chart(offer: ExchangeOffer, now: dt.datetime) -> tuple[str, list[tuple[int, str]], Decimal]:
    """Cumulative amount tendered and not withdrawn, per New York day, as SVG points."""
    start = calendars.ny_date(offer.commenced_at or offer.expiration_at)
    end = min(calendars.ny_date(now), offer.expiration_date)
    if end < start:
        return "", [], ZERO
    received = dict(
        Tender.objects.filter(offer=offer)
        .annotate(day=TruncDate("received_at", tzinfo=calendars.NEW_YORK))
        .values("day")
        .annotate(total=Sum("amount"))
        .values_list("day", "total")
    )
    withdrawn = dict(
        WithdrawalNotice.objects.filter(tender__offer=offer, state=WithdrawalState.EFFECTIVE)
        .annotate(day=TruncDate("decided_at", tzinfo=calendars.NEW_YORK))
        .values("day")
        .annotate(total=Sum("amount"))
        .values_list("day", "total")
    )
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    running, series = ZERO, []
    for day in days:
        running += received.get(day, ZERO) - withdrawn.get(day, ZERO)
        series.append(running)
    top = max(series) or Decimal(1)
    step = CHART_WIDTH / max(len(days) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{CHART_HEIGHT - float(value / top) * CHART_HEIGHT:.1f}"
        for i, value in enumerate(series)
    )
    every = max(1, len(days) // 6)
    labels = [(round(i * step), f"{day:%b %d}") for i, day in enumerate(days) if i % every == 0]
    return points, labels, max(series)


def _held_back_lines(offer: ExchangeOffer) -> list[str]:
    """Per series a condition holds back: nothing of it is accepted on the exchange date."""
    held = held_back_series(offer.pk)
    return [
        f"{series.name}: {', '.join(held[series.pk])}"
        for series in offer.series.order_by("maturity_date", "name")
        if series.pk in held
    ]


def offer_dashboards(now: dt.datetime) -> list[OfferDashboard]:
    boards = []
    active = ExchangeOffer.objects.filter(
        state__in=[OfferState.OPEN, OfferState.EXPIRED, OfferState.ACCEPTED]
    ).order_by("expiration_at")
    for offer in active:
        # One pass over the offer's tenders, grouped, gives the amounts per series and the
        # counts by state and by channel.
        groups = list(
            Tender.objects.filter(offer=offer)
            .values("series", "state", "channel")
            .annotate(n=Count("id"), live=Sum(F("amount") - F("withdrawn_amount")))
        )
        tendered: dict[int, Decimal] = {}
        counts: dict[str, int] = {}
        channels = {"paper": 0, "book_entry": 0, "gd_pending": 0, "gd_fulfilled": 0}
        for g in groups:
            counts[g["state"]] = counts.get(g["state"], 0) + g["n"]
            if g["state"] in LIVE_STATES:
                tendered[g["series"]] = tendered.get(g["series"], ZERO) + (g["live"] or ZERO)
            if g["state"] == TenderState.PENDING_DELIVERY:
                channels["gd_pending"] += g["n"]
            elif g["channel"] == Channel.PAPER_LETTER:
                channels["paper"] += g["n"]
            elif g["channel"] == Channel.BOOK_ENTRY:
                channels["book_entry"] += g["n"]
            else:
                channels["gd_fulfilled"] += g["n"]
        series = [
            SeriesLine(s.name, s.amount_label, tendered.get(s.pk) or ZERO, s.amount_outstanding)
            for s in offer.series.order_by("maturity_date", "name")
        ]
        falling_due = list(
            GuaranteedDelivery.objects.filter(
                tender__offer=offer, state=GuaranteedDeliveryState.RECEIVED
            )
            .select_related("tender", "tender__series", "guarantor")
            .order_by("deadline_at")[:10]
        )
        points, labels, top = _chart(offer, now)
        boards.append(
            OfferDashboard(
                offer=offer,
                expiration_text=calendars.format_ny(offer.expiration_at),
                remaining_text=_remaining(offer, now),
                exchange_date_text=f"{offer.exchange_date:%A, %B %d, %Y}",
                series=series,
                by_state=[(s.label, counts.get(s.value, 0)) for s in TenderState],
                by_channel=[
                    ("Paper letter with certificates", channels["paper"]),
                    ("DTC book-entry (ATOP)", channels["book_entry"]),
                    ("Guaranteed delivery, notes pending", channels["gd_pending"]),
                    ("Guaranteed delivery, notes delivered", channels["gd_fulfilled"]),
                ],
                falling_due=falling_due,
                chart_points=points,
                chart_labels=labels,
                chart_max=top,
                conditions_held=_held_back_lines(offer),
                announcements_pending=_announcement_lines(offer, now),
            )
        )
    return boards
