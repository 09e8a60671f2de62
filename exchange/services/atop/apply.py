"""The ATOP import, applied through the portal's services.

Each line is one voluntary offering instruction (VOI). It is recorded once per offer by
its VOI number (a unique constraint, so two files or two processes carrying one VOI
record it once); a VOI seen again with the same content is skipped, with other content
it is an exception. Each line is its own transaction, taken in the desk's lock order
(the offer shared, then the instruction's key, then what the service locks), so a file
stopped half-way keeps what it applied and the next import of it finishes the rest.

The Agent's Message stands in for the signed letter of transmittal; DTC's timestamp is
the receipt time: a tender or protect on or before the expiration instant, a withdrawal
strictly before it, a cover before its protect's deadline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction

from exchange.models import (
    AtopException,
    AtopExceptionKind,
    AtopImport,
    AtopInstruction,
    AtopInstructionKind,
    AtopOutcome,
    Channel,
    ExchangeOffer,
    GuaranteedDeliveryState,
    NoteSeries,
    SignerCapacity,
)
from exchange.services.atop.files import ActivityLine, read_activity_file
from exchange.services.base import Actor, DeskError, lock_offer_shared, record, require_aware
from exchange.services.guaranteed_deliveries import fulfil_guaranteed_delivery, receive_protect
from exchange.services.tenders import LetterOfTransmittal, available_to_tender, receive_tender
from exchange.services.withdrawals import NoticeOfWithdrawal, receive_withdrawal
from exchange.terms import calendars
from holders.models import Holder, HolderKind

PROGRESS_EVERY = 500


@dataclass
class ImportSummary:
    """What an import did (or, dry, would do): the preview and the command's report."""

    lines: int = 0
    new_tenders: int = 0
    withdrawals: int = 0
    protects: int = 0
    covers: int = 0
    already_recorded: int = 0
    exceptions: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def exception_count(self) -> int:
        return len(self.exceptions)

    def count(self, outcome: str) -> None:
        if outcome == AtopInstructionKind.TENDER:
            self.new_tenders += 1
        elif outcome == AtopInstructionKind.WITHDRAWAL:
            self.withdrawals += 1
        elif outcome == AtopInstructionKind.PROTECT:
            self.protects += 1
        elif outcome == AtopInstructionKind.COVER:
            self.covers += 1
        elif outcome == "already":
            self.already_recorded += 1


class _Refusal(Exception):
    def __init__(self, kind: AtopExceptionKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class _DryRun(Exception):
    pass


@dataclass
class _Context:
    offer: ExchangeOffer
    series_by_cusip: dict[str, NoteSeries]
    participants: dict[str, Holder]
    actor: Actor
    now: dt.datetime


def _context(offer: ExchangeOffer, actor: Actor, now: dt.datetime) -> _Context:
    return _Context(
        offer=offer,
        series_by_cusip={
            s.original_cusip.upper(): s for s in offer.series.exclude(original_cusip="")
        },
        participants={
            h.dtc_participant_number.lstrip("0").zfill(4): h
            for h in Holder.objects.filter(kind=HolderKind.DTC_PARTICIPANT).exclude(
                dtc_participant_number=""
            )
        },
        actor=actor,
        now=now,
    )


def _participant(ctx: _Context, line: ActivityLine) -> Holder:
    holder = ctx.participants.get(line.participant_number)
    if holder is None:
        raise _Refusal(
            AtopExceptionKind.UNKNOWN_PARTICIPANT,
            f"DTC participant {line.participant_number} ({line.participant_name or 'no name given'}) "
            f"is not on the register: match it to a holder or reject the line.",
        )
    return holder


def _series(ctx: _Context, line: ActivityLine) -> NoteSeries:
    series = ctx.series_by_cusip.get(line.cusip)
    if series is None:
        known = ", ".join(f"{c} ({s.name})" for c, s in sorted(ctx.series_by_cusip.items()))
        raise _Refusal(
            AtopExceptionKind.UNKNOWN_CUSIP,
            f"CUSIP {line.cusip or '(none)'} is not a series of this offer; its CUSIPs are {known or 'not recorded'}.",
        )
    return series


def _check_not_future(ctx: _Context, line: ActivityLine) -> None:
    assert line.dtc_timestamp is not None
    if line.dtc_timestamp > ctx.now:
        raise _Refusal(
            AtopExceptionKind.REFUSED,
            f"DTC timed VOI {line.voi_number} at {calendars.format_ny(line.dtc_timestamp)}, after "
            f"the desk received the file: a receipt time cannot be in the future.",
        )


def _check_new_position(
    ctx: _Context, line: ActivityLine, holder: Holder, series: NoteSeries
) -> None:
    """The checks of a tender or protect the service would also make, named for the queue."""
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
    if line.quantity % series.denomination:
        raise _Refusal(
            AtopExceptionKind.DENOMINATION,
            f"${line.quantity:,.2f} is not a multiple of ${series.denomination:,.0f} "
            f"{series.amount_label} of the {series.name}.",
        )
    channel = Channel.BOOK_ENTRY if line.kind == AtopInstructionKind.TENDER else None
    free = available_to_tender(holder, series, calendars.ny_date(line.dtc_timestamp), channel)
    if line.quantity > free:
        raise _Refusal(
            AtopExceptionKind.OVER_POSITION,
            f"{holder.name} has ${free:,.2f} {series.amount_label} of the {series.name} free to "
            f"tender; VOI {line.voi_number} is for ${line.quantity:,.2f}.",
        )


def _earlier(ctx: _Context, line: ActivityLine, kinds: Iterable[str]) -> AtopInstruction:
    earlier = (
        AtopInstruction.objects.filter(
            offer=ctx.offer,
            voi_number=line.related_voi,
            kind__in=list(kinds),
            outcome=AtopOutcome.APPLIED,
        )
        .select_related("tender", "guaranteed_delivery")
        .first()
    )
    if earlier is None:
        raise _Refusal(
            AtopExceptionKind.UNKNOWN_VOI,
            f"VOI {line.voi_number} {line.kind}s VOI {line.related_voi}, which the desk has not "
            f"recorded as an applied {' or '.join(kinds)}.",
        )
    if earlier.participant_number != line.participant_number:
        raise _Refusal(
            AtopExceptionKind.UNKNOWN_VOI,
            f"VOI {line.related_voi} belongs to participant {earlier.participant_number}, not "
            f"{line.participant_number}.",
        )
    return earlier


def _apply(ctx: _Context, line: ActivityLine, instruction: AtopInstruction) -> None:
    """Carry the instruction out through the portal's services; raise _Refusal if not."""
    assert line.dtc_timestamp is not None
    holder = _participant(ctx, line)
    kind = line.kind
    late_withdrawal = (
        kind == AtopInstructionKind.WITHDRAWAL and line.dtc_timestamp >= ctx.offer.expiration_at
    )
    if kind == AtopInstructionKind.COVER or (
        kind == AtopInstructionKind.WITHDRAWAL and not late_withdrawal
    ):
        _check_not_future(ctx, line)
    if kind in (AtopInstructionKind.TENDER, AtopInstructionKind.PROTECT):
        series = _series(ctx, line)
        _check_new_position(ctx, line, holder, series)
        try:
            if kind == AtopInstructionKind.TENDER:
                instruction.tender = receive_tender(
                    offer_id=ctx.offer.pk,
                    series_id=series.pk,
                    holder_id=holder.pk,
                    submission=LetterOfTransmittal(
                        amount=line.quantity,
                        channel=Channel.BOOK_ENTRY,
                        letter=atop_letter(line, holder),
                    ),
                    actor=ctx.actor,
                    now=ctx.now,
                    received_at=line.dtc_timestamp,
                )
            else:
                gd = receive_protect(
                    offer_id=ctx.offer.pk,
                    series_id=series.pk,
                    participant_id=holder.pk,
                    amount=line.quantity,
                    voi_number=line.voi_number,
                    protected_at=line.dtc_timestamp,
                    actor=ctx.actor,
                    now=ctx.now,
                )
                instruction.guaranteed_delivery = gd
                instruction.tender_id = gd.tender_id
        except DeskError as error:
            raise _refusal_of(error) from None
        return
    if kind == AtopInstructionKind.WITHDRAWAL:
        earlier = _earlier(ctx, line, [AtopInstructionKind.TENDER, AtopInstructionKind.PROTECT])
        if line.dtc_timestamp >= ctx.offer.expiration_at:
            raise _Refusal(
                AtopExceptionKind.LATE,
                f"DTC timed withdrawal VOI {line.voi_number} at "
                f"{calendars.format_ny(line.dtc_timestamp)}; withdrawal rights ended at "
                f"{calendars.format_ny(ctx.offer.expiration_at)}.",
            )
        try:
            notice = receive_withdrawal(
                earlier.tender_id,  # type: ignore[arg-type]
                notice=NoticeOfWithdrawal(
                    tendering_person_name=holder.name,
                    certificate_numbers="",
                    amount=line.quantity,
                    states_withdrawal=True,
                    registered_holder_name="Cede & Co.",
                    # The participant's ATOP instruction is its own, as its tender was.
                    signed_as_letter=True,
                ),
                actor=ctx.actor,
                now=ctx.now,
                received_at=line.dtc_timestamp,
            )
        except DeskError as error:
            raise _refusal_of(error) from None
        instruction.withdrawal = notice
        instruction.tender_id = earlier.tender_id
        if notice.rejection_reason:
            # The notice stays recorded (rejected, with its reason) and the queue shows it.
            instruction.attention = _Refusal(  # type: ignore[attr-defined]
                AtopExceptionKind.REFUSED, f"Withdrawal rejected: {notice.rejection_reason}"
            )
        return
    # A cover: the protected notes arrive.
    earlier = _earlier(ctx, line, [AtopInstructionKind.PROTECT])
    gd = earlier.guaranteed_delivery
    assert gd is not None
    if gd.state == GuaranteedDeliveryState.LAPSED or (
        line.dtc_timestamp >= gd.deadline_at and not gd.lapse_waived_by
    ):
        raise _Refusal(
            AtopExceptionKind.LATE,
            f"DTC timed cover VOI {line.voi_number} at {calendars.format_ny(line.dtc_timestamp)}; "
            f"protect VOI {line.related_voi} was to be covered before {calendars.format_ny(gd.deadline_at)}.",
        )
    if not line.agents_message:
        raise _Refusal(
            AtopExceptionKind.NO_AGENTS_MESSAGE,
            f"Cover VOI {line.voi_number} came without an Agent's Message.",
        )
    live = earlier.tender.live_amount if earlier.tender else Decimal("0")
    if line.quantity != live:
        raise _Refusal(
            AtopExceptionKind.REFUSED,
            f"Cover VOI {line.voi_number} delivers ${line.quantity:,.2f}; protect VOI "
            f"{line.related_voi} has ${live:,.2f} protected and not withdrawn.",
        )
    try:
        fulfil_guaranteed_delivery(
            gd.pk,
            by_book_entry=True,
            letter={k: v for k, v in atop_letter(line, holder).items() if k != "registered_names"},
            actor=ctx.actor,
            now=ctx.now,
            delivered_at=line.dtc_timestamp,
        )
    except DeskError as error:
        raise _refusal_of(error) from None
    instruction.guaranteed_delivery = gd
    instruction.tender_id = gd.tender_id


def atop_letter(line: ActivityLine, holder: Holder) -> dict[str, object]:
    """The letter an Agent's Message stands for: the participant bound to its terms."""
    return {
        "registered_names": "Cede & Co.",
        "book_entry_confirmation": line.voi_number,
        "dtc_participant_number": line.participant_number,
        "agents_message": line.agents_message,
        "beneficial_owner": line.beneficial_owners[:200],
        "signer_capacity": SignerCapacity.DTC_PARTICIPANT,
        "signer_name": holder.name,
    }


def _refusal_of(error: DeskError) -> _Refusal:
    if error.field == "amount":
        return _Refusal(AtopExceptionKind.OVER_POSITION, error.message)
    if "expir" in error.message or "were due by" in error.message:
        return _Refusal(AtopExceptionKind.LATE, error.message)
    return _Refusal(AtopExceptionKind.REFUSED, error.message)


def _raise_exception(
    ctx: _Context,
    atop_import: AtopImport,
    line: ActivityLine,
    kind: AtopExceptionKind,
    message: str,
    *,
    instruction: AtopInstruction | None = None,
) -> bool:
    """Record the exception once per content; False if it was recorded before."""
    exception, created = AtopException.objects.get_or_create(
        offer=ctx.offer,
        content_hash=line.content_hash,
        defaults={
            "atop_import": atop_import,
            "line_number": line.line_number,
            "line": line.raw,
            "voi_number": line.voi_number,
            "instruction": instruction,
            "kind": kind,
            "message": message,
            "raised_at": ctx.now,
        },
    )
    if created:
        record(
            exception,
            action="exchange.atop_exception.raised",
            from_state="",
            to_state=exception.status,
            actor=ctx.actor,
            now=ctx.now,
            reason=f"{atop_import.file_name} line {line.line_number}: {message}",
            offer=ctx.offer,
        )
    return created


def _import_line(
    ctx: _Context, atop_import: AtopImport, line: ActivityLine
) -> tuple[str, tuple[int, str, str] | None]:
    """One line in one transaction: ("tender" | … | "already" | "exception", the exception)."""
    with transaction.atomic():
        lock_offer_shared(ctx.offer.pk)
        participant = ctx.participants.get(line.participant_number)
        if participant is not None and line.kind in (
            AtopInstructionKind.TENDER,
            AtopInstructionKind.PROTECT,
        ):
            # The participant before the VOI's key, as the set-based path locks them (and
            # as receive_tender will lock it again): a chunk and a line of two concurrent
            # imports cannot then wait on each other.
            list(Holder.objects.select_for_update().filter(pk=participant.pk).values_list("pk"))
        if line.error:
            created = _raise_exception(
                ctx, atop_import, line, AtopExceptionKind.UNREADABLE, line.error
            )
            return (
                ("exception", (line.line_number, AtopExceptionKind.UNREADABLE.value, line.error))
                if created
                else ("already", None)
            )
        try:
            with transaction.atomic():
                instruction = AtopInstruction.objects.create(
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
                    outcome=AtopOutcome.APPLIED,
                )
        except IntegrityError:
            # Recorded before, by an earlier file or by a process importing at this moment
            # (its insert held the key until it committed).
            seen = AtopInstruction.objects.get(offer=ctx.offer, voi_number=line.voi_number)
            if seen.content_hash == line.content_hash:
                return "already", None
            message = (
                f"VOI {line.voi_number} was recorded from {seen.first_import.file_name} line "
                f"{seen.line_number} with other content ({seen.get_kind_display().lower()} of "
                f"${seen.quantity:,.2f} {seen.cusip} at {calendars.format_ny(seen.dtc_timestamp)}); "
                f"this line is not applied."
            )
            created = _raise_exception(
                ctx, atop_import, line, AtopExceptionKind.DUPLICATE_VOI, message, instruction=seen
            )
            return (
                ("exception", (line.line_number, AtopExceptionKind.DUPLICATE_VOI.value, message))
                if created
                else ("already", None)
            )
        try:
            with transaction.atomic():
                _apply(ctx, line, instruction)
        except _Refusal as refusal:
            # The savepoint rolled back whatever the services had begun.
            instruction.outcome = AtopOutcome.EXCEPTION
            instruction.tender = instruction.guaranteed_delivery = instruction.withdrawal = None
            instruction.save(
                update_fields=["outcome", "tender", "guaranteed_delivery", "withdrawal"]
            )
            _raise_exception(
                ctx, atop_import, line, refusal.kind, refusal.message, instruction=instruction
            )
            return "exception", (line.line_number, refusal.kind.value, refusal.message)
        attention: _Refusal | None = getattr(instruction, "attention", None)
        if attention is not None:
            instruction.outcome = AtopOutcome.EXCEPTION
        instruction.save(update_fields=["outcome", "tender", "guaranteed_delivery", "withdrawal"])
        if attention is not None:
            _raise_exception(
                ctx, atop_import, line, attention.kind, attention.message, instruction=instruction
            )
            return "exception", (line.line_number, attention.kind.value, attention.message)
        return line.kind, None


def import_activity(
    offer_id: int,
    *,
    file_name: str,
    text: str,
    actor: Actor,
    now: dt.datetime,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    atop_import: AtopImport | None = None,
    bulk: bool = True,
) -> ImportSummary:
    """Import an activity file: runs of plain tenders set-based (atop.bulk), every other
    line in a transaction of its own (`bulk=False`: every line so). With `dry_run`, do
    the same work and roll it all back: the preview is what the import would do now."""
    require_aware(now)
    lines = read_activity_file(text)
    offer = ExchangeOffer.objects.get(pk=offer_id)
    summary = ImportSummary(lines=len(lines))
    ctx = _context(offer, actor, now)

    def run() -> AtopImport:
        record_of = atop_import or AtopImport.objects.create(
            offer=offer,
            file_name=file_name[:255],
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            imported_at=now,
            imported_by=actor.user if actor.user is not None and actor.user.pk else None,
            actor_label=actor.label,
            lines=len(lines),
            content=text,
        )
        # Imported here: the set-based path builds on this module's checks.
        from exchange.services.atop.bulk import CHUNK_SIZE, import_tender_chunk, is_plain_tender

        done = 0

        def tell(outcome: str, exception: tuple[int, str, str] | None) -> None:
            nonlocal done
            summary.count(outcome)
            if exception is not None:
                summary.exceptions.append(exception)
            done += 1
            if progress is not None and (done % PROGRESS_EVERY == 0 or done == len(lines)):
                progress(done, len(lines))

        position = 0
        while position < len(lines):
            run_end = position
            if bulk:
                while (
                    run_end < len(lines)
                    and run_end - position < CHUNK_SIZE
                    and is_plain_tender(lines[run_end])
                ):
                    run_end += 1
            if run_end > position:
                # A run of plain tenders: set-based, then one by one what it left.
                outcomes, left = import_tender_chunk(ctx, record_of, lines[position:run_end])
                for outcome, exception in outcomes.values():
                    tell(outcome, exception)
                for line in left:
                    tell(*_import_line(ctx, record_of, line))
                position = run_end
            else:
                tell(*_import_line(ctx, record_of, lines[position]))
                position += 1
        summary.exceptions.sort(key=lambda exception: exception[0])
        return record_of

    if dry_run:
        try:
            with transaction.atomic():
                run()
                raise _DryRun
        except _DryRun:
            pass
        return summary
    record_of = run()
    AtopImport.objects.filter(pk=record_of.pk).update(
        new_tenders=summary.new_tenders,
        withdrawals=summary.withdrawals,
        protects=summary.protects,
        covers=summary.covers,
        exceptions=summary.exception_count,
        already_recorded=summary.already_recorded,
    )
    record(
        record_of,
        action="exchange.atop_import.imported",
        from_state="",
        to_state="imported",
        actor=actor,
        now=now,
        reason=(
            f"{file_name}: {summary.lines} lines, {summary.new_tenders} tenders, "
            f"{summary.withdrawals} withdrawals, {summary.protects} protects, {summary.covers} "
            f"covers, {summary.exception_count} exceptions, {summary.already_recorded} already recorded."
        ),
        offer=offer,
    )
    return summary
