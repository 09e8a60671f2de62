"""Notices of withdrawal: received strictly before the expiration instant, then made
effective (the notes are returned) or rejected (an element missing)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django_fsm import can_proceed

from exchange.models import (
    Channel,
    NoteReturn,
    OfferState,
    ReturnReason,
    Tender,
    TenderedCertificate,
    TenderState,
    WithdrawalNotice,
    WithdrawalState,
)
from exchange.models.tenders import TENDER_OPEN_STATES
from exchange.services.base import (
    Actor,
    DeskError,
    lock_offer_of_tender,
    record,
    require_aware,
)
from exchange.terms import calendars


@dataclass(frozen=True)
class NoticeOfWithdrawal:
    tendering_person_name: str
    certificate_numbers: str
    amount: Decimal
    states_withdrawal: bool
    registered_holder_name: str
    signed_as_letter: bool
    succession_evidence: str = ""


def _split_numbers(text: str) -> list[str]:
    return [part.strip().upper() for part in text.replace("\n", ",").split(",") if part.strip()]


def _normalised(name: str) -> str:
    return " ".join(name.replace(",", " ").replace(".", " ").split()).casefold()


def _names_match(given: str, expected: list[str]) -> bool:
    """The notice must name the person the letter names. Case, spacing, punctuation and a
    shortened form ("Bayside" for "Bayside Securities LLC") are allowed; a name with any
    word that is not in the letter's name is someone else."""
    words = set(_normalised(given).split())
    return bool(words) and any(
        words <= set(_normalised(line).split())
        for candidate in expected
        if candidate
        for line in candidate.splitlines()
    )


def _tendering_names(tender: Tender) -> list[str]:
    return [
        tender.holder.name,
        tender.signer_name,
        tender.registered_names,
        tender.beneficial_owner,
    ]


def missing_elements(notice: WithdrawalNotice, tender: Tender) -> list[str]:
    """Which of the prospectus's six required elements the notice lacks."""
    missing: list[str] = []
    if not notice.tendering_person_name.strip():
        missing.append("(1) the person named in the letter of transmittal as having tendered")
    elif not _names_match(notice.tendering_person_name, _tendering_names(tender)):
        missing.append(
            f"(1) the person who tendered, as the letter names it (the notice says "
            f"“{notice.tendering_person_name.strip()}”; the letter: {tender.holder.name})"
        )
    if tender.channel == Channel.PAPER_LETTER and not _split_numbers(notice.certificate_numbers):
        missing.append("(2) the certificate numbers of the notes withdrawn")
    if notice.amount <= 0 or notice.amount % tender.series.denomination:
        missing.append("(3) the principal amount, in an authorized denomination")
    if not notice.states_withdrawal:
        missing.append("(4) a statement that the holder withdraws its election to exchange")
    if not notice.registered_holder_name.strip():
        missing.append("(5) the name of the registered holder")
    elif not _names_match(notice.registered_holder_name, [tender.registered_names]):
        missing.append(
            f"(5) the registered holder as the notes are registered (the notice says "
            f"“{notice.registered_holder_name.strip()}”; the letter: {tender.registered_names})"
        )
    if not (notice.signed_as_letter or notice.succession_evidence.strip()):
        missing.append(
            "(6) a signature as on the letter of transmittal, or evidence of succession to "
            "beneficial ownership"
        )
    return missing


@transaction.atomic
def receive_withdrawal(
    tender_id: int,
    *,
    notice: NoticeOfWithdrawal,
    actor: Actor,
    now: dt.datetime,
    process: bool = True,
    received_at: dt.datetime | None = None,
) -> WithdrawalNotice:
    """Record a notice of withdrawal received at `now`; refused at or after the expiration instant.

    With `process`, the notice is then made effective or rejected at once (the portal's
    case: the holder is signed in, so the signature element is the holder's own).
    `received_at` is a receipt time DTC timed (an ATOP withdrawal), judged instead of `now`.
    """
    require_aware(now)
    receipt = require_aware(received_at) if received_at is not None else now
    offer = lock_offer_of_tender(tender_id)
    tender = (
        Tender.objects.select_for_update(of=("self",))
        .select_related("series", "holder")
        .get(pk=tender_id)
    )
    tender.offer = offer
    # DTC's receipt before the expiration instant counts though its report comes after
    # the expiration job closed the offer.
    reported_in_time = (
        received_at is not None
        and offer.state == OfferState.EXPIRED
        and receipt < offer.expiration_at
    )
    if receipt >= offer.expiration_at or not (
        offer.accepts_withdrawals_at(receipt) or reported_in_time
    ):
        raise DeskError(
            f"Withdrawal rights ended at {calendars.format_ny(offer.expiration_at)}: notes may be "
            f"withdrawn only before the expiration instant."
            if receipt >= offer.expiration_at
            else f"The offer is {offer.get_state_display().lower()}; nothing can be withdrawn."
        )
    if tender.state not in TENDER_OPEN_STATES:
        raise DeskError(
            f"Tender {tender.reference} is {tender.get_state_display().lower()}; there is nothing to withdraw."
        )
    if notice.amount <= 0:
        raise DeskError("The amount withdrawn must be more than zero.", field="amount")
    # Any other defect (a wrong denomination, more than is tendered, a missing element)
    # is recorded and the notice rejected with the reason, as the agent would on paper.
    withdrawal = WithdrawalNotice.objects.create(
        tender=tender,
        received_at=receipt,
        submitted_by=actor.user if actor.user is not None else None,
        tendering_person_name=notice.tendering_person_name.strip(),
        certificate_numbers=notice.certificate_numbers.strip(),
        amount=notice.amount,
        states_withdrawal=notice.states_withdrawal,
        registered_holder_name=notice.registered_holder_name.strip(),
        signed_as_letter=notice.signed_as_letter,
        succession_evidence=notice.succession_evidence.strip(),
    )
    record(
        withdrawal,
        action="exchange.withdrawal.received",
        from_state="",
        to_state=withdrawal.state,
        actor=actor,
        now=now,
        reason=f"${notice.amount:,.2f} of {tender.reference}",
        offer=offer,
    )
    if process:
        decide_locked(withdrawal, tender, actor=actor, now=now, final=False)
    return withdrawal


@transaction.atomic
def process_withdrawal(withdrawal_id: int, *, actor: Actor, now: dt.datetime) -> WithdrawalNotice:
    """A clerk decides a notice received on paper; timeliness is judged by its receipt time."""
    require_aware(now)
    tender_id = WithdrawalNotice.objects.values_list("tender_id", flat=True).get(pk=withdrawal_id)
    offer = lock_offer_of_tender(tender_id)
    tender = (
        Tender.objects.select_for_update(of=("self",))
        .select_related("series", "holder")
        .get(pk=tender_id)
    )
    tender.offer = offer
    withdrawal = WithdrawalNotice.objects.select_for_update().get(pk=withdrawal_id)
    if withdrawal.state != WithdrawalState.RECEIVED:
        return withdrawal
    decide_locked(withdrawal, tender, actor=actor, now=now, final=True)
    return withdrawal


def _reject(
    withdrawal: WithdrawalNotice, reason: str, *, actor: Actor, now: dt.datetime, offer_id: int
) -> None:
    withdrawal.reject()
    withdrawal.decided_at = now
    withdrawal.rejection_reason = reason
    withdrawal.save(update_fields=["state", "decided_at", "rejection_reason"])
    record(
        withdrawal,
        action="exchange.withdrawal.rejected",
        from_state=WithdrawalState.RECEIVED,
        to_state=withdrawal.state,
        actor=actor,
        now=now,
        reason=reason,
        offer=offer_id,
    )


def awaits_guarantee(withdrawal: WithdrawalNotice, tender: Tender) -> bool:
    """A notice withdrawing a letter whose signature was guaranteed must be signed the same
    way, guarantee included (element 6), unless it comes with evidence of succession."""
    from exchange.services.checks import has_signature_guarantee

    return (
        has_signature_guarantee(tender)
        and not withdrawal.succession_evidence.strip()
        and not withdrawal.signature_guarantees.exists()
    )


def decide_locked(
    withdrawal: WithdrawalNotice,
    tender: Tender,
    *,
    actor: Actor,
    now: dt.datetime,
    final: bool,
) -> None:
    """Make a received notice effective or reject it; the caller holds the offer, tender
    and notice locks. A notice complete but for the guarantee its letter needs waits for
    it (the guarantor's confirmation, or the stamp recorded) unless `final` (a clerk's
    decision), which rejects it."""
    if withdrawal.received_at >= tender.offer.expiration_at:
        _reject(
            withdrawal,
            f"Received at or after the expiration instant, {calendars.format_ny(tender.offer.expiration_at)}.",
            actor=actor,
            now=now,
            offer_id=tender.offer_id,
        )
        return
    missing = missing_elements(withdrawal, tender)
    if awaits_guarantee(withdrawal, tender):
        if not missing and not final:
            return  # held, received in time, until the guarantee is recorded
        missing.append(
            "(6) the medallion signature guarantee the letter of transmittal carried (the "
            "guarantor confirms it, or the notice is delivered with its stamp)"
        )
    if tender.state not in TENDER_OPEN_STATES:
        missing.append(f"a tender still open (it is {tender.get_state_display().lower()})")
    elif withdrawal.amount > tender.live_amount:
        missing.append(f"an amount within the ${tender.live_amount:,.2f} still tendered")
    # Allocate the amount withdrawn over the certificates named, in the order named.
    allocation: list[tuple[TenderedCertificate, Decimal]] = []
    if tender.channel == Channel.PAPER_LETTER and not missing:
        wanted = _split_numbers(withdrawal.certificate_numbers)
        by_number = {
            c.certificate_number: c
            for c in tender.certificates.select_for_update().filter(certificate_number__in=wanted)
        }
        unknown = [n for n in wanted if n not in by_number or by_number[n].live_amount <= 0]
        if unknown:
            missing.append(
                f"certificates still tendered with this letter (not: {', '.join(sorted(set(unknown)))})"
            )
        else:
            remaining = withdrawal.amount
            for number in dict.fromkeys(wanted):
                take = min(remaining, by_number[number].live_amount)
                if take > 0:
                    allocation.append((by_number[number], take))
                    remaining -= take
            if remaining > 0:
                missing.append(
                    f"certificates covering the amount (those named have "
                    f"${withdrawal.amount - remaining:,.2f} still tendered)"
                )
    if missing:
        _reject(
            withdrawal,
            "The notice lacks: " + "; ".join(missing) + ".",
            actor=actor,
            now=now,
            offer_id=tender.offer_id,
        )
        return
    withdrawal.make_effective()
    withdrawal.decided_at = now
    withdrawal.save(update_fields=["state", "decided_at"])
    record(
        withdrawal,
        action="exchange.withdrawal.effective",
        from_state=WithdrawalState.RECEIVED,
        to_state=withdrawal.state,
        actor=actor,
        now=now,
        offer=tender.offer_id,
    )
    for certificate, take in allocation:
        certificate.withdrawn_amount += take
    if allocation:
        TenderedCertificate.objects.bulk_update([c for c, _ in allocation], ["withdrawn_amount"])
    tender.withdrawn_amount += withdrawal.amount
    fields = ["withdrawn_amount"]
    previous = tender.state
    fully = tender.live_amount == 0
    if fully:
        if not can_proceed(tender.withdraw):
            raise DeskError(f"Tender {tender.reference} cannot be withdrawn from {previous}.")
        tender.withdraw()
        fields.append("state")
    tender.save(update_fields=fields)
    record(
        tender,
        action="exchange.tender.withdrawn" if fully else "exchange.tender.partly_withdrawn",
        from_state=previous,
        to_state=tender.state,
        actor=actor,
        now=now,
        reason=f"Notice {withdrawal.reference}: ${withdrawal.amount:,.2f} withdrawn; ${tender.live_amount:,.2f} remains tendered.",
        offer=tender.offer_id,
    )
    if previous != TenderState.PENDING_DELIVERY:
        NoteReturn.objects.create(
            tender=tender,
            withdrawal=withdrawal,
            reason=ReturnReason.WITHDRAWN,
            amount=withdrawal.amount,
            by_book_entry=tender.channel == Channel.BOOK_ENTRY,
            recorded_at=now,
        )
