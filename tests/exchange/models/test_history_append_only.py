"""History is append-only in the database itself, whatever path tries to change it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DatabaseError, connection, connections, transaction

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


@pytest.fixture
def _restored_after(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    # As tests/exchange/services/test_concurrency.py: a transactional test's flush empties
    # the migrations' data too; put it back for the tests that follow.
    yield
    with django_db_blocker.unblock():
        contents = getattr(connection, "_test_serialized_contents", None)
        if contents:
            connection.creation.deserialize_db_from_string(contents)
        connections.close_all()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_truncate_is_refused_as_the_applications_user(
    seed: SeedOffer, _restored_after: None
) -> None:
    """As the user the application connects with (here the tables' owner), and as a role
    that is granted every privilege on the table but owns nothing: TRUNCATE is refused.
    (Committed rows, as in production: TRUNCATE in the transaction that wrote them would
    fail for another reason, their pending foreign-key checks.)"""
    paper_tender(seed, ny(2000, 6, 26, 10))
    before = StateChange.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        [app_user] = cursor.fetchone()
    for statement in (
        "TRUNCATE exchange_statechange",
        "TRUNCATE exchange_statechange CASCADE",
        "TRUNCATE exchange_statechange RESTART IDENTITY",
    ):
        with (
            pytest.raises(DatabaseError, match="never truncated"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    # CREATE ROLE is transactional: the role exists only inside this block.
    with (
        pytest.raises(DatabaseError, match="never truncated"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("CREATE ROLE desk_app_without_ownership NOLOGIN")
        cursor.execute("GRANT ALL ON exchange_statechange TO desk_app_without_ownership")
        cursor.execute("SET LOCAL ROLE desk_app_without_ownership")
        cursor.execute("TRUNCATE exchange_statechange")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone() == (app_user,)
    assert StateChange.objects.count() == before > 0
