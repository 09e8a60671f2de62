"""What every service shares: who acts, the errors a person can act on, the history row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models

from exchange.models import ActorKind, ExchangeOffer, StateChange

if TYPE_CHECKING:
    from holders.models import Holder


@dataclass(frozen=True)
class Actor:
    """Who did it: a clerk or supervisor (a user), a holder (a user), or a named job."""

    kind: ActorKind
    label: str
    user: AbstractBaseUser | None = None

    @classmethod
    def for_user(cls, user: AbstractBaseUser, kind: ActorKind) -> Actor:
        return cls(kind=kind, label=user.get_username(), user=user)

    @classmethod
    def job(cls, name: str) -> Actor:
        return cls(kind=ActorKind.JOB, label=name)


class DeskError(Exception):
    """A refusal with a message a clerk or a holder can act on.

    `field` names the form field it belongs to, when there is one.
    Nothing is written when a service raises it.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def lock_offer_shared(offer_id: int) -> ExchangeOffer:
    """Read the offer under a shared row lock (PostgreSQL FOR SHARE).

    Tenders and withdrawals take it so that a termination, extension or expiration,
    which lock the offer FOR UPDATE, cannot commit between a submission's check that
    the offer is open and its own commit; submissions do not block one another.
    """
    if connection.vendor == "postgresql":
        table = ExchangeOffer._meta.db_table
        found = list(
            ExchangeOffer.objects.raw(
                f'SELECT * FROM "{table}" WHERE id = %s FOR SHARE', [offer_id]
            )
        )
        if not found:
            raise ExchangeOffer.DoesNotExist(f"No exchange offer {offer_id}")
        return found[0]
    return ExchangeOffer.objects.get(pk=offer_id)  # SQLite (the demo) serialises writers anyway


def lock_offer_of_tender(tender_id: int) -> ExchangeOffer:
    """Take the offer's shared lock before any row of one of its tenders: every service
    locks in the order offer, then tender (then its notices), so none can deadlock another."""
    from exchange.models import Tender

    return lock_offer_shared(Tender.objects.values_list("offer_id", flat=True).get(pk=tender_id))


def lock_holder_for_claim(holder_id: int) -> Holder:
    """Serialise every claim on a holder's notes: a letter, the delivery completing a
    guaranteed delivery, a cure that names certificates, a book-entry (ATOP) tender.

    The one lock order of the desk: the offer (shared), then the holder (this), then the
    tender, then its notices. Each claiming path checks what is free only after taking it,
    so two claims racing for one certificate or one position cannot both pass the check.
    """
    from holders.models import Holder

    # The row itself, locked and read in one statement: the caller reads the holder anyway.
    return Holder.objects.select_for_update().get(pk=holder_id)


def require_aware(now: dt.datetime) -> dt.datetime:
    if now.tzinfo is None:
        raise ValueError("`now` must be timezone-aware (the server's clock, in UTC)")
    return now


def history_row(
    subject: models.Model,
    *,
    action: str,
    from_state: str,
    to_state: str,
    actor: Actor,
    now: dt.datetime,
    reason: str = "",
    offer: ExchangeOffer | int | None = None,
) -> StateChange:
    """An unsaved history row; `record` saves one, bulk services bulk_create many."""
    offer_id = offer.pk if isinstance(offer, ExchangeOffer) else offer
    return StateChange(
        at=now,
        offer_id=offer_id,
        content_type=ContentType.objects.get_for_model(type(subject)),
        object_id=subject.pk,
        action=action,
        from_state=str(from_state or ""),
        to_state=str(to_state or ""),
        actor_kind=actor.kind,
        actor_user=actor.user if actor.user is not None and actor.user.pk else None,
        actor_label=actor.label,
        reason=reason,
    )


def record(subject: models.Model, **kwargs: Any) -> StateChange:
    row = history_row(subject, **kwargs)
    row.save()
    return row


def is_whole_multiple(amount: Decimal, denomination: Decimal) -> bool:
    return amount > 0 and amount % denomination == 0


def check_denomination(amount: Decimal, denomination: Decimal, label: str, field: str) -> None:
    if amount <= 0:
        raise DeskError(f"The {label} must be more than zero.", field=field)
    if not is_whole_multiple(amount, denomination):
        raise DeskError(
            f"The {label} must be in authorized denominations: ${denomination:,.0f} and "
            f"integral multiples of ${denomination:,.0f} (you gave ${amount:,.2f}).",
            field=field,
        )


def history_rows_for_ids(
    model: type[models.Model],
    ids: Iterable[int],
    *,
    action: str,
    from_state: str,
    to_state: str,
    actor: Actor,
    now: dt.datetime,
    reason: str,
    offer_id: int,
) -> list[StateChange]:
    """History rows for a set-based transition of many rows at once (bulk_create them)."""
    content_type = ContentType.objects.get_for_model(model)
    actor_user = actor.user if actor.user is not None and actor.user.pk else None
    return [
        StateChange(
            at=now,
            offer_id=offer_id,
            content_type=content_type,
            object_id=pk,
            action=action,
            from_state=str(from_state),
            to_state=str(to_state),
            actor_kind=actor.kind,
            actor_user=actor_user,
            actor_label=actor.label,
            reason=reason,
        )
        for pk in ids
    ]


# A chunk whose keys span at most this many times their number is read as a key range.
DENSE_CHUNK_SPAN = 4


def chunk_key_condition(ids: list[int]) -> tuple[str, list[Any]]:
    """The WHERE condition (and its parameters) that picks a chunk's rows by key, for
    PostgreSQL, planned the same whatever the statistics say.

    `id = ANY(keys)` is planned as one primary-key descent per key, which the planner
    prices above a scan of the whole (offer, state) index whenever its statistics say the
    state the statement expects is rare; right after a step has moved every row into that
    state they always do (the dispatch then read 100,000 index entries per chunk). A chunk
    of the exchange date is a run of nearly consecutive keys, so it is read as the key
    range between its first and last, whose size the planner knows from the primary key
    itself, with the list as a filter (`id + 0` keeps it out of the index conditions, where
    it would cost a descent per key again). Scattered keys keep `id = ANY`."""
    low, high = min(ids), max(ids)
    if high - low < DENSE_CHUNK_SPAN * len(ids):
        return "id BETWEEN %s AND %s AND id + 0 = ANY(%s)", [low, high, ids]
    return "id = ANY(%s)", [ids]


def move_tenders_in_bulk(
    ids: Iterable[int],
    *,
    from_state: str,
    to_state: str,
    action: str,
    actor: Actor,
    now: dt.datetime,
    reason: str,
    offer_id: int,
) -> int:
    """The set-based form of a tender transition, for rows the caller has locked: one
    UPDATE guarded by the state they must be in, and one history row each, in bulk.
    Returns how many rows moved (rows no longer in `from_state` are left, unrecorded)."""
    from exchange.models import Tender

    ids = list(ids)
    if not ids:
        return 0
    if connection.vendor == "postgresql":
        # One statement: the guarded UPDATE hands the rows it moved to the INSERT of their
        # history. Building a StateChange per row in Python and sending each field as a
        # parameter cost more than the UPDATE itself on the exchange date.
        actor_user = actor.user if actor.user is not None and actor.user.pk else None
        keys, key_params = chunk_key_condition(ids)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH moved AS (
                    UPDATE {Tender._meta.db_table} SET state = %s
                    WHERE {keys} AND state = %s
                    RETURNING id
                )
                INSERT INTO {StateChange._meta.db_table}
                    (at, offer_id, content_type_id, object_id, action, from_state, to_state,
                     actor_kind, actor_user_id, actor_label, reason)
                SELECT %s, %s, %s, id, %s, %s, %s, %s, %s, %s, %s FROM moved ORDER BY id
                """,
                [
                    str(to_state),
                    *key_params,
                    str(from_state),
                    now,
                    offer_id,
                    ContentType.objects.get_for_model(Tender).pk,
                    action,
                    str(from_state),
                    str(to_state),
                    str(actor.kind),
                    actor_user.pk if actor_user is not None else None,
                    actor.label,
                    reason,
                ],
            )
            return cursor.rowcount
    moved = list(Tender.objects.filter(id__in=ids, state=from_state).values_list("id", flat=True))
    Tender.objects.filter(id__in=moved).update(state=to_state)
    StateChange.objects.bulk_create(
        history_rows_for_ids(
            Tender,
            moved,
            action=action,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            now=now,
            reason=reason,
            offer_id=offer_id,
        )
    )
    return len(moved)
