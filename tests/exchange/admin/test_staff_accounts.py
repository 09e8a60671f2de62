"""Staff accounts are never portal logins: the exact take-over a clerk tried (link the
supervisor's login to a holder with the clerk's own e-mail, then *Invite to the portal*)
fails safely, whatever path links a desk login to a holder."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from holders.models import Holder, HolderKind
from holders.selectors import holder_for
from tests.factories import SeedOffer, deliver_outbox, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_a_clerk_cannot_take_over_the_supervisors_login_through_the_admin(
    seed: SeedOffer, django_capture_on_commit_callbacks: Any
) -> None:
    supervisor = staff_user("supervisor", "Supervisors")
    clerk = Client()
    clerk.force_login(staff_user("clerk", "Clerks"))
    # The attack: a new holder whose `user` is the supervisor's id, at the clerk's address.
    response = clerk.post(
        reverse("admin:holders_holder_add"),
        {
            "kind": HolderKind.REGISTERED_HOLDER,
            "name": "Front Holder",
            "address": "1 Any Street",
            "email": "clerk@desk.example",
            "user": str(supervisor.pk),
            "tin_status": "not_certified",
            "holdings-TOTAL_FORMS": "0",
            "holdings-INITIAL_FORMS": "0",
            "holdings-MIN_NUM_FORMS": "0",
            "holdings-MAX_NUM_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    holder = Holder.objects.get(name="Front Holder")
    assert holder.user_id is None  # the field is not an input: the id posted is ignored
    with django_capture_on_commit_callbacks(execute=True):
        clerk.post(
            reverse("admin:holders_holder_changelist"),
            {"action": "invite_to_portal", "_selected_action": [str(holder.pk)]},
        )
    holder.refresh_from_db()
    # The invitation made a fresh portal login; the link reaches it, never the supervisor.
    assert holder.user is not None and holder.user.pk != supervisor.pk
    assert not holder.user.is_staff
    [message] = deliver_outbox()  # the invitation goes through the outbox
    assert "Your login name: supervisor" not in message.body
    link = re.search(r"http://testserver(/accounts/invitation/\S+)", message.body).group(1)  # type: ignore[union-attr]
    stranger = Client()
    page = stranger.get(link, follow=True)
    stranger.post(
        page.redirect_chain[-1][0],
        {"new_password1": "Correct-horse-battery-9", "new_password2": "Correct-horse-battery-9"},
    )
    assert int(stranger.session["_auth_user_id"]) == holder.user.pk
    supervisor.refresh_from_db()
    assert supervisor.check_password("pw-for-tests-only")
    # Signed in through the link, the clerk has no desk at all.
    assert stranger.get(reverse("admin:index")).status_code == 302


def test_the_database_refuses_a_holder_linked_to_a_staff_login(seed: SeedOffer) -> None:
    supervisor = staff_user("supervisor", "Supervisors")
    seed.registered.user = supervisor
    with pytest.raises(IntegrityError, match="staff login"), transaction.atomic():
        seed.registered.save(update_fields=["user"])
    # Nor can a holder's portal login be made staff afterwards.
    portal = get_user_model().objects.create_user("ardsley", password="x")
    Holder.objects.filter(pk=seed.registered.pk).update(user=portal)
    portal.is_staff = True
    with pytest.raises(IntegrityError, match="cannot be made staff"), transaction.atomic():
        portal.save(update_fields=["is_staff"])


def test_a_portal_password_link_never_works_for_a_desk_login(seed: SeedOffer) -> None:
    supervisor = staff_user("supervisor", "Supervisors")
    uid = urlsafe_base64_encode(force_bytes(supervisor.pk))
    token = default_token_generator.make_token(supervisor)
    client = Client()
    page = client.get(reverse("portal:accept_invite", args=[uid, token]), follow=True)
    assert "no longer works" in page.content.decode()
    client.post(
        page.redirect_chain[-1][0]
        if page.redirect_chain
        else reverse("portal:accept_invite", args=[uid, token]),
        {"new_password1": "Correct-horse-battery-9", "new_password2": "Correct-horse-battery-9"},
    )
    supervisor.refresh_from_db()
    assert supervisor.check_password("pw-for-tests-only")
    assert "_auth_user_id" not in client.session
    assert holder_for(supervisor) is None


@pytest.mark.parametrize("group", ["Clerks", "Supervisors"])
def test_only_a_superuser_manages_desk_logins(seed: SeedOffer, group: str) -> None:
    client = Client()
    client.force_login(staff_user("someone", group))
    target = staff_user("other", "Clerks")
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert client.get(reverse("admin:auth_user_change", args=[target.pk])).status_code == 403
    response = client.post(
        reverse("admin:auth_user_change", args=[target.pk]),
        {"username": "other", "is_superuser": "on", "is_staff": "on"},
    )
    assert response.status_code == 403
    target.refresh_from_db()
    assert not target.is_superuser


def test_a_clerk_cannot_redirect_a_holders_password_link_to_an_address_of_its_own(
    seed: SeedOffer, django_capture_on_commit_callbacks: Any
) -> None:
    """The same take-over aimed at a holder: change the address of a holder that has a
    portal login, then *Invite to the portal* (the reset of its existing login)."""
    holder = seed.registered
    holder.email = "trust@ardsley.example"
    holder.user = get_user_model().objects.create_user("ardsley-login", password="x" * 16)
    holder.save(update_fields=["email", "user"])
    clerk = Client()
    clerk.force_login(staff_user("clerk", "Clerks"))
    change = reverse("admin:holders_holder_change", args=[holder.pk])
    page = clerk.get(change).content.decode()
    assert 'name="email"' not in page  # not an input for a holder with a login
    clerk.post(
        change,
        {
            "kind": holder.kind,
            "name": holder.name,
            "address": holder.address,
            "email": "clerk@desk.example",
            "tin_status": holder.tin_status,
            "holdings-TOTAL_FORMS": "0",
            "holdings-INITIAL_FORMS": "0",
            "holdings-MIN_NUM_FORMS": "0",
            "holdings-MAX_NUM_FORMS": "0",
        },
    )
    holder.refresh_from_db()
    assert holder.email == "trust@ardsley.example"
    with django_capture_on_commit_callbacks(execute=True):
        clerk.post(
            reverse("admin:holders_holder_changelist"),
            {"action": "invite_to_portal", "_selected_action": [str(holder.pk)]},
        )
    sent = deliver_outbox()
    assert sent, "the invitation (a new password link) was sent"
    assert all(message.to == ["trust@ardsley.example"] for message in sent)


def test_a_superuser_may_correct_the_address_of_a_holder_with_a_login(seed: SeedOffer) -> None:
    holder = seed.registered
    holder.user = get_user_model().objects.create_user("ardsley-login", password="x" * 16)
    holder.save(update_fields=["user"])
    admin_client = Client()
    admin_client.force_login(
        get_user_model().objects.create_superuser("root", "root@desk.example", "x" * 16)
    )
    page = admin_client.get(reverse("admin:holders_holder_change", args=[holder.pk]))
    assert 'name="email"' in page.content.decode()
