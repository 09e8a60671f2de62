"""Notices of guaranteed delivery: received on or before expiration, then fulfilled within
three NYSE trading days after execution, or lapsed (the tender is rejected)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from exchange.models import (
    Channel,
    ExchangeOffer,
    GuaranteedDelivery,
    GuaranteedDeliveryState,
    ReturnReason,
    Tender,
    TenderedCertificate,
    TenderState,
)
from exchange.services import notifications
from exchange.services.base import (
    Actor,
    DeskError,
    lock_holder_for_claim,
    lock_offer_of_tender,
    record,
    require_aware,
)
from exchange.services.review import reject_locked_tender
from exchange.services.tenders import (
    LETTER_FIELDS,
    CertificateTendered,
    LetterOfTransmittal,
    _match_certificates,
    apply_certified_w9,
    receive_tender,
)
from exchange.terms import calendars
from holders.models import Holder, HolderKind

NYSE_TRADING_DAYS_TO_DELIVER = 3


def delivery_deadline(executed_on: dt.date) -> dt.datetime:
    """The end (midnight, New York) of the third NYSE trading day after the date of execution."""
    return calendars.end_of_ny_day(
        calendars.nth_nyse_trading_day_after(executed_on, NYSE_TRADING_DAYS_TO_DELIVER)
    )


@dataclass(frozen=True)
class NoticeOfGuaranteedDelivery:
    tendering_holder_name: str
    tendering_holder_address: str
    registered_names: str
    certificate_numbers: str
    amount: Decimal
    executed_on: dt.date


@transaction.atomic
def receive_guaranteed_delivery(
    *,
    offer_id: int,
    series_id: int,
    holder_id: int,
    guarantor_id: int,
    notice: NoticeOfGuaranteedDelivery,
    actor: Actor,
    now: dt.datetime,
) -> GuaranteedDelivery:
    require_aware(now)
    guarantor = Holder.objects.get(pk=guarantor_id)
    if guarantor.kind != HolderKind.ELIGIBLE_GUARANTOR:
        raise DeskError(
            "A notice of guaranteed delivery must come from an eligible guarantor institution "
            "(a member of a medallion program).",
            field="guarantor",
        )
    if notice.executed_on > calendars.ny_date(now):
        raise DeskError(
            "The notice cannot be executed on a day after it was received.", field="executed_on"
        )
    for label, value in (
        ("the tendering holder's name", notice.tendering_holder_name),
        ("the tendering holder's address", notice.tendering_holder_address),
        ("the names in which the notes are registered", notice.registered_names),
    ):
        if not value.strip():
            raise DeskError(f"The notice must set forth {label}.")
    tender = receive_tender(
        offer_id=offer_id,
        series_id=series_id,
        holder_id=holder_id,
        submission=LetterOfTransmittal(
            amount=notice.amount,
            channel=Channel.GUARANTEED_DELIVERY,
            letter={"registered_names": notice.registered_names.strip()},
        ),
        actor=actor,
        now=now,
        initial_state=TenderState.PENDING_DELIVERY,
    )
    gd = GuaranteedDelivery.objects.create(
        tender=tender,
        guarantor=guarantor,
        tendering_holder_name=notice.tendering_holder_name.strip(),
        tendering_holder_address=notice.tendering_holder_address.strip(),
        registered_names=notice.registered_names.strip(),
        certificate_numbers=notice.certificate_numbers.strip(),
        executed_on=notice.executed_on,
        received_at=now,
        deadline_at=delivery_deadline(notice.executed_on),
    )
    record(
        gd,
        action="exchange.guaranteed_delivery.received",
        from_state="",
        to_state=gd.state,
        actor=actor,
        now=now,
        reason=f"Deliver by {calendars.format_ny(gd.deadline_at)}.",
        offer=offer_id,
    )
    return gd


@transaction.atomic
def fulfil_guaranteed_delivery(
    gd_id: int,
    *,
    by_book_entry: bool,
    certificates: Sequence[CertificateTendered] = (),
    letter: dict[str, object] | None = None,
    actor: Actor,
    now: dt.datetime,
    delivered_at: dt.datetime | None = None,
) -> GuaranteedDelivery:
    """The notes (or DTC's confirmation) and the letter arrive: in time, the tender is received.

    `delivered_at` is a delivery time DTC timed (an ATOP cover), judged instead of `now`.
    """
    require_aware(now)
    delivery = require_aware(delivered_at) if delivered_at is not None else now
    tender_id, holder_id = GuaranteedDelivery.objects.values_list(
        "tender_id", "tender__holder_id"
    ).get(pk=gd_id)
    offer = lock_offer_of_tender(tender_id)
    # Delivering certificates claims notes, like a letter: take the holder's lock in the
    # same place receive_tender takes it (offer shared, holder, tender, notices), so a
    # letter naming the same certificate at the same moment waits and then sees this claim.
    lock_holder_for_claim(holder_id)
    tender = (
        Tender.objects.select_for_update(of=("self",))
        .select_related("series", "holder")
        .get(pk=tender_id)
    )
    tender.offer = offer
    gd = GuaranteedDelivery.objects.select_for_update().get(pk=gd_id)
    if gd.state == GuaranteedDeliveryState.FULFILLED:
        return gd
    if gd.state != GuaranteedDeliveryState.RECEIVED:
        raise DeskError(f"Guaranteed delivery {gd.reference} lapsed; its tender was rejected.")
    if delivery >= gd.deadline_at and not gd.lapse_waived_by:
        raise DeskError(
            f"The notes were due by {calendars.format_ny(gd.deadline_at)} (three NYSE trading days "
            f"after execution); a late delivery needs the issuer's waiver."
        )
    if tender.state != TenderState.PENDING_DELIVERY:
        raise DeskError(
            f"Tender {tender.reference} is {tender.get_state_display().lower()}; no notes can be "
            f"delivered against guaranteed delivery {gd.reference}."
        )
    letter = dict(letter or {})
    unknown = set(letter) - LETTER_FIELDS
    if unknown:
        raise DeskError(f"Unexpected fields on the letter: {', '.join(sorted(unknown))}.")
    if by_book_entry:
        if not str(letter.get("book_entry_confirmation", "")).strip():
            raise DeskError("Give DTC's book-entry confirmation.", field="book_entry_confirmation")
        tender.channel = Channel.BOOK_ENTRY
    else:
        matched = _match_certificates(
            tender.holder, tender.series, calendars.ny_date(delivery), certificates
        )
        total = sum((amount for _, amount in matched), Decimal("0"))
        if total != tender.live_amount:
            raise DeskError(
                f"The certificates come to ${total:,.2f}, not the ${tender.live_amount:,.2f} guaranteed and not withdrawn.",
                field="certificates",
            )
        TenderedCertificate.objects.bulk_create(
            TenderedCertificate(
                tender=tender, holding=h, certificate_number=h.certificate_number, amount=a
            )
            for h, a in matched
        )
    for name, value in letter.items():
        setattr(tender, name, value)
    gd.fulfil()
    gd.fulfilled_at = delivery
    gd.save(update_fields=["state", "fulfilled_at"])
    record(
        gd,
        action="exchange.guaranteed_delivery.fulfilled",
        from_state=GuaranteedDeliveryState.RECEIVED,
        to_state=gd.state,
        actor=actor,
        now=now,
        offer=tender.offer_id,
    )
    tender.deliver_notes()
    tender.save()
    record(
        tender,
        action="exchange.tender.notes_delivered",
        from_state=TenderState.PENDING_DELIVERY,
        to_state=tender.state,
        actor=actor,
        now=now,
        reason=f"Delivered under {gd.reference}.",
        offer=tender.offer_id,
    )
    apply_certified_w9(tender.holder, tender, actor=actor, now=now)
    return gd


@transaction.atomic
def lapse_guaranteed_delivery(gd_id: int, *, actor: Actor, now: dt.datetime) -> GuaranteedDelivery:
    """At the deadline an unfulfilled notice lapses and its tender is rejected, unless waived."""
    require_aware(now)
    tender_id = GuaranteedDelivery.objects.values_list("tender_id", flat=True).get(pk=gd_id)
    lock_offer_of_tender(tender_id)
    tender = Tender.objects.select_for_update().get(pk=tender_id)
    gd = GuaranteedDelivery.objects.select_for_update().get(pk=gd_id)
    if gd.state != GuaranteedDeliveryState.RECEIVED or gd.lapse_waived_by:
        return gd
    if now < gd.deadline_at:
        raise DeskError(
            f"Guaranteed delivery {gd.reference} is not due until {calendars.format_ny(gd.deadline_at)}."
        )
    gd.lapse()
    gd.lapsed_at = now
    gd.save(update_fields=["state", "lapsed_at"])
    record(
        gd,
        action="exchange.guaranteed_delivery.lapsed",
        from_state=GuaranteedDeliveryState.RECEIVED,
        to_state=gd.state,
        actor=actor,
        now=now,
        reason=f"Notes not delivered by {calendars.format_ny(gd.deadline_at)}.",
        offer=tender.offer_id,
    )
    # A tender already closed (withdrawn, or rejected when the offer was terminated) has
    # nothing left to reject; the guarantee still lapses so the job does not retry it.
    gd.tender_rejected = tender.state == TenderState.PENDING_DELIVERY  # type: ignore[attr-defined]
    if gd.tender_rejected:  # type: ignore[attr-defined]
        reject_locked_tender(
            tender,
            actor=actor,
            now=now,
            reason=f"Guaranteed delivery {gd.reference} lapsed.",
            return_reason=ReturnReason.REJECTED,
        )
        notifications.guarantee_lapsed(gd.pk)
    return gd


@transaction.atomic
def waive_late_delivery(
    gd_id: int, *, authorized_by: str, actor: Actor, now: dt.datetime
) -> GuaranteedDelivery:
    """The issuer accepts a late delivery for this guarantee (before it lapses)."""
    require_aware(now)
    if not authorized_by.strip():
        raise DeskError(
            "Name the issuer's officer who authorised the waiver.", field="authorized_by"
        )
    gd = GuaranteedDelivery.objects.select_for_update().get(pk=gd_id)
    if gd.state != GuaranteedDeliveryState.RECEIVED:
        raise DeskError(f"Guaranteed delivery {gd.reference} is {gd.get_state_display().lower()}.")
    gd.lapse_waived_by = authorized_by.strip()
    gd.save(update_fields=["lapse_waived_by"])
    record(
        gd,
        action="exchange.guaranteed_delivery.lapse_waived",
        from_state=gd.state,
        to_state=gd.state,
        actor=actor,
        now=now,
        reason=f"Authorised by {gd.lapse_waived_by}.",
        offer=ExchangeOffer.objects.values_list("pk", flat=True).get(tenders__pk=gd.tender_id),
    )
    return gd


@transaction.atomic
def receive_protect(
    *,
    offer_id: int,
    series_id: int,
    participant_id: int,
    amount: Decimal,
    voi_number: str,
    protected_at: dt.datetime,
    actor: Actor,
    now: dt.datetime,
) -> GuaranteedDelivery:
    """DTC's protect, its form of a notice of guaranteed delivery: the participant itself
    guarantees, through ATOP, delivery of the notes within three NYSE trading days after
    the protect (its date of execution). `protected_at` is DTC's timestamp, the receipt time;
    the tender is pending delivery until the cover arrives (fulfil_guaranteed_delivery)."""
    require_aware(now)
    participant = Holder.objects.get(pk=participant_id)
    if participant.kind != HolderKind.DTC_PARTICIPANT:
        raise DeskError("A protect comes from a DTC participant through ATOP.")
    tender = receive_tender(
        offer_id=offer_id,
        series_id=series_id,
        holder_id=participant_id,
        submission=LetterOfTransmittal(
            amount=amount,
            channel=Channel.GUARANTEED_DELIVERY,
            letter={
                "registered_names": "Cede & Co.",
                "dtc_participant_number": participant.dtc_participant_number,
                "agents_message": True,
            },
        ),
        actor=actor,
        now=now,
        initial_state=TenderState.PENDING_DELIVERY,
        received_at=protected_at,
    )
    executed_on = calendars.ny_date(protected_at)
    gd = GuaranteedDelivery.objects.create(
        tender=tender,
        guarantor=participant,
        tendering_holder_name=participant.name,
        tendering_holder_address=participant.address,
        registered_names="Cede & Co.",
        certificate_numbers=f"ATOP protect VOI {voi_number}",
        executed_on=executed_on,
        received_at=protected_at,
        deadline_at=delivery_deadline(executed_on),
    )
    record(
        gd,
        action="exchange.guaranteed_delivery.received",
        from_state="",
        to_state=gd.state,
        actor=actor,
        now=now,
        reason=f"ATOP protect VOI {voi_number}. Deliver by {calendars.format_ny(gd.deadline_at)}.",
        offer=offer_id,
    )
    return gd
