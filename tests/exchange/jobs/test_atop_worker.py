"""An ATOP file uploaded in the admin is previewed and, once confirmed, imported by a real
Celery worker on the real Redis (not eager mode), on PostgreSQL."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from exchange.models import AtopImport, AtopImportState, Tender
from tests.exchange.jobs.conftest import wait_for
from tests.exchange.services.test_atop import CUSIP_2008, EVERY_TYPE, HEADER, row
from tests.factories import build_seed_offer, staff_user

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _state(pk: int) -> str:
    return AtopImport.objects.values_list("state", flat=True).get(pk=pk)


def test_upload_preview_and_import_through_the_worker(start_worker) -> None:  # type: ignore[no-untyped-def]
    seed = build_seed_offer()
    for series, cusip in (
        (seed.senior_2008, CUSIP_2008),
        (seed.senior_2010, "527298AB9"),
        (seed.discount_2010, "527298AC7"),
    ):
        series.original_cusip = cusip
        series.save(update_fields=["original_cusip"])
    client = Client()
    client.force_login(staff_user("clara", "Clerks"))
    start_worker()
    text = HEADER + EVERY_TYPE + row("W-X", "tender", "1500", "2000-06-16T10:00:00")
    response = client.post(
        reverse("admin:exchange_atopimport_upload"),
        {"offer": seed.offer.pk, "file": SimpleUploadedFile("a.csv", text.encode())},
    )
    assert response.status_code == 302
    staged = AtopImport.objects.get()
    wait_for(lambda: _state(staged.pk) == AtopImportState.PREVIEWED, timeout=60, what="the preview")
    staged.refresh_from_db()
    assert staged.preview["new_tenders"] == 2 and staged.preview["exception_count"] == 1
    assert not Tender.objects.exists()
    client.post(reverse("admin:exchange_atopimport_confirm", args=[staged.pk]))
    wait_for(lambda: _state(staged.pk) == AtopImportState.IMPORTED, timeout=60, what="the import")
    staged.refresh_from_db()
    assert (staged.new_tenders, staged.withdrawals, staged.protects, staged.covers) == (2, 1, 1, 1)
    assert staged.lines_done == staged.lines == 6
    assert Tender.objects.count() == 3
