"""Registration-agreement milestones as recorded events, and the defaults' state machine."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from exchange.models import (
    ExchangeOffer,
    RegistrationDefault,
    RegistrationDefaultState,
    RegistrationDefaultTrigger,
    RegistrationEvent,
    RegistrationEventKind,
)
from exchange.services.base import Actor, DeskError, record, require_aware


@transaction.atomic
def record_registration_event(
    offer_id: int,
    *,
    kind: RegistrationEventKind,
    occurred_on: dt.date,
    actor: Actor,
    now: dt.datetime,
    note: str = "",
) -> RegistrationEvent:
    require_aware(now)
    offer = ExchangeOffer.objects.select_for_update().get(pk=offer_id)
    if occurred_on < offer.original_issue_date:
        raise DeskError(
            f"{occurred_on} is before the original notes were issued ({offer.original_issue_date})."
        )
    event = RegistrationEvent.objects.create(
        offer=offer,
        kind=kind,
        occurred_on=occurred_on,
        recorded_at=now,
        recorded_by=actor.user if actor.user is not None else None,
        recorded_by_label=actor.label,
        note=note,
    )
    record(
        event,
        action=f"exchange.registration.{kind}",
        from_state="",
        to_state="recorded",
        actor=actor,
        now=now,
        reason=f"{RegistrationEventKind(kind).label} on {occurred_on}. {note}".strip(),
        offer=offer,
    )
    return event


@transaction.atomic
def open_registration_default(
    offer_id: int,
    *,
    trigger: RegistrationDefaultTrigger,
    occurred_on: dt.date,
    actor: Actor,
    now: dt.datetime,
) -> RegistrationDefault:
    require_aware(now)
    offer = ExchangeOffer.objects.select_for_update().get(pk=offer_id)
    default, created = RegistrationDefault.objects.get_or_create(
        offer=offer, trigger=trigger, occurred_on=occurred_on
    )
    if created:
        record(
            default,
            action="exchange.registration_default.occurred",
            from_state="",
            to_state=default.state,
            actor=actor,
            now=now,
            reason=f"{RegistrationDefaultTrigger(trigger).label}; special interest accrues from {occurred_on}.",
            offer=offer,
        )
    return default


@transaction.atomic
def cure_registration_default(
    default_id: int, *, cured_on: dt.date, actor: Actor, now: dt.datetime
) -> RegistrationDefault:
    require_aware(now)
    default = RegistrationDefault.objects.select_for_update().get(pk=default_id)
    if default.state == RegistrationDefaultState.CURED:
        return default
    if cured_on <= default.occurred_on:
        raise DeskError(
            f"A default that occurred on {default.occurred_on} is cured on a later day, not {cured_on}."
        )
    default.cure()
    default.cured_on = cured_on
    default.save(update_fields=["state", "cured_on"])
    record(
        default,
        action="exchange.registration_default.cured",
        from_state=RegistrationDefaultState.OCCURRED,
        to_state=default.state,
        actor=actor,
        now=now,
        reason=f"Cured on {cured_on}.",
        offer=default.offer_id,
    )
    return default
