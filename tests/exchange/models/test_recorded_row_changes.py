"""Nothing changes a recorded row without an event: the database captures every change to
a letter's boxes, a notice and the issuer's terms, whatever path made it (here raw SQL and
the ORM as a shell would use them), and the events themselves cannot be changed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from exchange.models import ExchangeOffer, NoteSeries, RecordedRowChange, Tender
from exchange.services.review import correct_letter, validate_tender
from tests.factories import CLERK, SeedOffer, ny, paper_tender

pytestmark = pytest.mark.django_db

DURING = ny(2000, 6, 26, 10)


def test_a_letter_changed_in_raw_sql_leaves_an_event_with_old_and_new(seed: SeedOffer) -> None:
    tender = paper_tender(seed, DURING)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE exchange_tender SET signed = false, signer_name = 'John Q. Stranger' "
            "WHERE id = %s",
            [tender.pk],
        )
    [event] = RecordedRowChange.objects.filter(table_name="exchange_tender", row_id=tender.pk)
    assert event.changes == {
        "signed": [True, False],
        "signer_name": ["Ardsley Pension Trust", "John Q. Stranger"],
    }
    assert event.db_user


def test_the_services_state_changes_are_left_to_their_history_rows(seed: SeedOffer) -> None:
    tender = paper_tender(seed, DURING)
    validate_tender(tender.pk, actor=CLERK, now=DURING)
    assert not RecordedRowChange.objects.exists()


def test_a_recorded_correction_is_captured_too(seed: SeedOffer) -> None:
    tender = paper_tender(seed, DURING)
    correct_letter(
        tender.pk,
        box="registered_names",
        value="Ardsley Pension Trust, as trustee",
        reason="As on the paper.",
        actor=CLERK,
        now=DURING,
    )
    event = RecordedRowChange.objects.get(row_id=tender.pk)
    assert list(event.changes) == ["registered_names"]


def test_terms_changed_past_the_admin_leave_an_event(seed: SeedOffer) -> None:
    ExchangeOffer.objects.filter(pk=seed.offer.pk).update(
        backup_withholding_rate=Decimal("0.99"),
        acceptance_automatic=not seed.offer.acceptance_automatic,
    )
    NoteSeries.objects.filter(pk=seed.senior_2008.pk).update(denomination=Decimal("1.00"))
    offer_event = RecordedRowChange.objects.get(table_name="exchange_exchangeoffer")
    assert set(offer_event.changes) == {"backup_withholding_rate", "acceptance_automatic"}
    series_event = RecordedRowChange.objects.get(table_name="exchange_noteseries")
    assert series_event.changes == {"denomination": [1000.0, 1.0]} or set(series_event.changes) == {
        "denomination"
    }


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE exchange_recordedrowchange SET changes = '{}'",
        "DELETE FROM exchange_recordedrowchange",
    ],
)
def test_the_events_cannot_be_changed(seed: SeedOffer, statement: str) -> None:
    tender = paper_tender(seed, DURING)
    Tender.objects.filter(pk=tender.pk).update(signer_name="Someone")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert RecordedRowChange.objects.count() == 1


def test_the_desk_reads_the_captured_changes_and_cannot_change_them(seed: SeedOffer) -> None:
    from django.test import Client
    from django.urls import reverse

    from tests.factories import staff_user

    tender = paper_tender(seed, DURING)
    Tender.objects.filter(pk=tender.pk).update(signer_name="Someone Else")
    event = RecordedRowChange.objects.get()
    client = Client()
    client.force_login(staff_user("reader", "Clerks"))
    listing = client.get(reverse("admin:exchange_recordedrowchange_changelist"))
    assert listing.status_code == 200 and "signer_name" in listing.content.decode()
    page = client.get(reverse("admin:exchange_recordedrowchange_change", args=[event.pk]))
    assert page.status_code == 200 and "Someone Else" in page.content.decode()
    assert (
        client.post(
            reverse("admin:exchange_recordedrowchange_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert RecordedRowChange.objects.count() == 1
