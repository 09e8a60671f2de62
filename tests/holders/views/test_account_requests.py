"""Sign-up and password reset cannot be abused: one answer whatever the login name or
e-mail (no holder's or clerk's name revealed), no requester-written text in our mail, and
rate limits per client address (behind the proxy, the real one) and per e-mail address."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from exchange.models import OutboxMessage
from holders.models import SignUpRequest
from holders.services import SIGN_UP_RECEIVED_BODY
from tests.factories import SeedOffer, deliver_outbox, staff_user
from tests.holders.views.test_accounts import PASSWORD, holder_login, sign_up_data

pytestmark = pytest.mark.django_db

SIGN_UP = reverse("portal:sign_up")
RESET = reverse("portal:password_reset")
HOSTILE = "Claim your prize at http://evil.example/win now"


@pytest.fixture(autouse=True)
def fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _post(path: str, data: dict[str, str], address: str = "192.0.2.1", **extra: str) -> Any:
    return Client(REMOTE_ADDR=address, **extra).post(path, data)


def test_every_login_name_gets_the_same_answer(seed: SeedOffer) -> None:
    staff_user("clerk", "Clerks")
    holder_login(seed.registered, "ardsley")
    answers = set()
    for n, name in enumerate(["clerk", "ardsley", "someone-new"]):
        response = _post(SIGN_UP, sign_up_data(username=name), address=f"192.0.2.{n}")
        page = Client().get(response["Location"]).content.decode()
        answers.add((response.status_code, response["Location"], page))
    assert len(answers) == 1
    assert SignUpRequest.objects.count() == 3  # recorded; the clerk declines a taken name


def test_the_acknowledgment_carries_no_text_the_requester_wrote(seed: SeedOffer) -> None:
    _post(
        SIGN_UP,
        sign_up_data(
            username="prize-winner",
            holder_name=HOSTILE,
            contact_name=HOSTILE,
            note=HOSTILE,
            address=HOSTILE,
        ),
    )
    [message] = deliver_outbox()
    assert message.body == SIGN_UP_RECEIVED_BODY
    assert "evil" not in message.subject + message.body
    assert "prize-winner" not in message.subject + message.body
    assert message.to == ["custody@ardsley.example"]


def test_sign_ups_are_limited_per_real_client_address(seed: SeedOffer, settings: Any) -> None:
    settings.ACCOUNT_REQUESTS_PER_ADDRESS = "3/h"
    settings.TRUSTED_PROXY_COUNT = 1
    statuses = []
    for n in range(5):
        # Each post forges another first address; our proxy appends the real one.
        response = _post(
            SIGN_UP,
            sign_up_data(username=f"name{n}", email=f"a{n}@example.com"),
            address="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.7",
        )
        statuses.append(response.status_code)
    assert statuses == [302, 302, 302, 429, 429]
    assert SignUpRequest.objects.count() == 3
    # Another real client is not held back with it.
    other = _post(
        SIGN_UP,
        sign_up_data(username="other", email="other@example.com"),
        address="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.8",
    )
    assert other.status_code == 302


def test_one_email_address_is_not_mailed_again_and_again(seed: SeedOffer, settings: Any) -> None:
    settings.ACCOUNT_REQUESTS_PER_EMAIL = "2/d"
    for n in range(4):
        response = _post(
            SIGN_UP,
            sign_up_data(username=f"name{n}", email="Victim@Example.com"),
            address=f"192.0.2.{n}",
        )
        assert response["Location"] == reverse("portal:sign_up_done")  # same answer
    assert SignUpRequest.objects.count() == 2
    assert len(deliver_outbox()) == 2


# --- password reset -----------------------------------------------------------------------


def test_a_holder_gets_a_link_and_nobody_else_learns_anything(seed: SeedOffer) -> None:
    holder_login(seed.registered, "ardsley")
    seed.registered.email = "custody@ardsley.example"
    seed.registered.save(update_fields=["email"])
    clerk = staff_user("clerk", "Clerks")
    clerk.email = "clerk@agent.example"
    clerk.save(update_fields=["email"])
    answers = set()
    for n, email in enumerate(["custody@ardsley.example", "clerk@agent.example", "no@one.example"]):
        response = _post(RESET, {"email": email}, address=f"192.0.2.{n}")
        page = Client().get(response["Location"]).content.decode()
        answers.add((response.status_code, response["Location"], page))
    assert len(answers) == 1
    [message] = deliver_outbox()  # the holder's only: none to the clerk, none to a stranger
    assert message.to == ["custody@ardsley.example"]
    assert OutboxMessage.objects.get().holder == seed.registered
    link = re.search(r"http://testserver(/accounts/invitation/\S+)", message.body).group(1)  # type: ignore[union-attr]
    holder = Client()
    form_page = holder.get(link, follow=True)
    set_url = form_page.redirect_chain[-1][0]
    new = "A-brand-new-passphrase-3"
    assert holder.post(set_url, {"new_password1": new, "new_password2": new}).status_code == 302
    assert get_user_model().objects.get(username="ardsley").check_password(new)
    assert not get_user_model().objects.get(username="ardsley").check_password(PASSWORD)


def test_password_resets_are_limited_too(seed: SeedOffer, settings: Any) -> None:
    settings.ACCOUNT_REQUESTS_PER_ADDRESS = "2/h"
    statuses = [_post(RESET, {"email": f"x{n}@example.com"}).status_code for n in range(3)]
    assert statuses == [302, 302, 429]


def test_without_the_counters_a_request_is_refused_clearly(seed: SeedOffer, settings: Any) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {**settings.CACHES["ratelimit"], "LOCATION": "redis://127.0.0.1:6399/9"},
    }
    for path, data in ((SIGN_UP, sign_up_data()), (RESET, {"email": "custody@ardsley.example"})):
        response = _post(path, data)
        assert response.status_code == 503
        assert "Nothing was recorded" in response.content.decode()
    assert SignUpRequest.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
