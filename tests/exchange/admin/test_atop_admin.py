"""The desk's ATOP pages: upload, preview (nothing recorded), confirm, progress; the
exceptions queue with its roles; the agent's DTC position entered and reconciled."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from exchange.admin import atop as atop_admin
from exchange.models import (
    AtopException,
    AtopExceptionStatus,
    AtopImport,
    AtopImportState,
    DtcPosition,
    StateChange,
    Tender,
)
from exchange.services.atop.staged import process_staged
from tests.exchange.services.test_atop import (
    CUSIP_2008,
    EVERY_TYPE,
    HEADER,
    IMPORTED_AT,
    atop_seed,
    row,
)
from tests.factories import SeedOffer, staff_user

__all__ = ["atop_seed"]

FILE = (
    HEADER
    + EVERY_TYPE
    + row("X-1", "tender", "1500", "2000-06-16T10:00:00")
    + row("X-2", "tender", "1000000", "2000-06-16T10:00:00", participant="0555")
)


@pytest.fixture
def clerk(db: None) -> AbstractBaseUser:
    return staff_user("clara", "Clerks")


@pytest.fixture
def supervisor(db: None) -> AbstractBaseUser:
    return staff_user("sam", "Supervisors")


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """What the desk asks of the worker; the tests then run the worker's step themselves
    (tests/exchange/jobs/test_atop_worker.py runs a real worker)."""
    asked: list[int] = []
    monkeypatch.setattr(atop_admin, "enqueue", asked.append)
    return asked


def _upload(client: Client, seed: SeedOffer, text: str, name: str = "activity.csv") -> Any:
    return client.post(
        reverse("admin:exchange_atopimport_upload"),
        {"offer": seed.offer.pk, "file": SimpleUploadedFile(name, text.encode(), "text/csv")},
    )


@pytest.mark.django_db
def test_upload_preview_confirm_import(
    client: Client, clerk: AbstractBaseUser, atop_seed: SeedOffer, enqueued: list[int]
) -> None:
    client.force_login(clerk)
    assert (
        "Upload an activity file"
        in client.get(reverse("admin:exchange_atopimport_changelist")).content.decode()
    )
    response = _upload(client, atop_seed, FILE)
    staged = AtopImport.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{staged.pk}/progress/")
    assert staged.state == AtopImportState.PREVIEWING and staged.content == FILE
    assert enqueued == [staged.pk]
    page = client.get(response["Location"])
    assert page["Refresh"] == "2" and "<progress" in page.content.decode()

    process_staged(staged.pk, now=IMPORTED_AT)  # the worker's preview
    assert not Tender.objects.exists() and not AtopException.objects.exists()
    page = client.get(response["Location"]).content.decode()
    counts = dict(re.findall(r"<th scope=\"row\">([^<]+)</th><td>(\d+)</td>", page))
    assert counts["New tenders"] == "2" and counts["Withdrawals"] == "1"
    assert counts["Protects (guaranteed deliveries)"] == "1" and counts["Covers"] == "1"
    assert counts["Exceptions"] == "2"
    assert "not a multiple of $1,000" in page and "is not on the register" in page
    assert "Confirm the import" in page

    confirm = reverse("admin:exchange_atopimport_confirm", args=[staged.pk])
    assert client.get(confirm).status_code == 405
    client.post(confirm)
    staged.refresh_from_db()
    assert staged.state == AtopImportState.IMPORTING and staged.confirmed_by == clerk
    assert enqueued == [staged.pk, staged.pk]
    page = client.get(response["Location"])
    assert 'max="7" value="0"' in page.content.decode() and page["Refresh"] == "2"

    process_staged(staged.pk, now=IMPORTED_AT)  # the worker's import
    staged.refresh_from_db()
    assert staged.state == AtopImportState.IMPORTED and staged.lines_done == 7
    assert (staged.new_tenders, staged.exceptions) == (2, 2)
    assert Tender.objects.count() == 3  # two tenders and the protect's
    assert (
        StateChange.objects.filter(action="exchange.tender.received", actor_user=clerk).count() == 3
    )
    page = client.get(response["Location"])
    assert "Refresh" not in page and "This file's exceptions" in page.content.decode()
    # Confirmed twice (a double click): refused with a message, nothing more imported.
    client.post(confirm)
    assert Tender.objects.count() == 3


@pytest.mark.django_db
def test_a_file_that_is_not_an_activity_file_records_nothing(
    client: Client, clerk: AbstractBaseUser, atop_seed: SeedOffer, enqueued: list[int]
) -> None:
    client.force_login(clerk)
    response = _upload(client, atop_seed, "name,amount\nx,1\n")
    assert response.status_code == 200
    assert "not an ATOP activity file" in response.content.decode()
    response = _upload(client, atop_seed, "")
    assert response.status_code == 200
    assert not AtopImport.objects.exists() and enqueued == []
    bad = _upload(client, atop_seed, "x")
    assert bad.status_code == 200
    latin = client.post(
        reverse("admin:exchange_atopimport_upload"),
        {"offer": atop_seed.offer.pk, "file": SimpleUploadedFile("a.csv", b"\xff\xfe\x00a")},
    )
    assert "not UTF-8" in latin.content.decode()
    assert not AtopImport.objects.exists()


@pytest.mark.django_db
def test_staff_without_the_desk_role_cannot_upload_or_confirm(
    client: Client, atop_seed: SeedOffer, enqueued: list[int]
) -> None:
    from django.contrib.auth import get_user_model

    outsider = get_user_model().objects.create_user("otto", password="pw", is_staff=True)
    client.force_login(outsider)
    assert client.get(reverse("admin:exchange_atopimport_upload")).status_code == 403
    assert _upload(client, atop_seed, FILE).status_code == 403
    assert client.post(reverse("admin:exchange_atopimport_confirm", args=[1])).status_code == 403
    assert client.get(reverse("admin:exchange_dtcposition_enter")).status_code == 403
    assert not AtopImport.objects.exists()


def _exceptions(seed: SeedOffer) -> tuple[AtopException, AtopException]:
    from exchange.services.atop import import_activity
    from tests.factories import CLERK

    import_activity(
        seed.offer.pk,
        file_name="q.csv",
        text=HEADER
        + row("Q-1", "tender", "1500", "2000-06-16T10:00:00")
        + row("Q-2", "tender", "1000000", "2000-06-16T10:00:00", participant="0555"),
        actor=CLERK,
        now=IMPORTED_AT,
    )
    return (
        AtopException.objects.get(voi_number="Q-1"),
        AtopException.objects.get(voi_number="Q-2"),
    )


def _buttons(client: Client, obj: AtopException) -> set[str]:
    page = client.get(reverse("admin:exchange_atopexception_change", args=[obj.pk]))
    assert page.status_code == 200
    assert obj.line in page.content.decode()  # the line of the file
    return set(re.findall(r'data-transition="([a-z_]+)"', page.content.decode()))


def _transition(obj: AtopException, name: str) -> str:
    return reverse("admin:exchange_atopexception_transition", args=[obj.pk, name])


@pytest.mark.django_db
def test_exceptions_queue_roles(
    client: Client, clerk: AbstractBaseUser, supervisor: AbstractBaseUser, atop_seed: SeedOffer
) -> None:
    denomination, unknown = _exceptions(atop_seed)
    client.force_login(clerk)
    queue = client.get(reverse("admin:exchange_atopexception_changelist")).content.decode()
    assert "Q-1" in queue and "Q-2" in queue
    assert _buttons(client, denomination) == {"reject", "escalate"}
    assert _buttons(client, unknown) == {"match", "reject", "escalate"}
    # A rejection needs its reason; the reason is recorded.
    client.post(_transition(denomination, "reject"), {"reason": ""})
    denomination.refresh_from_db()
    assert denomination.status == AtopExceptionStatus.OPEN
    client.post(_transition(denomination, "reject"), {"reason": "Resubmit in $1,000s."})
    denomination.refresh_from_db()
    assert denomination.status == AtopExceptionStatus.REJECTED
    assert denomination.resolved_by == clerk
    # Escalated: the clerk has no button left and is refused the supervisor's URL.
    client.post(_transition(unknown, "escalate"), {"note": "Which participant is 0555?"})
    unknown.refresh_from_db()
    assert unknown.status == AtopExceptionStatus.ESCALATED
    assert _buttons(client, unknown) == set()
    assert (
        client.post(_transition(unknown, "supervisor_reject"), {"reason": "x"}).status_code == 403
    )
    client.force_login(supervisor)
    assert _buttons(client, unknown) == {"supervisor_match", "supervisor_reject"}
    client.post(
        _transition(unknown, "supervisor_match"),
        {"holder": atop_seed.participant.pk, "note": "0555 is Bayside's second number."},
    )
    unknown.refresh_from_db()
    assert unknown.status == AtopExceptionStatus.MATCHED
    assert Tender.objects.get().holder == atop_seed.participant
    assert list(
        StateChange.objects.filter(
            object_id=unknown.pk, action__startswith="exchange.atop_exception"
        )
        .order_by("id")
        .values_list("action", "actor_label")
    ) == [
        ("exchange.atop_exception.raised", "test clerk"),
        ("exchange.atop_exception.escalated", "clara"),
        ("exchange.atop_exception.matched", "sam"),
    ]


@pytest.mark.django_db
def test_clerk_enters_the_dtc_position_and_the_desk_reconciles_it(
    client: Client, clerk: AbstractBaseUser, atop_seed: SeedOffer
) -> None:
    from exchange.services.atop import import_activity
    from tests.factories import CLERK

    import_activity(
        atop_seed.offer.pk,
        file_name="p.csv",
        text=HEADER + row("P-1", "tender", "10000000", "2000-06-16T10:00:00"),
        actor=CLERK,
        now=IMPORTED_AT,
    )
    client.force_login(clerk)
    enter = reverse("admin:exchange_dtcposition_enter")
    refused = client.post(
        enter,
        {
            "offer": atop_seed.offer.pk,
            "cusip": "999999ZZ9",
            "quantity": "1",
            "as_of": "2000-07-13 08:00",
        },
    )
    assert "is not a series of" in refused.content.decode()
    future = client.post(
        enter,
        {
            "offer": atop_seed.offer.pk,
            "cusip": CUSIP_2008,
            "quantity": "1",
            "as_of": "2999-01-01 08:00",
        },
    )
    assert "still to come" in future.content.decode()
    assert not DtcPosition.objects.exists()
    client.post(
        enter,
        {
            "offer": atop_seed.offer.pk,
            "cusip": CUSIP_2008,
            "quantity": "9000000",
            "as_of": "2000-07-13 08:00",
        },
    )
    page = client.get(reverse("admin:exchange_dtcposition_changelist")).content.decode()
    assert "MISMATCH" in page and "$10,000,000.00" in page
    client.post(
        enter,
        {
            "offer": atop_seed.offer.pk,
            "cusip": CUSIP_2008,
            "quantity": "10000000",
            "as_of": "2000-07-13 09:00",
        },
    )
    page = client.get(reverse("admin:exchange_dtcposition_changelist")).content.decode()
    assert "MISMATCH" not in page and "balanced" in page
    assert StateChange.objects.filter(action="exchange.dtc_position.recorded").count() == 2
