"""Medallion signature guarantees: the eligible guarantor institution's own act.

A letter of transmittal signed by anyone but the registered holder, or asking for special
issuance or delivery, needs the signature guaranteed by a member of a medallion program
(prospectus, "How to Tender"); a notice withdrawing a guaranteed letter must be signed
the same way, guarantee included ("Withdrawal of Tenders", element 6). Naming a guarantor
on a form guarantees nothing. A guarantee is recorded only

- by the institution itself, from its own portal login, naming the document, the signer
  and the registered holder as its stamp would (it never sees the register: a reference
  that does not match those names is refused with the same words as one that does not
  exist); or
- by a clerk, from the paper: the institution, its program and the stamp's number.

Recording it cures an open medallion-guarantee deficiency (a guarantor's confirmation
sends the tender back to the review queue, a clerk's recorded stamp is the desk's own
check) and lets a notice of withdrawal held for its guarantee be decided.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from exchange.models import (
    TENDER_OPEN_STATES,
    Deficiency,
    DeficiencyKind,
    DeficiencyStatus,
    GuaranteeSource,
    MedallionProgram,
    SignatureGuarantee,
    Tender,
    WithdrawalNotice,
    WithdrawalState,
    same_name,
)
from exchange.services.base import Actor, DeskError, record, require_aware
from exchange.services.tenders import lock_tender
from holders.models import Holder, HolderKind

_NO_MATCH = (
    "No letter of transmittal or notice of withdrawal with reference {reference} names that "
    "signer and that registered holder for your institution to guarantee. Check the "
    "reference and both names against the document you are guaranteeing."
)


def confirm_guarantee(
    *,
    guarantor: Holder,
    reference: str,
    signer_name: str,
    registered_holder_name: str,
    actor: Actor,
    now: dt.datetime,
) -> SignatureGuarantee:
    """The institution signed in as `guarantor` guarantees the signature on a letter (LT-…)
    or a notice of withdrawal (WD-…)."""
    require_aware(now)
    if guarantor.kind != HolderKind.ELIGIBLE_GUARANTOR:
        raise DeskError("Only an eligible guarantor institution guarantees signatures.")
    reference = reference.strip().upper()
    refusal = DeskError(_NO_MATCH.format(reference=reference or "—"), field="reference")
    tender_id: int | None
    withdrawal_id: int | None = None
    if reference.startswith("WD-"):
        row = (
            WithdrawalNotice.objects.filter(reference=reference)
            .values_list("pk", "tender_id")
            .first()
        )
        if row is None:
            raise refusal
        withdrawal_id, tender_id = row
    else:
        tender_id = Tender.objects.filter(reference=reference).values_list("pk", flat=True).first()
        if tender_id is None:
            raise refusal
    return _record(
        tender_id,
        withdrawal_id,
        source=GuaranteeSource.GUARANTOR_LOGIN,
        guarantor=guarantor,
        institution_name=guarantor.name,
        program=guarantor.medallion_program,
        stamp_number="",
        names=(signer_name, registered_holder_name),
        refusal=refusal,
        actor=actor,
        now=now,
    )


def record_stamp(
    *,
    tender_id: int | None = None,
    withdrawal_id: int | None = None,
    institution_name: str,
    program: str,
    stamp_number: str,
    actor: Actor,
    now: dt.datetime,
) -> SignatureGuarantee:
    """A clerk records the medallion stamp on the paper letter or notice delivered."""
    require_aware(now)
    if not institution_name.strip():
        raise DeskError("Give the guarantor institution named on the stamp.", field="institution")
    if program not in MedallionProgram.values:
        raise DeskError(
            "Choose the medallion program on the stamp (STAMP, SEMP or MSP).", field="program"
        )
    if not stamp_number.strip():
        raise DeskError("Give the stamp's serial number, as printed on it.", field="stamp_number")
    if (tender_id is None) == (withdrawal_id is None):
        raise DeskError("A guarantee is of one letter or one notice of withdrawal.")
    if withdrawal_id is not None:
        tender_id = WithdrawalNotice.objects.values_list("tender_id", flat=True).get(
            pk=withdrawal_id
        )
    assert tender_id is not None
    return _record(
        tender_id,
        withdrawal_id,
        source=GuaranteeSource.PAPER_STAMP,
        guarantor=None,
        institution_name=institution_name.strip(),
        program=program,
        stamp_number=stamp_number.strip().upper(),
        names=None,
        refusal=None,
        actor=actor,
        now=now,
    )


@transaction.atomic
def _record(
    tender_id: int,
    withdrawal_id: int | None,
    *,
    source: GuaranteeSource,
    guarantor: Holder | None,
    institution_name: str,
    program: str,
    stamp_number: str,
    names: tuple[str, str] | None,
    refusal: DeskError | None,
    actor: Actor,
    now: dt.datetime,
) -> SignatureGuarantee:
    # Lock order as every other service: the offer (shared), the tender, then its notices.
    tender = lock_tender(tender_id)
    withdrawal = (
        WithdrawalNotice.objects.select_for_update().get(pk=withdrawal_id)
        if withdrawal_id is not None
        else None
    )
    if names is not None:
        signer, registered = names
        # A notice is signed by the person who tendered, as the letter was.
        document_signer = (
            withdrawal.tendering_person_name if withdrawal is not None else tender.signer_name
        )
        named_elsewhere = (
            withdrawal is None
            and tender.medallion_guarantor_id is not None
            and tender.medallion_guarantor_id != (guarantor.pk if guarantor else None)
        )
        if (
            not same_name(signer, document_signer)
            or not same_name(registered, tender.holder.name)
            or named_elsewhere
        ):
            assert refusal is not None
            raise refusal
    subject = withdrawal if withdrawal is not None else tender
    # The signature guaranteed, as the document reads now.
    signature = withdrawal.tendering_person_name if withdrawal is not None else tender.signer_name
    existing = subject.signature_guarantees.filter(signer_name=signature).first()
    if existing is not None:
        if guarantor is not None and existing.guarantor_id == guarantor.pk:
            return existing  # the same confirmation sent again
        raise DeskError(
            f"{subject.reference}'s signature is already guaranteed by "
            f"{existing.institution_name} ({existing.get_source_display().lower()})."
        )
    if withdrawal is not None:
        if withdrawal.state != WithdrawalState.RECEIVED:
            raise DeskError(
                f"Notice {withdrawal.reference} was already {withdrawal.get_state_display().lower()}."
            )
    elif tender.state not in TENDER_OPEN_STATES:
        raise DeskError(
            f"Tender {tender.reference} is {tender.get_state_display().lower()}; its letter is "
            f"no longer guaranteed."
        )
    guarantee = SignatureGuarantee.objects.create(
        tender=tender if withdrawal is None else None,
        withdrawal=withdrawal,
        source=source,
        guarantor=guarantor,
        institution_name=institution_name,
        signer_name=signature,
        program=program,
        stamp_number=stamp_number,
        recorded_at=now,
        recorded_by=actor.user if actor.user is not None and actor.user.pk else None,
        recorded_by_label=actor.label,
    )
    how = (
        "confirmed from its own login"
        if source == GuaranteeSource.GUARANTOR_LOGIN
        else f"stamp {stamp_number} recorded from the paper"
    )
    record(
        subject,
        action="exchange.signature.guaranteed",
        from_state=subject.state,
        to_state=subject.state,
        actor=actor,
        now=now,
        reason=f"Medallion signature guarantee by {institution_name} ({program}), {how}.",
        offer=tender.offer_id,
    )
    if withdrawal is not None:
        from exchange.services.withdrawals import decide_locked

        decide_locked(withdrawal, tender, actor=actor, now=now, final=False)
    else:
        _cure_open_guarantee_deficiency(tender, actor=actor, now=now)
    return guarantee


def _cure_open_guarantee_deficiency(tender: Tender, *, actor: Actor, now: dt.datetime) -> None:
    from exchange.services.review import cure_locked_deficiency

    for deficiency in Deficiency.objects.select_for_update().filter(
        tender=tender, kind=DeficiencyKind.MEDALLION_GUARANTEE, status=DeficiencyStatus.OPEN
    ):
        cure_locked_deficiency(
            deficiency, tender, actor=actor, now=now, note="The signature guarantee is recorded."
        )
