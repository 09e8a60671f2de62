"""Desk buttons for guaranteed deliveries, withdrawal notices, returns and registration defaults."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages

from exchange.admin.base import DeskTransition, Outcome, money, ny_text
from exchange.admin.forms import MedallionStampForm, WaiverForm
from exchange.models import (
    GuaranteedDelivery,
    NoteReturn,
    Tender,
    TenderState,
    WithdrawalNotice,
    WithdrawalState,
)
from exchange.services import guaranteed_deliveries, guarantees, tenders, withdrawals
from exchange.services.base import Actor
from exchange.terms import calendars


def _lapse(gd: GuaranteedDelivery, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    gd = guaranteed_deliveries.lapse_guaranteed_delivery(gd.pk, actor=actor, now=now)
    return Outcome(f"Guaranteed delivery {gd.reference} lapsed; its tender is rejected.")


def _waive_late(
    gd: GuaranteedDelivery, data: dict[str, Any], actor: Actor, now: dt.datetime
) -> Outcome:
    gd = guaranteed_deliveries.waive_late_delivery(
        gd.pk, authorized_by=data["authorized_by"], actor=actor, now=now
    )
    return Outcome(
        f"Late delivery under {gd.reference} waived (authorised by {gd.lapse_waived_by}); "
        f"it will not lapse."
    )


GUARANTEED_DELIVERY_TRANSITIONS: tuple[DeskTransition, ...] = (
    DeskTransition(
        name="lapse",
        label="Lapse",
        fsm="lapse",
        allowed_now=lambda gd, now: not gd.lapse_waived_by and now >= gd.deadline_at,
        consequence=lambda gd, now: (
            f"The notes were due by {calendars.format_ny(gd.deadline_at)} (three NYSE trading "
            f"days after execution) and have not arrived: the notice lapses and tender "
            f"{gd.tender.reference} is rejected."
        ),
        perform=_lapse,
    ),
    DeskTransition(
        name="waive_late_delivery",
        label="Waive late delivery (issuer)",
        fsm="lapse",  # only while the notice could still lapse
        issuer_decision=True,
        allowed_now=lambda gd, now: not gd.lapse_waived_by,
        consequence=lambda gd, now: (
            f"The issuer accepts late delivery under this guarantee: it will not lapse at "
            f"{calendars.format_ny(gd.deadline_at)}, and the notes may still be delivered."
        ),
        perform=_waive_late,
        form_class=WaiverForm,
    ),
)


def _process(
    notice: WithdrawalNotice, data: dict[str, Any], actor: Actor, now: dt.datetime
) -> Outcome:
    notice = withdrawals.process_withdrawal(notice.pk, actor=actor, now=now)
    if notice.state == WithdrawalState.REJECTED:
        # Processing worked; its outcome is a refusal the holder must hear about.
        return Outcome(
            f"Notice {notice.reference} is rejected: {notice.rejection_reason}", messages.WARNING
        )
    return Outcome(
        f"Notice {notice.reference} is effective: {money(notice.amount)} withdrawn; the notes "
        f"are recorded for return."
    )


def _record_stamp(
    notice: WithdrawalNotice, data: dict[str, Any], actor: Actor, now: dt.datetime
) -> Outcome:
    guarantees.record_stamp(
        withdrawal_id=notice.pk,
        institution_name=data["institution"],
        program=data["program"],
        stamp_number=data["stamp_number"],
        actor=actor,
        now=now,
    )
    notice = WithdrawalNotice.objects.get(pk=notice.pk)
    return Outcome(
        f"The medallion guarantee (stamp {data['stamp_number']}) is recorded on notice "
        f"{notice.reference}, which is now {notice.get_state_display().lower()}."
    )


def _awaits_stamp(notice: WithdrawalNotice, now: dt.datetime) -> bool:
    return notice.state == WithdrawalState.RECEIVED and withdrawals.awaits_guarantee(
        notice, notice.tender
    )


WITHDRAWAL_TRANSITIONS: tuple[DeskTransition, ...] = (
    DeskTransition(
        name="record_stamp",
        label="Record the medallion stamp",
        allowed_now=_awaits_stamp,
        consequence=lambda n, now: (
            f"The letter of tender {n.tender.reference} was signed with a medallion guarantee, "
            f"so this notice must be too. Recording the stamp on the paper notice, with its "
            f"number, lets the notice be decided at once."
        ),
        perform=_record_stamp,
        form_class=MedallionStampForm,
    ),
    DeskTransition(
        name="process",
        label="Process",
        fsm="make_effective",
        consequence=lambda n, now: (
            f"The notice is checked for the six elements the prospectus requires and for "
            f"receipt before the expiration instant (received {ny_text(n.received_at)}). If it "
            f"passes, {money(n.amount)} of tender {n.tender.reference} is withdrawn and the "
            f"notes recorded for return; otherwise the notice is rejected, naming what it lacks."
        ),
        perform=_process,
    ),
)


def _mark_returned(nr: NoteReturn, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    nr = tenders.complete_return(nr.pk, actor=actor, now=now)
    tender = Tender.objects.get(pk=nr.tender_id)
    then = (
        f" Tender {tender.reference} is returned." if tender.state == TenderState.RETURNED else ""
    )
    return Outcome(f"Return of {money(nr.amount)} recorded as sent.{then}")


NOTE_RETURN_TRANSITIONS: tuple[DeskTransition, ...] = (
    DeskTransition(
        name="mark_returned",
        label="Mark returned",
        allowed_now=lambda nr, now: nr.returned_at is None,
        consequence=lambda nr, now: (
            f"Records that {money(nr.amount)} of original notes of tender {nr.tender.reference} "
            f"went back to the holder now "
            f"({'credited back at DTC' if nr.by_book_entry else 'certificates mailed'}). When "
            f"nothing else is left to return, the tender becomes Returned."
        ),
        perform=_mark_returned,
    ),
)


# A registration default is cured by the milestone that cures it (recorded on the "Record a
# registration milestone" page): a cure typed in by hand would have no milestone behind it,
# and the accrual job, which follows the milestones, would keep special interest running.
REGISTRATION_DEFAULT_TRANSITIONS: tuple[DeskTransition, ...] = ()
