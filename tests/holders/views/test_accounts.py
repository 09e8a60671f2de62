"""Portal accounts: sign-in through django-axes (five failures lock a login from an address
for 15 minutes), sign-up that a clerk approves or declines, and a clerk's invitation."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from exchange.models import ActorKind, StateChange
from exchange.services.base import Actor, DeskError
from holders import services
from holders.forms.accounts import SignUpForm
from holders.models import Holder, HolderKind, SignUpRequest, SignUpStatus
from tests.factories import SeedOffer, deliver_outbox, staff_user

pytestmark = pytest.mark.django_db

LOGIN = reverse("portal:login")
PASSWORD = "Correct-horse-battery-9"
CLERK_ACTOR = Actor(kind=ActorKind.CLERK, label="test clerk")


@pytest.fixture(autouse=True)
def fast_hashing(settings: Any) -> None:
    # Real passwords here; a fast hasher keeps each test quick (the algorithm is Django's).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def holder_login(holder: Holder, username: str = "ardsley") -> Any:
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    holder.user = user
    holder.save(update_fields=["user"])
    return user


def test_a_holder_signs_in_and_lands_on_the_offer(seed: SeedOffer) -> None:
    holder_login(seed.registered)
    client = Client()
    response = client.post(LOGIN, {"username": "ardsley", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[0][0] == reverse("portal:home")
    assert response.redirect_chain[-1][0] == reverse("portal:offer", args=["level3-2000"])


def test_a_wrong_password_says_so_and_counts(seed: SeedOffer) -> None:
    holder_login(seed.registered)
    response = Client().post(LOGIN, {"username": "ardsley", "password": "nope"})
    assert response.status_code == 200
    assert "do not match" in response.content.decode()


def test_five_failures_lock_the_login_from_that_address(seed: SeedOffer) -> None:
    holder_login(seed.registered)
    client = Client()
    for _ in range(4):
        assert client.post(LOGIN, {"username": "ardsley", "password": "wrong"}).status_code == 200
    locked = client.post(LOGIN, {"username": "ardsley", "password": "wrong"})
    assert locked.status_code == 429
    # Even the right password is refused during the cool-off, and no session starts.
    again = client.post(LOGIN, {"username": "ardsley", "password": PASSWORD})
    assert again.status_code == 429
    assert "Sign-in paused" in again.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address is not locked out with it (the pair username + address is).
    other = Client(REMOTE_ADDR="10.9.8.7")
    assert other.post(LOGIN, {"username": "ardsley", "password": PASSWORD}).status_code == 302


def test_the_admin_login_is_throttled_too(seed: SeedOffer) -> None:
    staff_user("clara", "Clerks")
    client = Client()
    for _ in range(5):
        response = client.post(reverse("admin:login"), {"username": "clara", "password": "bad"})
    assert response.status_code == 429


def test_sign_out_is_a_post(seed: SeedOffer) -> None:
    user = holder_login(seed.registered)
    client = Client()
    client.force_login(user)
    assert client.get(reverse("portal:logout")).status_code == 405
    assert client.post(reverse("portal:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


# --- sign-up ---------------------------------------------------------------------------------


def sign_up_data(**overrides: str) -> dict[str, str]:
    data = {
        "username": "ardsley-custody",
        "email": "custody@ardsley.example",
        "contact_name": "Pat Custodian",
        "holder_name": "Ardsley Pension Trust",
        "kind": HolderKind.REGISTERED_HOLDER,
        "address": "1 Ardsley Plaza",
        "note": "We hold certificate R08-0001.",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    data.update(overrides)
    return data


def test_a_sign_up_waits_for_a_clerk_and_grants_nothing(
    seed: SeedOffer, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:sign_up"), sign_up_data())
    assert response["Location"] == reverse("portal:sign_up_done")
    request = SignUpRequest.objects.get()
    assert request.status == SignUpStatus.PENDING
    assert request.password != PASSWORD and check_password(PASSWORD, request.password)
    assert not get_user_model().objects.filter(username="ardsley-custody").exists()
    assert (
        client.post(LOGIN, {"username": "ardsley-custody", "password": PASSWORD}).status_code == 200
    )
    assert deliver_outbox()[0].to == ["custody@ardsley.example"]


def test_a_taken_login_name_gets_the_same_answer_and_the_clerk_is_told(seed: SeedOffer) -> None:
    # The rule changed on purpose: "That login name is taken" told strangers which names
    # exist (staff names too). The answer is now the same; the clerk sees the clash.
    holder_login(seed.registered, "ardsley")
    response = Client().post(reverse("portal:sign_up"), sign_up_data(username="Ardsley"))
    assert response["Location"] == reverse("portal:sign_up_done")
    request = SignUpRequest.objects.get()
    assert services.login_name_in_use(request)
    clerk = Client()
    clerk.force_login(staff_user("clara", "Clerks"))
    page = clerk.get(reverse("admin:holders_signuprequest_change", args=[request.pk]))
    assert "Taken: decline the request and ask for another login name." in page.content.decode()


def _pending(seed: SeedOffer, **overrides: str) -> SignUpRequest:
    form = SignUpForm(sign_up_data(**overrides))
    assert form.is_valid(), form.errors
    return services.request_sign_up(form.sign_up(), now=timezone.now())


def test_approval_links_the_login_to_the_holder(
    seed: SeedOffer, django_capture_on_commit_callbacks: Any
) -> None:
    request = _pending(seed)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_sign_up(
            request.pk,
            holder_id=seed.registered.pk,
            actor=CLERK_ACTOR,
            now=timezone.now(),
            site_url="https://desk.example/",
        )
    request.refresh_from_db()
    seed.registered.refresh_from_db()
    assert request.status == SignUpStatus.APPROVED and request.password == ""
    assert seed.registered.user.username == "ardsley-custody"
    assert check_password(PASSWORD, seed.registered.user.password)
    assert StateChange.objects.filter(action="holders.sign_up.approved").exists()
    assert "https://desk.example/accounts/login/" in deliver_outbox()[-1].body
    response = Client().post(LOGIN, {"username": "ardsley-custody", "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("kind", "extra", "message"),
    [
        (HolderKind.DTC_PARTICIPANT, {"dtc_participant_number": "0777"}, "is a registered holder"),
    ],
)
def test_approval_refuses_a_holder_of_another_kind(
    seed: SeedOffer, kind: str, extra: dict[str, str], message: str
) -> None:
    request = _pending(seed, kind=kind, **extra)
    with pytest.raises(DeskError, match=message):
        services.approve_sign_up(
            request.pk,
            holder_id=seed.registered.pk,
            actor=CLERK_ACTOR,
            now=timezone.now(),
            site_url="/",
        )


def test_approval_refuses_another_participant_number(seed: SeedOffer) -> None:
    request = _pending(seed, kind=HolderKind.DTC_PARTICIPANT, dtc_participant_number="0777")
    with pytest.raises(DeskError, match="participant 0901"):
        services.approve_sign_up(
            request.pk,
            holder_id=seed.participant.pk,
            actor=CLERK_ACTOR,
            now=timezone.now(),
            site_url="/",
        )


def test_approval_needs_a_holder_without_a_login(seed: SeedOffer) -> None:
    request = _pending(seed)
    with pytest.raises(DeskError, match="Choose the holder"):
        services.approve_sign_up(request.pk, actor=CLERK_ACTOR, now=timezone.now(), site_url="/")
    holder_login(seed.registered, "someone")
    with pytest.raises(DeskError, match="already has a portal login"):
        services.approve_sign_up(
            request.pk,
            holder_id=seed.registered.pk,
            actor=CLERK_ACTOR,
            now=timezone.now(),
            site_url="/",
        )


def test_decline_erases_the_password_hash(seed: SeedOffer) -> None:
    request = _pending(seed)
    with pytest.raises(DeskError, match="Say why"):
        services.decline_sign_up(request.pk, actor=CLERK_ACTOR, now=timezone.now(), reason=" ")
    services.decline_sign_up(
        request.pk, actor=CLERK_ACTOR, now=timezone.now(), reason="Not on the register."
    )
    request.refresh_from_db()
    assert request.status == SignUpStatus.DECLINED and request.password == ""


def test_a_clerk_approves_in_the_admin(seed: SeedOffer) -> None:
    request = _pending(seed)
    clerk = Client()
    clerk.force_login(staff_user("clara", "Clerks"))
    url = reverse("admin:holders_signuprequest_change", args=[request.pk])
    page = clerk.get(url).content.decode()
    assert 'name="_approve"' in page and 'name="_decline"' in page
    response = clerk.post(
        url, {"holder": str(seed.registered.pk), "decision_note": "", "_approve": "1"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == SignUpStatus.APPROVED
    assert request.holder == seed.registered
    assert request.decided_by.username == "clara"


def test_the_admin_reports_a_refusal_and_keeps_it_pending(seed: SeedOffer) -> None:
    request = _pending(seed)
    clerk = Client()
    clerk.force_login(staff_user("clara", "Clerks"))
    url = reverse("admin:holders_signuprequest_change", args=[request.pk])
    response = clerk.post(url, {"holder": "", "decision_note": "", "_approve": "1"}, follow=True)
    assert "Choose the holder" in response.content.decode()
    request.refresh_from_db()
    assert request.status == SignUpStatus.PENDING


# --- invitation --------------------------------------------------------------------------------


def test_a_clerk_invites_a_holder_who_sets_a_password(
    seed: SeedOffer, django_capture_on_commit_callbacks: Any
) -> None:
    seed.registered.email = "custody@ardsley.example"
    seed.registered.save(update_fields=["email"])
    clerk = Client()
    clerk.force_login(staff_user("clara", "Clerks"))
    with django_capture_on_commit_callbacks(execute=True):
        response = clerk.post(
            reverse("admin:holders_holder_changelist"),
            {
                "action": "invite_to_portal",
                "_selected_action": [str(seed.registered.pk), str(seed.second_registered.pk)],
            },
            follow=True,
        )
    html = response.content.decode()
    assert "Invited Ardsley Pension Trust (login custody)" in html
    assert "Margaret Chen has no e-mail address" in html
    seed.registered.refresh_from_db()
    user = seed.registered.user
    assert user is not None and not user.has_usable_password()
    assert StateChange.objects.filter(action="holders.holder.invited").exists()
    [message] = deliver_outbox()
    link = re.search(r"http://testserver(/accounts/invitation/\S+)", message.body).group(1)  # type: ignore[union-attr]
    holder = Client()
    form_page = holder.get(link, follow=True)
    assert "Your login name is <strong>custody</strong>" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    done = holder.post(set_url, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("portal:home")
    assert int(holder.session["_auth_user_id"]) == user.pk
    # The link works once.
    again = Client().get(link, follow=True)
    assert "no longer works" in again.content.decode()
    # Inviting again is the desk's password reset: a new link to the registered address,
    # and the password in force keeps working until the new one is chosen.
    with django_capture_on_commit_callbacks(execute=True):
        again = services.invite_holder(
            seed.registered.pk, actor=CLERK_ACTOR, now=timezone.now(), site_url="http://testserver/"
        )
    assert again.reset and again.username == "custody"
    deliver_outbox()
    assert mail.outbox[-1].to == ["custody@ardsley.example"]
    assert "new portal password" in mail.outbox[-1].body
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
