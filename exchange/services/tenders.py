"""Letters of transmittal: receipt, the positions they claim, acceptance, and returns.

Review, deficiencies, cures, waivers, validity and rejection are in exchange.services.review.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q, Sum
from django_fsm import can_proceed

from exchange.models import (
    Channel,
    ExchangeOffer,
    NewNoteDelivery,
    NoteReturn,
    NoteSeries,
    OfferState,
    Tender,
    TenderedCertificate,
    TenderState,
    WithdrawalState,
)
from exchange.models.tenders import TENDER_OPEN_STATES
from exchange.services import notifications
from exchange.services.base import (
    Actor,
    DeskError,
    check_denomination,
    lock_holder_for_claim,
    lock_offer_of_tender,
    lock_offer_shared,
    record,
    require_aware,
)
from exchange.terms import calendars
from holders.models import Holder, HolderKind, Holding, HoldingForm, TinStatus

# Fields of the letter a holder (or a clerk keying a paper letter) fills in. Everything


# else on a Tender (state, receipt time, owner, amounts withdrawn) the desk decides.
LETTER_FIELDS = frozenset(
    {
        "registered_names",
        "book_entry_confirmation",
        "dtc_participant_number",
        "agents_message",
        "beneficial_owner",
        "special_issuance_name",
        "special_issuance_address",
        "special_delivery_name",
        "special_delivery_address",
        "signer_name",
        "signer_capacity",
        "signed",
        "authority_evidence",
        "endorsed_or_instrument_of_transfer",
        "medallion_guarantor",
        "medallion_program",
        "rep_full_authority",
        "rep_not_affiliate",
        "rep_not_broker_dealer_from_issuer",
        "rep_ordinary_course",
        "rep_no_distribution",
        "rep_affiliate_will_comply",
        "is_broker_dealer",
        "broker_dealer_prospectus_acknowledged",
        "prospectus_copies_requested",
        "w9_tin_last4",
        "w9_certified",
        "w9_exempt_payee",
    }
)


@dataclass(frozen=True)
class CertificateTendered:
    certificate_number: str
    amount: Decimal


@dataclass
class LetterOfTransmittal:
    """What arrives: the letter's boxes, and the notes (certificates) or DTC confirmation."""

    amount: Decimal
    channel: Channel
    certificates: Sequence[CertificateTendered] = ()
    letter: dict[str, object] = field(default_factory=dict)


# Paper letters deliver certificates, book-entry tenders move a DTC position: each draws
# on its own kind of holding (a guaranteed delivery may bring either).
_FORM_OF_CHANNEL = {
    Channel.PAPER_LETTER: HoldingForm.CERTIFICATE,
    Channel.BOOK_ENTRY: HoldingForm.DTC_POSITION,
}


def available_to_tender(
    holder: Holder, series: NoteSeries, on: dt.date, channel: str | None = None
) -> Decimal:
    """What the holder holds of the series on `on`, less what it has tendered and not
    withdrawn; for a paper or book-entry tender, also within that kind of holding.

    Two queries (each sum and its share of one kind in one pass): every letter runs this
    under the holder's lock, in a deadline rush too."""
    form = _FORM_OF_CHANNEL.get(channel) if channel else None
    zero = Decimal("0")
    held = (
        Holding.objects.original()
        .of_record_on(on)
        .filter(holder=holder, series=series)
        .aggregate(all=Sum("amount"), of_form=Sum("amount", filter=Q(form=form or "")))
    )
    tendered = Tender.objects.filter(
        holder=holder, series=series, state__in=[*TENDER_OPEN_STATES, TenderState.ACCEPTED]
    ).aggregate(
        all=Sum(F("amount") - F("withdrawn_amount")),
        of_channel=Sum(F("amount") - F("withdrawn_amount"), filter=Q(channel=channel or "")),
    )
    free = (held["all"] or zero) - (tendered["all"] or zero)
    if form is not None:
        free = min(free, (held["of_form"] or zero) - (tendered["of_channel"] or zero))
    return free


def _check_offer_takes_tenders(
    offer: ExchangeOffer, now: dt.datetime, *, reported: bool = False
) -> None:
    if offer.state == OfferState.DRAFT or offer.commenced_at is None or now < offer.commenced_at:
        raise DeskError("The exchange offer has not commenced; tenders cannot be received yet.")
    # A receipt DTC timed on or before the expiration instant counts even when its report
    # reaches the desk after the expiration job closed the offer (not once it is accepted).
    if reported and offer.state == OfferState.EXPIRED and now <= offer.expiration_at:
        return
    if offer.state != OfferState.OPEN or now > offer.expiration_at:
        raise DeskError(
            f"The exchange offer expired at {calendars.format_ny(offer.expiration_at)}; "
            f"tenders must be received on or before the expiration instant."
            if offer.state in (OfferState.OPEN, OfferState.EXPIRED)
            else f"The exchange offer is {offer.get_state_display().lower()}; it takes no tenders."
        )


def _match_certificates(
    holder: Holder, series: NoteSeries, on: dt.date, certificates: Sequence[CertificateTendered]
) -> list[tuple[Holding, Decimal]]:
    if not certificates:
        raise DeskError(
            "List the certificate numbers of the original notes delivered with the letter.",
            field="certificates",
        )
    seen: set[str] = set()
    matched: list[tuple[Holding, Decimal]] = []
    holdings = {
        h.certificate_number: h
        for h in Holding.objects.original()
        .of_record_on(on)
        .filter(holder=holder, series=series, form=HoldingForm.CERTIFICATE)
    }
    already = {
        number: total
        for number, total in TenderedCertificate.objects.filter(
            tender__holder=holder,
            tender__series=series,
            tender__state__in=[*TENDER_OPEN_STATES, TenderState.ACCEPTED],
        )
        .values_list("certificate_number")
        .annotate(total=Sum(F("amount") - F("withdrawn_amount")))
    }
    for cert in certificates:
        number = cert.certificate_number.strip().upper()
        if number in seen:
            raise DeskError(f"Certificate {number} is listed twice.", field="certificates")
        seen.add(number)
        holding = holdings.get(number)
        if holding is None:
            raise DeskError(
                f"Certificate {number} is not registered to {holder.name} for the {series.name}.",
                field="certificates",
            )
        check_denomination(
            cert.amount, series.denomination, f"amount of certificate {number}", "certificates"
        )
        free = holding.amount - already.get(number, Decimal("0"))
        if cert.amount > free:
            raise DeskError(
                f"Certificate {number} is for ${holding.amount:,.2f}; ${free:,.2f} of it is not "
                f"already tendered, less than the ${cert.amount:,.2f} given.",
                field="certificates",
            )
        matched.append((holding, cert.amount))
    return matched


@transaction.atomic
def receive_tender(
    *,
    offer_id: int,
    series_id: int,
    holder_id: int,
    submission: LetterOfTransmittal,
    actor: Actor,
    now: dt.datetime,
    initial_state: TenderState = TenderState.RECEIVED,
    received_at: dt.datetime | None = None,
) -> Tender:
    """Record a tender received at `now` (the server's clock when the submission commits).

    `received_at` is a receipt time someone else timed: DTC's timestamp on an ATOP
    instruction. The rules are then judged at that instant; `now` stays the time the desk
    recorded it (the history row's).

    Refuses, writing nothing: an offer not open or past its expiration instant, an amount
    not in authorized denominations or above what the holder has free to tender, notes
    that are not the holder's, a book-entry tender without DTC's confirmation.
    """
    require_aware(now)
    unknown = set(submission.letter) - LETTER_FIELDS
    if unknown:
        raise DeskError(f"Unexpected fields on the letter: {', '.join(sorted(unknown))}.")
    receipt = require_aware(received_at) if received_at is not None else now
    offer = lock_offer_shared(offer_id)
    _check_offer_takes_tenders(offer, receipt, reported=received_at is not None)
    try:
        series = NoteSeries.objects.get(pk=series_id, offer=offer)
    except NoteSeries.DoesNotExist:
        raise DeskError("That series is not part of this exchange offer.", field="series") from None
    # Lock the holder: concurrent claims on one holder's notes are serialised (letters,
    # guaranteed-delivery completions: base.lock_holder_for_claim), so two claims racing
    # each other cannot together tender more than the holding.
    holder = lock_holder_for_claim(holder_id)
    if holder.kind == HolderKind.ELIGIBLE_GUARANTOR:
        raise DeskError(
            "An eligible guarantor institution guarantees tenders; it does not tender notes."
        )
    if submission.channel == Channel.BOOK_ENTRY and holder.kind != HolderKind.DTC_PARTICIPANT:
        raise DeskError("Book-entry tenders come from a DTC participant.", field="channel")
    check_denomination(submission.amount, series.denomination, series.amount_label, "amount")
    today = calendars.ny_date(receipt)
    free = available_to_tender(holder, series, today, submission.channel)
    if submission.amount > free:
        raise DeskError(
            f"{holder.name} can tender at most ${free:,.2f} {series.amount_label} of the "
            f"{series.name} (held, less what is already tendered); ${submission.amount:,.2f} "
            f"was given.",
            field="amount",
        )
    matched: list[tuple[Holding, Decimal]] = []
    if submission.channel == Channel.PAPER_LETTER:
        matched = _match_certificates(holder, series, today, submission.certificates)
        total = sum((amount for _, amount in matched), Decimal("0"))
        if total != submission.amount:
            raise DeskError(
                f"The certificates listed come to ${total:,.2f}, not the ${submission.amount:,.2f} "
                f"tendered.",
                field="certificates",
            )
    elif submission.channel == Channel.BOOK_ENTRY:
        if not str(submission.letter.get("book_entry_confirmation", "")).strip():
            raise DeskError(
                "A book-entry tender is received only with DTC's book-entry confirmation.",
                field="book_entry_confirmation",
            )
    elif initial_state != TenderState.PENDING_DELIVERY:
        raise DeskError(
            "Guaranteed-delivery tenders are made through a notice of guaranteed delivery."
        )

    tender = Tender(
        offer=offer,
        series=series,
        holder=holder,
        submitted_by=actor.user if actor.user is not None else None,
        channel=submission.channel,
        state=initial_state,
        received_at=receipt,
        amount=submission.amount,
        **submission.letter,  # type: ignore[arg-type]
    )
    if submission.channel == Channel.BOOK_ENTRY and not tender.dtc_participant_number:
        tender.dtc_participant_number = holder.dtc_participant_number
    tender.save()
    TenderedCertificate.objects.bulk_create(
        TenderedCertificate(
            tender=tender,
            holding=holding,
            certificate_number=holding.certificate_number,
            amount=amount,
        )
        for holding, amount in matched
    )
    record(
        tender,
        action="exchange.tender.received",
        from_state="",
        to_state=tender.state,
        actor=actor,
        now=now,
        reason=f"{tender.get_channel_display()}: ${tender.amount:,.2f} {series.amount_label} of the {series.name}.",
        offer=offer,
    )
    apply_certified_w9(holder, tender, actor=actor, now=now)
    notifications.tender_received(tender)
    return tender


def apply_certified_w9(holder: Holder, tender: Tender, *, actor: Actor, now: dt.datetime) -> None:
    """A letter with a certified Substitute Form W-9 (or an exempt payee's) sets the
    holder's TIN status, with history, so payments to it stop being withheld; an
    uncertified letter never undoes a certification the desk already holds. The caller
    holds the holder's lock (base.lock_holder_for_claim)."""
    if tender.w9_exempt_payee:
        new = TinStatus.EXEMPT
    elif tender.w9_certified and tender.w9_tin_last4:
        new = TinStatus.CERTIFIED
    else:
        return
    # The caller read the holder under its lock: its status is the current one.
    old = holder.tin_status
    if old != TinStatus.NOT_CERTIFIED or old == new:
        return
    Holder.objects.filter(pk=holder.pk).update(tin_status=new)
    holder.tin_status = new
    record(
        holder,
        action="holders.holder.tin_status_changed",
        from_state=old,
        to_state=new,
        actor=actor,
        now=now,
        reason=f"Substitute Form W-9 on letter {tender.reference}"
        + (f" (TIN ending {tender.w9_tin_last4})." if tender.w9_tin_last4 else "."),
        offer=tender.offer_id,
    )


def lock_tender(tender_id: int) -> Tender:
    # The offer first (shared), then the tender row alone: select_related would otherwise
    # lock the joined offer and series rows FOR UPDATE too.
    offer = lock_offer_of_tender(tender_id)
    tender = (
        Tender.objects.select_for_update(of=("self",))
        .select_related("offer", "series")
        .get(pk=tender_id)
    )
    tender.offer = offer
    return tender


def transition_tender(
    tender: Tender, method_name: str, *, actor: Actor, now: dt.datetime, reason: str, action: str
) -> None:
    method = getattr(tender, method_name)
    if not can_proceed(method, check_conditions=False):
        raise DeskError(
            f"Tender {tender.reference} is {tender.get_state_display().lower()}; it cannot be "
            f"{action.rsplit('.', 1)[-1].replace('_', ' ')} now."
        )
    from_state = tender.state
    method()
    tender.save(update_fields=["state"])
    record(
        tender,
        action=action,
        from_state=from_state,
        to_state=tender.state,
        actor=actor,
        now=now,
        reason=reason,
        offer=tender.offer_id,
    )


@transaction.atomic
def accept_tender(tender_id: int, *, actor: Actor, now: dt.datetime) -> Tender:
    """Accept a valid tender of an accepted offer and record the new notes it is owed."""
    require_aware(now)
    tender = lock_tender(tender_id)
    if tender.state in (TenderState.ACCEPTED, TenderState.EXCHANGED):
        return tender
    if tender.offer.state != OfferState.ACCEPTED:
        raise DeskError("The issuer's notice of acceptance has not been recorded for this offer.")
    if tender.offer.stop_order_in_effect:
        raise DeskError("A stop order is threatened or in effect: nothing may be accepted.")
    if tender.withdrawals.filter(state=WithdrawalState.RECEIVED).exists():
        raise DeskError(
            f"A notice of withdrawal of tender {tender.reference} awaits a decision; decide it first."
        )
    transition_tender(
        tender,
        "accept",
        actor=actor,
        now=now,
        reason="Validly tendered and not withdrawn.",
        action="exchange.tender.accepted",
    )
    NewNoteDelivery.objects.create(
        tender=tender,
        series=tender.series,
        amount=tender.live_amount,
        recipient_name=tender.special_issuance_name or tender.registered_names,
        delivery_instructions=tender.special_delivery_address or tender.special_issuance_address,
        by_book_entry=tender.channel == Channel.BOOK_ENTRY,
        recorded_at=now,
    )
    return tender


@transaction.atomic
def complete_return(note_return_id: int, *, actor: Actor, now: dt.datetime) -> NoteReturn:
    """The notes went back (mailed or credited at DTC); a withdrawn or rejected tender is then returned."""
    require_aware(now)
    note_return = NoteReturn.objects.select_for_update().get(pk=note_return_id)
    if note_return.returned_at is not None:
        return note_return
    tender = lock_tender(note_return.tender_id)
    note_return.returned_at = now
    note_return.save(update_fields=["returned_at"])
    record(
        note_return,
        action="exchange.note_return.sent",
        from_state="pending",
        to_state="returned",
        actor=actor,
        now=now,
        reason=f"${note_return.amount:,.2f} {note_return.get_reason_display().lower()}",
        offer=tender.offer_id,
    )
    pending = tender.returns.filter(returned_at__isnull=True).exists()
    if tender.state in (TenderState.WITHDRAWN, TenderState.REJECTED) and not pending:
        transition_tender(
            tender,
            "return_notes",
            actor=actor,
            now=now,
            reason="Original notes returned.",
            action="exchange.tender.returned",
        )
    return note_return
