"""The mail outbox: a notice is written with the record that causes it, sent afterwards
with a timeout, retried with backoff when the server hangs or refuses, and never twice."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from exchange.models import MailStatus, OutboxMessage, StateChange
from exchange.services import outbox
from exchange.services.base import DeskError
from tests.exchange.services.smtp_server import TinySMTPServer, free_port
from tests.exchange.services.test_concurrency import _database_restored_after_the_module
from tests.factories import CLERK, SeedOffer, ny, paper_tender

DURING = ny(2000, 6, 26, 10)

__all__ = ["_database_restored_after_the_module"]


@pytest.fixture
def smtp(settings: Any) -> Iterator[dict[str, Any]]:
    """Real SMTP to 127.0.0.1 with a one-second timeout and a 60 s first retry."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_TIMEOUT = 1
    settings.MAIL_RETRY_BASE_SECONDS = 60
    settings.MAIL_RETRY_MAX_SECONDS = 600
    settings.MAIL_MAX_ATTEMPTS = 4
    yield {"settings": settings}


def _queue(to: str = "custody@ardsley.example") -> OutboxMessage:
    return OutboxMessage.objects.queue(
        notice="test_notice", subject="Tender LT-1 received", body="Body", to=[to]
    )


@pytest.mark.django_db
def test_a_notice_is_written_in_the_transaction_of_its_record(seed: SeedOffer) -> None:
    seed.registered.email = "custody@ardsley.example"
    seed.registered.save(update_fields=["email"])
    tender = paper_tender(seed, DURING)
    [message] = OutboxMessage.objects.all()
    assert message.holder == seed.registered
    assert message.recipients == ["custody@ardsley.example"]
    assert tender.reference in message.subject
    assert (message.status, message.attempts) == (MailStatus.QUEUED, 0)
    with pytest.raises(DeskError):
        paper_tender(seed, DURING, certificates=(("R08-0001", "5000001"),))
    assert OutboxMessage.objects.count() == 1  # the refused tender left no notice


@pytest.mark.django_db
@pytest.mark.parametrize("mood", ["hang", "refuse", "closed"])
def test_a_failing_server_is_retried_with_backoff_and_sends_once_it_recovers(
    smtp: dict[str, Any], mood: str
) -> None:
    port = free_port()
    smtp["settings"].EMAIL_PORT = port
    message = _queue()
    # "closed": nothing listens on the port yet, so the connection is refused.
    server = None if mood == "closed" else TinySMTPServer(mood, port).__enter__()
    try:
        now = timezone.now()
        assert outbox.deliver(message.pk, now=now) == "retry"
        message.refresh_from_db()
        assert (message.status, message.attempts) == (MailStatus.QUEUED, 1)
        assert {
            "hang": "timed out",
            "refuse": "SMTPConnectError: (554",
            "closed": "ConnectionRefusedError",
        }[mood] in message.last_error
        assert message.next_attempt_at >= now + dt.timedelta(seconds=60)
        # The server recovers; the message waits for its retry time, then goes once.
        if server is None:
            server = TinySMTPServer("serve", port).__enter__()
        server.mood = "serve"
        assert outbox.deliver(message.pk, now=now) == "not due"
        later = message.next_attempt_at
        assert outbox.deliver_due(later) == {"sent": 1}
        assert outbox.deliver_due(later + dt.timedelta(hours=1)) == {}
        assert outbox.deliver(message.pk, now=later) == "not due"
        [received] = server.received
        assert received["Subject"] == "Tender LT-1 received"
        assert received["Message-ID"] == f"<outbox-{message.pk}@tender-desk>"
        message.refresh_from_db()
        assert message.status == MailStatus.SENT and message.sent_at is not None
    finally:
        if server is not None:
            server.__exit__()


@pytest.mark.django_db
def test_the_delay_doubles_and_the_outbox_gives_up_for_a_clerk(smtp: dict[str, Any]) -> None:
    smtp["settings"].EMAIL_PORT = free_port()  # refused every time
    message = _queue()
    now = timezone.now()
    delays = []
    for _ in range(4):
        outcome = outbox.deliver(message.pk, now=now)
        message.refresh_from_db()
        delays.append(round((message.next_attempt_at - now).total_seconds() / 60))
        now = message.next_attempt_at
    assert outcome == "failed"
    assert delays[:3] == [1, 2, 4]
    assert (message.status, message.attempts) == (MailStatus.FAILED, 4)
    assert outbox.deliver_due(now + dt.timedelta(days=1)) == {}


@pytest.mark.django_db
def test_a_message_left_sending_by_a_dead_worker_is_not_sent_again(
    smtp: dict[str, Any],
) -> None:
    message = _queue()
    claimed = timezone.now()
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=MailStatus.SENDING, attempts=1, claimed_at=claimed
    )
    stall = dt.timedelta(seconds=smtp["settings"].MAIL_SENDING_STALL_SECONDS)
    assert outbox.fail_stalled(claimed + stall - dt.timedelta(seconds=1)) == 0
    assert outbox.fail_stalled(claimed + stall + dt.timedelta(seconds=1)) == 1
    message.refresh_from_db()
    assert message.status == MailStatus.FAILED
    assert "may or may not have taken" in message.last_error


@pytest.mark.django_db
def test_a_clerk_resends_as_a_new_message_with_history(smtp: dict[str, Any]) -> None:
    message = _queue()
    with pytest.raises(DeskError, match="still queued"):
        outbox.resend(message.pk, actor=CLERK, now=timezone.now())
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=MailStatus.FAILED, attempts=10, last_error="SMTPConnectError: 554"
    )
    copy = outbox.resend(message.pk, actor=CLERK, now=timezone.now())
    assert (copy.resend_of_id, copy.status, copy.attempts) == (message.pk, MailStatus.QUEUED, 0)
    assert (copy.subject, copy.body, copy.recipients) == (
        message.subject,
        message.body,
        message.recipients,
    )
    message.refresh_from_db()
    assert message.status == MailStatus.FAILED and message.attempts == 10  # kept as it was
    change = StateChange.objects.get(action="exchange.mail.resent")
    assert change.object_id == message.pk and f"message {copy.pk}" in change.reason


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_handed_the_same_message_send_it_once(smtp: dict[str, Any]) -> None:
    with TinySMTPServer("serve") as server:
        smtp["settings"].EMAIL_PORT = server.port
        message = _queue()
        outcomes: list[str] = []
        start = threading.Barrier(2)

        def work() -> None:
            try:
                start.wait()
                outcomes.append(outbox.deliver(message.pk, now=timezone.now()))
            finally:
                connection.close()

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["not due", "sent"]
        assert len(server.received) == 1
