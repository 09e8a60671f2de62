"""What a clerk or a supervisor may do to a tender and its deficiencies, as desk buttons.

Each button calls one service; the table at the end of each section is what the
admin shows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from exchange.admin.base import DeskTransition, Outcome, available_fsm_transitions, money
from exchange.admin.forms import (
    CureDeficiencyForm,
    DeficiencyChecklistForm,
    DeficiencyWaiverForm,
    ExtendCureForm,
    LetterCorrectionForm,
    MedallionStampForm,
    RejectTenderForm,
)
from exchange.admin.review import suggested_defects
from exchange.models import (
    TENDER_OPEN_STATES,
    Channel,
    Deficiency,
    DeficiencyStatus,
    Tender,
    TenderState,
)
from exchange.services import cure_periods, guarantees, review
from exchange.services.base import Actor
from exchange.services.checks import has_signature_guarantee
from exchange.terms import calendars

# --- the transitions of each model -----------------------------------------------------


def _extend_cure(tender: Tender, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    cure_periods.extend_cure_for_holder(
        tender.pk,
        until=data["until"],
        authorized_by=data["authorized_by"],
        reason=data.get("reason", ""),
        actor=actor,
        now=now,
    )
    return Outcome(
        f"Tender {tender.reference} may be cured until {calendars.format_ny(data['until'])}."
    )


def _tender_of(obj: Tender) -> str:
    return f"tender {obj.reference} ({money(obj.live_amount)} of the {obj.series})"


def _start_review(tender: Tender, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    tender = review.start_review(tender.pk, actor=actor, now=now)
    return Outcome(f"Tender {tender.reference} is in review.")


def _validate(tender: Tender, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    tender = review.validate_tender(tender.pk, actor=actor, now=now)
    return Outcome(f"Tender {tender.reference} is valid.")


def _reject(tender: Tender, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    tender = review.reject_tender(tender.pk, actor=actor, now=now, reason=data["reason"])
    return Outcome(
        f"Tender {tender.reference} is rejected; the notes the agent holds are recorded for return."
    )


def _record_deficiencies(
    tender: Tender, data: dict[str, Any], actor: Actor, now: dt.datetime
) -> Outcome:
    created = review.record_deficiencies(tender.pk, defects=data["defects"], actor=actor, now=now)
    return Outcome(
        f"Recorded {len(created)} deficienc{'y' if len(created) == 1 else 'ies'} on tender "
        f"{tender.reference}; it is deficient until each is cured or waived. "
        + _holder_told(tender)
    )


def _holder_told(tender: Tender) -> str:
    # The service has already mailed the holder (notifications.tender_deficient): say so,
    # rather than ask the clerk to do what is done; a holder without an address is the
    # one case left to the clerk.
    email = tender.holder.email
    if email:
        return f"The holder has been e-mailed what to cure ({email})."
    return "The holder has no e-mail address on the register: tell them by letter."


def _may_record_deficiencies(tender: Tender, now: dt.datetime) -> bool:
    # The FSM's find_deficient covers received, in review and valid; the service also
    # adds further defects to a tender already deficient (no state change then).
    return tender.state == TenderState.DEFICIENT or "find_deficient" in available_fsm_transitions(
        tender
    )


def _correct(tender: Tender, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    tender = review.correct_letter(
        tender.pk,
        box=data["box"],
        value=data["value"],
        reason=data["reason"],
        actor=actor,
        now=now,
    )
    return Outcome(f"Corrected {data['box']} on tender {tender.reference}; see its history.")


def _may_correct(tender: Tender, now: dt.datetime) -> bool:
    return (
        tender.state
        in (
            TenderState.RECEIVED,
            TenderState.PENDING_DELIVERY,
            TenderState.IN_REVIEW,
            TenderState.DEFICIENT,
        )
        and tender.channel != Channel.BOOK_ENTRY
        and (tender.submitted_by_id is None or tender.submitted_by.is_staff)
    )


def _record_stamp(tender: Tender, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    guarantees.record_stamp(
        tender_id=tender.pk,
        institution_name=data["institution"],
        program=data["program"],
        stamp_number=data["stamp_number"],
        actor=actor,
        now=now,
    )
    tender = Tender.objects.get(pk=tender.pk)
    then = f" Tender {tender.reference} is now valid." if tender.state == TenderState.VALID else ""
    return Outcome(
        f"The medallion guarantee of {data['institution']} (stamp {data['stamp_number']}) is "
        f"recorded on tender {tender.reference}.{then}"
    )


def _may_record_stamp(tender: Tender, now: dt.datetime) -> bool:
    return (
        tender.state in TENDER_OPEN_STATES
        and tender.requires_medallion_guarantee
        and not has_signature_guarantee(tender)
    )


TENDER_TRANSITIONS: tuple[DeskTransition, ...] = (
    DeskTransition(
        name="start_review",
        label="Start review",
        fsm="start_review",
        consequence=lambda t, now: (
            f"Tender {t.reference} moves to In review: the desk is checking the letter. "
            f"Nothing is decided yet."
        ),
        perform=_start_review,
    ),
    DeskTransition(
        name="validate",
        label="Valid",
        fsm="validate",
        consequence=lambda t, now: (
            f"Tender {t.reference} is recorded as valid: in proper form, with no open "
            f"deficiency. Unless withdrawn before expiration, its notes will be accepted on "
            f"the exchange date."
        ),
        perform=_validate,
    ),
    DeskTransition(
        name="find_deficient",
        label="Record deficiencies",
        allowed_now=_may_record_deficiencies,
        consequence=lambda t, now: (
            f"Tender {t.reference} becomes deficient until every defect ticked below is cured "
            f"by the holder (before {calendars.format_ny(cure_periods.cure_deadline(t))}, the "
            f"time the issuer allows) or waived by the issuer."
        ),
        perform=_record_deficiencies,
        form_class=DeficiencyChecklistForm,
        # The checklist opens with what the letter shows on its face already ticked.
        initial=lambda t, now: {
            key: value
            for kind, note in suggested_defects(t)
            for key, value in ((f"defect_{kind}", True), (f"note_{kind}", note))
        },
    ),
    DeskTransition(
        name="reject",
        label="Reject",
        fsm="reject",
        issuer_decision=True,
        consequence=lambda t, now: (
            f"The issuer rejects {_tender_of(t)}. It will not be accepted; the notes the "
            f"agent holds for it are recorded for return to the holder, who is told the reason."
        ),
        perform=_reject,
        form_class=RejectTenderForm,
    ),
    DeskTransition(
        name="extend_cure",
        label="Extend the time to cure",
        issuer_decision=True,
        allowed_now=lambda t, now: (
            t.state in TENDER_OPEN_STATES
            and t.deficiencies.filter(status=DeficiencyStatus.OPEN).exists()
        ),
        consequence=lambda t, now: (
            f"The issuer gives this holder more time to cure the defects of {_tender_of(t)}: "
            f"now until {calendars.format_ny(cure_periods.cure_deadline(t))}. Other holders "
            f"keep theirs. The portal's cure forms and the exchange date follow the new time."
        ),
        perform=_extend_cure,
        form_class=ExtendCureForm,
    ),
    DeskTransition(
        name="record_stamp",
        label="Record the medallion stamp",
        allowed_now=_may_record_stamp,
        consequence=lambda t, now: (
            f"The signature on the letter of {_tender_of(t)} is recorded as guaranteed by the "
            f"institution whose medallion stamp is on the paper letter, with the stamp's "
            f"number. Record only a stamp you have in hand; a guarantor with a portal login "
            f"confirms its guarantee there itself."
        ),
        perform=_record_stamp,
        form_class=MedallionStampForm,
    ),
    DeskTransition(
        name="correct_letter",
        label="Record a correction",
        allowed_now=_may_correct,
        consequence=lambda t, now: (
            f"One box of the letter of {_tender_of(t)} is corrected to what the paper says. "
            f"The old and the new value, who and why are recorded in its history; the letter "
            f"is otherwise kept as received."
        ),
        perform=_correct,
        form_class=LetterCorrectionForm,
    ),
)


# Deficiencies have a plain status field, not an FSM: the rules are the services'.


def _may_cure(d: Deficiency, now: dt.datetime) -> bool:
    return (
        d.status == DeficiencyStatus.OPEN
        and d.tender.state in TENDER_OPEN_STATES
        and now < d.tender.offer.expiration_at
    )


def _may_waive(d: Deficiency, now: dt.datetime) -> bool:
    return d.status == DeficiencyStatus.OPEN and d.tender.state in TENDER_OPEN_STATES


def _after_resolution(d: Deficiency, verb: str) -> Outcome:
    tender = Tender.objects.get(pk=d.tender_id)
    then = (
        f" Every deficiency is resolved: tender {tender.reference} is now valid."
        if tender.state == TenderState.VALID
        else ""
    )
    return Outcome(f"“{d.get_kind_display()}” on tender {tender.reference} {verb}.{then}")


def _cure(d: Deficiency, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    d = review.cure_deficiency(d.pk, actor=actor, now=now, note=data["note"])
    return _after_resolution(d, "is cured")


def _waive(d: Deficiency, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    d = review.waive_deficiency(
        d.pk, authorized_by=data["authorized_by"], actor=actor, now=now, note=data["note"]
    )
    return _after_resolution(d, f"is waived (authorised by {d.waiver_authorized_by})")


DEFICIENCY_TRANSITIONS: tuple[DeskTransition, ...] = (
    DeskTransition(
        name="cure",
        label="Cured by the holder",
        allowed_now=_may_cure,
        consequence=lambda d, now: (
            f"“{d.get_kind_display()}” on tender {d.tender.reference} is recorded as cured by "
            f"the holder. If it is the last open deficiency, the tender becomes valid."
        ),
        perform=_cure,
        form_class=CureDeficiencyForm,
    ),
    DeskTransition(
        name="waive",
        label="Waive (issuer)",
        issuer_decision=True,
        allowed_now=_may_waive,
        consequence=lambda d, now: (
            f"The issuer waives “{d.get_kind_display()}” for tender {d.tender.reference} only "
            f"(other holders' same defect stays a defect). If it is the last open deficiency, "
            f"the tender becomes valid."
        ),
        perform=_waive,
        form_class=DeficiencyWaiverForm,
    ),
)
