"""Notices to holders, guarantors and staff: receipt, deficiency, acceptance, return, lapse.

Each function writes its messages to the outbox (exchange.models.outbox) in the caller's
transaction: a notice exists exactly when the record that causes it committed, and one
rolled back leaves none. A Celery worker sends them afterwards (exchange.services.outbox),
so a submission never waits on the mail server and never fails because of it.

One function per notice; the pattern: build (holder, subject, body) for each recipient,
then `_queue` them under the notice's name.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings

from exchange.models import OutboxMessage, Tender
from exchange.terms import calendars
from holders.models import Holder

log = logging.getLogger(__name__)

Notice = tuple[Holder, str, str]  # to whom, subject, body


def _queue(notice: str, notices: Iterable[Notice]) -> None:
    for holder, subject, body in notices:
        if not holder.email:
            continue
        OutboxMessage.objects.queue(
            notice=notice, subject=subject, body=body, to=[holder.email], holder_id=holder.pk
        )


def _tenders(ids: Iterable[int]) -> list[Tender]:
    return list(
        Tender.objects.filter(pk__in=list(ids))
        .exclude(holder__email="")
        .select_related("holder", "series", "offer")
        .prefetch_related("deficiencies")
    )


def _sign_off(tender: Tender) -> str:
    return (
        f"\n\n{tender.offer.exchange_agent}, Exchange Agent\n"
        f"Reference {tender.reference} — keep it for any enquiry."
    )


def tender_received(tender: Tender) -> None:
    """The receipt of a tender just recorded: the caller has its holder, series and offer
    in hand (a letter in a deadline rush reads nothing more for its notice)."""
    t = tender
    _queue(
        "tender_received",
        [
            (
                t.holder,
                f"Tender {t.reference} received: ${t.amount:,.2f} {t.series.name}",
                f"We received your tender of ${t.amount:,.2f} {t.series.amount_label} of the "
                f"{t.series.name} at {calendars.format_ny(t.received_at)}.\n"
                f"It stays tendered unless you withdraw it before "
                f"{calendars.format_ny(t.offer.expiration_at)}." + _sign_off(t),
            )
        ],
    )


def tenders_received(tender_ids: Iterable[int]) -> None:
    """Receipts for many tenders at once (an ATOP activity file's), written to the outbox
    in one statement."""
    OutboxMessage.objects.queue_many(
        notice="tender_received",
        messages=[
            (
                f"Tender {t.reference} received: ${t.amount:,.2f} {t.series.name}",
                f"We received your tender of ${t.amount:,.2f} {t.series.amount_label} of the "
                f"{t.series.name} at {calendars.format_ny(t.received_at)}.\n"
                f"It stays tendered unless you withdraw it before "
                f"{calendars.format_ny(t.offer.expiration_at)}." + _sign_off(t),
                [t.holder.email],
                t.holder_id,
            )
            for t in _tenders(tender_ids)
        ],
    )


def tender_deficient(tender_id: int) -> None:
    # The time the issuer allows to cure (a guaranteed delivery's deadline, an extension).
    from exchange.services.cure_periods import cure_deadline

    notices = []
    for t in _tenders([tender_id]):
        defects = "\n".join(
            f"- {d.get_kind_display()}: {d.note}"
            for d in t.deficiencies.all()
            if d.status == "open"
        )
        deadline = calendars.format_ny(cure_deadline(t))
        notices.append(
            (
                t.holder,
                f"Tender {t.reference}: action needed before {deadline}",
                f"Your tender {t.reference} is not yet in proper form:\n{defects}\n\n"
                f"Cure each point before {deadline}; after that only the issuer can "
                f"waive a defect, and an uncured tender may be rejected." + _sign_off(t),
            )
        )
    _queue("tender_deficient", notices)


def tenders_accepted(tender_ids: Iterable[int]) -> None:
    _queue(
        "tender_accepted",
        (
            (
                t.holder,
                f"Tender {t.reference} accepted: new {t.series.name} to be delivered",
                f"The issuer accepted your tender {t.reference}. New notes of ${t.live_amount:,.2f} "
                f"{t.series.amount_label} are being delivered"
                + (" by book-entry transfer at DTC." if t.channel == "book_entry" else ".")
                + _sign_off(t),
            )
            for t in _tenders(tender_ids)
        ),
    )


def tenders_returned(tender_ids: Iterable[int]) -> None:
    _queue(
        "tender_returned",
        (
            (
                t.holder,
                f"Tender {t.reference}: original notes returned",
                f"The original notes of tender {t.reference} not exchanged have been returned"
                + (" (credited to your DTC account)." if t.channel == "book_entry" else " to you.")
                + _sign_off(t),
            )
            for t in _tenders(tender_ids)
        ),
    )


def guarantee_lapsed(gd_id: int) -> None:
    """To the tendering holder and the guarantor: the notes did not arrive in time."""
    from exchange.models import GuaranteedDelivery

    gd = GuaranteedDelivery.objects.select_related(
        "tender__holder", "tender__offer", "guarantor"
    ).get(pk=gd_id)
    subject = f"Guaranteed delivery {gd.reference} lapsed; tender {gd.tender.reference} rejected"
    body = (
        f"The original notes guaranteed by {gd.guarantor.name} under notice {gd.reference} "
        f"were not delivered by {calendars.format_ny(gd.deadline_at)}, three New York Stock "
        f"Exchange trading days after the notice was executed. The tender "
        f"{gd.tender.reference} has been rejected." + _sign_off(gd.tender)
    )
    _queue(
        "guarantee_lapsed",
        [(gd.tender.holder, subject, body), (gd.guarantor, subject, body)],
    )


def operations_alert(subject: str, body: str) -> None:
    """To the operators (ADMINS): a failure that needs a person, e.g. a reconciliation
    mismatch. Through the outbox like every notice, so the desk can see it was sent."""
    recipients = [email for _, email in settings.ADMINS]
    if recipients:
        OutboxMessage.objects.queue(
            notice="operations_alert",
            subject=f"{settings.EMAIL_SUBJECT_PREFIX}{subject}",
            body=body,
            to=recipients,
        )


def _supervisor_addresses() -> list[str]:
    """Active staff who may record the issuer's decisions (the Supervisors group or the
    permission itself), with an address."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    users = get_user_model().objects.filter(is_active=True, is_staff=True).exclude(email="")
    perm = Q(groups__permissions__codename="record_issuer_decision") | Q(
        user_permissions__codename="record_issuer_decision"
    )
    return sorted(set(users.filter(perm | Q(is_superuser=True)).values_list("email", flat=True)))


def _announcement_notice(event_id: int, subject: str, lead: str) -> None:
    from exchange.models import OfferEvent

    event = OfferEvent.objects.select_related("offer").get(pk=event_id)
    recipients = _supervisor_addresses()
    if not recipients or event.announcement_due_at is None:
        return
    OutboxMessage.objects.queue(
        notice="announcement_reminder",
        subject=f"{subject}: {event.get_kind_display().lower()} of {event.offer.slug}",
        body=(
            f"{lead} The {event.get_kind_display().lower()} of {event.offer} recorded "
            f"{calendars.format_ny(event.occurred_at)} must be announced by "
            f"{calendars.format_ny(event.announcement_due_at)} (Rule 14e-1(d)). No "
            f"announcement is recorded yet. Drafted text:\n\n{event.announcement_draft}"
        ),
        to=recipients,
    )


def announcement_due_soon(event_id: int) -> None:
    """To the supervisors, an hour before an extension's announcement deadline."""
    _announcement_notice(event_id, "Announcement due within the hour", "Reminder.")


def announcement_late(event_id: int) -> None:
    """To the supervisors, once an extension's announcement deadline passed unannounced."""
    _announcement_notice(event_id, "Announcement LATE", "The deadline has passed.")
