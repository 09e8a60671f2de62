"""The extension announcement's deadline: warn the supervisors an hour before it, mark the
decision late once it passes with no announcement recorded.

Rule 14e-1(d): 9:00 a.m. New York time on the business day after the previously scheduled
expiration date (stored on the extension as `announcement_due_at`). The job takes the
decision's id and is idempotent: each of the two steps happens once.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from exchange.models import OfferEvent
from exchange.services import notifications
from exchange.services.base import Actor, lock_offer_shared, record, require_aware
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
