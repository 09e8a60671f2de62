"""The indexes the hot tables carry: each kept for a query that needs it, none more.

Every index on exchange_tender takes a new entry for each tender on every non-HOT state
change of the exchange date, and every index on exchange_statechange one per history row;
an index added back without a query that needs it fails here (README "Performance").
"""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def _indexes(table: str) -> set[str]:
    """Each index as 'column, column' (plus ' WHERE …' for a partial one)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT pg_get_indexdef(i.indexrelid)
            FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
            WHERE t.relname = %s
            """,
            [table],
        )
        definitions = [row[0] for row in cursor.fetchall()]
    shapes = set()
    for definition in definitions:
        columns = definition.split(" USING btree (", 1)[1]
        columns, _, where = columns.partition(") WHERE ")
        shapes.add(columns.rstrip(")") + (f" WHERE {where}" if where else ""))
    return shapes


def test_the_tender_table_keeps_only_the_indexes_its_queries_use() -> None:
    assert _indexes("exchange_tender") == {
        "id",  # primary key
        "reference",  # unique: a reference is found by equality
        "offer_id, state",  # the exchange date's chunks, the tally, reconciliation
        "holder_id, series_id",  # positions and every claim's check
        "received_at",  # the desk's tender list, newest first
        # The review queue: waiting tenders only, so a state change after review adds nothing.
        "received_at, id WHERE ((state)::text = ANY ((ARRAY['received'::character varying, "
        "'in_review'::character varying])::text[]))",
        "medallion_guarantor_id WHERE (medallion_guarantor_id IS NOT NULL)",
    }


def test_history_keeps_three_indexes_beside_its_key() -> None:
    assert _indexes("exchange_statechange") == {
        "id",
        "content_type_id, object_id, at",  # a record's history
        "at",  # the history list, newest first
        "offer_id",  # an offer's history and audit CSV
    }


def test_history_checks_its_offer_and_content_type_in_the_orm_not_at_each_commit() -> None:
    """exchange_statechange carries no database foreign key on offer and content type
    (each cost a check per history row at every commit of the exchange date); what they
    guarded still holds: an offer with history cannot be deleted through the ORM, and
    history rows cannot be changed or deleted at all (test_history_append_only)."""
    from django.db.models import ProtectedError

    from exchange.models import ExchangeOffer, StateChange
    from exchange.services.base import history_row
    from tests.factories import CLERK, make_offer, ny

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.attname FROM pg_constraint c
            JOIN pg_class t ON t.oid = c.conrelid
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(c.conkey)
            WHERE t.relname = 'exchange_statechange' AND c.contype = 'f'
            """
        )
        assert {row[0] for row in cursor.fetchall()} == {"actor_user_id"}
    # An offer whose only dependant is a history row: the ORM still refuses to delete it.
    offer = make_offer(slug="history-only")
    history_row(
        offer,
        action="exchange.offer.test",
        from_state="",
        to_state="",
        actor=CLERK,
        now=ny(2000, 6, 26, 10),
        offer=offer,
    ).save()
    with pytest.raises(ProtectedError):
        ExchangeOffer.objects.filter(pk=offer.pk).delete()
    assert StateChange.objects.filter(offer=offer).exists()
    # (The same offer without history would go: the history row is what protects it.)
    bare = make_offer(slug="no-history")
    ExchangeOffer.objects.filter(pk=bare.pk).delete()
    assert not ExchangeOffer.objects.filter(pk=bare.pk).exists()
