"""Registration-agreement milestones as recorded events, and the defaults' state machine.

The defaults are derived: exchange.special_interest.detection computes them from the
milestones recorded, and `sync_registration_defaults` persists what it finds through
`open_registration_default` and `cure_registration_default`, with their history rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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
from exchange.terms import calendars

if TYPE_CHECKING:
    from exchange.special_interest.detection import Detection

# Milestones after which a registration statement has been declared effective.
_EFFECTIVE_KINDS = (
    RegistrationEventKind.EXCHANGE_EFFECTIVE,
    RegistrationEventKind.SHELF_EFFECTIVE,
    RegistrationEventKind.EXCHANGE_COMPLETED,
)


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
    # Milestones are facts that have happened; a future one would put defaults and
    # special interest on a guess.
    if occurred_on > calendars.ny_date(now):
        raise DeskError(f"{occurred_on} has not come yet (today is {calendars.ny_date(now)}).")
    earlier = RegistrationEvent.objects.filter(offer=offer, occurred_on__lte=occurred_on)
    if earlier.filter(kind=kind, occurred_on=occurred_on).exists():
        raise DeskError(
            f"{RegistrationEventKind(kind).label} on {occurred_on} is already recorded."
        )
    if (
        kind == RegistrationEventKind.CEASED_USABLE
        and not earlier.filter(kind__in=_EFFECTIVE_KINDS).exists()
    ):
        raise DeskError(
            "A registration statement can cease to be usable only after one was declared "
            f"effective: record the effectiveness (on or before {occurred_on}) first."
        )
    if (
        kind == RegistrationEventKind.USABLE_AGAIN
        and not earlier.filter(kind=RegistrationEventKind.CEASED_USABLE).exists()
    ):
        raise DeskError(
            f"No registration statement is recorded as having ceased to be usable on or "
            f"before {occurred_on}."
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
def void_registration_event(
    event_id: int, *, reason: str, actor: Actor, now: dt.datetime
) -> RegistrationEvent:
    """A milestone recorded wrongly is voided, never deleted: it stays, marked, with who and
    why, and counts for nothing from then on (the ledger follows at its next accrual)."""
    require_aware(now)
    if not reason.strip():
        raise DeskError("Say why the milestone is voided (what was wrong).", field="reason")
    offer_id = (
        RegistrationEvent.all_objects.filter(pk=event_id).values_list("offer_id", flat=True).first()
    )
    if offer_id is None:
        raise DeskError(f"No registration milestone {event_id}.")
    ExchangeOffer.objects.select_for_update().get(pk=offer_id)  # the offer first, as always
    event = RegistrationEvent.all_objects.select_for_update().get(pk=event_id)
    if event.voided_at is not None:
        raise DeskError(
            f"Milestone {event.pk} ({event.get_kind_display()} on {event.occurred_on}) was "
            f"already voided {calendars.format_ny(event.voided_at)}."
        )
    # What stands without it must still make sense: a lapse needs an effective statement
    # before it, a return to usability a lapse before it.
    rest = RegistrationEvent.objects.filter(offer_id=offer_id).exclude(pk=event.pk)
    for later in rest.filter(occurred_on__gte=event.occurred_on).order_by("occurred_on", "id"):
        before = rest.filter(occurred_on__lte=later.occurred_on)
        if (
            later.kind == RegistrationEventKind.CEASED_USABLE
            and not before.filter(kind__in=_EFFECTIVE_KINDS).exists()
        ) or (
            later.kind == RegistrationEventKind.USABLE_AGAIN
            and not before.filter(kind=RegistrationEventKind.CEASED_USABLE).exists()
        ):
            raise DeskError(
                f"Milestone {later.pk} ({later.get_kind_display()} on {later.occurred_on}) "
                f"rests on this one: void it first."
            )
    event.voided_at = now
    event.voided_by_label = actor.label
    event.void_reason = reason.strip()
    event.save(update_fields=["voided_at", "voided_by_label", "void_reason"])
    record(
        event,
        action="exchange.registration.voided",
        from_state="recorded",
        to_state="voided",
        actor=actor,
        now=now,
        reason=f"{event.get_kind_display()} on {event.occurred_on} voided: {reason.strip()}",
        offer=offer_id,
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


def record_exchange_completed(
    offer_id: int,
    *,
    completed_on: dt.date,
    actor: Actor,
    now: dt.datetime,
    note: str = "Recorded when the offer completed.",
) -> RegistrationEvent:
    """The exchange offer's completion as a milestone (called when the offer completes).

    Idempotent: an offer completes once, so a completion already recorded (by this hook
    or by a clerk) is returned as it is.
    """
    existing = (
        RegistrationEvent.objects.filter(
            offer_id=offer_id, kind=RegistrationEventKind.EXCHANGE_COMPLETED
        )
        .order_by("occurred_on", "id")
        .first()
    )
    if existing is not None:
        return existing
    return record_registration_event(
        offer_id,
        kind=RegistrationEventKind.EXCHANGE_COMPLETED,
        occurred_on=completed_on,
        actor=actor,
        now=now,
        note=note,
    )


@dataclass
class DefaultSync:
    """What persisting a detection did, and where the rows disagree with the milestones."""

    opened: list[RegistrationDefault] = field(default_factory=list)
    cured: list[RegistrationDefault] = field(default_factory=list)
    discrepancies: list[str] = field(default_factory=list)


@transaction.atomic
def sync_registration_defaults(
    offer_id: int, *, detection: Detection, actor: Actor, now: dt.datetime
) -> DefaultSync:
    """Make the offer's RegistrationDefault rows say what `detection` found: open the
    defaults it found, cure those it found cured. Idempotent.

    A row cannot be un-opened or un-cured (the history stands), so where a row disagrees
    with the milestones (cured by hand without the milestone that cures it, or opened
    before a milestone recorded late showed no default) it is left as it is and listed
    in `discrepancies` for a clerk: special interest follows the milestones.
    """
    require_aware(now)
    ExchangeOffer.objects.select_for_update().get(pk=offer_id)
    result = DefaultSync()
    rows = {
        (row.trigger, row.occurred_on): row
        for row in RegistrationDefault.objects.filter(offer_id=offer_id)
    }
    for found in detection.defaults:
        row = rows.get((found.trigger, found.occurred_on))
        if row is None:
            row = open_registration_default(
                offer_id,
                trigger=RegistrationDefaultTrigger(found.trigger),
                occurred_on=found.occurred_on,
                actor=actor,
                now=now,
            )
            result.opened.append(row)
        if found.cured_on is not None and row.state == RegistrationDefaultState.OCCURRED:
            result.cured.append(
                cure_registration_default(row.pk, cured_on=found.cured_on, actor=actor, now=now)
            )
        elif found.cured_on is not None and row.cured_on != found.cured_on:
            result.discrepancies.append(
                f"Default {row.pk} ({row}) is recorded as cured on {row.cured_on}; the "
                f"milestones cure it on {found.cured_on}."
            )
        elif (
            found.cured_on is None and row.cured_on is not None and row.cured_on <= detection.as_of
        ):
            result.discrepancies.append(
                f"Default {row.pk} ({row}) is recorded as cured on {row.cured_on}, but no "
                "milestone recorded cures it: record the milestone (filing, effectiveness, "
                "completion or usable again)."
            )
    found_keys = {(d.trigger, d.occurred_on) for d in detection.defaults}
    for key, row in rows.items():
        if key not in found_keys and row.occurred_on <= detection.as_of:
            result.discrepancies.append(
                f"Default {row.pk} ({row}) is not supported by the milestones recorded as of "
                f"{detection.as_of}; no special interest accrues for it."
            )
    return result
