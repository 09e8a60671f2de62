"""The exceptions queue: a clerk matches a line to a holder, rejects it with a reason, or
escalates it to a supervisor; each resolution is recorded in the history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction

from exchange.models import (
    AtopException,
    AtopExceptionKind,
    AtopExceptionStatus,
    AtopInstruction,
    AtopOutcome,
    ExchangeOffer,
)
from exchange.models.atop import UNRESOLVED_EXCEPTION_STATES
from exchange.services.atop.apply import _apply, _context, _Refusal
from exchange.services.atop.files import ActivityLine
from exchange.services.base import Actor, DeskError, lock_offer_shared, record, require_aware
from holders.models import Holder, HolderKind


def _lock_exception(exception_id: int) -> AtopException:
    offer_id = AtopException.objects.values_list("offer_id", flat=True).get(pk=exception_id)
    lock_offer_shared(offer_id)
    return AtopException.objects.select_for_update().get(pk=exception_id)


def _check_may_resolve(exception: AtopException, *, supervisor: bool) -> None:
    if exception.status not in UNRESOLVED_EXCEPTION_STATES:
        raise DeskError(
            f"This exception was already resolved ({exception.get_status_display().lower()})."
        )
    if exception.status == AtopExceptionStatus.ESCALATED and not supervisor:
        raise DeskError("This exception was escalated: a supervisor resolves it.")


def _close(
    exception: AtopException, status: str, note: str, *, actor: Actor, now: dt.datetime, action: str
) -> AtopException:
    previous = exception.status
    exception.status = status
    exception.resolution_note = note
    if status != AtopExceptionStatus.ESCALATED:
        exception.resolved_at = now
        exception.resolved_by = actor.user if actor.user is not None and actor.user.pk else None
        exception.resolved_by_label = actor.label
    exception.save(
        update_fields=[
            "status",
            "resolution_note",
            "resolved_at",
            "resolved_by",
            "resolved_by_label",
            "matched_holder",
        ]
    )
    record(
        exception,
        action=action,
        from_state=previous,
        to_state=status,
        actor=actor,
        now=now,
        reason=note,
        offer=exception.offer_id,
    )
    return exception


@transaction.atomic
def reject_exception(
    exception_id: int, *, reason: str, actor: Actor, now: dt.datetime, supervisor: bool = False
) -> AtopException:
    """The line stays unapplied; the reason is what the desk tells the participant."""
    require_aware(now)
    if not reason.strip():
        raise DeskError("Give the reason the instruction is rejected.", field="reason")
    exception = _lock_exception(exception_id)
    _check_may_resolve(exception, supervisor=supervisor)
    return _close(
        exception,
        AtopExceptionStatus.REJECTED,
        reason.strip(),
        actor=actor,
        now=now,
        action="exchange.atop_exception.rejected",
    )


@transaction.atomic
def escalate_exception(
    exception_id: int, *, note: str, actor: Actor, now: dt.datetime
) -> AtopException:
    require_aware(now)
    if not note.strip():
        raise DeskError("Say what the supervisor should decide.", field="note")
    exception = _lock_exception(exception_id)
    if exception.status != AtopExceptionStatus.OPEN:
        raise DeskError(f"This exception is {exception.get_status_display().lower()}.")
    return _close(
        exception,
        AtopExceptionStatus.ESCALATED,
        note.strip(),
        actor=actor,
        now=now,
        action="exchange.atop_exception.escalated",
    )


@transaction.atomic
def match_exception(
    exception_id: int,
    *,
    holder_id: int,
    note: str,
    actor: Actor,
    now: dt.datetime,
    supervisor: bool = False,
) -> AtopException:
    """A participant unknown to the register is matched to a DTC participant holder, and the
    instruction is then applied through the same services, at DTC's timestamp."""
    require_aware(now)
    exception = _lock_exception(exception_id)
    _check_may_resolve(exception, supervisor=supervisor)
    if exception.kind != AtopExceptionKind.UNKNOWN_PARTICIPANT or exception.instruction_id is None:
        raise DeskError(
            "Only a participant unknown to the register is matched to a holder; reject or "
            "escalate this exception."
        )
    holder = Holder.objects.get(pk=holder_id)
    if holder.kind != HolderKind.DTC_PARTICIPANT:
        raise DeskError(f"{holder.name} is not a DTC participant.", field="holder")
    instruction = AtopInstruction.objects.select_for_update().get(pk=exception.instruction_id)
    offer = ExchangeOffer.objects.get(pk=exception.offer_id)
    ctx = _context(offer, actor, now)
    ctx.participants[instruction.participant_number] = holder
    line = ActivityLine(
        line_number=instruction.line_number,
        raw=exception.line,
        voi_number=instruction.voi_number,
        kind=instruction.kind,
        participant_number=instruction.participant_number,
        participant_name=instruction.participant_name,
        cusip=instruction.cusip,
        quantity=instruction.quantity,
        dtc_timestamp=instruction.dtc_timestamp,
        agents_message=instruction.agents_message,
        related_voi=instruction.related_voi,
        beneficial_owners=instruction.beneficial_owners,
    )
    try:
        with transaction.atomic():
            _apply(ctx, line, instruction)
    except _Refusal as refusal:
        raise DeskError(
            f"Matched to {holder.name}, the instruction is still refused: {refusal.message}"
        ) from None
    instruction.outcome = AtopOutcome.APPLIED
    instruction.save(update_fields=["outcome", "tender", "guaranteed_delivery", "withdrawal"])
    exception.matched_holder = holder
    return _close(
        exception,
        AtopExceptionStatus.MATCHED,
        f"Participant {instruction.participant_number} matched to {holder.name}. {note.strip()}".strip(),
        actor=actor,
        now=now,
        action="exchange.atop_exception.matched",
    )


def open_exceptions(offer_id: int) -> Iterable[AtopException]:
    return AtopException.objects.filter(offer_id=offer_id, status__in=UNRESOLVED_EXCEPTION_STATES)
