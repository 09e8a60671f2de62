"""The client's address behind our proxies: taken from the right end of X-Forwarded-For,
so what a client writes at the left of the header can neither dodge the sign-in lockout
nor lock somebody else out."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.urls import reverse

from exchange.middleware import client_ip
from tests.factories import SeedOffer, staff_user

LOGIN = reverse("portal:login")
PROXY = "10.0.0.2"  # the TLS proxy: every request reaches us from it


def _request(forwarded: str | None, peer: str = PROXY) -> Any:
    meta = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        # Not behind a proxy: the header is the client's own text and is ignored.
        (0, "203.0.113.9", PROXY),
        # One proxy: it appended the address it saw; the forged left part is ignored.
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),
        (1, "203.0.113.9", "203.0.113.9"),
        # Two proxies: the outer one's entry is second from the right.
        (2, "1.2.3.4, 203.0.113.9, 10.0.0.1", "203.0.113.9"),
        # Fewer entries than proxies, a missing header, or garbage: the peer's address.
        (2, "203.0.113.9", PROXY),
        (1, None, PROXY),
        (1, "not-an-address", PROXY),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_is_counted_from_the_right(
    settings: Any, count: int, forwarded: str | None, expected: str
) -> None:
    settings.TRUSTED_PROXY_COUNT = count
    assert client_ip(_request(forwarded)) == expected


@pytest.fixture
def behind_proxy(settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.django_db
def test_forged_addresses_do_not_escape_the_lockout(seed: SeedOffer, behind_proxy: None) -> None:
    staff_user("clerk", "Clerks")
    attacker = "203.0.113.66"
    statuses = []
    for n in range(12):
        # Each attempt forges another first address; the proxy appends the real one.
        response = Client(
            REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, {attacker}"
        ).post(LOGIN, {"username": "clerk", "password": "wrong"})
        statuses.append(response.status_code)
    assert statuses[:4] == [200] * 4
    assert set(statuses[4:]) == {429}


@pytest.mark.django_db
def test_a_forged_address_cannot_lock_out_a_real_clerk(seed: SeedOffer, behind_proxy: None) -> None:
    user = staff_user("clerk", "Clerks")
    user.set_password("Clerk-password-9")
    user.save()
    real_clerk, attacker = "192.0.2.10", "203.0.113.66"
    for _ in range(6):
        Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{real_clerk}, {attacker}").post(
            LOGIN, {"username": "clerk", "password": "wrong"}
        )
    clerk = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=real_clerk)
    response = clerk.post(LOGIN, {"username": "clerk", "password": "Clerk-password-9"})
    assert response.status_code == 302
    assert clerk.session["_auth_user_id"] == str(get_user_model().objects.get(username="clerk").pk)
