"""The register after the exchange date: what each chunk of exchanged tenders does to the
holders' original certificates and DTC positions, and the new notes it enters.

Called by exchange_date.exchange_valid_tenders (and dispatch_new_notes) inside the chunk's
transaction, after the tenders are locked (lock order: offer, tenders, then holdings).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import F, Sum

from exchange.models import (
    Channel,
    ExchangeOffer,
    NewNoteDelivery,
    StateChange,
    Tender,
    TenderedCertificate,
    TenderState,
)
from exchange.models.tenders import TENDER_OPEN_STATES
from exchange.services.base import Actor, DeskError, chunk_key_condition, history_rows_for_ids
from exchange.terms import calendars
from holders.models import Holding, HoldingForm, NotesKind

log = logging.getLogger(__name__)


def reissued_certificate_number(cancelled: Holding) -> str:
    """The registrar's number for the certificate that carries an exchanged certificate's
    untendered remainder: derived from the cancelled row, so a rerun cannot issue two."""
    return f"RI-{cancelled.pk:07d}"


NEW_NOTE_CERTIFICATE_PREFIX = "NN-"


def new_note_certificate_number(tender_id: int) -> str:
    """The new certificate issued for a paper tender: one per tender, numbered by it."""
    return f"{NEW_NOTE_CERTIFICATE_PREFIX}{tender_id}"


class RegisterOutOfBalance(DeskError):
    """More was exchanged out of a certificate or position than it holds."""


# (holder, series, by book entry?, live amount) summed over a chunk's tenders.
LiveAmounts = list[tuple[int, int, bool, Decimal]]


def enter_exchange_on_register(
    offer: ExchangeOffer,
    tender_ids: list[int],
    *,
    actor: Actor,
    now: dt.datetime,
    live: LiveAmounts | None = None,
) -> None:
    """The register after these tenders' exchange (inside the chunk's transaction, after
    the tenders themselves are locked: offer, tenders, then holdings).

    - The exchanged amount leaves each original certificate or DTC position: the row is
      ended the exchange day (effective_until, exclusive), never edited, so a position of
      record on any earlier day still reads as it was.
    - The untendered remainder of a certificate is reissued as a new certificate in the
      holder's name (RI-…), and of a DTC position as the position's new row.
    - The new notes are entered as a holding of the series' new notes: a certificate
      (NN-…) registered in the name the special issuance instructions give, or the
      participant's DTC position for book-entry tenders.
    Returned notes are untouched: they go back as they came.

    `live` is what these tenders draw, by holder and series, when the caller already has
    it (the exchange date's own UPDATE returns it); otherwise it is read here.
    """
    if not tender_ids:
        return
    day = calendars.ny_date(now)
    # What each participant gives up of its DTC position in a series (book-entry tenders),
    # and whether the chunk has any tender by certificate at all.
    by_position: dict[tuple[int, int], Decimal] = {}
    by_certificate_tenders = False
    for holder_id, series_id, book_entry, total in (
        live if live is not None else _live_by_holder_and_series(tender_ids)
    ):
        if book_entry:
            by_position[(holder_id, series_id)] = total
        else:
            by_certificate_tenders = True
    # What each original certificate gives up: its live tendered amount on these tenders
    # (not asked for a chunk of book-entry tenders only, the exchange date's usual chunk).
    by_certificate = (
        dict(
            TenderedCertificate.objects.filter(tender_id__in=tender_ids)
            .values("holding_id")
            .annotate(exchanged=Sum(F("amount") - F("withdrawn_amount")))
            .values_list("holding_id", "exchanged")
        )
        if by_certificate_tenders
        else {}
    )
    ended: list[int] = []
    reissues: list[Holding] = []
    certificates = Holding.objects.select_for_update().in_bulk(list(by_certificate))
    for holding_id, exchanged in sorted(by_certificate.items()):
        holding = certificates[holding_id]
        if not exchanged:
            continue
        _check_draw(holding, exchanged)
        ended.append(holding.pk)
        if holding.amount > exchanged:
            reissues.append(
                _remainder(holding, holding.amount - exchanged, day, reissued_certificate_number)
            )
    for (holder_id, series_id), exchanged in sorted(by_position.items()):
        positions = list(
            Holding.objects.select_for_update()
            .original()
            .of_record_on(day)
            .filter(holder_id=holder_id, series_id=series_id, form=HoldingForm.DTC_POSITION)
            .order_by("-amount", "id")
        )
        left = exchanged
        for position in positions:
            if not left:
                break
            drawn = min(left, position.amount)
            left -= drawn
            ended.append(position.pk)
            if position.amount > drawn:
                reissues.append(_remainder(position, position.amount - drawn, day, None))
        if left:
            # DTC's book-entry confirmation moved the notes; the desk's copy of the
            # position listing is short (a guaranteed delivery completed through DTC by a
            # holder the desk knows only by certificate, say). The new notes are owed all
            # the same, so the exchange goes on; the books' reconciliation reports the
            # holder's line out of balance and the daily job alerts.
            log.error(
                "Register short: the DTC position of holder #%s in series #%s is %s short "
                "of what its book-entry tenders exchanged on %s; check the security "
                "position listing.",
                holder_id,
                series_id,
                f"{left:,.2f}",
                day,
                extra={"offer_id": offer.pk},
            )
    Holding.objects.filter(pk__in=ended, effective_until__isnull=True).update(effective_until=day)
    Holding.objects.bulk_create(reissues)
    # A later tender of the same certificate (still open, or accepted and exchanged in a
    # later chunk) now points at its reissue, which carries what it tendered.
    for reissue in reissues:
        if reissue.form == HoldingForm.CERTIFICATE:
            TenderedCertificate.objects.filter(holding_id=reissue.reissued_from_id).exclude(
                tender_id__in=tender_ids
            ).filter(tender__state__in=[*TENDER_OPEN_STATES, TenderState.ACCEPTED]).update(
                holding=reissue
            )
    history = [
        *history_rows_for_ids(
            Holding,
            ended,
            action="exchange.holding.cancelled",
            from_state="current",
            to_state="cancelled",
            actor=actor,
            now=now,
            reason="Original notes exchanged: the certificate or position is cancelled as of "
            "the exchange date.",
            offer_id=offer.pk,
        ),
        *history_rows_for_ids(
            Holding,
            [h.pk for h in reissues],
            action="exchange.holding.reissued",
            from_state="",
            to_state="current",
            actor=actor,
            now=now,
            reason="Untendered remainder reissued in the holder's name.",
            offer_id=offer.pk,
        ),
    ]
    StateChange.objects.bulk_create(history)
    _enter_new_notes(offer, tender_ids, day=day, actor=actor, now=now)


def _live_by_holder_and_series(tender_ids: list[int]) -> LiveAmounts:
    """(holder, series, by book entry?, live amount) summed over these tenders: one read of
    the chunk's tenders for what the register takes from each holder's position."""
    if connection.vendor == "postgresql":
        # By key range (see chunk_key_condition): 2,000 primary-key descents for an
        # `id IN (…)` list cost more than the aggregate itself.
        keys, key_params = chunk_key_condition(tender_ids)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT holder_id, series_id, channel = %s, SUM(amount - withdrawn_amount)
                FROM {Tender._meta.db_table} WHERE {keys}
                GROUP BY 1, 2, 3
                """,
                [Channel.BOOK_ENTRY.value, *key_params],
            )
            return [tuple(row) for row in cursor.fetchall()]  # type: ignore[misc]
    return [
        (holder_id, series_id, channel == Channel.BOOK_ENTRY, total)
        for holder_id, series_id, channel, total in Tender.objects.filter(id__in=tender_ids)
        .values("holder_id", "series_id", "channel")
        .annotate(total=Sum(F("amount") - F("withdrawn_amount")))
        .values_list("holder_id", "series_id", "channel", "total")
    ]


def _enter_new_notes(
    offer: ExchangeOffer, tender_ids: list[int], *, day: dt.date, actor: Actor, now: dt.datetime
) -> None:
    """One new-notes holding per tender, from its delivery, and a history row each: two
    INSERT … SELECT statements for the whole chunk (building 2,000 model instances twice
    over doubled the exchange date's time in the benchmark). Plain SQL that PostgreSQL and
    the demo's SQLite both run."""
    holding = Holding._meta.db_table
    tender = Tender._meta.db_table
    delivery = NewNoteDelivery._meta.db_table
    history = StateChange._meta.db_table
    ops = connection.ops
    history_params = [
        ops.adapt_datetimefield_value(now),
        offer.pk,
        ContentType.objects.get_for_model(Holding).pk,
        "exchange.holding.new_notes_issued",
        "current",
        str(actor.kind),
        actor.user.pk if actor.user is not None and actor.user.pk else None,
        actor.label,
        "New notes entered on the register in exchange.",
    ]
    if connection.vendor == "postgresql":
        # PostgreSQL: one statement, the holdings' INSERT handing the rows it wrote to
        # the INSERT of their history (no second read of the holdings just written), and
        # the chunk's tenders found by key range rather than 2,000 parameters.
        keys, key_params = chunk_key_condition(tender_ids)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH issued AS (
                    INSERT INTO {holding} (holder_id, series_id, notes, form,
                        certificate_number, amount, beneficial_owner, registered_name,
                        issued_for_id, effective_from, effective_until, reissued_from_id)
                    SELECT t.holder_id, t.series_id, %s,
                        CASE WHEN d.by_book_entry THEN %s ELSE %s END,
                        CASE WHEN d.by_book_entry THEN '' ELSE %s || CAST(t.id AS TEXT) END,
                        d.amount,
                        CASE WHEN d.by_book_entry THEN t.beneficial_owner ELSE '' END,
                        d.recipient_name, t.id, %s, NULL, NULL
                    FROM (SELECT * FROM {tender} WHERE {keys}) t
                    JOIN {delivery} d ON d.tender_id = t.id
                    ORDER BY t.id
                    RETURNING id
                )
                INSERT INTO {history} (at, offer_id, content_type_id, object_id, action,
                    from_state, to_state, actor_kind, actor_user_id, actor_label, reason)
                SELECT %s, %s, %s, id, %s, '', %s, %s, %s, %s, %s
                FROM issued ORDER BY id
                """,
                [
                    NotesKind.NEW.value,
                    HoldingForm.DTC_POSITION.value,
                    HoldingForm.CERTIFICATE.value,
                    NEW_NOTE_CERTIFICATE_PREFIX,
                    day,
                    *key_params,
                    *history_params,
                ],
            )
        return
    ids = ", ".join(["%s"] * len(tender_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {holding} (holder_id, series_id, notes, form, certificate_number,
                amount, beneficial_owner, registered_name, issued_for_id, effective_from,
                effective_until, reissued_from_id)
            SELECT t.holder_id, t.series_id, %s,
                CASE WHEN d.by_book_entry THEN %s ELSE %s END,
                CASE WHEN d.by_book_entry THEN '' ELSE %s || CAST(t.id AS TEXT) END,
                d.amount,
                CASE WHEN d.by_book_entry THEN t.beneficial_owner ELSE '' END,
                d.recipient_name, t.id, %s, NULL, NULL
            FROM {tender} t JOIN {delivery} d ON d.tender_id = t.id
            WHERE t.id IN ({ids})
            ORDER BY t.id
            """,
            [
                NotesKind.NEW.value,
                HoldingForm.DTC_POSITION.value,
                HoldingForm.CERTIFICATE.value,
                NEW_NOTE_CERTIFICATE_PREFIX,
                ops.adapt_datefield_value(day),
                *tender_ids,
            ],
        )
        cursor.execute(
            f"""
            INSERT INTO {history} (at, offer_id, content_type_id, object_id, action,
                from_state, to_state, actor_kind, actor_user_id, actor_label, reason)
            SELECT %s, %s, %s, h.id, %s, '', %s, %s, %s, %s, %s
            FROM {holding} h
            WHERE h.notes = %s AND h.issued_for_id IN ({ids})
            ORDER BY h.id
            """,
            [*history_params, NotesKind.NEW.value, *tender_ids],
        )


def _check_draw(holding: Holding, exchanged: Decimal) -> None:
    if holding.effective_until is not None or exchanged > holding.amount:
        raise RegisterOutOfBalance(
            f"Certificate {holding.certificate_number} ({holding.amount:,.2f}) cannot give up "
            f"{exchanged:,.2f}: it is already cancelled or smaller than what was exchanged. "
            "Check the tendered certificates against the register before the exchange date "
            "runs again."
        )


def _remainder(
    holding: Holding,
    amount: Decimal,
    day: dt.date,
    numbering: Callable[[Holding], str] | None,
) -> Holding:
    number = numbering(holding) if numbering is not None else holding.certificate_number
    return Holding(
        holder_id=holding.holder_id,
        series_id=holding.series_id,
        notes=holding.notes,
        form=holding.form,
        certificate_number=number,
        amount=amount,
        beneficial_owner=holding.beneficial_owner,
        registered_name=holding.registered_name,
        effective_from=day,
        reissued_from=holding,
    )
