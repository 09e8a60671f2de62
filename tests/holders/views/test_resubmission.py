"""A page sent again gets its first receipt and records nothing new: each form carries a
one-time token (holders.services.submit_once). Copies posted at the same moment, from real
threads on PostgreSQL, record one document."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from exchange.models import GuaranteedDelivery, StateChange, Tender, WithdrawalNotice
from holders.models import PortalSubmission
from tests.factories import ny, paper_tender
from tests.holders.conftest import DURING, Cast, counts, letter_data
from tests.holders.views.test_gd_views import FORM as GD_FORM
from tests.holders.views.test_gd_views import notice_data as gd_notice
from tests.holders.views.test_withdrawal_views import notice_data as withdrawal_notice

LETTER = reverse("portal:tender_form", args=["level3-2000", "2008-senior"])


def token_of(client: Client, url: str) -> str:
    html = client.get(url).content.decode()
    found = re.search(r'name="page_token" value="([0-9a-f-]{36})"', html)
    assert found, "the form page carries no one-time token"
    return found.group(1)


@pytest.mark.django_db
def test_a_letter_sent_twice_records_one_tender(cast: Cast, during: dt.datetime) -> None:
    client = cast.client(cast.ardsley)
    data = {**letter_data(), "page_token": token_of(client, LETTER)}
    first = client.post(LETTER, data)
    assert first.status_code == 302
    before = counts()
    again = client.post(LETTER, data, follow=True)
    assert counts() == before
    assert again.redirect_chain[-1][0] == first["Location"]
    assert "already sent and received; nothing new was recorded" in again.content.decode()
    assert Tender.objects.count() == 1
    # A fresh page is a new letter (here refused: the certificate is tendered already).
    fresh = client.post(LETTER, {**letter_data(), "page_token": token_of(client, LETTER)})
    assert fresh.status_code == 200 and Tender.objects.count() == 1


@pytest.mark.django_db
def test_a_refused_page_can_be_corrected_and_sent(cast: Cast, during: dt.datetime) -> None:
    client = cast.client(cast.ardsley)
    token = token_of(client, LETTER)
    refused = client.post(LETTER, {**letter_data(amount="2,000,000"), "page_token": token})
    assert refused.status_code == 200 and Tender.objects.count() == 0
    assert not PortalSubmission.objects.exists()  # a refusal claims no token
    accepted = client.post(LETTER, {**letter_data(), "page_token": token})
    assert accepted.status_code == 302 and Tender.objects.count() == 1


@pytest.mark.django_db
def test_a_withdrawal_sent_again_after_it_took_effect_answers_with_its_receipt(
    cast: Cast, during: dt.datetime
) -> None:
    tender = paper_tender(cast.seed, ny(2000, 6, 20, 10))
    client = cast.client(cast.ardsley)
    url = reverse("portal:withdraw", args=[tender.reference])
    data = {**withdrawal_notice(), "page_token": token_of(client, url)}
    first = client.post(url, data)
    notice = WithdrawalNotice.objects.get()
    # The tender is withdrawn now, so the form itself would say "nothing to withdraw".
    again = client.post(url, data)
    assert (
        again["Location"]
        == first["Location"]
        == reverse("portal:withdrawal", args=[notice.reference])
    )
    assert WithdrawalNotice.objects.count() == 1


@pytest.mark.django_db
def test_a_notice_of_guaranteed_delivery_sent_twice_records_one(
    cast: Cast, during: dt.datetime
) -> None:
    client = cast.client(cast.empire)
    data = {**gd_notice(cast), "page_token": token_of(client, GD_FORM)}
    first = client.post(GD_FORM, data)
    again = client.post(GD_FORM, data)
    assert again["Location"] == first["Location"]
    assert GuaranteedDelivery.objects.count() == 1


# --- at the same moment -------------------------------------------------------------------------


@pytest.fixture
def _restore_after(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    # As tests/exchange/services/test_concurrency.py: serialized_rollback restores the
    # migrations' data before the test; restore it after too, for the tests that follow.
    yield
    with django_db_blocker.unblock():
        contents = getattr(connection, "_test_serialized_contents", None)
        if contents:
            connection.creation.deserialize_db_from_string(contents)
        connections.close_all()


COPIES = 10


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_identical_withdrawals_posted_at_once_record_one_notice(
    cast: Cast, _restore_after: None
) -> None:
    with time_machine.travel(DURING, tick=False):
        tender = paper_tender(cast.seed, ny(2000, 6, 20, 10))
        url = reverse("portal:withdraw", args=[tender.reference])
        data = {**withdrawal_notice(), "page_token": token_of(cast.client(cast.ardsley), url)}
        history_before = StateChange.objects.count()
        barrier = threading.Barrier(COPIES)
        answers: list[Any] = [None] * COPIES

        def post(index: int) -> None:
            try:
                client = cast.client(cast.ardsley)
                barrier.wait(20)
                answers[index] = client.post(url, data)
            except BaseException as exc:
                answers[index] = exc
            finally:
                connections.close_all()

        threads = [threading.Thread(target=post, args=(i,), daemon=True) for i in range(COPIES)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not any(t.is_alive() for t in threads), "a copy hung"
    [notice] = WithdrawalNotice.objects.all()
    receipt = reverse("portal:withdrawal", args=[notice.reference])
    assert [getattr(a, "status_code", a) for a in answers] == [302] * COPIES
    assert {a["Location"] for a in answers} == {receipt}
    assert notice.state == "effective"
    # Every history row written is about that one notice or its tender, each act once.
    written = StateChange.objects.order_by("id")[history_before:]
    actions = [row.action for row in written]
    assert len(actions) == len(set(actions)) > 0
    notice_rows = [row for row in written if row.action.startswith("exchange.withdrawal")]
    assert {row.object_id for row in notice_rows} == {notice.pk}
    assert PortalSubmission.objects.get().receipt_url == receipt
