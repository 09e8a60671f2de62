"""A holder reads the notices the exchange agent sent it, and no one else's."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from exchange.models import OutboxMessage
from tests.holders.conftest import DURING, Cast, letter_data
from tests.holders.views.test_tender_views import post_letter

pytestmark = pytest.mark.django_db

NOTICES = reverse("portal:notices")


def test_a_holder_sees_the_notice_of_its_tender_and_others_do_not(cast: Cast) -> None:
    ardsley = cast.client(cast.ardsley)
    with time_machine.travel(DURING, tick=False):
        post_letter(ardsley, letter_data())
        page = ardsley.get(NOTICES).content.decode()
        [message] = OutboxMessage.objects.all()
        assert message.subject in page
        assert "being sent" in page  # queued: the worker has not sent it yet
        assert "ardsley@example.com" in page
        other = cast.client(cast.chen).get(NOTICES).content.decode()
        assert message.subject not in other
        assert "No notices yet." in other


def test_the_notices_need_a_holder_login(cast: Cast) -> None:
    from django.test import Client

    response = Client().get(NOTICES)
    assert response.status_code == 302 and reverse("portal:login") in response["Location"]
