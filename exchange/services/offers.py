"""The issuer's decisions on the offer: commence, extend, amend, waive, stop order,
terminate, accept; and the clock's: expire, complete."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django_fsm import can_proceed

from exchange.models import (
    Channel,
    ConditionAssertion,
    ConditionKind,
    ExchangeOffer,
    GuaranteedDelivery,
    GuaranteedDeliveryState,
    NewNoteDelivery,
    NoteReturn,
    OfferEvent,
    OfferEventKind,
    OfferState,
    ReturnReason,
    Tender,
    TenderState,
    WithdrawalNotice,
    WithdrawalState,
)
from exchange.models.tenders import TENDER_OPEN_STATES
from exchange.services.base import (
    Actor,
    DeskError,
    move_tenders_in_bulk,
    record,
    require_aware,
)
from exchange.services.drafts import (
    extension_announcement,
    results_announcement,
    tendered_to_date,
    termination_announcement,
)
from exchange.services.offer_calendar import (
    _check_minimum_open,
    check_notice_day,
    extension_announcement_due,
    five_business_day_expiration,
)
from exchange.terms import calendars


def _lock(offer_id: int) -> ExchangeOffer:
    return ExchangeOffer.objects.select_for_update().get(pk=offer_id)


def _event(
    offer: ExchangeOffer,
    kind: OfferEventKind,
    actor: Actor,
    now: dt.datetime,
    description: str,
    **extra: object,
) -> OfferEvent:
    return OfferEvent.objects.create(
        offer=offer,
        kind=kind,
        occurred_at=now,
        recorded_by=actor.user if actor.user is not None else None,
        actor_label=actor.label,
        description=description,
        **extra,
    )


@transaction.atomic
def commence_offer(
    offer_id: int, *, actor: Actor, now: dt.datetime, mailed_on: dt.date | None = None
) -> ExchangeOffer:
    require_aware(now)
    offer = _lock(offer_id)
    if offer.state == OfferState.OPEN:
        return offer
    if not can_proceed(offer.commence):
        raise DeskError(
            f"Only a draft offer can commence; this one is {offer.get_state_display()}."
        )
    if not offer.series.exists():
        raise DeskError("Add the note series before commencing the offer.")
    today = calendars.ny_date(now)
    mailed = mailed_on or today
    if mailed > today:
        raise DeskError("Notice cannot be mailed after the offer commences.", field="mailed_on")
    # The minimum periods run from the later of the mailing and the commencement: a
    # backdated mailing date must not shorten them.
    _check_minimum_open(offer, offer.expiration_at, max(mailed, today))
    offer.commence()
    offer.notice_mailed_on = mailed
    offer.commenced_at = now
    offer.save(update_fields=["state", "notice_mailed_on", "commenced_at"])
    _event(offer, OfferEventKind.COMMENCED, actor, now, f"Notice mailed {mailed:%Y-%m-%d}.")
    record(
        offer,
        action="exchange.offer.commenced",
        from_state=OfferState.DRAFT,
        to_state=offer.state,
        actor=actor,
        now=now,
        reason=f"Notice mailed {mailed:%Y-%m-%d}; expires {calendars.format_ny(offer.expiration_at)}.",
        offer=offer,
    )
    return offer


def _require_open_before_expiration(offer: ExchangeOffer, now: dt.datetime, what: str) -> None:
    if offer.state != OfferState.OPEN:
        raise DeskError(
            f"The offer is {offer.get_state_display().lower()}; it can no longer be {what}."
        )
    if now >= offer.expiration_at:
        raise DeskError(
            f"The offer expired at {calendars.format_ny(offer.expiration_at)}; the issuer's notice "
            f"must reach the agent before the expiration instant to be {what}."
        )


@transaction.atomic
def extend_offer(
    offer_id: int, *, new_expiration: dt.datetime, actor: Actor, now: dt.datetime, reason: str = ""
) -> OfferEvent:
    """Extend by the issuer's written notice; every tendered note stays tendered."""
    require_aware(now)
    require_aware(new_expiration)
    offer = _lock(offer_id)
    _require_open_before_expiration(offer, now, "extended")
    previous = offer.expiration_at
    if new_expiration <= previous:
        raise DeskError(
            f"An extension must move the expiration later than the current "
            f"{calendars.format_ny(previous)} (asked for {calendars.format_ny(new_expiration)}).",
            field="new_expiration",
        )
    assert offer.notice_mailed_on is not None  # open offers were commenced with it
    opened = calendars.ny_date(offer.commenced_at) if offer.commenced_at else offer.notice_mailed_on
    _check_minimum_open(offer, new_expiration, max(offer.notice_mailed_on, opened))
    due = extension_announcement_due(offer)
    draft = extension_announcement(offer, new_expiration, now)
    offer.extend()
    offer.expiration_at = new_expiration
    offer.save(update_fields=["state", "expiration_at"])
    totals = "; ".join(f"{name}: ${total:,.0f}" for name, total in tendered_to_date(offer).items())
    event = _event(
        offer,
        OfferEventKind.EXTENDED,
        actor,
        now,
        f"Extended from {calendars.format_ny(previous)} to {calendars.format_ny(new_expiration)}. "
        f"Tendered to date: {totals or 'none'}. {reason}".strip(),
        previous_expiration_at=previous,
        new_expiration_at=new_expiration,
        announcement_due_at=due,
        announcement_draft=draft,
    )
    record(
        offer,
        action="exchange.offer.extended",
        from_state=OfferState.OPEN,
        to_state=OfferState.OPEN,
        actor=actor,
        now=now,
        reason=f"Expiration {calendars.format_ny(previous)} → {calendars.format_ny(new_expiration)}. {reason}".strip(),
        offer=offer,
    )
    return event


@transaction.atomic
def amend_offer(
    offer_id: int,
    *,
    description: str,
    material: bool,
    actor: Actor,
    now: dt.datetime,
    notice_on: dt.date | None,
    waiver_of_condition: bool = False,
) -> OfferEvent:
    """Record an amendment or a waiver of a condition; a material one (and every waiver of a
    material condition) keeps the offer open to the fifth business day from, and including,
    the day its notice was first published, sent or given (`notice_on`), not the day the desk
    records it."""
    require_aware(now)
    check_notice_day(notice_on, now)
    assert notice_on is not None
    if not description.strip():
        raise DeskError(
            "Describe the amendment or waiver as the issuer's notice states it.",
            field="description",
        )
    offer = _lock(offer_id)
    _require_open_before_expiration(offer, now, "amended")
    previous = offer.expiration_at
    # Every condition of the offer is material: waiving one counts as a material change.
    material = material or waiver_of_condition
    extended_to = five_business_day_expiration(offer, notice_on) if material else None
    offer.amend()
    fields = ["state"]
    if extended_to is not None:
        offer.expiration_at = extended_to
        fields.append("expiration_at")
    offer.save(update_fields=fields)
    if waiver_of_condition:
        kind = OfferEventKind.CONDITION_WAIVED
    elif material:
        kind = OfferEventKind.MATERIAL_AMENDMENT
    else:
        kind = OfferEventKind.AMENDED
    consequence = (
        f" Expiration extended to {calendars.format_ny(extended_to)} (fifth business day from, "
        f"and including, the notice of {notice_on:%Y-%m-%d})."
        if extended_to
        else ""
    )
    event = _event(
        offer,
        kind,
        actor,
        now,
        description.strip() + consequence,
        previous_expiration_at=previous,
        new_expiration_at=offer.expiration_at,
        notice_on=notice_on,
        announcement_draft=(
            f"{offer.issuer.name} announced that it has amended its offer to exchange registered "
            f"new notes for its outstanding original notes: {description.strip()}"
            + (
                f" The offer will now expire at {calendars.format_ny(extended_to)}, unless "
                f"further extended."
                if extended_to
                else ""
            )
            + f" {offer.exchange_agent} is the exchange agent."
        ),
    )
    record(
        offer,
        action=f"exchange.offer.{kind}",
        from_state=OfferState.OPEN,
        to_state=OfferState.OPEN,
        actor=actor,
        now=now,
        reason=description.strip() + consequence,
        offer=offer,
    )
    return event


@transaction.atomic
def set_stop_order(
    offer_id: int, *, in_effect: bool, actor: Actor, now: dt.datetime, reason: str
) -> ExchangeOffer:
    require_aware(now)
    if not reason.strip():
        raise DeskError(
            "Say what the stop order is (or that it was lifted), as the issuer reported it.",
            field="reason",
        )
    offer = _lock(offer_id)
    if offer.stop_order_in_effect == in_effect:
        return offer
    if offer.state in (OfferState.COMPLETED, OfferState.TERMINATED):
        raise DeskError("The offer is closed; a stop order no longer changes anything.")
    offer.stop_order_in_effect = in_effect
    offer.save(update_fields=["stop_order_in_effect"])
    kind = OfferEventKind.STOP_ORDER_ON if in_effect else OfferEventKind.STOP_ORDER_OFF
    _event(offer, kind, actor, now, reason)
    record(
        offer,
        action=f"exchange.offer.{kind}",
        from_state=offer.state,
        to_state=offer.state,
        actor=actor,
        now=now,
        reason=reason,
        offer=offer,
    )
    return offer


@transaction.atomic
def expire_offer(offer_id: int, *, actor: Actor, now: dt.datetime) -> ExchangeOffer:
    """Close to new tenders and withdrawals, at or after the expiration instant, never before."""
    require_aware(now)
    offer = _lock(offer_id)
    if offer.state != OfferState.OPEN:
        return offer  # already expired (or beyond): nothing to do, quietly
    if now < offer.expiration_at:
        raise DeskError(
            f"The offer does not expire until {calendars.format_ny(offer.expiration_at)}."
        )
    offer.expire()
    offer.expired_at = now
    offer.save(update_fields=["state", "expired_at"])
    record(
        offer,
        action="exchange.offer.expired",
        from_state=OfferState.OPEN,
        to_state=offer.state,
        actor=actor,
        now=now,
        reason=f"Expiration instant {calendars.format_ny(offer.expiration_at)} passed.",
        offer=offer,
    )
    return offer


@transaction.atomic
def accept_offer(
    offer_id: int, *, actor: Actor, now: dt.datetime, reason: str = ""
) -> ExchangeOffer:
    """Record the issuer's written notice of acceptance, on or after the exchange date."""
    require_aware(now)
    offer = _lock(offer_id)
    if offer.state in (OfferState.ACCEPTED, OfferState.COMPLETED):
        return offer
    if offer.stop_order_in_effect:
        raise DeskError(
            "A stop order is threatened or in effect: no original notes may be accepted and no "
            "new notes issued until it is lifted."
        )
    if offer.state != OfferState.EXPIRED:
        raise DeskError(
            f"Acceptance comes after expiration; the offer is {offer.get_state_display().lower()}."
        )
    if calendars.ny_date(now) < offer.exchange_date:
        raise DeskError(
            f"The exchange date is {offer.exchange_date:%A, %B %d, %Y}; acceptance cannot be "
            f"given before it."
        )
    offer.accept()
    offer.accepted_at = now
    offer.save(update_fields=["state", "accepted_at"])
    _event(
        offer,
        OfferEventKind.ACCEPTANCE_NOTICE,
        actor,
        now,
        reason or "Written notice of acceptance.",
        announcement_draft=results_announcement(offer, now),
    )
    record(
        offer,
        action="exchange.offer.accepted",
        from_state=OfferState.EXPIRED,
        to_state=offer.state,
        actor=actor,
        now=now,
        reason=reason,
        offer=offer,
    )
    return offer


@transaction.atomic
def complete_offer(offer_id: int, *, actor: Actor, now: dt.datetime) -> ExchangeOffer:
    require_aware(now)
    offer = _lock(offer_id)
    if offer.state == OfferState.COMPLETED:
        return offer
    if offer.state != OfferState.ACCEPTED:
        raise DeskError("Only an accepted offer can complete.")
    # Completed means every new note delivered and everything else returned.
    outstanding = {
        "tender(s) neither accepted nor rejected": Tender.objects.filter(
            offer=offer, state__in=TENDER_OPEN_STATES
        ).count(),
        "accepted tender(s) whose new notes are not delivered": Tender.objects.filter(
            offer=offer, state=TenderState.ACCEPTED
        ).count(),
        "new-note deliveries not yet made": NewNoteDelivery.objects.filter(
            tender__offer=offer, delivered_at__isnull=True
        ).count(),
        "returns of original notes not yet sent": NoteReturn.objects.filter(
            tender__offer=offer, returned_at__isnull=True
        ).count(),
        "notice(s) of withdrawal not yet decided": WithdrawalNotice.objects.filter(
            tender__offer=offer, state=WithdrawalState.RECEIVED
        ).count(),
    }
    left = [f"{n} {what}" for what, n in outstanding.items() if n]
    if left:
        raise DeskError("The offer cannot complete yet: " + "; ".join(left) + ".")
    offer.complete()
    offer.completed_at = now
    offer.save(update_fields=["state", "completed_at"])
    record(
        offer,
        action="exchange.offer.completed",
        from_state=OfferState.ACCEPTED,
        to_state=offer.state,
        actor=actor,
        now=now,
        offer=offer,
    )
    # Completion is the registration agreement's third milestone (special interest).
    from exchange.services.registration import record_exchange_completed

    record_exchange_completed(offer.pk, completed_on=calendars.ny_date(now), actor=actor, now=now)
    return offer


@transaction.atomic
def condition_in_effect(offer: ExchangeOffer, kind: ConditionKind) -> bool:
    """Is `kind` asserted and unwaived for any portion of the offer (or, for the stop-order
    condition, is a stop order recorded as threatened or in effect)?"""
    if kind == ConditionKind.STOP_ORDER and offer.stop_order_in_effect:
        return True
    return ConditionAssertion.objects.filter(
        offer=offer, kind=kind, waived_at__isnull=True
    ).exists()


def termination_grounds(offer: ExchangeOffer) -> list[ConditionKind]:
    """The conditions in effect now: after expiration, the only grounds to terminate."""
    return [kind for kind in ConditionKind if condition_in_effect(offer, kind)]


@transaction.atomic
def terminate_offer(
    offer_id: int,
    *,
    actor: Actor,
    now: dt.datetime,
    reason: str,
    ground: ConditionKind | str = "",
) -> ExchangeOffer:
    """Terminate: nothing is accepted; every tendered note is recorded for return.

    Before the expiration instant, for any reason ("Unless Level 3 terminates the exchange
    offer prior to 5:00 p.m. ... on the expiration date, Level 3 will exchange"). From that
    instant until acceptance, only on `ground`: a condition asserted and not waived, or a stop
    order in effect. Never after acceptance.
    """

    require_aware(now)
    if not reason.strip():
        raise DeskError("Give the issuer's reason for terminating the offer.", field="reason")
    offer = _lock(offer_id)
    if offer.state == OfferState.TERMINATED:
        return offer
    if not can_proceed(offer.terminate):
        raise DeskError(
            f"An offer that is {offer.get_state_display().lower()} can no longer be terminated"
            + (
                ": once the notes are accepted the issuer must exchange them."
                if offer.state in (OfferState.ACCEPTED, OfferState.COMPLETED)
                else "."
            )
        )
    grounds_text = ""
    if now >= offer.expiration_at:
        in_effect = termination_grounds(offer)
        if not ground:
            raise DeskError(
                f"The offer expired at {calendars.format_ny(offer.expiration_at)}: from then on "
                f"it can be terminated only on a condition asserted and not waived, or a stop "
                f"order. "
                + (
                    "Name the condition relied on: " + "; ".join(k.label for k in in_effect) + "."
                    if in_effect
                    else "No condition is asserted and no stop order is in effect; valid "
                    "tenders must be accepted."
                ),
                field="ground",
            )
        try:
            kind = ConditionKind(ground)
        except ValueError:
            raise DeskError(
                f"{ground!r} is not a condition of the offer.", field="ground"
            ) from None
        if kind not in in_effect:
            raise DeskError(
                f"“{kind.label}” is not asserted (or, for a stop order, not in effect): after "
                f"expiration the offer can be terminated only on a condition in effect.",
                field="ground",
            )
        grounds_text = f" Condition relied on: {kind.label}."
    elif ground:
        grounds_text = f" Condition relied on: {ConditionKind(ground).label}."
    previous_state = offer.state
    offer.terminate()
    offer.terminated_at = now
    offer.save(update_fields=["state", "terminated_at"])
    reason = reason.strip() + grounds_text
    _event(
        offer,
        OfferEventKind.TERMINATED,
        actor,
        now,
        reason,
        announcement_draft=termination_announcement(offer, reason),
    )
    record(
        offer,
        action="exchange.offer.terminated",
        from_state=previous_state,
        to_state=offer.state,
        actor=actor,
        now=now,
        reason=reason,
        offer=offer,
    )
    # Set-based, in this one transaction under the offer's lock: every open tender is
    # rejected, and the notes the agent holds for it are recorded for return.
    open_rows = list(
        Tender.objects.select_for_update()
        .filter(offer=offer, state__in=TENDER_OPEN_STATES)
        .values_list("id", "state", "amount", "withdrawn_amount", "channel")
    )
    NoteReturn.objects.bulk_create(
        NoteReturn(
            tender_id=pk,
            reason=ReturnReason.TERMINATED,
            amount=amount - withdrawn,
            by_book_entry=channel == Channel.BOOK_ENTRY,
            recorded_at=now,
        )
        for pk, state, amount, withdrawn, channel in open_rows
        # A guaranteed delivery still pending delivered no notes: nothing to return.
        if state != TenderState.PENDING_DELIVERY and amount - withdrawn > 0
    )
    by_state: dict[str, list[int]] = {}
    for pk, state, *_ in open_rows:
        by_state.setdefault(state, []).append(pk)
    for state, ids in by_state.items():
        move_tenders_in_bulk(
            ids,
            from_state=state,
            to_state=TenderState.REJECTED,
            action="exchange.tender.rejected",
            actor=actor,
            now=now,
            reason=f"Offer terminated: {reason}",
            offer_id=offer.pk,
        )
    # Guarantees still waiting for notes close with the offer: nothing more is expected,
    # and the deadline job must not later "lapse" them for notes never needed.
    for gd in GuaranteedDelivery.objects.select_for_update().filter(
        tender__offer=offer, state=GuaranteedDeliveryState.RECEIVED
    ):
        gd.lapse()
        gd.lapsed_at = now
        gd.save(update_fields=["state", "lapsed_at"])
        record(
            gd,
            action="exchange.guaranteed_delivery.closed",
            from_state=GuaranteedDeliveryState.RECEIVED,
            to_state=gd.state,
            actor=actor,
            now=now,
            reason=f"Offer terminated: {reason}",
            offer=offer,
        )
    return offer
