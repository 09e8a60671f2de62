"""The time by which a tender's defects must be cured: the issuer's to set.

"Level 3 ... will determine ... [the] time of receipt ... [and] defects or irregularities
... must be cured within such time as Level 3 shall determine" (p.27). The desk's default
is the expiration instant; for a tender made under a notice of guaranteed delivery, its
delivery deadline (the notes and letter may arrive up to then, so must their cure). The
issuer may set a later time for the whole offer, or extend it for one holder; each is a
recorded decision. The portal's cure forms, the cure service and the exchange-date job all
read `cure_deadline`.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q

from exchange.models import (
    TENDER_OPEN_STATES,
    ExchangeOffer,
    GuaranteedDelivery,
    OfferEvent,
    OfferEventKind,
    OfferState,
    Tender,
)
from exchange.services.base import Actor, DeskError, record, require_aware
from exchange.services.offers import _event, _lock
from exchange.terms import calendars


def _ny_minute(moment: dt.datetime) -> str:
    return f"{calendars.ny_localtime(moment):%Y-%m-%d %H:%M} NY"


def offer_cure_deadline(offer: ExchangeOffer) -> dt.datetime:
    """The offer-wide time to cure: the issuer's, else the (current) expiration instant."""
    return max(offer.cure_period_ends_at or offer.expiration_at, offer.expiration_at)


def cure_deadline(tender: Tender) -> dt.datetime:
    """The instant from which `tender`'s defects can no longer be cured (cures strictly before)."""
    deadline = offer_cure_deadline(tender.offer)
    gd_deadline = (
        GuaranteedDelivery.objects.filter(tender_id=tender.pk)
        .values_list("deadline_at", flat=True)
        .first()
    )
    if gd_deadline is not None:
        deadline = max(deadline, gd_deadline)
    if tender.cure_extended_to is not None:
        deadline = max(deadline, tender.cure_extended_to)
    return deadline


def cure_window_open(now: dt.datetime) -> Q:
    """Tenders (of one offer, already filtered) whose time to cure has not yet run out at
    `now`, as a filter for set-based work; the same rule as `cure_deadline`."""
    return (
        Q(cure_extended_to__gt=now)
        | Q(guaranteed_delivery__deadline_at__gt=now)
        | Q(offer__cure_period_ends_at__gt=now)
        | Q(offer__expiration_at__gt=now)
    )


@transaction.atomic
def set_cure_period(
    offer_id: int, *, ends_at: dt.datetime, actor: Actor, now: dt.datetime, reason: str
) -> OfferEvent:
    """The issuer sets (or extends) the offer-wide time by which defects must be cured."""
    require_aware(now)
    require_aware(ends_at)
    if not reason.strip():
        raise DeskError("Give the issuer's determination, as received.", field="reason")
    offer = _lock(offer_id)
    if offer.state not in (OfferState.OPEN, OfferState.EXPIRED, OfferState.ACCEPTED):
        raise DeskError(
            f"The offer is {offer.get_state_display().lower()}: there is nothing left to cure."
        )
    current = offer_cure_deadline(offer)
    if ends_at <= current:
        raise DeskError(
            f"Defects may already be cured until {calendars.format_ny(current)}; the issuer's "
            f"time must be later (asked for {calendars.format_ny(ends_at)}).",
            field="ends_at",
        )
    previous = offer.cure_period_ends_at
    offer.cure_period_ends_at = ends_at
    offer.save(update_fields=["cure_period_ends_at"])
    text = (
        f"Defects must be cured by {calendars.format_ny(ends_at)} (was "
        f"{calendars.format_ny(current)}). {reason.strip()}"
    )
    event = _event(offer, OfferEventKind.CURE_PERIOD, actor, now, text)
    record(
        offer,
        action="exchange.offer.cure_period_set",
        # The history's state columns are short: the New York minute, in full in the reason.
        from_state=_ny_minute(previous) if previous else "expiration instant",
        to_state=_ny_minute(ends_at),
        actor=actor,
        now=now,
        reason=text,
        offer=offer,
    )
    return event


@transaction.atomic
def extend_cure_for_holder(
    tender_id: int,
    *,
    until: dt.datetime,
    authorized_by: str,
    actor: Actor,
    now: dt.datetime,
    reason: str = "",
) -> Tender:
    """The issuer gives one holder more time to cure (its other holders keep theirs)."""
    from exchange.services.tenders import lock_tender

    require_aware(now)
    require_aware(until)
    if not authorized_by.strip():
        raise DeskError(
            "Name the issuer's officer who authorised the extension.", field="authorized_by"
        )
    tender = lock_tender(tender_id)
    if tender.state not in TENDER_OPEN_STATES:
        raise DeskError(
            f"Tender {tender.reference} is {tender.get_state_display().lower()}; nothing is left "
            f"to cure."
        )
    current = cure_deadline(tender)
    if until <= current:
        raise DeskError(
            f"Tender {tender.reference} may already be cured until {calendars.format_ny(current)}; "
            f"an extension must be later (asked for {calendars.format_ny(until)}).",
            field="until",
        )
    tender.cure_extended_to = until
    tender.save(update_fields=["cure_extended_to"])
    record(
        tender,
        action="exchange.tender.cure_extended",
        from_state=tender.state,
        to_state=tender.state,
        actor=actor,
        now=now,
        reason=(
            f"Time to cure extended for this holder from {calendars.format_ny(current)} to "
            f"{calendars.format_ny(until)}, authorised by {authorized_by.strip()}. {reason.strip()}"
        ).strip(),
        offer=tender.offer_id,
    )
    return tender
