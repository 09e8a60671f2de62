"""History is append-only in the database itself, whatever path tries to change it."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from exchange.models import StateChange
from tests.factories import SeedOffer, ny, paper_tender


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE exchange_statechange SET reason = 'rewritten' WHERE id = %s",
        "DELETE FROM exchange_statechange WHERE id = %s",
    ],
)
def test_raw_sql_cannot_change_or_delete_history(seed: SeedOffer, statement: str) -> None:
    paper_tender(seed, ny(2000, 6, 26, 10))
    row = StateChange.objects.filter(action="exchange.tender.received").get()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [row.pk])
    row.refresh_from_db()
    assert row.reason.startswith("Letter of transmittal")


@pytest.mark.django_db
def test_queryset_update_and_delete_are_refused_too(seed: SeedOffer) -> None:
    paper_tender(seed, ny(2000, 6, 26, 10))
    with pytest.raises(DatabaseError), transaction.atomic():
        StateChange.objects.update(reason="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        StateChange.objects.all().delete()
    assert StateChange.objects.exclude(reason="x").count() == StateChange.objects.count() > 0
