"""The desk's own name and the words its pages use: each says what has actually happened."""

from __future__ import annotations

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from exchange.admin.review import defect_headline, suggested_defects
from exchange.models import DeficiencyKind
from tests.factories import SeedOffer, book_entry_tender, ny, paper_tender, staff_user

DURING = ny(2000, 6, 26, 10)

pytestmark = pytest.mark.django_db


def test_the_desk_is_named_for_the_exchange_agent(seed: SeedOffer, client: Client) -> None:
    client.force_login(staff_user("title-clerk", "Clerks"))
    page = client.get("/admin/").content.decode()
    assert "Django administration" not in page
    assert "Django site admin" not in page
    assert f"<title>Tender desk | {settings.DESK_AGENT_NAME} tender desk</title>" in page
    assert f"{settings.DESK_AGENT_NAME}, Exchange Agent — Tender desk" in page


def test_a_confirmation_without_its_agents_message_is_named_as_such(seed: SeedOffer) -> None:
    tender = book_entry_tender(seed, DURING)
    tender.agents_message = False
    (kind, note), *_ = suggested_defects(tender)
    assert kind == DeficiencyKind.BOOK_ENTRY_CONFIRMATION
    assert defect_headline(tender, kind) == "Agent's Message missing"
    assert "ATOP-000123" in note  # the confirmation the desk has is not asked for again
    tender.agents_message, tender.book_entry_confirmation = True, ""
    assert defect_headline(tender, kind) == "Book-entry confirmation number missing"
    tender.agents_message = False
    assert defect_headline(tender, kind) == "Book-entry confirmation and Agent's Message missing"


def test_the_queue_names_the_missing_agents_message(seed: SeedOffer, client: Client) -> None:
    tender = book_entry_tender(seed, DURING)
    type(tender).objects.filter(pk=tender.pk).update(agents_message=False)
    client.force_login(staff_user("queue-wording", "Clerks"))
    with time_machine.travel(ny(2000, 6, 26, 12), tick=False):
        page = client.get("/admin/exchange/tenderawaitingreview/").content.decode()
    assert "Agent&#x27;s Message missing" in page
    assert "Book-entry confirmation missing" not in page


def test_recording_deficiencies_says_the_holder_was_mailed(
    seed: SeedOffer, client: Client, django_capture_on_commit_callbacks: object
) -> None:
    seed.registered.email = "trust@ardsley.example"
    seed.registered.save(update_fields=["email"])
    tender = paper_tender(seed, DURING, signed=False)
    client.force_login(staff_user("deficiency-clerk", "Clerks"))
    with time_machine.travel(ny(2000, 6, 26, 12), tick=False):
        response = client.post(
            f"/admin/exchange/tender/{tender.pk}/transition/find_deficient/",
            {"defect_signature": "on", "note_signature": "Sign the letter of transmittal."},
            follow=True,
        )
    page = response.content.decode()
    assert "Tell the holder" not in page
    assert "The holder has been e-mailed what to cure (trust@ardsley.example)." in page


def test_the_receipt_names_the_signers_capacity_as_the_letter_does(seed: SeedOffer) -> None:
    from django.template.loader import render_to_string

    tender = book_entry_tender(seed, DURING)
    html = render_to_string("holders/includes/letter_copy.html", {"tender": tender})
    assert "DTC participant (on the security position listing)" in html
    assert "dtc participant" not in html


def test_beat_records_each_send_so_the_jobs_page_is_current() -> None:
    # django-celery-beat saves last_run_at only when the scheduler syncs; syncing after each
    # send is what makes "beat last sent it …" on the jobs page true to the minute.
    from celery.beat import Scheduler

    from exchange.celery import app

    assert settings.CELERY_BEAT_SYNC_EVERY == 1
    assert app.conf.beat_sync_every == 1
    scheduler = Scheduler.__new__(Scheduler)
    scheduler.sync_every, scheduler.sync_every_tasks = 10**6, app.conf.beat_sync_every
    scheduler._last_sync, scheduler._tasks_since_sync = 10**12, 1
    assert scheduler.should_sync()
