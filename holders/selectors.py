"""Reads for the holder portal: who a login acts for, what it may see, and how things stand.

Every page of the portal starts from these querysets, so "a holder sees only its own
documents" is decided in one place: a document outside them answers 404, the same
answer as a reference that does not exist (no one learns that another's exists).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum

from exchange.models import (
    TENDER_OPEN_STATES,
    ActorKind,
    AtopInstruction,
    Deficiency,
    ExchangeOffer,
    GuaranteedDelivery,
    NoteReturn,
    NoteSeries,
    OfferState,
    OutboxMessage,
    SignatureGuarantee,
    StateChange,
    Tender,
    TenderedCertificate,
    TenderState,
    WithdrawalNotice,
    WithdrawalState,
)
from exchange.services.cure_periods import cure_deadline
from exchange.terms import calendars
from holders.models import Holder, HolderKind, Holding, HoldingForm, NotesKind

ZERO = Decimal("0.00")
# States in which tendered notes count against the holding (the service's own rule).
COUNTED_STATES = [*TENDER_OPEN_STATES, TenderState.ACCEPTED]


def holder_for(user: AbstractBaseUser | AnonymousUser) -> Holder | None:
    """The holder a signed-in login acts for, or None (staff, or a login not yet linked)."""
    if not user.is_authenticated:
        return None
    # A desk login acts for no holder, even if a row was linked to it by hand.
    if user.is_staff or user.is_superuser:
        return None
    # Read with the login by the session's backend (holders.auth); otherwise one query.
    try:
        return user.holder  # type: ignore[union-attr]
    except Holder.DoesNotExist:
        return None


# --- what a holder may see and act on ---------------------------------------------------


def account_holders(holder: Holder) -> QuerySet[Holder]:
    """The holders whose documents this login acts on.

    A registered holder acts for itself. A nominee acts for its participant account: every
    DTC-participant holder row with its participant number (a firm may keep one row per
    desk or beneficial-owner group). An eligible guarantor tenders nothing of its own.
    """
    if holder.kind == HolderKind.DTC_PARTICIPANT:
        return Holder.objects.filter(
            kind=HolderKind.DTC_PARTICIPANT,
            dtc_participant_number=holder.dtc_participant_number,
        )
    if holder.kind == HolderKind.REGISTERED_HOLDER:
        return Holder.objects.filter(pk=holder.pk)
    return Holder.objects.none()


def owned_tenders(holder: Holder) -> QuerySet[Tender]:
    """Tenders the login may act on (withdraw, cure, complete a guaranteed delivery)."""
    return Tender.objects.filter(holder__in=account_holders(holder))


def visible_tenders(holder: Holder) -> QuerySet[Tender]:
    """Tenders the login may read: its own, or for a guarantor those of its notices."""
    if holder.kind == HolderKind.ELIGIBLE_GUARANTOR:
        return Tender.objects.filter(guaranteed_delivery__guarantor=holder)
    return owned_tenders(holder)


def visible_withdrawals(holder: Holder) -> QuerySet[WithdrawalNotice]:
    return WithdrawalNotice.objects.filter(tender__in=owned_tenders(holder))


def visible_guaranteed_deliveries(holder: Holder) -> QuerySet[GuaranteedDelivery]:
    if holder.kind == HolderKind.ELIGIBLE_GUARANTOR:
        return GuaranteedDelivery.objects.filter(guarantor=holder)
    return GuaranteedDelivery.objects.filter(tender__in=owned_tenders(holder))


def _name_key(name: str) -> str:
    # The paper notice's name as the register spells it, give or take case, spacing and
    # punctuation (the same tolerance the withdrawal notice's names get).
    return " ".join(name.replace(",", " ").replace(".", " ").split()).casefold()


def holder_named_in_notice(
    name: str, series: NoteSeries, certificate_numbers: Iterable[str], on: dt.date
) -> Holder | None:
    """The registered holder a guarantor's notice names, matched as the desk matches a
    paper notice: by the name it sets forth, and where two holders share that name, by the
    certificates it lists. None when the notice names no one, or no one unambiguously.

    A guarantor never sees the register: the portal shows no list of holders, and a notice
    that matches no one is refused with the same words as one that matches a holder who has
    too little free (holders.views.guaranteed_delivery).
    """
    key = _name_key(name)
    if not key:
        return None
    candidates = [
        h
        for h in Holder.objects.filter(kind=HolderKind.REGISTERED_HOLDER).only("id", "name")
        if _name_key(h.name) == key
    ]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    numbers = {n.strip().upper() for n in certificate_numbers if n.strip()}
    if not numbers:
        return None
    holding = [
        h
        for h in candidates
        if numbers
        <= set(
            Holding.objects.of_record_on(on)
            .filter(holder=h, series=series, form=HoldingForm.CERTIFICATE)
            .values_list("certificate_number", flat=True)
        )
    ]
    return holding[0] if len(holding) == 1 else None


def visible_atop_instructions(holder: Holder) -> QuerySet[AtopInstruction]:
    """A DTC participant's ATOP instructions: those DTC sent under its participant number,
    and any the desk matched to it (a line under a number the register did not know)."""
    if holder.kind != HolderKind.DTC_PARTICIPANT or not holder.dtc_participant_number:
        return AtopInstruction.objects.none()
    number = holder.dtc_participant_number.lstrip("0").zfill(4)
    return AtopInstruction.objects.filter(
        Q(participant_number=number) | Q(tender__holder__in=account_holders(holder))
    )


def may_deliver_notes(holder: Holder, gd: GuaranteedDelivery) -> bool:
    """The guarantor who executed the notice, or the tendering holder, sends the notes."""
    return gd.guarantor_id == holder.pk or owned_tenders(holder).filter(pk=gd.tender_id).exists()


# --- offers -----------------------------------------------------------------------------


def current_offer() -> ExchangeOffer | None:
    """The offer the portal opens on: the open one expiring last, else the latest expired."""
    offers = ExchangeOffer.objects.exclude(state=OfferState.DRAFT)
    return (
        offers.filter(state=OfferState.OPEN).order_by("-expiration_at").first()
        or offers.order_by("-expiration_at").first()
        or ExchangeOffer.objects.order_by("-expiration_at").first()
    )


def tender_closed_reason(offer: ExchangeOffer, now: dt.datetime) -> str | None:
    """Why a letter (or a notice of guaranteed delivery) cannot be received now, or None.

    The service decides again under the offer's lock; this is what the page says first.
    """
    if offer.state == OfferState.DRAFT or offer.commenced_at is None or now < offer.commenced_at:
        return (
            "The exchange offer has not commenced: letters of transmittal and notices of "
            "guaranteed delivery cannot be received yet."
        )
    if offer.state == OfferState.TERMINATED:
        return (
            "The issuer terminated the exchange offer: nothing can be tendered, and notes "
            "already tendered are being returned."
        )
    if offer.state != OfferState.OPEN or now > offer.expiration_at:
        return (
            f"The exchange offer expired at {calendars.format_ny(offer.expiration_at)}. "
            f"Tenders had to be received on or before that instant; nothing can be tendered now."
        )
    return None


def withdrawal_closed_reason(offer: ExchangeOffer, now: dt.datetime) -> str | None:
    """Why a notice of withdrawal cannot be received now (strictly before expiration)."""
    if offer.state == OfferState.TERMINATED:
        return (
            "The issuer terminated the exchange offer: tendered notes are being returned, "
            "so there is nothing to withdraw."
        )
    if now >= offer.expiration_at or offer.state != OfferState.OPEN:
        return (
            f"Withdrawal rights ended at {calendars.format_ny(offer.expiration_at)}: notes may "
            f"be withdrawn only before the expiration instant."
        )
    return None


def cure_closed_reason(tender: Tender, now: dt.datetime) -> str | None:
    """Why this tender's defects can no longer be cured through the portal: the time the
    issuer allows to cure (default the expiration instant; a guaranteed delivery's deadline;
    a holder's recorded extension) has run out, or the offer is closed."""
    offer = tender.offer
    deadline = cure_deadline(tender)
    if now >= deadline or offer.state in (OfferState.TERMINATED, OfferState.COMPLETED):
        return (
            f"Deficiencies could be cured only before {calendars.format_ny(deadline)}, the time "
            f"the issuer allows; only the issuer can now waive one."
        )
    return None


# --- positions ----------------------------------------------------------------------------


@dataclass
class CertificateLine:
    holding: Holding
    tendered: Decimal
    free: Decimal


@dataclass
class SeriesPosition:
    """One series as the holder stands in it today: what it holds, what it tendered."""

    series: NoteSeries
    holdings: list[Holding] = field(default_factory=list)
    certificates: list[CertificateLine] = field(default_factory=list)
    held: Decimal = ZERO
    tendered: Decimal = ZERO
    # New notes of the series received in the exchange (effective-dated like the rest).
    new_notes: list[Holding] = field(default_factory=list)

    @property
    def available(self) -> Decimal:
        return max(self.held - self.tendered, ZERO)


def certificate_lines(holder: Holder, series: NoteSeries, on: dt.date) -> list[CertificateLine]:
    """The holder's certificates of the series of record on `on`, with what is still free."""
    holdings = list(
        Holding.objects.original()
        .of_record_on(on)
        .filter(holder=holder, series=series, form=HoldingForm.CERTIFICATE)
        .order_by("certificate_number")
    )
    tendered = dict(
        TenderedCertificate.objects.filter(
            tender__holder=holder, tender__series=series, tender__state__in=COUNTED_STATES
        )
        .values_list("certificate_number")
        .annotate(total=Sum(F("amount") - F("withdrawn_amount")))
    )
    return [
        CertificateLine(
            holding=h,
            tendered=tendered.get(h.certificate_number, ZERO),
            free=max(h.amount - tendered.get(h.certificate_number, ZERO), ZERO),
        )
        for h in holdings
    ]


def positions(holder: Holder, offer: ExchangeOffer, on: dt.date) -> list[SeriesPosition]:
    """Per series of the offer: the holder's holdings of record on `on` and its tenders.

    Four queries for the whole offer, whatever its number of series: the portal's pages
    are the ones a deadline rush hits (bench/deadline_rush.py).
    """
    all_series = list(offer.series.order_by("maturity_date", "name"))
    result = {s.pk: SeriesPosition(series=s) for s in all_series}
    if holder.kind == HolderKind.ELIGIBLE_GUARANTOR:
        return list(result.values())
    for holding in (
        Holding.objects.original()
        .of_record_on(on)
        .filter(holder=holder, series__offer=offer)
        .order_by("form", "certificate_number", "beneficial_owner")
    ):
        position = result[holding.series_id]
        position.holdings.append(holding)
        position.held += holding.amount
    for new in (
        Holding.objects.new()
        .of_record_on(on)
        .filter(holder=holder, series__offer=offer)
        .select_related("issued_for__new_note_delivery")
        .order_by("effective_from", "certificate_number", "id")
    ):
        result[new.series_id].new_notes.append(new)
    for series_id, total in (
        Tender.objects.filter(holder=holder, series__offer=offer, state__in=COUNTED_STATES)
        .values("series")
        .annotate(total=Sum(F("amount") - F("withdrawn_amount")))
        .values_list("series", "total")
    ):
        result[series_id].tendered = total or ZERO
    on_certificates = {
        (series_id, number): total
        for series_id, number, total in TenderedCertificate.objects.filter(
            tender__holder=holder, tender__series__offer=offer, tender__state__in=COUNTED_STATES
        )
        .values_list("tender__series", "certificate_number")
        .annotate(total=Sum(F("amount") - F("withdrawn_amount")))
    }
    for position in result.values():
        certificates = sorted(
            (h for h in position.holdings if h.form == HoldingForm.CERTIFICATE),
            key=lambda h: h.certificate_number,
        )
        for h in certificates:
            tendered = on_certificates.get((position.series.pk, h.certificate_number), ZERO)
            position.certificates.append(
                CertificateLine(holding=h, tendered=tendered, free=max(h.amount - tendered, ZERO))
            )
    return list(result.values())


def position_in(holder: Holder, series: NoteSeries, on: dt.date) -> SeriesPosition:
    """One series as the holder stands in it on `on`, for the letter's page: its original
    holdings, what it tendered, and each certificate's free amount.

    One statement, written out: the letter's page and its submission both read this, and
    in a deadline rush the ORM's building of three queries was the largest share of the
    page's CPU after the templates. Counted states and "of record on" are the same as
    positions() and HoldingQuerySet.of_record_on."""
    fields = [f.column for f in Holding._meta.concrete_fields]
    attnames = [f.attname for f in Holding._meta.concrete_fields]
    holding = Holding._meta.db_table
    tender = Tender._meta.db_table
    certificate = TenderedCertificate._meta.db_table
    if connection.vendor != "postgresql":
        # The demo's SQLite: the same figures from the offer's positions.
        return next(p for p in positions(holder, series.offer, on) if p.series == series)
    counted = [str(state) for state in COUNTED_STATES]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT tendered.total,
                   COALESCE((
                       SELECT SUM(c.amount - c.withdrawn_amount)
                       FROM {certificate} c JOIN {tender} t ON t.id = c.tender_id
                       WHERE t.holder_id = %(holder)s AND t.series_id = %(series)s
                         AND t.state = ANY(%(counted)s)
                         AND c.certificate_number = h.certificate_number
                   ), 0) AS on_certificate,
                   {", ".join(f"h.{column}" for column in fields)}
            FROM (
                SELECT COALESCE(SUM(amount - withdrawn_amount), 0) AS total FROM {tender}
                WHERE holder_id = %(holder)s AND series_id = %(series)s
                  AND state = ANY(%(counted)s)
            ) AS tendered
            LEFT JOIN {holding} h
              ON h.holder_id = %(holder)s AND h.series_id = %(series)s
             AND h.notes = %(original)s AND h.effective_from <= %(on)s
             AND (h.effective_until IS NULL OR h.effective_until > %(on)s)
            ORDER BY h.form, h.certificate_number, h.beneficial_owner
            """,
            {
                "holder": holder.pk,
                "series": series.pk,
                "counted": counted,
                "original": NotesKind.ORIGINAL,
                "on": on,
            },
        )
        rows = cursor.fetchall()
    position = SeriesPosition(series=series)
    position.tendered = rows[0][0] if rows else ZERO
    for row in rows:
        if row[2] is None:  # no holding: the LEFT JOIN's empty side
            continue
        h = Holding.from_db(connection.alias, attnames, row[2:])
        position.holdings.append(h)
        position.held += h.amount
        if h.form == HoldingForm.CERTIFICATE:
            tendered = row[1]
            position.certificates.append(
                CertificateLine(holding=h, tendered=tendered, free=max(h.amount - tendered, ZERO))
            )
    position.certificates.sort(key=lambda line: line.holding.certificate_number)
    return position


# --- history, in words a holder reads -------------------------------------------------------

_WORDS: dict[str, str] = {
    "exchange.tender.received": "Letter of transmittal received",
    "holders.holder.tin_status_changed": "The holder's taxpayer identification was recorded",
    "exchange.tender.review_started": "The exchange agent began reviewing the letter",
    "exchange.tender.deficient": "The letter was found not in proper form",
    "exchange.tender.deficiency_added": "A further deficiency was noted",
    "exchange.tender.back_to_review": (
        "Every deficiency was cured; the exchange agent is checking the cure"
    ),
    "exchange.tender.valid": "The tender was found valid (in proper form)",
    "exchange.tender.rejected": "The tender was rejected",
    "exchange.tender.accepted": "The issuer accepted the tender",
    "exchange.tender.exchanged": "New notes were delivered in exchange",
    "exchange.tender.withdrawn": "The tender was withdrawn",
    "exchange.tender.partly_withdrawn": "Part of the tender was withdrawn",
    "exchange.tender.returned": "The original notes were returned",
    "exchange.tender.notes_delivered": (
        "The notes and the letter of transmittal arrived under the guaranteed delivery"
    ),
    "exchange.deficiency.cured": "A deficiency was cured",
    "exchange.deficiency.waived": "The issuer waived a deficiency",
    "exchange.withdrawal.received": "Notice of withdrawal received",
    "exchange.withdrawal.effective": "The notice of withdrawal took effect",
    "exchange.withdrawal.rejected": "The notice of withdrawal was rejected",
    "exchange.guaranteed_delivery.received": "Notice of guaranteed delivery received",
    "exchange.guaranteed_delivery.fulfilled": "The guaranteed delivery was completed in time",
    "exchange.guaranteed_delivery.lapsed": (
        "The guaranteed delivery lapsed: the notes did not arrive in time"
    ),
    "exchange.guaranteed_delivery.lapse_waived": "The issuer accepted a late delivery",
    "exchange.note_return.sent": "Original notes sent back",
}
# Reasons worth showing a holder (the rest are the desk's own bookkeeping).
_SHOW_REASON = {
    "exchange.tender.deficient",
    "exchange.tender.deficiency_added",
    "exchange.tender.rejected",
    "exchange.tender.partly_withdrawn",
    "exchange.tender.withdrawn",
    "exchange.withdrawal.rejected",
    "exchange.guaranteed_delivery.received",
    "exchange.guaranteed_delivery.lapsed",
    "exchange.deficiency.cured",
}


@dataclass(frozen=True)
class HistoryLine:
    at: dt.datetime
    text: str
    reason: str
    by: str


def _who(change: StateChange, viewer: AbstractBaseUser | AnonymousUser) -> str:
    # Clerks' usernames are the desk's business; a holder sees the role that acted.
    if change.actor_user_id is not None and change.actor_user_id == viewer.pk:
        return "you"
    return {
        ActorKind.CLERK: "the exchange agent",
        ActorKind.SUPERVISOR: "the issuer (through the exchange agent)",
        ActorKind.JOB: "the desk's schedule",
        ActorKind.HOLDER: "the holder or its guarantor",
    }.get(ActorKind(change.actor_kind), "the exchange agent")


def _subjects(model: type, ids: Iterable[int]) -> Q:
    return Q(content_type=ContentType.objects.get_for_model(model), object_id__in=list(ids))


def tender_history(
    tender: Tender, viewer: AbstractBaseUser | AnonymousUser, *, include_withdrawals: bool = True
) -> list[HistoryLine]:
    """Every recorded step of a tender, its deficiencies, withdrawals, guarantee and returns."""
    where = (
        _subjects(Tender, [tender.pk])
        | _subjects(Deficiency, tender.deficiencies.values_list("pk", flat=True))
        | _subjects(
            GuaranteedDelivery,
            GuaranteedDelivery.objects.filter(tender=tender).values_list("pk", flat=True),
        )
        | _subjects(NoteReturn, tender.returns.values_list("pk", flat=True))
    )
    if include_withdrawals:
        where |= _subjects(WithdrawalNotice, tender.withdrawals.values_list("pk", flat=True))
    return [
        _line(change, viewer) for change in StateChange.objects.filter(where).order_by("at", "id")
    ]


def subject_history(
    subject: WithdrawalNotice | GuaranteedDelivery, viewer: AbstractBaseUser | AnonymousUser
) -> list[HistoryLine]:
    changes = StateChange.objects.filter(_subjects(type(subject), [subject.pk]))
    return [_line(change, viewer) for change in changes.order_by("at", "id")]


def _line(change: StateChange, viewer: AbstractBaseUser | AnonymousUser) -> HistoryLine:
    reason = change.reason if change.action in _SHOW_REASON else ""
    if change.action == "exchange.deficiency.cured" and "Corrected:" in reason:
        # The desk's note lists the corrected boxes by field name; the holder reads its
        # own note, and that the letter was corrected.
        own = reason.split("Corrected:", 1)[0].strip()
        reason = f"{own} (boxes of the letter corrected)".strip()
    return HistoryLine(
        at=change.at,
        text=_WORDS.get(change.action, change.action.rsplit(".", 1)[-1].replace("_", " ")),
        reason=reason,
        by=_who(change, viewer),
    )


TENDER_STATE_WORDS: dict[str, str] = {
    TenderState.RECEIVED: "Received: the exchange agent will review the letter and the notes.",
    TenderState.PENDING_DELIVERY: (
        "Tendered under a guaranteed delivery: the notes and the letter of transmittal must "
        "reach the exchange agent by the deadline below."
    ),
    TenderState.IN_REVIEW: "In review: the exchange agent is checking the letter and the notes.",
    TenderState.DEFICIENT: (
        "Not yet in proper form: cure each deficiency below in the time the issuer allows "
        "(shown with it), or the tender may be rejected."
    ),
    TenderState.VALID: (
        "Valid: in proper form. Unless withdrawn before expiration, the notes will be accepted "
        "on the exchange date."
    ),
    TenderState.ACCEPTED: "Accepted by the issuer: the new notes are being delivered.",
    TenderState.EXCHANGED: "Exchanged: the new notes were delivered.",
    TenderState.WITHDRAWN: "Withdrawn: the original notes are being returned.",
    TenderState.REJECTED: "Rejected: the original notes the exchange agent holds are being returned.",
    TenderState.RETURNED: "Returned: the original notes were sent back.",
}


def notices_sent(holder: Holder) -> QuerySet[OutboxMessage]:
    """The notices the desk sent (or is sending) to this login's holder, or to the other
    rows of its DTC participant account, newest first."""
    return OutboxMessage.objects.filter(
        Q(holder=holder) | Q(holder__in=account_holders(holder))
    ).order_by("-created_at", "-id")


@dataclass(frozen=True)
class AwaitingGuarantee:
    reference: str
    signer: str
    registered_holder: str
    received_at: dt.datetime


def awaiting_my_guarantee(guarantor: Holder) -> list[AwaitingGuarantee]:
    """Documents whose signer named this institution as its guarantor and that it has not
    guaranteed yet: letters naming it, and notices withdrawing a letter it guaranteed.
    Nothing else of the register: the holder chose to name this institution."""
    if guarantor.kind != HolderKind.ELIGIBLE_GUARANTOR:
        return []
    letters = (
        Tender.objects.filter(medallion_guarantor=guarantor, state__in=TENDER_OPEN_STATES)
        .exclude(
            Exists(
                SignatureGuarantee.objects.filter(
                    tender=OuterRef("pk"), signer_name=OuterRef("signer_name")
                )
            )
        )
        .select_related("holder")
        .order_by("received_at", "id")
    )
    notices = (
        WithdrawalNotice.objects.filter(
            state=WithdrawalState.RECEIVED,
            tender__signature_guarantees__guarantor=guarantor,
            signature_guarantees__isnull=True,
            succession_evidence="",
        )
        .select_related("tender__holder")
        .order_by("received_at", "id")
    )
    return [
        *(
            AwaitingGuarantee(t.reference, t.signer_name, t.holder.name, t.received_at)
            for t in letters
        ),
        *(
            AwaitingGuarantee(
                n.reference, n.tendering_person_name, n.tender.holder.name, n.received_at
            )
            for n in notices
        ),
    ]
