"""Clerks read the outbox at the desk (to whom, what, status, attempts, last error) and
send a message again; the act is recorded and the original stays as it was."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from exchange.models import MailStatus, OutboxMessage, StateChange
from tests.factories import SeedOffer, staff_user

CHANGELIST = reverse("admin:exchange_outboxmessage_changelist")


@pytest.fixture
def failed(seed: SeedOffer) -> OutboxMessage:
    message = OutboxMessage.objects.queue(
        notice="tender_received",
        subject="Tender LT-ABCD-EFGH received",
        body="We received your tender.",
        to=["custody@ardsley.example"],
        holder_id=seed.registered.pk,
    )
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=MailStatus.FAILED,
        attempts=10,
        last_error="SMTPConnectError: (554, b'No SMTP service here')",
    )
    return message


@pytest.mark.django_db
@pytest.mark.parametrize("group", ["Clerks", "Supervisors"])
def test_the_desk_reads_the_outbox(failed: OutboxMessage, group: str) -> None:
    client = Client()
    client.force_login(staff_user("desk", group))
    page = client.get(CHANGELIST).content.decode()
    for shown in (
        "custody@ardsley.example",
        "Tender LT-ABCD-EFGH received",
        "Failed",
        "SMTPConnectError: (554",
        "Send again",
    ):
        assert shown in page
    detail = client.get(reverse("admin:exchange_outboxmessage_change", args=[failed.pk]))
    assert "We received your tender." in detail.content.decode()
    assert client.get(CHANGELIST, {"q": "ardsley"}).status_code == 200


@pytest.mark.django_db
def test_a_clerk_sends_a_failed_message_again(failed: OutboxMessage) -> None:
    client = Client()
    client.force_login(staff_user("clara", "Clerks"))
    response = client.post(
        CHANGELIST,
        {"action": "resend", "_selected_action": [str(failed.pk)]},
        follow=True,
    )
    copy = OutboxMessage.objects.get(resend_of=failed)
    assert f"queued again as {copy.pk}" in response.content.decode()
    assert (copy.status, copy.recipients) == (MailStatus.QUEUED, ["custody@ardsley.example"])
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (MailStatus.FAILED, 10)
    change = StateChange.objects.get(action="exchange.mail.resent")
    assert change.actor_label == "clara"


@pytest.mark.django_db
def test_nobody_edits_or_adds_to_the_outbox(failed: OutboxMessage) -> None:
    client = Client()
    client.force_login(staff_user("clara", "Clerks"))
    change = reverse("admin:exchange_outboxmessage_change", args=[failed.pk])
    client.post(change, {"subject": "Edited", "body": "Edited"})
    failed.refresh_from_db()
    assert failed.subject == "Tender LT-ABCD-EFGH received"
    assert client.get(reverse("admin:exchange_outboxmessage_add")).status_code == 403
