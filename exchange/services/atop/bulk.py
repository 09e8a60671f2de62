"""The set-based path for the bulk of an activity file: plain tenders, in chunks.

Near expiration a report carries tens of thousands of tenders; one transaction and a
dozen queries per line would take minutes. A run of consecutive tender lines is taken
here as one chunk, in one transaction, in the desk's lock order (the offer shared, then
the chunk's participants FOR UPDATE, as receive_tender locks its holder), and each line
meets the same checks in the same order as the per-line path (`apply._apply` then
`receive_tender`): participant, CUSIP, Agent's Message, expiration, a receipt time not in
the future, denomination, the participant's free position (less what the chunk's earlier
lines took), the offer open to that receipt. What passes is written with bulk inserts:
the tenders, their instructions, their history rows, and one mail each after commit;
what fails becomes an exception as on the per-line path.

Anything the chunk cannot decide alone goes back to the per-line path after it commits:
a VOI already recorded, one the chunk carries twice, or a chunk whose insert meets a
VOI another process recorded meanwhile (the unique key; the chunk's savepoint rolls
back and each of its lines is imported on its own). tests/exchange/services/
test_atop_bulk.py proves both paths leave the same records.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

import psycopg
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Model, Sum
from psycopg import sql

from exchange.models import (
    AtopException,
    AtopExceptionKind,
    AtopImport,
    AtopInstruction,
    AtopInstructionKind,
    AtopOutcome,
    Channel,
    NoteSeries,
    SignerCapacity,
    StateChange,
    Tender,
    TenderState,
)
from exchange.models.tenders import _REFERENCE_ALPHABET, TENDER_OPEN_STATES
from exchange.services import notifications
from exchange.services.atop.apply import (
    _check_not_future,
    _Context,
    _participant,
    _Refusal,
    _refusal_of,
    _series,
    atop_letter,
)
from exchange.services.atop.files import ActivityLine
from exchange.services.base import DeskError, history_row, lock_offer_shared
from exchange.services.tenders import _check_offer_takes_tenders
from exchange.terms import calendars
from holders.models import Holder, Holding, HoldingForm

CHUNK_SIZE = 5_000
Outcome = tuple[str, tuple[int, str, str] | None]


def is_plain_tender(line: ActivityLine) -> bool:
    return not line.error and line.kind == AtopInstructionKind.TENDER


def _instruction(
    ctx: _Context, atop_import: AtopImport, line: ActivityLine, outcome: str
) -> AtopInstruction:
    return AtopInstruction(
        offer=ctx.offer,
        voi_number=line.voi_number,
        kind=line.kind,
        participant_number=line.participant_number,
        participant_name=line.participant_name,
        cusip=line.cusip,
        quantity=line.quantity,
        dtc_timestamp=line.dtc_timestamp,
        agents_message=line.agents_message,
        related_voi=line.related_voi,
        beneficial_owners=line.beneficial_owners,
        content_hash=line.content_hash,
        first_import=atop_import,
        line_number=line.line_number,
        outcome=outcome,
    )


def import_tender_chunk(
    ctx: _Context, atop_import: AtopImport, lines: Sequence[ActivityLine]
) -> tuple[dict[int, Outcome], list[ActivityLine]]:
    """Import a run of tender lines set-based. Returns each decided line's outcome by line
    number, and the lines left for the per-line path (in file order)."""
    vois = [line.voi_number for line in lines]
    counts: dict[str, int] = defaultdict(int)
    for voi in vois:
        counts[voi] += 1
    with transaction.atomic():
        offer = lock_offer_shared(ctx.offer.pk)
        seen = dict(
            AtopInstruction.objects.filter(offer=ctx.offer, voi_number__in=vois).values_list(
                "voi_number", "content_hash"
            )
        )
        # A VOI recorded before with this very content: nothing to do (the per-line path
        # says the same); with other content, the per-line path raises the exception.
        already = {
            line.line_number
            for line in lines
            if counts[line.voi_number] == 1 and seen.get(line.voi_number) == line.content_hash
        }
        mine = [
            line for line in lines if counts[line.voi_number] == 1 and line.voi_number not in seen
        ]
        decided = already | {line.line_number for line in mine}
        left = [line for line in lines if line.line_number not in decided]
        holders = {
            ctx.participants[line.participant_number].pk
            for line in mine
            if line.participant_number in ctx.participants
        }
        # As receive_tender does for one: the participants' rows, so no concurrent tender of
        # theirs can count the same position (ids in order, so two chunks cannot deadlock).
        list(
            Holder.objects.select_for_update()
            .filter(pk__in=sorted(holders))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        positions = _Positions(sorted(holders), [s.pk for s in ctx.series_by_cusip.values()])
        taken: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
        applied: list[tuple[ActivityLine, Holder, NoteSeries]] = []
        refused: list[tuple[ActivityLine, _Refusal]] = []
        for line in mine:
            assert line.dtc_timestamp is not None
            try:
                holder = _participant(ctx, line)
                series = _series(ctx, line)
                _check_tender(ctx, line)
                day = calendars.ny_date(line.dtc_timestamp)
                available = (
                    positions.free(holder.pk, series.pk, day) - taken[(holder.pk, series.pk)]
                )
                if line.quantity % series.denomination:
                    raise _Refusal(
                        AtopExceptionKind.DENOMINATION,
                        f"${line.quantity:,.2f} is not a multiple of ${series.denomination:,.0f} "
                        f"{series.amount_label} of the {series.name}.",
                    )
                if line.quantity > available:
                    raise _Refusal(
                        AtopExceptionKind.OVER_POSITION,
                        f"{holder.name} has ${available:,.2f} {series.amount_label} of the "
                        f"{series.name} free to tender; VOI {line.voi_number} is for "
                        f"${line.quantity:,.2f}.",
                    )
                try:
                    _check_offer_takes_tenders(offer, line.dtc_timestamp, reported=True)
                except DeskError as error:
                    raise _refusal_of(error) from None
            except _Refusal as refusal:
                refused.append((line, refusal))
                continue
            taken[(holder.pk, series.pk)] += line.quantity
            applied.append((line, holder, series))
        try:
            with transaction.atomic():
                outcomes = _write(ctx, atop_import, applied, refused)
        except IntegrityError:
            # Another process recorded one of these VOIs (or one of these exceptions) since
            # the check above: let the per-line path sort each out.
            return {}, list(lines)
    outcomes.update({number: ("already", None) for number in already})
    return outcomes, left


class _Positions:
    """available_to_tender(holder, series, day, BOOK_ENTRY) for many holders at once, from
    two queries: their holdings, and what they have tendered and not withdrawn. The
    same sums (tests/exchange/services/test_atop_bulk.py compares them)."""

    def __init__(self, holder_ids: Sequence[int], series_ids: Sequence[int]) -> None:
        self.holdings: dict[tuple[int, int], list[tuple[dt.date, dt.date | None, str, Decimal]]]
        self.holdings = defaultdict(list)
        for holder_id, series_id, start, until, form, amount in Holding.objects.filter(
            holder_id__in=holder_ids, series_id__in=series_ids
        ).values_list(
            "holder_id", "series_id", "effective_from", "effective_until", "form", "amount"
        ):
            self.holdings[(holder_id, series_id)].append((start, until, form, amount))
        self.open_all: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
        self.open_book_entry: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
        for holder_id, series_id, channel, total in (
            Tender.objects.filter(
                holder_id__in=holder_ids,
                series_id__in=series_ids,
                state__in=[*TENDER_OPEN_STATES, TenderState.ACCEPTED],
            )
            .values_list("holder_id", "series_id", "channel")
            .annotate(total=Sum(F("amount") - F("withdrawn_amount")))
        ):
            self.open_all[(holder_id, series_id)] += total
            if channel == Channel.BOOK_ENTRY:
                self.open_book_entry[(holder_id, series_id)] += total

    def free(self, holder_id: int, series_id: int, day: dt.date) -> Decimal:
        held = held_dtc = Decimal("0")
        for start, until, form, amount in self.holdings[(holder_id, series_id)]:
            if start <= day and (until is None or until > day):  # Holding.of_record_on
                held += amount
                if form == HoldingForm.DTC_POSITION:
                    held_dtc += amount
        key = (holder_id, series_id)
        return min(held - self.open_all[key], held_dtc - self.open_book_entry[key])


def _check_tender(ctx: _Context, line: ActivityLine) -> None:
    """The per-line path's checks before the position, in its order (apply._check_new_position)."""
    assert line.dtc_timestamp is not None
    if not line.agents_message:
        raise _Refusal(
            AtopExceptionKind.NO_AGENTS_MESSAGE,
            f"VOI {line.voi_number} came without an Agent's Message: the participant is not bound "
            f"to the letter of transmittal, so nothing is tendered.",
        )
    if line.dtc_timestamp > ctx.offer.expiration_at:
        raise _Refusal(
            AtopExceptionKind.LATE,
            f"DTC timed VOI {line.voi_number} at {calendars.format_ny(line.dtc_timestamp)}, after "
            f"the expiration instant, {calendars.format_ny(ctx.offer.expiration_at)}.",
        )
    _check_not_future(ctx, line)


def _write(
    ctx: _Context,
    atop_import: AtopImport,
    applied: list[tuple[ActivityLine, Holder, NoteSeries]],
    refused: list[tuple[ActivityLine, _Refusal]],
) -> dict[int, Outcome]:
    if connection.vendor == "postgresql" and applied:
        tender_ids = _copy_applied(ctx, atop_import, applied)
        applied_instructions: list[AtopInstruction] = []
        tenders: list[Tender] = []
    else:
        tenders = _bulk_tenders(ctx, applied)
        tender_ids = [t.pk for t in tenders]
        applied_instructions = [
            _instruction(ctx, atop_import, line, AtopOutcome.APPLIED) for line, _, _ in applied
        ]
        for instruction, tender in zip(applied_instructions, tenders, strict=True):
            instruction.tender = tender
    refused_instructions = [
        _instruction(ctx, atop_import, line, AtopOutcome.EXCEPTION) for line, _ in refused
    ]
    AtopInstruction.objects.bulk_create(applied_instructions + refused_instructions)
    exceptions = AtopException.objects.bulk_create(
        [
            AtopException(
                offer=ctx.offer,
                atop_import=atop_import,
                line_number=line.line_number,
                line=line.raw,
                voi_number=line.voi_number,
                content_hash=line.content_hash,
                instruction=instruction,
                kind=refusal.kind,
                message=refusal.message,
                raised_at=ctx.now,
            )
            for (line, refusal), instruction in zip(refused, refused_instructions, strict=True)
        ]
    )
    history = [
        history_row(
            tender,
            action="exchange.tender.received",
            from_state="",
            to_state=tender.state,
            actor=ctx.actor,
            now=ctx.now,
            reason=_received_reason(tender.amount, series),
            offer=ctx.offer,
        )
        # (the COPY path wrote its own)
        for tender, (_, _, series) in zip(tenders, applied if tenders else [], strict=True)
    ]
    history += [
        history_row(
            exception,
            action="exchange.atop_exception.raised",
            from_state="",
            to_state=exception.status,
            actor=ctx.actor,
            now=ctx.now,
            reason=f"{atop_import.file_name} line {exception.line_number}: {exception.message}",
            offer=ctx.offer,
        )
        for exception in exceptions
    ]
    StateChange.objects.bulk_create(history)
    notifications.tenders_received(tender_ids)
    outcomes: dict[int, Outcome] = {
        line.line_number: (AtopInstructionKind.TENDER.value, None) for line, _, _ in applied
    }
    for line, refusal in refused:
        outcomes[line.line_number] = (
            "exception",
            (line.line_number, refusal.kind.value, refusal.message),
        )
    return outcomes


def _received_reason(amount: Decimal, series: NoteSeries) -> str:
    """receive_tender's words for the history row."""
    return f"{Channel.BOOK_ENTRY.label}: ${amount:,.2f} {series.amount_label} of the {series.name}."


def _tender_template(ctx: _Context) -> Tender:
    """What every tender of a chunk shares: the model's defaults, the offer, the channel."""
    return Tender(
        offer=ctx.offer,
        submitted_by=ctx.actor.user if ctx.actor.user is not None and ctx.actor.user.pk else None,
        channel=Channel.BOOK_ENTRY,
        state=TenderState.RECEIVED,
        registered_names="Cede & Co.",
        signer_capacity=SignerCapacity.DTC_PARTICIPANT,
    )


def new_references(prefix: str, count: int) -> list[str]:
    """`count` references as Tender.save() draws them (models.tenders.new_reference), from
    one call to the system's random source instead of eight a reference: bytes outside the
    largest multiple of the alphabet's size are dropped, so each letter stays uniform."""
    size = len(_REFERENCE_ALPHABET)
    usable = 256 - 256 % size
    letters: list[str] = []
    while len(letters) < 8 * count:
        letters += [
            _REFERENCE_ALPHABET[b % size] for b in secrets.token_bytes(9 * count) if b < usable
        ]
    return [
        f"{prefix}-{''.join(letters[8 * i : 8 * i + 4])}-{''.join(letters[8 * i + 4 : 8 * i + 8])}"
        for i in range(count)
    ]


def _tender_values(
    line: ActivityLine, holder: Holder, series: NoteSeries, reference: str
) -> dict[str, object]:
    letter = atop_letter(line, holder)
    return {
        # bulk inserts skip save(), which draws the reference.
        "reference": reference,
        "series_id": series.pk,
        "holder_id": holder.pk,
        "received_at": line.dtc_timestamp,
        "amount": line.quantity,
        **{name: letter[name] for name in _VARYING_LETTER},
    }


# The letter's boxes that differ from line to line (atop_letter sets the others alike).
_VARYING_LETTER = (
    "book_entry_confirmation",
    "dtc_participant_number",
    "agents_message",
    "beneficial_owner",
    "signer_name",
)


def _bulk_tenders(
    ctx: _Context, applied: list[tuple[ActivityLine, Holder, NoteSeries]]
) -> list[Tender]:
    template = _tender_template(ctx)
    tenders = []
    references = new_references("LT", len(applied))
    for (line, holder, series), reference in zip(applied, references, strict=True):
        tender = Tender(
            **{
                f.attname: getattr(template, f.attname)
                for f in Tender._meta.concrete_fields
                if f.attname != "id"
            }
        )
        for name, value in _tender_values(line, holder, series, reference).items():
            setattr(tender, name, value)
        tenders.append(tender)
    return Tender.objects.bulk_create(tenders)


def _copy_applied(
    ctx: _Context, atop_import: AtopImport, applied: list[tuple[ActivityLine, Holder, NoteSeries]]
) -> list[int]:
    """PostgreSQL: the chunk's tenders, their instructions and history rows by COPY, with
    ids drawn from the tenders' sequence first. Building tens of thousands of model
    instances and compiling their INSERTs costs more than the database's work; the
    columns and every default still come from the models."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Tender._meta.db_table, len(applied)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    references = new_references("LT", len(applied))
    tender_rows = [
        {"id": pk, **_tender_values(line, holder, series, reference)}
        for pk, (line, holder, series), reference in zip(ids, applied, references, strict=True)
    ]
    _copy(Tender, _tender_template(ctx), tender_rows)
    instruction_template = _instruction(ctx, atop_import, applied[0][0], AtopOutcome.APPLIED)
    _copy(
        AtopInstruction,
        instruction_template,
        [
            {
                "voi_number": line.voi_number,
                "participant_number": line.participant_number,
                "participant_name": line.participant_name,
                "cusip": line.cusip,
                "quantity": line.quantity,
                "dtc_timestamp": line.dtc_timestamp,
                "agents_message": line.agents_message,
                "related_voi": line.related_voi,
                "beneficial_owners": line.beneficial_owners,
                "content_hash": line.content_hash,
                "line_number": line.line_number,
                "tender_id": pk,
            }
            for pk, (line, _, _) in zip(ids, applied, strict=True)
        ],
    )
    history_template = history_row(
        Tender(pk=0),
        action="exchange.tender.received",
        from_state="",
        to_state=TenderState.RECEIVED,
        actor=ctx.actor,
        now=ctx.now,
        offer=ctx.offer,
    )
    _copy(
        StateChange,
        history_template,
        [
            {"object_id": pk, "reason": _received_reason(line.quantity, series)}
            for pk, (line, _, series) in zip(ids, applied, strict=True)
        ],
    )
    return ids


def _copy(model: type[Model], template: Model, rows: list[dict[str, object]]) -> None:
    """COPY rows into the model's table: each row's values by attname, the rest from the
    template (the model's defaults); a database-assigned id unless the rows give one."""
    if not rows:
        return
    varying = list(rows[0])
    fields = [
        f
        for f in model._meta.concrete_fields
        if f.attname in varying or not (f.primary_key and "id" not in varying)
    ]
    constant = {
        f.attname: f.get_db_prep_save(getattr(template, f.attname), connection)
        for f in fields
        if f.attname not in varying
    }
    columns = [f.column for f in fields]
    names = [f.attname for f in fields]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(model._meta.db_table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with connection.cursor() as cursor:
        try:
            with cursor.cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row([row[n] if n in row else constant[n] for n in names])
        except psycopg.IntegrityError as error:
            raise IntegrityError(str(error)) from error
