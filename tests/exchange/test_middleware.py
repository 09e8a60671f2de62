"""The client's address behind our proxies: taken from the right end of X-Forwarded-For,
so what a client writes at the left of the header can neither dodge the sign-in lockout
nor lock somebody else out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.urls import reverse

from exchange.middleware import client_ip
from tests.factories import SeedOffer, ny, staff_user
from tests.holders.conftest import Cast, cast

__all__ = ["cast"]  # the portal's test cast, as a fixture here too

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


# --- sessions that end ----------------------------------------------------------------------

SIGNED_IN = ny(2000, 6, 26, 9, 0)
SECOND = dt.timedelta(seconds=1)


def _get(client: Client, path: str, at: dt.datetime) -> Any:
    with time_machine.travel(at, tick=False):
        return client.get(path)


@pytest.fixture
def holder_client(cast: Cast) -> Client:
    with time_machine.travel(SIGNED_IN, tick=False):
        return cast.client(cast.ardsley)


@pytest.mark.django_db
def test_a_holder_is_signed_out_after_sixty_idle_minutes(holder_client: Client) -> None:
    home = reverse("portal:prospectus")
    assert (
        _get(holder_client, home, SIGNED_IN + dt.timedelta(minutes=60) - SECOND).status_code == 200
    )
    # Each request starts the idle hour again.
    last = SIGNED_IN + dt.timedelta(minutes=60) - SECOND
    assert _get(holder_client, home, last + dt.timedelta(minutes=60) - SECOND).status_code == 200
    last = last + dt.timedelta(minutes=60) - SECOND
    response = _get(holder_client, home, last + dt.timedelta(minutes=60))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('portal:login')}?next=%2Fprospectus%2F"
    assert "_auth_user_id" not in holder_client.session
    page = _get(holder_client, response["Location"], last + dt.timedelta(minutes=61))
    assert "signed out after 60 minutes without activity" in page.content.decode()


@pytest.mark.django_db
def test_staff_are_signed_out_after_thirty_idle_minutes(seed: SeedOffer) -> None:
    client = Client()
    with time_machine.travel(SIGNED_IN, tick=False):
        client.force_login(staff_user("clara", "Clerks"))
    index = reverse("admin:index")
    assert _get(client, index, SIGNED_IN + dt.timedelta(minutes=30) - SECOND).status_code == 200
    last = SIGNED_IN + dt.timedelta(minutes=30) - SECOND
    response = _get(client, index, last + dt.timedelta(minutes=30))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db
def test_the_idle_limits_are_settings(holder_client: Client, settings: Any) -> None:
    settings.SESSION_IDLE_MINUTES_HOLDER = 5
    home = reverse("portal:prospectus")
    assert (
        _get(holder_client, home, SIGNED_IN + dt.timedelta(minutes=5) - SECOND).status_code == 200
    )
    last = SIGNED_IN + dt.timedelta(minutes=5) - SECOND
    assert _get(holder_client, home, last + dt.timedelta(minutes=5)).status_code == 302


@pytest.mark.django_db
def test_the_idle_clock_is_saved_once_a_minute_not_on_every_page(
    holder_client: Client,
) -> None:
    """A page does not write the session when its idle stamp is under a minute old (a
    write and a commit per page in a rush); the limit then counts from that stamp, so the
    holder is signed out at most a minute early, never late."""
    from django.contrib.sessions.models import Session

    home = reverse("portal:prospectus")
    _get(holder_client, home, SIGNED_IN + SECOND)
    key = holder_client.session.session_key
    saved = Session.objects.get(session_key=key).expire_date
    _get(holder_client, home, SIGNED_IN + 30 * SECOND)
    assert Session.objects.get(session_key=key).expire_date == saved  # not written
    stamped = SIGNED_IN + 61 * SECOND
    _get(holder_client, home, stamped)
    assert Session.objects.get(session_key=key).expire_date != saved  # a minute on: written
    _get(holder_client, home, stamped + 59 * SECOND)  # not written: the stamp stays
    # The limit counts from the stamp: an hour after it, though the last page was 59 s later.
    assert _get(holder_client, home, stamped + dt.timedelta(minutes=60)).status_code == 302


@pytest.mark.django_db
def test_a_busy_session_ends_at_its_absolute_lifetime(holder_client: Client) -> None:
    home = reverse("portal:prospectus")
    at = SIGNED_IN
    end = SIGNED_IN + dt.timedelta(hours=12)
    while at + dt.timedelta(minutes=50) < end:
        at += dt.timedelta(minutes=50)
        assert _get(holder_client, home, at).status_code == 200
    assert _get(holder_client, home, end - SECOND).status_code == 200
    response = _get(holder_client, home, end)
    assert response.status_code == 302
    page = _get(holder_client, response["Location"], end + SECOND).content.decode()
    assert "a session lasts at most 12 hours" in page


@pytest.mark.django_db
def test_a_password_change_signs_out_every_session(cast: Cast) -> None:
    with time_machine.travel(SIGNED_IN, tick=False):
        office, home_pc = cast.client(cast.ardsley), cast.client(cast.ardsley)
    home = reverse("portal:notices")  # a page that needs a signed-in holder
    assert _get(office, home, SIGNED_IN + SECOND).status_code == 200
    cast.ardsley.set_password("A-new-passphrase-for-ardsley-1")
    cast.ardsley.save()
    for client in (office, home_pc):
        response = _get(client, home, SIGNED_IN + 2 * SECOND)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("portal:login"))


# --- Content-Security-Policy ------------------------------------------------------------------


def test_the_policy_allows_no_inline_style(client: Client) -> None:
    policy = client.get(reverse("portal:login"))["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["style-src"] == "'self'"
    assert "unsafe-inline" not in policy


def test_no_template_carries_an_inline_style() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for folder in ("templates", "holders/templates", "exchange/templates")
        for path in (root / folder).rglob("*.html")
        if "<style" in path.read_text() or " style=" in path.read_text()
    ]
    assert offenders == []
