"""A mail server that hangs (or refuses) does not hold up the portal: the letter of
transmittal is answered without waiting on SMTP, the notice waits in the outbox, and a
real Celery worker sends it once the server recovers, exactly once."""

from __future__ import annotations

import time

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from exchange.jobs.tasks import send_due_mail, send_mail_task
from exchange.models import MailStatus, OutboxMessage, Tender
from tests.exchange.jobs.conftest import start_worker, wait_for
from tests.exchange.services.smtp_server import TinySMTPServer
from tests.exchange.services.test_concurrency import _database_restored_after_the_module
from tests.factories import ny
from tests.holders.conftest import Cast, letter_data
from tests.holders.views.test_tender_views import post_letter

__all__ = ["_database_restored_after_the_module", "start_worker"]

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _message() -> OutboxMessage:
    return OutboxMessage.objects.get()


@pytest.mark.parametrize("mood", ["hang", "refuse"])
def test_the_portal_answers_and_the_mail_goes_once_when_the_server_recovers(
    cast: Cast, start_worker, mood: str
) -> None:  # type: ignore[no-untyped-def]
    with TinySMTPServer(mood) as server:
        start_worker(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(server.port),
            EMAIL_TIMEOUT="2",
            # Long enough that the message waits, queued, until the test lets time pass.
            MAIL_RETRY_BASE_SECONDS="600",
        )
        with time_machine.travel(ny(2000, 6, 26, 10), tick=False):
            response = post_letter(cast.client(cast.ardsley), letter_data())
            # Answered while the server has answered nobody: the request never waited on it.
            assert response.status_code == 302
            assert Client().get(reverse("portal:login")).status_code == 200
        tender = Tender.objects.get()
        assert tender.reference in _message().subject

        # The commit (or beat's minute sweep, called here too) hands it to the
        # worker, which tries, the server fails it, and the message waits for its retry.
        def failed_once() -> bool:
            if _message().attempts >= 1 and _message().status == MailStatus.QUEUED:
                return True
            send_due_mail.delay()
            time.sleep(1)
            return False

        wait_for(failed_once, timeout=60, what="the first failed attempt")
        assert ("timed out" if mood == "hang" else "554") in _message().last_error
        assert server.received == []
        attempts = _message().attempts
        # The server recovers, and the backoff delay passes (moved here, not waited for);
        # the sweep then finds the retry due.
        server.mood = "serve"
        OutboxMessage.objects.filter(pk=_message().pk).update(next_attempt_at=timezone.now())

        def sent() -> bool:
            if _message().status == MailStatus.SENT:
                return True
            send_due_mail.delay()
            time.sleep(1)
            return False

        wait_for(sent, timeout=90, what="the notice after the server recovered")
        # More hands on the same message change nothing: a duplicate send task and another
        # sweep run before a second notice, which the single worker takes after them.
        message = _message()
        send_mail_task.delay(message.pk)
        send_due_mail.delay()
        second = OutboxMessage.objects.queue(
            notice="test_notice", subject="Second notice", body="-", to=["x@example.com"]
        )
        send_due_mail.delay()
        wait_for(
            lambda: OutboxMessage.objects.get(pk=second.pk).status == MailStatus.SENT,
            timeout=60,
            what="the second notice",
        )
        subjects = [m["Subject"] for m in server.received]
        assert subjects == [message.subject, "Second notice"]
        message.refresh_from_db()
        assert (message.status, message.attempts) == (MailStatus.SENT, attempts + 1)
