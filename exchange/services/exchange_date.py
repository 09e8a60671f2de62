"""The exchange date, set-based: accept every valid tender, record the new notes owed,
return what is not accepted, dispatch, and complete the offer.

Each step works in chunks, one transaction a chunk: it locks the chunk's rows FOR
UPDATE with the state it expects in the WHERE clause, so a second worker running the
same step waits, then finds those rows no longer match and moves on. A crash loses
at most the chunk in flight (rolled back); the next run picks up what is left. So
every tendered note ends exactly once as delivered or returned.

Kept whole because the steps share one chunk protocol (the offer's shared lock, the rows
locked with the state they expect, keyset pagination) and one order, and whether a crash
or a stop order between two of them leaves every note accounted for can only be checked
by reading them side by side.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import QuerySet

from exchange.models import (
    Channel,
    ExchangeOffer,
    NewNoteDelivery,
    NoteReturn,
    OfferState,
    ReturnReason,
    StateChange,
    Tender,
    TenderState,
    WithdrawalNotice,
    WithdrawalState,
)
from exchange.models.tenders import TENDER_OPEN_STATES
from exchange.services import notifications
from exchange.services.base import (
    Actor,
    DeskError,
    chunk_key_condition,
    history_rows_for_ids,
    lock_offer_shared,
    move_tenders_in_bulk,
)
from exchange.services.conditions import held_back_series
from exchange.services.cure_periods import cure_window_open
from exchange.services.offers import accept_offer, complete_offer
from exchange.services.register import LiveAmounts, enter_exchange_on_register
from exchange.terms import calendars

log = logging.getLogger(__name__)


class StopOrderBlocks(DeskError):
    """Raised, and logged at ERROR, when a stop order stops the exchange date."""


@dataclass
class ExchangeDateResult:
    offer_id: int
    outcome: str = "done"
    accepted: int = 0
    returned_not_accepted: int = 0
    deliveries_dispatched: int = 0
    returns_dispatched: int = 0
    completed: bool = False
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            f"accepted {self.accepted}",
            f"not accepted (returned) {self.returned_not_accepted}",
            f"new notes dispatched {self.deliveries_dispatched}",
            f"returns dispatched {self.returns_dispatched}",
        ]
        if self.completed:
            parts.append("offer completed")
        return "; ".join(parts + self.notes)


def _chunk_size() -> int:
    return int(settings.EXCHANGE_DATE_CHUNK_SIZE)


def _still_accepting(offer: ExchangeOffer) -> bool:
    """Inside each chunk's transaction: the offer (locked shared, so a stop order being
    recorded waits for the chunk, and the next chunk sees it) must still be accepted and
    free of any stop order. A stop order stops the run loudly; an offer another worker
    has completed meanwhile just ends it (False)."""
    current = lock_offer_shared(offer.pk)
    if current.stop_order_in_effect:
        message = (
            f"Exchange date for {offer.slug} stopped: a stop order is threatened or in effect. "
            "No further original notes are accepted and no new notes issued until it is lifted."
        )
        log.error(message, extra={"offer_id": offer.pk})
        raise StopOrderBlocks(message)
    return current.state == OfferState.ACCEPTED


def _acceptable_chunk(offer: ExchangeOffer, after: int) -> QuerySet[Tender]:
    """The next chunk of tenders acceptance may take, locked FOR UPDATE (inside the
    chunk's transaction, after the offer's shared lock), in key order after `after`.

    Keyset pagination: each chunk starts after the last id the previous one saw, so a
    chunk reads its 2,000 rows from the primary key instead of re-reading (and sorting)
    every valid tender left; the run is linear in the offer's size, not quadratic."""
    return (
        Tender.objects.select_for_update()
        .filter(offer=offer, state=TenderState.VALID, id__gt=after)
        # An asserted, unwaived condition holds back its series (read under the offer's
        # lock, so a waiver recorded meanwhile shows in the next chunk).
        .exclude(series_id__in=list(held_back_series(offer.pk)))
        # A notice of withdrawal received in time and not yet decided holds the tender
        # back: only notes "validly tendered and not withdrawn" are accepted.
        .exclude(withdrawals__state=WithdrawalState.RECEIVED)
        .order_by("id")
    )


def exchange_valid_tenders(offer: ExchangeOffer, *, actor: Actor, now: dt.datetime) -> int:
    """Acceptance and delivery in one pass: each chunk of valid tenders is accepted, its
    new notes recorded and delivered, and the register entered, in one transaction.

    Each tender still goes valid → accepted → exchanged in its history (two rows, in that
    order) and gets its NewNoteDelivery, as accept_valid_tenders then dispatch_new_notes
    would record them at the same instant; but its row is written once, while its chunk
    is locked, instead of twice in two passes over the table (each state change rewrites
    the row and every index entry, and the second pass had to find the rows again). A
    crash loses at most the chunk in flight: its tenders are still valid, and the next run
    takes them. Returns how many tenders were exchanged."""
    total = 0
    after = 0
    while True:
        with transaction.atomic():
            if not _still_accepting(offer):
                return total
            ids = list(
                _acceptable_chunk(offer, after).values_list("id", flat=True)[: _chunk_size()]
            )
            if not ids:
                return total
            after = ids[-1]
            moved, live = _accept_and_deliver(ids, offer_id=offer.pk, actor=actor, now=now)
            enter_exchange_on_register(offer, moved, actor=actor, now=now, live=live)
            notifications.tenders_accepted(moved)
            total += len(moved)
        pause_between_chunks()


ACCEPTED_REASON = "Validly tendered and not withdrawn; accepted on the exchange date."
EXCHANGED_REASON = "New notes delivered."


def _accept_and_deliver(
    ids: list[int], *, offer_id: int, actor: Actor, now: dt.datetime
) -> tuple[list[int], LiveAmounts | None]:
    """For locked tenders of one chunk: valid → exchanged, guarded by `state = 'valid'`,
    with the delivery of the live amount (recorded and delivered `now`) and the two
    history rows of each, accepted then exchanged. Returns the ids moved, in order, and
    (on PostgreSQL) what they draw by holder and series, for the register."""
    if connection.vendor != "postgresql":
        # The demo's SQLite: the same rows, through the two bulk transitions.
        moved = list(
            Tender.objects.filter(id__in=ids, state=TenderState.VALID)
            .order_by("id")
            .values_list("id", flat=True)
        )
        move_tenders_in_bulk(
            moved,
            from_state=TenderState.VALID,
            to_state=TenderState.ACCEPTED,
            action="exchange.tender.accepted",
            actor=actor,
            now=now,
            reason=ACCEPTED_REASON,
            offer_id=offer_id,
        )
        NewNoteDelivery.objects.bulk_create(
            _delivery(row, now=now, delivered_at=now)
            for row in Tender.objects.filter(id__in=moved)
            .order_by("id")
            .values_list(*_DELIVERY_FIELDS)
        )
        move_tenders_in_bulk(
            moved,
            from_state=TenderState.ACCEPTED,
            to_state=TenderState.EXCHANGED,
            action="exchange.tender.exchanged",
            actor=actor,
            now=now,
            reason=EXCHANGED_REASON,
            offer_id=offer_id,
        )
        return moved, None
    # One statement: the guarded UPDATE hands the rows it moved to the INSERT of their
    # deliveries and to the INSERT of their history. Both history rows of a tender are
    # kept, in order (every `accepted` row of the chunk before its `exchanged` rows, ids
    # taken in that order), so the history reads valid → accepted → exchanged as before.
    actor_user = actor.user if actor.user is not None and actor.user.pk else None
    keys, key_params = chunk_key_condition(ids)
    history = [
        now,
        offer_id,
        ContentType.objects.get_for_model(Tender).pk,
        str(actor.kind),
        actor_user.pk if actor_user is not None else None,
        actor.label,
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH moved AS (
                UPDATE {Tender._meta.db_table} SET state = %s
                WHERE {keys} AND state = %s
                RETURNING id, holder_id, series_id, amount - withdrawn_amount AS live, channel,
                    registered_names, special_issuance_name, special_issuance_address,
                    special_delivery_address
            ), delivered AS (
                INSERT INTO {NewNoteDelivery._meta.db_table}
                    (tender_id, series_id, amount, recipient_name, delivery_instructions,
                     by_book_entry, recorded_at, delivered_at)
                SELECT id, series_id, live,
                    COALESCE(NULLIF(special_issuance_name, ''), registered_names),
                    COALESCE(NULLIF(special_delivery_address, ''), special_issuance_address),
                    channel = %s, %s, %s
                FROM moved ORDER BY id
            ), recorded AS (
                INSERT INTO {StateChange._meta.db_table}
                    (at, offer_id, content_type_id, object_id, action, from_state, to_state,
                     actor_kind, actor_user_id, actor_label, reason)
                SELECT %s, %s, %s, id, step.action, step.from_state, step.to_state,
                    %s, %s, %s, step.reason
                FROM moved CROSS JOIN (VALUES
                    (1, %s, %s, %s, %s), (2, %s, %s, %s, %s)
                ) AS step (n, action, from_state, to_state, reason)
                ORDER BY step.n, id
            )
            -- What the register draws from each position, summed here from the rows
            -- moved rather than read again from the table.
            SELECT holder_id, series_id, channel = %s, SUM(live), array_agg(id)
            FROM moved GROUP BY 1, 2, 3
            """,
            [
                str(TenderState.EXCHANGED),
                *key_params,
                str(TenderState.VALID),
                str(Channel.BOOK_ENTRY),
                now,
                now,
                *history,
                "exchange.tender.accepted",
                str(TenderState.VALID),
                str(TenderState.ACCEPTED),
                ACCEPTED_REASON,
                "exchange.tender.exchanged",
                str(TenderState.ACCEPTED),
                str(TenderState.EXCHANGED),
                EXCHANGED_REASON,
                str(Channel.BOOK_ENTRY),
            ],
        )
        rows = cursor.fetchall()
    moved = sorted(pk for *_, pks in rows for pk in pks)
    return moved, [
        (holder, series, book_entry, total) for holder, series, book_entry, total, _ in rows
    ]


_DELIVERY_FIELDS = (
    "id",
    "series_id",
    "amount",
    "withdrawn_amount",
    "channel",
    "registered_names",
    "special_issuance_name",
    "special_issuance_address",
    "special_delivery_address",
)


def _delivery(
    row: tuple[Any, ...], *, now: dt.datetime, delivered_at: dt.datetime | None
) -> NewNoteDelivery:
    """The new notes owed for one tender (a row of _DELIVERY_FIELDS): its live amount, to
    the special issuance name and delivery address when it gives them."""
    (
        pk,
        series_id,
        amount,
        withdrawn,
        channel,
        registered_names,
        special_name,
        special_address,
        special_delivery,
    ) = row
    return NewNoteDelivery(
        tender_id=pk,
        series_id=series_id,
        amount=amount - withdrawn,
        recipient_name=special_name or registered_names,
        delivery_instructions=special_delivery or special_address,
        by_book_entry=channel == Channel.BOOK_ENTRY,
        recorded_at=now,
        delivered_at=delivered_at,
    )


def accept_valid_tenders(offer: ExchangeOffer, *, actor: Actor, now: dt.datetime) -> int:
    """Valid → accepted, with a NewNoteDelivery each for the live amount, chunk by chunk,
    for dispatch_new_notes to deliver (the exchange date itself does both in one pass:
    exchange_valid_tenders)."""
    total = 0
    after = 0
    while True:
        with transaction.atomic():
            if not _still_accepting(offer):
                return total
            rows = list(
                _acceptable_chunk(offer, after).values_list(*_DELIVERY_FIELDS)[: _chunk_size()]
            )
            if not rows:
                return total
            ids = [row[0] for row in rows]
            after = ids[-1]
            move_tenders_in_bulk(
                ids,
                from_state=TenderState.VALID,
                to_state=TenderState.ACCEPTED,
                action="exchange.tender.accepted",
                actor=actor,
                now=now,
                reason=ACCEPTED_REASON,
                offer_id=offer.pk,
            )
            NewNoteDelivery.objects.bulk_create(
                _delivery(row, now=now, delivered_at=None) for row in rows
            )
            notifications.tenders_accepted(ids)
            total += len(ids)
        pause_between_chunks()


def reject_deficient_tenders(offer: ExchangeOffer, *, actor: Actor, now: dt.datetime) -> int:
    """Deficient and unwaived at the exchange date: rejected, notes recorded for return."""
    total = 0
    while True:
        with transaction.atomic():
            rows = list(
                Tender.objects.select_for_update()
                .filter(offer=offer, state=TenderState.DEFICIENT)
                .exclude(withdrawals__state=WithdrawalState.RECEIVED)
                # Still inside the time the issuer allows to cure: not rejected yet.
                .exclude(id__in=_still_curable(offer, now))
                .order_by("id")
                .values_list("id", "amount", "withdrawn_amount", "channel")[: _chunk_size()]
            )
            if not rows:
                return total
            ids = [row[0] for row in rows]
            move_tenders_in_bulk(
                ids,
                from_state=TenderState.DEFICIENT,
                to_state=TenderState.REJECTED,
                action="exchange.tender.rejected",
                actor=actor,
                now=now,
                reason="Deficiency neither cured in the time the issuer allowed nor waived by the issuer.",
                offer_id=offer.pk,
            )
            NoteReturn.objects.bulk_create(
                NoteReturn(
                    tender_id=pk,
                    reason=ReturnReason.NOT_ACCEPTED,
                    amount=amount - withdrawn,
                    by_book_entry=channel == Channel.BOOK_ENTRY,
                    recorded_at=now,
                )
                for pk, amount, withdrawn, channel in rows
                if amount - withdrawn > 0
            )
            total += len(ids)
        pause_between_chunks()


def dispatch_new_notes(offer: ExchangeOffer, *, actor: Actor, now: dt.datetime) -> int:
    """Deliver the new notes recorded (DTC credit or certificates): accepted → exchanged."""
    total = 0
    after = 0  # keyset pagination, as in accept_valid_tenders
    while True:
        with transaction.atomic():
            if not _still_accepting(offer):
                return total
            rows = list(
                NewNoteDelivery.objects.select_for_update(of=("self",))
                .filter(tender__offer=offer, delivered_at__isnull=True, id__gt=after)
                .order_by("id")
                .values_list("id", "tender_id")[: _chunk_size()]
            )
            if not rows:
                return total
            delivery_ids = [row[0] for row in rows]
            after = delivery_ids[-1]
            tender_ids = [row[1] for row in rows]
            NewNoteDelivery.objects.filter(id__in=delivery_ids, delivered_at__isnull=True).update(
                delivered_at=now
            )
            move_tenders_in_bulk(
                tender_ids,
                from_state=TenderState.ACCEPTED,
                to_state=TenderState.EXCHANGED,
                action="exchange.tender.exchanged",
                actor=actor,
                now=now,
                reason=EXCHANGED_REASON,
                offer_id=offer.pk,
            )
            enter_exchange_on_register(offer, tender_ids, actor=actor, now=now)
            total += len(rows)
        pause_between_chunks()


def dispatch_returns(offer: ExchangeOffer, *, actor: Actor, now: dt.datetime) -> int:
    """Send back every return recorded; a withdrawn or rejected tender with nothing left
    pending becomes returned."""
    total = 0
    while True:
        with transaction.atomic():
            rows = list(
                NoteReturn.objects.select_for_update(of=("self",))
                .filter(tender__offer=offer, returned_at__isnull=True)
                .order_by("id")
                .values_list("id", "tender_id")[: _chunk_size()]
            )
            if not rows:
                break
            return_ids = [r[0] for r in rows]
            NoteReturn.objects.filter(id__in=return_ids, returned_at__isnull=True).update(
                returned_at=now
            )
            StateChange.objects.bulk_create(
                history_rows_for_ids(
                    NoteReturn,
                    return_ids,
                    action="exchange.note_return.sent",
                    from_state="pending",
                    to_state="returned",
                    actor=actor,
                    now=now,
                    reason="Original notes returned (certificates mailed or DTC position credited).",
                    offer_id=offer.pk,
                )
            )
            total += len(rows)
        pause_between_chunks()
    # Withdrawn or rejected tenders whose notes have all gone back become returned.
    candidates = set(
        Tender.objects.filter(
            offer=offer,
            state__in=[TenderState.WITHDRAWN, TenderState.REJECTED],
            returns__isnull=False,
        ).values_list("id", flat=True)
    )
    still_pending = set(
        NoteReturn.objects.filter(tender_id__in=candidates, returned_at__isnull=True).values_list(
            "tender_id", flat=True
        )
    )
    ready = sorted(candidates - still_pending)
    for start in range(0, len(ready), _chunk_size()):
        with transaction.atomic():
            locked = list(
                Tender.objects.select_for_update()
                .filter(id__in=ready[start : start + _chunk_size()])
                .filter(state__in=[TenderState.WITHDRAWN, TenderState.REJECTED])
                .values_list("id", "state")
            )
            for state in (TenderState.WITHDRAWN, TenderState.REJECTED):
                ids = [pk for pk, s in locked if s == state]
                if not ids:
                    continue
                move_tenders_in_bulk(
                    ids,
                    from_state=state,
                    to_state=TenderState.RETURNED,
                    action="exchange.tender.returned",
                    actor=actor,
                    now=now,
                    reason="Original notes returned.",
                    offer_id=offer.pk,
                )
                notifications.tenders_returned(ids)
    return total


def pause_between_chunks() -> None:
    """An operator's throttle (EXCHANGE_DATE_CHUNK_PAUSE_SECONDS) to leave the database
    room for the portal during a large exchange date; zero by default."""
    pause = float(settings.EXCHANGE_DATE_CHUNK_PAUSE_SECONDS)
    if pause > 0:
        import time

        time.sleep(pause)


def exchange_completion_holds(offer_id: int) -> dict[str, int]:
    """What still keeps the exchange from being *completed* in the registration agreement's
    sense: a tender accepted whose new notes are not issued, or a tender that may still be
    accepted (received, in review, valid, deficient and not yet rejected, or pending under a
    guaranteed delivery whose deadline has not passed). Only those: original notes still
    being returned and notices of withdrawal awaiting a decision are the agent's paperwork,
    not the exchange, and must not open a registration default (and special interest on
    every series) by holding the milestone back. Empty when the exchange is completed."""
    tenders = Tender.objects.filter(offer_id=offer_id)
    holds = {
        "accepted tender(s) whose new notes are not issued": tenders.filter(
            state=TenderState.ACCEPTED
        ).count(),
        "tender(s) that may still be accepted (received, in review, valid or deficient)": (
            tenders.filter(
                state__in=[
                    TenderState.RECEIVED,
                    TenderState.IN_REVIEW,
                    TenderState.VALID,
                    TenderState.DEFICIENT,
                ]
            )
            # A tender held back only by an undecided notice of withdrawal is a
            # withdrawal decision, not an exchange still to be made.
            .exclude(withdrawals__state=WithdrawalState.RECEIVED)
            .count()
        ),
        "guaranteed-delivery tender(s) whose notes may still arrive": tenders.filter(
            state=TenderState.PENDING_DELIVERY
        ).count(),
    }
    return {what: n for what, n in holds.items() if n}


def record_exchange_completed_if_due(
    offer_id: int, *, actor: Actor, now: dt.datetime
) -> dict[str, int]:
    """Record the "exchange completed" milestone once nothing in exchange_completion_holds
    remains; returns what holds it back (empty once recorded). Idempotent."""
    holds = exchange_completion_holds(offer_id)
    if holds:
        return holds
    from exchange.services.registration import record_exchange_completed

    with transaction.atomic():
        # The offer first (for update, as the milestone's own service takes it), then
        # re-checked under that lock.
        ExchangeOffer.objects.select_for_update().only("pk").get(pk=offer_id)
        holds = exchange_completion_holds(offer_id)
        if holds:
            return holds
        record_exchange_completed(
            offer_id,
            completed_on=calendars.ny_date(now),
            actor=actor,
            now=now,
            note="Recorded when every tender accepted for exchange had its new notes issued "
            "and none could still be accepted.",
        )
    return {}


def _still_curable(offer: ExchangeOffer, now: dt.datetime) -> list[int]:
    """Deficient tenders whose time to cure runs past `now` (read apart from the locking
    query: FOR UPDATE cannot reach the outer-joined guaranteed delivery)."""
    return list(
        Tender.objects.filter(offer=offer, state=TenderState.DEFICIENT)
        .filter(cure_window_open(now))
        .values_list("id", flat=True)
    )


def _held_back_notes(offer: ExchangeOffer) -> list[str]:
    """One line per series an asserted, unwaived condition holds back, naming it."""
    held = held_back_series(offer.pk)
    return [
        f"{series.name} ({', '.join(held[series.pk])} asserted, not waived)"
        for series in offer.series.order_by("maturity_date", "name")
        if series.pk in held
    ]


def exchange_date_due(offer: ExchangeOffer, now: dt.datetime) -> bool:
    return (
        offer.state in (OfferState.EXPIRED, OfferState.ACCEPTED)
        and calendars.ny_date(now) >= offer.exchange_date
    )


def run_exchange_date(offer_id: int, *, actor: Actor, now: dt.datetime) -> ExchangeDateResult:
    """Everything the exchange date does for one offer; safe to run again and concurrently."""
    result = ExchangeDateResult(offer_id=offer_id)
    offer = ExchangeOffer.objects.get(pk=offer_id)
    if offer.state in (OfferState.COMPLETED, OfferState.TERMINATED) or not exchange_date_due(
        offer, now
    ):
        result.outcome = "nothing_due"
        return result
    if offer.stop_order_in_effect:
        message = (
            f"Exchange date for {offer.slug} blocked: a stop order is threatened or in effect. "
            "Nothing was accepted. Record the lifting of the stop order to proceed."
        )
        log.error(message, extra={"offer_id": offer.pk})
        raise StopOrderBlocks(message)
    held = _held_back_notes(offer)
    if offer.state == OfferState.EXPIRED:
        if held and len(held) == offer.series.count():
            result.outcome = "waiting"
            result.notes.append(f"nothing accepted: {'; '.join(held)}")
            return result
        if not offer.acceptance_automatic:
            result.outcome = "waiting"
            result.notes.append("waiting for the issuer's written notice of acceptance")
            return result
        offer = accept_offer(
            offer.pk, actor=actor, now=now, reason="Automatic acceptance (offer setting)."
        )
    # Rejection first: it and acceptance take disjoint tenders (deficient, valid), and the
    # register entered with each exchanged chunk then finds the rejected tenders already
    # closed, as it did when it ran in a dispatch pass after both.
    result.returned_not_accepted = reject_deficient_tenders(offer, actor=actor, now=now)
    result.accepted = exchange_valid_tenders(offer, actor=actor, now=now)
    result.notes.extend(f"held back: {line}" for line in _held_back_notes(offer))
    # Tenders accepted but not yet delivered by an earlier path (a clerk's acceptance, a
    # run of accept_valid_tenders): their deliveries go out here.
    result.deliveries_dispatched = result.accepted + dispatch_new_notes(offer, actor=actor, now=now)
    holds = record_exchange_completed_if_due(offer.pk, actor=actor, now=now)
    if not holds:
        result.notes.append("exchange completed (registration milestone)")
    result.returns_dispatched = dispatch_returns(offer, actor=actor, now=now)
    notices = WithdrawalNotice.objects.filter(
        tender__offer=offer, state=WithdrawalState.RECEIVED
    ).count()
    if notices:
        result.outcome = "waiting"
        result.notes.append(f"{notices} notice(s) of withdrawal received in time await a clerk")
        return result
    undecided = Tender.objects.filter(offer=offer, state__in=TENDER_OPEN_STATES).count()
    if undecided:
        result.outcome = "waiting"
        result.notes.append(
            f"{undecided} tender(s) still open (in review or awaiting guaranteed delivery)"
        )
        return result
    try:
        complete_offer(offer.pk, actor=actor, now=now)
    except DeskError as exc:
        # Something arrived between the steps above and completion (a withdrawal decided,
        # a return recorded): the next tick sends it and completes.
        result.outcome = "waiting"
        result.notes.append(exc.message)
        return result
    result.completed = True
    return result
