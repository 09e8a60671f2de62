"""The review of a tender: deficiencies recorded, cured or waived, validity, rejection."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction

from exchange.models import (
    ActorKind,
    Channel,
    Deficiency,
    DeficiencyKind,
    DeficiencyStatus,
    NoteReturn,
    ReturnReason,
    Tender,
    TenderState,
)
from exchange.models.tenders import TENDER_OPEN_STATES
from exchange.services import notifications
from exchange.services.base import (
    Actor,
    DeskError,
    record,
    require_aware,
)
from exchange.services.cure_periods import cure_deadline
from exchange.services.tenders import LETTER_FIELDS, lock_tender, transition_tender
from exchange.terms import calendars

# Fields of the letter a holder (or a clerk keying a paper letter) fills in. Everything


@transaction.atomic
def start_review(tender_id: int, *, actor: Actor, now: dt.datetime) -> Tender:
    require_aware(now)
    tender = lock_tender(tender_id)
    if tender.state != TenderState.RECEIVED:
        return tender
    transition_tender(
        tender,
        "start_review",
        actor=actor,
        now=now,
        reason="",
        action="exchange.tender.review_started",
    )
    return tender


@transaction.atomic
def record_deficiencies(
    tender_id: int, *, defects: Sequence[tuple[DeficiencyKind, str]], actor: Actor, now: dt.datetime
) -> list[Deficiency]:
    """A clerk lists the defects found; the tender becomes deficient until each is cured or waived."""
    require_aware(now)
    if not defects:
        raise DeskError("Tick at least one defect, with a note telling the holder how to cure it.")
    for kind, note in defects:
        if kind == DeficiencyKind.W9:
            raise DeskError(
                "A missing or uncertified Substitute Form W-9 is not a defect of the tender: "
                "the exchange agent withholds the offer's backup withholding rate from "
                "payments to the holder instead. Untick it."
            )
        if not note.strip():
            raise DeskError(f"Say what the holder must do to cure “{DeficiencyKind(kind).label}”.")
    tender = lock_tender(tender_id)
    if tender.state not in (
        TenderState.RECEIVED,
        TenderState.IN_REVIEW,
        TenderState.VALID,
        TenderState.DEFICIENT,
    ):
        raise DeskError(
            f"Tender {tender.reference} is {tender.get_state_display().lower()}; defects are no longer recorded on it."
        )
    created = Deficiency.objects.bulk_create(
        Deficiency(
            tender=tender,
            kind=kind,
            note=note.strip(),
            opened_at=now,
            opened_by=actor.user if actor.user is not None else None,
            opened_by_label=actor.label,
        )
        for kind, note in defects
    )
    summary = "; ".join(DeficiencyKind(kind).label for kind, _ in defects)
    if tender.state != TenderState.DEFICIENT:
        transition_tender(
            tender,
            "find_deficient",
            actor=actor,
            now=now,
            reason=summary,
            action="exchange.tender.deficient",
        )
    else:
        record(
            tender,
            action="exchange.tender.deficiency_added",
            from_state=tender.state,
            to_state=tender.state,
            actor=actor,
            now=now,
            reason=summary,
            offer=tender.offer_id,
        )
    notifications.tender_deficient(tender.pk)
    return created


def _cured_by_a_holder(tender: Tender) -> bool:
    """Whether any of the tender's deficiencies was cured by the holder (from the portal),
    rather than recorded as cured by the desk, which is the clerk's own check."""
    from django.contrib.contenttypes.models import ContentType

    from exchange.models import ActorKind, StateChange

    return StateChange.objects.filter(
        content_type=ContentType.objects.get_for_model(Deficiency),
        object_id__in=tender.deficiencies.filter(status=DeficiencyStatus.CURED).values("pk"),
        action="exchange.deficiency.cured",
        actor_kind=ActorKind.HOLDER,
    ).exists()


def _maybe_validate(tender: Tender, *, actor: Actor, now: dt.datetime) -> None:
    """Once no deficiency is open: a tender a holder cured goes back to the review queue
    (what the holder says it corrected, such as an Agent's Message ticked on the cure form,
    is checked by a clerk, who then marks it valid); one the desk itself cleared, by a
    clerk's recorded cure or the issuer's waiver, is valid."""
    if (
        tender.state == TenderState.DEFICIENT
        and not tender.deficiencies.filter(status=DeficiencyStatus.OPEN).exists()
        and _cured_by_a_holder(tender)
    ):
        transition_tender(
            tender,
            "return_to_review",
            actor=actor,
            now=now,
            reason="Every deficiency cured or waived; the desk checks the cure before the "
            "tender is valid.",
            action="exchange.tender.back_to_review",
        )
        return
    if (
        tender.state == TenderState.DEFICIENT
        and not tender.deficiencies.filter(status=DeficiencyStatus.OPEN).exists()
    ):
        transition_tender(
            tender,
            "validate",
            actor=actor,
            now=now,
            reason="Every deficiency cured or waived.",
            action="exchange.tender.valid",
        )


# Defects the desk's checks read off the letter: a cure of one must leave the letter
# without it. (Certificates are checked against the paper delivered; a late receipt or an
# amount is never cured, only waived.)
VERIFIED_ON_THE_LETTER = frozenset(
    {
        DeficiencyKind.SIGNATURE,
        DeficiencyKind.AUTHORITY_EVIDENCE,
        DeficiencyKind.ENDORSEMENT,
        DeficiencyKind.MEDALLION_GUARANTEE,
        DeficiencyKind.REPRESENTATIONS,
        DeficiencyKind.BROKER_DEALER_ACKNOWLEDGMENT,
    }
)

# Which boxes of the letter a holder may correct when curing each kind of defect. A cure
# never reaches the amount, the notes or the instructions: those need a new letter.
CURABLE_BOXES: dict[str, frozenset[str]] = {
    DeficiencyKind.SIGNATURE: frozenset({"signed", "signer_name", "signer_capacity"}),
    DeficiencyKind.AUTHORITY_EVIDENCE: frozenset({"authority_evidence"}),
    DeficiencyKind.ENDORSEMENT: frozenset({"endorsed_or_instrument_of_transfer"}),
    # A guarantee is the guarantor's act (exchange.services.guarantees), not a box.
    DeficiencyKind.MEDALLION_GUARANTEE: frozenset(),
    DeficiencyKind.BOOK_ENTRY_CONFIRMATION: frozenset(
        {"book_entry_confirmation", "agents_message"}
    ),
    DeficiencyKind.REPRESENTATIONS: frozenset(
        {
            "rep_full_authority",
            "rep_not_affiliate",
            "rep_not_broker_dealer_from_issuer",
            "rep_ordinary_course",
            "rep_no_distribution",
            "rep_affiliate_will_comply",
        }
    ),
    DeficiencyKind.BROKER_DEALER_ACKNOWLEDGMENT: frozenset(
        {"broker_dealer_prospectus_acknowledged", "prospectus_copies_requested"}
    ),
    DeficiencyKind.W9: frozenset({"w9_tin_last4", "w9_certified", "w9_exempt_payee"}),
}
_BOOLEAN_BOXES = frozenset(
    name
    for name in LETTER_FIELDS
    if name.startswith(("rep_", "w9_certified", "w9_exempt"))
    or name
    in {
        "signed",
        "agents_message",
        "is_broker_dealer",
        "broker_dealer_prospectus_acknowledged",
        "endorsed_or_instrument_of_transfer",
    }
)


def _checked_cure_updates(deficiency: Deficiency, updates: dict[str, object]) -> dict[str, object]:
    allowed = CURABLE_BOXES.get(deficiency.kind, frozenset())
    refused = set(updates) - allowed
    if refused:
        raise DeskError(
            f"Curing “{deficiency.get_kind_display()}” may correct only "
            + (", ".join(sorted(allowed)) if allowed else "nothing on the letter (call the desk)")
            + f"; not {', '.join(sorted(refused))}."
        )
    checked: dict[str, object] = {}
    for name, value in updates.items():
        if name in _BOOLEAN_BOXES:
            if not isinstance(value, bool):
                raise DeskError(f"{name} must be yes or no.", field=name)
        elif name == "prospectus_copies_requested":
            if not isinstance(value, int) or not 0 <= value <= 100:
                raise DeskError("Ask for between 0 and 100 copies.", field=name)
        elif name == "w9_tin_last4":
            if not (
                isinstance(value, str) and (value == "" or (len(value) == 4 and value.isdigit()))
            ):
                raise DeskError("Give the last four digits of the TIN.", field=name)
        elif not isinstance(value, str) or len(value) > 200:
            raise DeskError(f"{name} must be text of at most 200 characters.", field=name)
        checked[name] = value
    return checked


@transaction.atomic
def cure_deficiency(
    deficiency_id: int,
    *,
    actor: Actor,
    now: dt.datetime,
    note: str = "",
    letter_updates: dict[str, object] | None = None,
) -> Deficiency:
    """The holder cures a defect; only before the time to cure (`cure_deadline`)."""
    require_aware(now)
    # Lock order: offer, tender, then the deficiency (as every other service).
    tender = lock_tender(
        Deficiency.objects.values_list("tender_id", flat=True).get(pk=deficiency_id)
    )
    deficiency = Deficiency.objects.select_for_update().get(pk=deficiency_id)
    if deficiency.status == DeficiencyStatus.CURED:
        return deficiency
    if deficiency.status != DeficiencyStatus.OPEN:
        raise DeskError("That deficiency was already waived by the issuer.")
    if tender.state not in TENDER_OPEN_STATES:
        raise DeskError(
            f"Tender {tender.reference} is {tender.get_state_display().lower()}; nothing can be cured."
        )
    deadline = cure_deadline(tender)
    if now >= deadline:
        raise DeskError(
            f"Defects had to be cured before {calendars.format_ny(deadline)}, the time the "
            f"issuer allows; only the issuer can now waive it or extend the time."
        )
    updates = _checked_cure_updates(deficiency, dict(letter_updates or {}))
    if updates:
        # The holder's corrected boxes replace the letter's; the history row keeps both.
        changed = {
            name: (getattr(tender, name), value)
            for name, value in updates.items()
            if getattr(tender, name) != value
        }
        for name, (_, value) in changed.items():
            setattr(tender, name, value)
        if changed:
            tender.save(update_fields=list(changed))
            note = (
                (note + " " if note else "")
                + "Corrected: "
                + "; ".join(
                    f"{name}: {old!r} → {new!r}" for name, (old, new) in sorted(changed.items())
                )
                + "."
            )
    if deficiency.kind == DeficiencyKind.MEDALLION_GUARANTEE or (
        actor.kind == ActorKind.HOLDER and deficiency.kind in VERIFIED_ON_THE_LETTER
    ):
        # A holder's cure is its corrected boxes, checked against the letter as it now
        # stands: a defect the checks still find is not cured (only the issuer can waive
        # it). A clerk's cure is the clerk's check of the paper that came in (a signed page,
        # the evidence of authority). A guarantee is cured only by a recorded guarantee.
        from exchange.services.checks import suggested_defects

        still = dict(suggested_defects(tender, check_certificates=False)).get(deficiency.kind)
        if still:
            raise DeskError(f"“{deficiency.get_kind_display()}” is not cured yet: {still}")
    cure_locked_deficiency(deficiency, tender, actor=actor, now=now, note=note)
    return deficiency


def cure_locked_deficiency(
    deficiency: Deficiency, tender: Tender, *, actor: Actor, now: dt.datetime, note: str
) -> None:
    """Record an open deficiency cured, the caller holding the tender's and its locks."""
    deficiency.status = DeficiencyStatus.CURED
    deficiency.resolved_at = now
    deficiency.resolved_by = actor.user if actor.user is not None else None
    deficiency.resolved_by_label = actor.label
    deficiency.resolution_note = note
    deficiency.save(
        update_fields=[
            "status",
            "resolved_at",
            "resolved_by",
            "resolved_by_label",
            "resolution_note",
        ]
    )
    record(
        deficiency,
        action="exchange.deficiency.cured",
        from_state=DeficiencyStatus.OPEN,
        to_state=DeficiencyStatus.CURED,
        actor=actor,
        now=now,
        reason=note,
        offer=tender.offer_id,
    )
    _maybe_validate(tender, actor=actor, now=now)


@transaction.atomic
def waive_deficiency(
    deficiency_id: int, *, authorized_by: str, actor: Actor, now: dt.datetime, note: str = ""
) -> Deficiency:
    """The issuer waives a defect for this holder only (a supervisor records who authorised it)."""
    require_aware(now)
    if not authorized_by.strip():
        raise DeskError(
            "Name the issuer's officer who authorised the waiver.", field="authorized_by"
        )
    # Lock order: offer, tender, then the deficiency (as every other service).
    tender = lock_tender(
        Deficiency.objects.values_list("tender_id", flat=True).get(pk=deficiency_id)
    )
    deficiency = Deficiency.objects.select_for_update().get(pk=deficiency_id)
    if deficiency.status == DeficiencyStatus.WAIVED:
        return deficiency
    if deficiency.status != DeficiencyStatus.OPEN:
        raise DeskError("That deficiency was already cured.")
    if tender.state not in TENDER_OPEN_STATES:
        raise DeskError(
            f"Tender {tender.reference} is {tender.get_state_display().lower()}; nothing to waive."
        )
    deficiency.status = DeficiencyStatus.WAIVED
    deficiency.resolved_at = now
    deficiency.resolved_by = actor.user if actor.user is not None else None
    deficiency.resolved_by_label = actor.label
    deficiency.waiver_authorized_by = authorized_by.strip()
    deficiency.resolution_note = note
    deficiency.save(
        update_fields=[
            "status",
            "resolved_at",
            "resolved_by",
            "resolved_by_label",
            "waiver_authorized_by",
            "resolution_note",
        ]
    )
    record(
        deficiency,
        action="exchange.deficiency.waived",
        from_state=DeficiencyStatus.OPEN,
        to_state=DeficiencyStatus.WAIVED,
        actor=actor,
        now=now,
        reason=f"Authorised by {authorized_by.strip()}. {note}".strip(),
        offer=tender.offer_id,
    )
    _maybe_validate(tender, actor=actor, now=now)
    return deficiency


@transaction.atomic
def validate_tender(tender_id: int, *, actor: Actor, now: dt.datetime) -> Tender:
    """The clerk finds the letter in proper form: valid, if no deficiency is open."""
    require_aware(now)
    tender = lock_tender(tender_id)
    if tender.state == TenderState.VALID:
        return tender
    open_defects = list(tender.deficiencies.filter(status=DeficiencyStatus.OPEN))
    if open_defects:
        raise DeskError(
            "A tender is valid only when no deficiency is open; open: "
            + "; ".join(d.get_kind_display() for d in open_defects)
            + "."
        )
    # Validity is a determination: every defect the desk's checks find on the letter must
    # be recorded, then cured (checked by a clerk) or waived by the issuer.
    from exchange.services.checks import suggested_defects

    resolved = set(
        tender.deficiencies.filter(
            status__in=[DeficiencyStatus.CURED, DeficiencyStatus.WAIVED]
        ).values_list("kind", flat=True)
    )
    unrecorded = [kind for kind, _ in suggested_defects(tender) if kind not in resolved]
    if unrecorded:
        raise DeskError(
            "The desk's checks find defects that were not recorded and then cured or "
            "waived: "
            + "; ".join(DeficiencyKind(kind).label for kind in unrecorded)
            + ". Record them (Record deficiencies); the tender is valid once each is cured "
            "or waived by the issuer."
        )
    transition_tender(
        tender,
        "validate",
        actor=actor,
        now=now,
        reason="In proper form.",
        action="exchange.tender.valid",
    )
    return tender


def reject_locked_tender(
    tender: Tender, *, actor: Actor, now: dt.datetime, reason: str, return_reason: ReturnReason
) -> None:
    """Reject a tender already locked by the caller, recording the return of what the agent holds."""
    was_pending = tender.state == TenderState.PENDING_DELIVERY
    transition_tender(
        tender, "reject", actor=actor, now=now, reason=reason, action="exchange.tender.rejected"
    )
    # A guaranteed delivery not yet fulfilled delivered no notes: there is nothing to return.
    if not was_pending and tender.live_amount > 0:
        NoteReturn.objects.create(
            tender=tender,
            reason=return_reason,
            amount=tender.live_amount,
            by_book_entry=tender.channel == Channel.BOOK_ENTRY,
            recorded_at=now,
        )


@transaction.atomic
def reject_tender(tender_id: int, *, actor: Actor, now: dt.datetime, reason: str) -> Tender:
    """The issuer rejects a tender (not in proper form, late, unlawful, lapsed guarantee)."""
    require_aware(now)
    if not reason.strip():
        raise DeskError(
            "Give the reason for rejecting the tender; the holder will be told it.", field="reason"
        )
    tender = lock_tender(tender_id)
    if tender.state == TenderState.REJECTED:
        return tender
    reject_locked_tender(
        tender, actor=actor, now=now, reason=reason.strip(), return_reason=ReturnReason.REJECTED
    )
    return tender


# Boxes a correction may set; the notes, the amount, the guarantor and the W-9's boxes are
# not keyed from paper twice (a new letter, a recorded guarantee, a W-9 on a letter).
CORRECTABLE_BOXES = frozenset(
    LETTER_FIELDS - {"medallion_guarantor", "w9_certified", "w9_exempt_payee", "w9_tin_last4"}
)
_CORRECTION_STATES = (
    TenderState.RECEIVED,
    TenderState.PENDING_DELIVERY,
    TenderState.IN_REVIEW,
    TenderState.DEFICIENT,
)


@transaction.atomic
def correct_letter(
    tender_id: int, *, box: str, value: object, reason: str, actor: Actor, now: dt.datetime
) -> Tender:
    """The desk corrects one box of a letter as keyed (a keying slip against the paper):
    a recorded act with who, when, why and the old and new value, never a silent edit.

    What a holder submitted through the portal is never corrected here: the holder cures
    it, or the issuer waives. A letter already found valid is not corrected either:
    validity was judged on what it said; record a deficiency first.
    """
    require_aware(now)
    if not reason.strip():
        raise DeskError("Say why the box is corrected (e.g. what the paper letter says).")
    if box not in CORRECTABLE_BOXES:
        raise DeskError(f"“{box}” is not a box of the letter a clerk corrects.", field="box")
    tender = lock_tender(tender_id)
    if tender.state not in _CORRECTION_STATES:
        raise DeskError(
            f"Tender {tender.reference} is {tender.get_state_display().lower()}; its letter is "
            f"no longer corrected (record a deficiency first if it is valid)."
        )
    if tender.channel != Channel.PAPER_LETTER and tender.channel != Channel.GUARANTEED_DELIVERY:
        raise DeskError("A book-entry letter comes from DTC; it is not keyed, not corrected.")
    if tender.submitted_by_id is not None and not tender.submitted_by.is_staff:
        raise DeskError(
            f"Tender {tender.reference} was submitted by the holder through the portal: what "
            f"it submitted is never edited. Record a deficiency for the holder to cure."
        )
    if box in _BOOLEAN_BOXES:
        if not isinstance(value, bool):
            raise DeskError(f"{box} must be yes or no.", field="value")
    elif box == "prospectus_copies_requested":
        if not isinstance(value, int) or not 0 <= value <= 100:
            raise DeskError("Between 0 and 100 copies.", field="value")
    elif not isinstance(value, str) or len(value) > 200:
        raise DeskError(f"{box} must be text of at most 200 characters.", field="value")
    old = getattr(tender, box)
    if old == value:
        raise DeskError(f"{box} already reads {old!r}; nothing to correct.", field="value")
    setattr(tender, box, value)
    tender.save(update_fields=[box])
    record(
        tender,
        action="exchange.tender.letter_corrected",
        from_state=tender.state,
        to_state=tender.state,
        actor=actor,
        now=now,
        reason=f"{box}: {old!r} → {value!r}. Why: {reason.strip()}",
        offer=tender.offer_id,
    )
    return tender
