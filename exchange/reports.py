"""The desk's reports: the daily tender report as of any instant, the final results for
the press release, the delivery and return lists, and the audit history of an offer.

Each report is a function returning rows (for CSV, the printable page and the
management command alike), so the three always say the same thing.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from exchange import calendars
from exchange.models import (
    ExchangeOffer,
    GuaranteedDelivery,
    NewNoteDelivery,
    NoteReturn,
    NoteSeries,
    StateChange,
    Tender,
    TenderState,
    WithdrawalNotice,
    WithdrawalState,
)
from exchange.money import CENT, MONEY_ROUNDING

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


def press_release_text(offer: ExchangeOffer, results: list[FinalResult]) -> str:
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


# --- delivery and return lists ---------------------------------------------------------


DELIVERY_COLUMNS = [
    "recipient",
    "holder",
    "dtc_participant",
    "series",
    "new_cusip",
    "amount",
    "method",
    "instructions",
    "tenders",
    "delivered",
]
RETURN_COLUMNS = [
    "holder",
    "dtc_participant",
    "series",
    "original_cusip",
    "amount",
    "method",
    "reason",
    "tenders",
    "returned",
]


def delivery_list(offer: ExchangeOffer) -> Iterator[list[str]]:
    """New notes to deliver, per recipient (registered holder, or DTC participant) and series."""
    yield DELIVERY_COLUMNS
    rows = (
        NewNoteDelivery.objects.filter(tender__offer=offer)
        .values(
            "recipient_name",
            "tender__holder__name",
            "tender__holder__dtc_participant_number",
            "series__slug",
            "series__new_cusip",
            "by_book_entry",
            "delivery_instructions",
        )
        .annotate(
            total=Sum("amount"),
            tenders=Count("id"),
            undelivered=Count("id", filter=Q(delivered_at__isnull=True)),
        )
        .order_by("tender__holder__name", "recipient_name", "series__slug")
    )
    for r in rows:
        yield [
            r["recipient_name"],
            r["tender__holder__name"],
            r["tender__holder__dtc_participant_number"],
            r["series__slug"],
            r["series__new_cusip"],
            f"{r['total']:.2f}",
            "DTC book-entry" if r["by_book_entry"] else "registered certificate",
            r["delivery_instructions"],
            str(r["tenders"]),
            "yes" if r["undelivered"] == 0 else f"{r['undelivered']} pending",
        ]


def return_list(offer: ExchangeOffer) -> Iterator[list[str]]:
    """Original notes to return, per holder, series and reason."""
    yield RETURN_COLUMNS
    rows = (
        NoteReturn.objects.filter(tender__offer=offer)
        .values(
            "tender__holder__name",
            "tender__holder__dtc_participant_number",
            "tender__series__slug",
            "tender__series__original_cusip",
            "by_book_entry",
            "reason",
        )
        .annotate(
            total=Sum("amount"),
            tenders=Count("tender", distinct=True),
            pending=Count("id", filter=Q(returned_at__isnull=True)),
        )
        .order_by("tender__holder__name", "tender__series__slug", "reason")
    )
    for r in rows:
        yield [
            r["tender__holder__name"],
            r["tender__holder__dtc_participant_number"],
            r["tender__series__slug"],
            r["tender__series__original_cusip"],
            f"{r['total']:.2f}",
            "DTC credit" if r["by_book_entry"] else "certificate by registered mail",
            r["reason"],
            str(r["tenders"]),
            "yes" if r["pending"] == 0 else f"{r['pending']} pending",
        ]


# --- audit history ---------------------------------------------------------------------------

AUDIT_COLUMNS = [
    "at_new_york",
    "at_utc",
    "subject_type",
    "subject_id",
    "subject",
    "action",
    "from_state",
    "to_state",
    "actor_kind",
    "actor",
    "reason",
]


def audit_history(offer: ExchangeOffer) -> Iterator[list[str]]:
    """Every history row of the offer, its tenders, notices and decisions, oldest first."""
    yield AUDIT_COLUMNS
    tender_type = ContentType.objects.get_for_model(Tender)
    references = dict(Tender.objects.filter(offer=offer).values_list("pk", "reference"))
    gd_refs = dict(
        GuaranteedDelivery.objects.filter(tender__offer=offer).values_list("pk", "reference")
    )
    wd_refs = dict(
        WithdrawalNotice.objects.filter(tender__offer=offer).values_list("pk", "reference")
    )
    by_type = {
        tender_type.pk: references,
        ContentType.objects.get_for_model(GuaranteedDelivery).pk: gd_refs,
        ContentType.objects.get_for_model(WithdrawalNotice).pk: wd_refs,
        ContentType.objects.get_for_model(ExchangeOffer).pk: {offer.pk: offer.slug},
    }
    names = dict(ContentType.objects.values_list("pk", "model"))
    rows = (
        StateChange.objects.filter(offer=offer)
        .order_by("at", "id")
        .values_list(
            "at",
            "content_type_id",
            "object_id",
            "action",
            "from_state",
            "to_state",
            "actor_kind",
            "actor_label",
            "reason",
        )
        .iterator(chunk_size=5000)
    )
    for at, ct, object_id, action, from_state, to_state, kind, actor, reason in rows:
        yield [
            calendars.ny_localtime(at).strftime("%Y-%m-%d %H:%M:%S %Z"),
            at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            names.get(ct, str(ct)),
            str(object_id),
            by_type.get(ct, {}).get(object_id, ""),
            action,
            from_state,
            to_state,
            kind,
            actor,
            reason,
        ]


# --- CSV -----------------------------------------------------------------------------------


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    """CSV one line at a time, for streaming responses and management commands."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)
