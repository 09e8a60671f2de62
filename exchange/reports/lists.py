"""The list reports: new notes to deliver, notes to return, and an offer's audit history,
as CSV rows the desk's pages and the management commands share.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q, Sum

from exchange.models import (
    ExchangeOffer,
    GuaranteedDelivery,
    NewNoteDelivery,
    NoteReturn,
    StateChange,
    Tender,
    WithdrawalNotice,
)
from exchange.terms import calendars
from exchange.terms.spreadsheet import safe_row

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
    """CSV one line at a time, for streaming responses and management commands; every cell
    neutralised against spreadsheet formulas (`exchange.terms.spreadsheet`)."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(safe_row(row))
