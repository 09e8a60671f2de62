"""The issuer's announcements: recording one as made (when, how, what, for which decision),
the decisions still awaiting one, and the extension announcement's deadline: warn the
supervisors an hour before it, mark the decision late once it passes with no announcement
recorded.

Rule 14e-1(d): 9:00 a.m. New York time on the business day after the previously scheduled
expiration date (stored on the extension as `announcement_due_at`). The job takes the
decision's id and is idempotent: each of the two steps happens once.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from exchange.models import ExchangeOffer, OfferEvent, OfferEventKind
from exchange.services import notifications
from exchange.services.base import Actor, DeskError, lock_offer_shared, record, require_aware
from exchange.services.offers import _event, _lock
from exchange.terms import calendars

WARNING_AHEAD = dt.timedelta(hours=1)


def warning_at(event: OfferEvent) -> dt.datetime:
    assert event.announcement_due_at is not None
    return event.announcement_due_at - WARNING_AHEAD


def deadlines_due(now: dt.datetime) -> list[int]:
    """Decisions whose warning or lateness is due at `now` and not yet noted, unannounced."""
    pending = OfferEvent.objects.filter(
        announcement_due_at__isnull=False, announcements__isnull=True
    )
    warn = pending.filter(
        announcement_warned_at__isnull=True, announcement_due_at__lte=now + WARNING_AHEAD
    )
    late = pending.filter(announcement_late_at__isnull=True, announcement_due_at__lte=now)
    return sorted(set(warn.values_list("pk", flat=True)) | set(late.values_list("pk", flat=True)))


@transaction.atomic
def check_announcement_deadline(event_id: int, *, actor: Actor, now: dt.datetime) -> str:
    """One step for one decision: 'announced', 'late', 'warned' or 'nothing due'."""
    require_aware(now)
    offer_id = OfferEvent.objects.values_list("offer_id", flat=True).get(pk=event_id)
    offer = lock_offer_shared(offer_id)  # lock order: the offer first, as every service
    event = OfferEvent.objects.select_for_update().get(pk=event_id)
    if event.announcement_due_at is None:
        return "nothing due"
    if event.announcements.exists():
        return "announced"
    due = event.announcement_due_at
    if now >= due:
        if event.announcement_late_at is not None:
            return "nothing due"
        event.announcement_late_at = now
        fields = ["announcement_late_at"]
        if event.announcement_warned_at is None:
            event.announcement_warned_at = now
            fields.append("announcement_warned_at")
        event.save(update_fields=fields)
        record(
            event,
            action="exchange.offer.announcement_late",
            from_state="due",
            to_state="late",
            actor=actor,
            now=now,
            reason=f"No announcement of the {event.get_kind_display().lower()} recorded by "
            f"{calendars.format_ny(due)} (Rule 14e-1(d)).",
            offer=offer,
        )
        notifications.announcement_late(event.pk)
        return "late"
    if now >= due - WARNING_AHEAD and event.announcement_warned_at is None:
        event.announcement_warned_at = now
        event.save(update_fields=["announcement_warned_at"])
        record(
            event,
            action="exchange.offer.announcement_warning",
            from_state="due",
            to_state="due",
            actor=actor,
            now=now,
            reason=f"Announcement of the {event.get_kind_display().lower()} due by "
            f"{calendars.format_ny(due)}; none recorded yet.",
            offer=offer,
        )
        notifications.announcement_due_soon(event.pk)
        return "warned"
    return "nothing due"


# Decisions the issuer must announce publicly; each stores its drafted text.
ANNOUNCED_KINDS = (
    OfferEventKind.EXTENDED,
    OfferEventKind.AMENDED,
    OfferEventKind.MATERIAL_AMENDMENT,
    OfferEventKind.CONDITION_ASSERTED,
    OfferEventKind.CONDITION_WAIVED,
    OfferEventKind.TERMINATED,
    OfferEventKind.ACCEPTANCE_NOTICE,
)


def decisions_awaiting_announcement(offer: ExchangeOffer | int) -> list[OfferEvent]:
    """The offer's decisions with a drafted announcement and none recorded as made yet,
    the one due first first."""
    events = (
        OfferEvent.objects.filter(offer=offer, kind__in=ANNOUNCED_KINDS, announcements__isnull=True)
        .exclude(announcement_draft="")
        .order_by("occurred_at", "id")
    )
    return sorted(
        events,
        key=lambda e: (e.announcement_due_at is None, e.announcement_due_at or e.occurred_at),
    )


@transaction.atomic
def record_announcement(
    offer_id: int,
    *,
    text: str,
    actor: Actor,
    now: dt.datetime,
    made_at: dt.datetime | None = None,
    channel: str = "",
    decision_id: int | None = None,
) -> OfferEvent:
    """A public announcement (press release, Dow Jones News Service) as made: when
    (`made_at`, not after it is recorded), how, its text, and the decision it announces."""
    require_aware(now)
    made_at = require_aware(made_at) if made_at is not None else now
    if not text.strip():
        raise DeskError("Give the text of the announcement as released.", field="text")
    if made_at > now:
        raise DeskError(
            f"An announcement is recorded once made: {calendars.format_ny(made_at)} is later than "
            f"now ({calendars.format_ny(now)}).",
            field="made_at",
        )
    offer = _lock(offer_id)
    decision = None
    if decision_id is not None:
        decision = (
            OfferEvent.objects.select_for_update().filter(pk=decision_id, offer=offer).first()
        )
        if decision is None or decision.kind not in ANNOUNCED_KINDS:
            raise DeskError(
                "Choose one of this offer's decisions that needs an announcement.",
                field="decision",
            )
        if decision.announcements.exists():
            raise DeskError(
                f"The {decision.get_kind_display().lower()} of "
                f"{calendars.format_ny(decision.occurred_at)} was already announced.",
                field="decision",
            )
        if made_at < decision.occurred_at:
            raise DeskError(
                f"The announcement cannot precede the decision it announces "
                f"({calendars.format_ny(decision.occurred_at)}).",
                field="made_at",
            )
    late = (
        decision is not None
        and decision.announcement_due_at is not None
        and made_at > decision.announcement_due_at
    )
    event = _event(
        offer,
        OfferEventKind.ANNOUNCEMENT,
        actor,
        made_at,
        text.strip(),
        announces=decision,
        announcement_channel=channel.strip(),
    )
    record(
        offer,
        action="exchange.offer.announcement",
        from_state=offer.state,
        to_state=offer.state,
        actor=actor,
        now=now,
        reason=(
            f"Made {calendars.format_ny(made_at)}"
            + (f" by {channel.strip()}" if channel.strip() else "")
            + (
                f", announcing: {decision.get_kind_display()} of "
                f"{calendars.format_ny(decision.occurred_at)}"
                if decision
                else ""
            )
            + (" (after its deadline)" if late else "")
            + ": "
            + text.strip()
        )[:500],
        offer=offer,
    )
    return event
