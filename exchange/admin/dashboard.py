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

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, F, OuterRef, Subquery, Sum
from django.db.models.functions import TruncDate

from exchange.models import (
    Channel,
    ExchangeOffer,
    GuaranteedDelivery,
    GuaranteedDeliveryState,
    NoteSeries,
    OfferState,
    StateChange,
    Tender,
    TenderState,
    WithdrawalNotice,
    WithdrawalState,
)
from exchange.selectors.exchange_status import after_expiration, open_tenders
from exchange.selectors.figures import offer_tally
from exchange.services.announcements import WARNING_AHEAD, decisions_awaiting_announcement
from exchange.services.conditions import held_back_series
from exchange.terms import calendars
from exchange.terms.money import CENT, MONEY_ROUNDING

ZERO = Decimal("0")
# The plot area inside the SVG; the margins hold the axes' labels whole.
CHART_WIDTH, CHART_HEIGHT = 600, 180
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 96, 32, 12, 56


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


@dataclass(frozen=True)
class ChartTick:
    at: float  # x or y in the SVG's coordinates
    label: str


@dataclass
class Chart:
    """Amount tendered and not withdrawn (nor rejected) at the end of each New York day."""

    days: list[tuple[dt.date, Decimal]] = field(default_factory=list)
    points: str = ""
    x_ticks: list[ChartTick] = field(default_factory=list)
    y_ticks: list[ChartTick] = field(default_factory=list)

    @property
    def last(self) -> Decimal:
        return self.days[-1][1] if self.days else ZERO

    # For the template: the SVG's frame.
    left, top, width, height = CHART_LEFT, CHART_TOP, CHART_WIDTH, CHART_HEIGHT
    right = CHART_LEFT + CHART_WIDTH
    bottom = CHART_TOP + CHART_HEIGHT
    view_width = CHART_LEFT + CHART_WIDTH + CHART_RIGHT
    view_height = CHART_TOP + CHART_HEIGHT + CHART_BOTTOM


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
    # The offer's status in words; a warning while tenders are open after expiration.
    status_text: str = ""
    status_warning: bool = False
    # A countdown only while the offer is open and its expiration still ahead.
    show_countdown: bool = False
    # Series whose CUSIPs the clerk has not yet entered (needed by the exchange date).
    cusip_warnings: list[str] = field(default_factory=list)
    # The issuer's conditions holding series back, and announcements not yet made (issue 13).
    conditions_held: list[str] = field(default_factory=list)
    announcements_pending: list[AnnouncementLine] = field(default_factory=list)
    chart: Chart = field(default_factory=Chart)

    @property
    def total_not_withdrawn(self) -> Decimal:
        return sum((s.tendered for s in self.series), ZERO)


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


def _status(offer: ExchangeOffer, now: dt.datetime) -> tuple[str, bool, bool]:
    """(status text, warning?, countdown?). After expiration the offer is never shown as
    simply "Accepted" while tenders are still open, and no countdown runs."""
    if offer.state == OfferState.OPEN and now < offer.expiration_at:
        return offer.get_state_display(), False, True
    label = offer.get_state_display()
    if not after_expiration(offer) and offer.state != OfferState.OPEN:
        return label, False, False
    still_open = open_tenders(offer)
    if still_open.count:
        return (
            f"{label.lower()} — {still_open.count} tender{'s' if still_open.count != 1 else ''} "
            f"(${still_open.amount:,.2f}) still open: {still_open.describe()}",
            True,
            False,
        )
    if offer.state == OfferState.OPEN:
        return "expiration instant passed; closing", False, False
    return label, False, False


def _cusip_warnings(offer: ExchangeOffer, series: list[NoteSeries]) -> list[str]:
    """Each series needs its original and its new CUSIP before the exchange date: the new
    notes are issued, and the delivery and returns lists sent, under them."""
    if offer.state not in (OfferState.OPEN, OfferState.EXPIRED, OfferState.ACCEPTED):
        return []
    warnings = []
    for s in series:
        missing = [
            what
            for what, value in (("new notes", s.new_cusip), ("original notes", s.original_cusip))
            if not value
        ]
        if missing:
            warnings.append(
                f"{s.name}: enter the CUSIP of the {' and of the '.join(missing)} before the "
                f"exchange date, {offer.exchange_date:%A, %B %d, %Y}."
            )
    return warnings


def _nice_step(top: Decimal) -> Decimal:
    """A round step (1, 2 or 5 times a power of ten) giving at most five ticks up to top."""
    if top <= 0:
        return Decimal(1)
    raw = top / 5
    magnitude = Decimal(10) ** (len(str(int(raw))) - 1) if raw >= 1 else Decimal(1)
    for factor in (1, 2, 5, 10):
        if magnitude * factor >= raw:
            return magnitude * factor
    return magnitude * 10


def _dollars(amount: Decimal) -> str:
    return f"${amount:,.0f}"


def _chart(offer: ExchangeOffer, now: dt.datetime) -> Chart:
    """Per New York day: received - withdrawn - rejected, cumulated, so that the last day
    equals the dashboard's table (tendered and not withdrawn, from the same tally)."""
    start = calendars.ny_date(offer.commenced_at or offer.expiration_at)
    end = calendars.ny_date(now)
    if end < start:
        return Chart()
    ny_day = {"tzinfo": calendars.NEW_YORK}
    received = dict(
        Tender.objects.filter(offer=offer)
        .annotate(day=TruncDate("received_at", **ny_day))
        .values("day")
        .annotate(total=Sum("amount"))
        .values_list("day", "total")
    )
    withdrawn = dict(
        WithdrawalNotice.objects.filter(tender__offer=offer, state=WithdrawalState.EFFECTIVE)
        .annotate(day=TruncDate("decided_at", **ny_day))
        .values("day")
        .annotate(total=Sum("amount"))
        .values_list("day", "total")
    )
    # A rejected tender leaves the chart on the day it was rejected, with what it had left.
    rejected_at = (
        StateChange.objects.filter(
            content_type=ContentType.objects.get_for_model(Tender),
            object_id=OuterRef("pk"),
            to_state=TenderState.REJECTED,
        )
        .order_by("at", "id")
        .values("at")[:1]
    )
    rejected: dict[dt.date, Decimal] = {}
    for at, left in (
        Tender.objects.filter(offer=offer, state__in=[TenderState.REJECTED, TenderState.RETURNED])
        .exclude(amount=F("withdrawn_amount"))
        .annotate(rejected_at=Subquery(rejected_at))
        .values_list("rejected_at", F("amount") - F("withdrawn_amount"))
    ):
        day = calendars.ny_date(at or now)
        rejected[day] = rejected.get(day, ZERO) + left

    def moved(totals: dict[dt.date, Decimal], day: dt.date, first: bool) -> Decimal:
        # Anything dated before the chart's first day counts on it.
        if first:
            return sum((v for d, v in totals.items() if d <= day), ZERO)
        return totals.get(day, ZERO)

    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    running, series = ZERO, []
    for i, day in enumerate(days):
        first = i == 0
        running += (
            moved(received, day, first) - moved(withdrawn, day, first) - moved(rejected, day, first)
        )
        series.append((day, running))
    peak = max(v for _, v in series)
    step = _nice_step(peak)
    top = max(step * ((peak + step - 1) // step), step)  # the y axis ends on a tick
    x_step = CHART_WIDTH / max(len(days) - 1, 1)

    def y(value: Decimal) -> float:
        return CHART_TOP + CHART_HEIGHT - float(value / top) * CHART_HEIGHT

    points = " ".join(
        f"{CHART_LEFT + i * x_step:.1f},{y(v):.1f}" for i, (_, v) in enumerate(series)
    )
    every = max(1, -(-len(days) // 6))
    x_ticks = [
        ChartTick(round(CHART_LEFT + i * x_step, 1), f"{day:%b} {day.day}")
        for i, day in enumerate(days)
        if i % every == 0 or i == len(days) - 1
    ]
    if len(x_ticks) > 1 and x_ticks[-1].at - x_ticks[-2].at < 50:
        del x_ticks[-2]  # the last day always shows; its neighbour gives way
    y_ticks = [
        ChartTick(round(y(step * k), 1), _dollars(step * k)) for k in range(int(top / step) + 1)
    ]
    return Chart(days=series, points=points, x_ticks=x_ticks, y_ticks=y_ticks)


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
        # The amounts and the counts by state: the offer's tally, as offer_status, the
        # tender report and the final results have them.
        tally = offer_tally(offer)
        counts: dict[str, int] = {}
        for t in tally:
            for state, n in t.counts.items():
                counts[state] = counts.get(state, 0) + n
        channels = {"paper": 0, "book_entry": 0, "gd_pending": 0, "gd_fulfilled": 0}
        for g in (
            Tender.objects.filter(offer=offer)
            .values("state", "channel")
            .annotate(n=Count("id"))
            .order_by()
        ):
            if g["state"] == TenderState.PENDING_DELIVERY:
                channels["gd_pending"] += g["n"]
            elif g["channel"] == Channel.PAPER_LETTER:
                channels["paper"] += g["n"]
            elif g["channel"] == Channel.BOOK_ENTRY:
                channels["book_entry"] += g["n"]
            else:
                channels["gd_fulfilled"] += g["n"]
        offer_series = list(offer.series.order_by("maturity_date", "name"))
        series = [
            SeriesLine(
                t.series.name, t.series.amount_label, t.not_withdrawn, t.series.amount_outstanding
            )
            for t in tally
        ]
        falling_due = list(
            GuaranteedDelivery.objects.filter(
                tender__offer=offer, state=GuaranteedDeliveryState.RECEIVED
            )
            .select_related("tender", "tender__series", "guarantor")
            .order_by("deadline_at")[:10]
        )
        status_text, status_warning, show_countdown = _status(offer, now)
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
                status_text=status_text,
                status_warning=status_warning,
                show_countdown=show_countdown,
                cusip_warnings=_cusip_warnings(offer, offer_series),
                conditions_held=_held_back_lines(offer),
                announcements_pending=_announcement_lines(offer, now),
                chart=_chart(offer, now),
            )
        )
    return boards
