"""Sign-in, accepting an invitation, and asking for access."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited
from redis.exceptions import RedisError

from exchange.services.base import DeskError
from holders.forms.accounts import (
    PasswordResetRequestForm,
    PortalLoginForm,
    PortalSetPasswordForm,
    SignUpForm,
)
from holders.forms.fields import field_errors_summary
from holders.services import is_staff_account, request_password_reset, request_sign_up

log = logging.getLogger(__name__)


class LoginView(auth_views.LoginView):
    template_name = "holders/login.html"
    authentication_form = PortalLoginForm
    redirect_authenticated_user = True


class AcceptInviteView(auth_views.PasswordResetConfirmView):
    """An invited holder chooses its password through the one-time link, then is signed in."""

    template_name = "holders/accept_invite.html"
    form_class = PortalSetPasswordForm
    post_reset_login = True
    # Two backends are configured (django-axes first): name the one that signs in.
    post_reset_login_backend = "holders.auth.HolderAwareModelBackend"
    success_url = reverse_lazy("portal:home")

    def get_user(self, uidb64: str) -> Any:
        # A portal link never sets a desk login's password: to the page it is a link that
        # no longer works, whatever the token says.
        user = super().get_user(uidb64)
        if user is not None and is_staff_account(user):
            return None
        return user

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, "Your password is set and you are signed in.")
        return response


def _too_many_from_this_address(request: HttpRequest, group: str) -> bool:
    """Counted before the form is read (and a password hashed): a flood costs us nothing."""
    return is_ratelimited(
        request,
        group=f"{group}:address",
        key="ip",
        rate=settings.ACCOUNT_REQUESTS_PER_ADDRESS,
        method="POST",
        increment=True,
    )


def _too_many_for_this_email(request: HttpRequest, group: str, email: str) -> bool:
    return is_ratelimited(
        request,
        group=f"{group}:email",
        key=lambda _group, _request: email.strip().lower(),
        rate=settings.ACCOUNT_REQUESTS_PER_EMAIL,
        method="POST",
        increment=True,
    )


def _slow_down(request: HttpRequest) -> HttpResponse:
    return render(request, "holders/slow_down.html", status=429)


def _counters_unavailable(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Without the rate-limit counters (Redis down) an account request cannot be counted:
    it is refused with a page saying so and that nothing was recorded, never a 500, and
    never let through uncounted (fail closed: these pages are never deadline-critical)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except RedisError as exc:
            log.warning("Account request refused, rate-limit counters unavailable: %s", exc)
            return render(request, "holders/slow_down.html", {"unavailable": True}, status=503)

    return wrapper


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
@_counters_unavailable
def sign_up(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("portal:home")
    if request.method == "POST" and _too_many_from_this_address(request, "sign_up"):
        return _slow_down(request)
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # One answer whatever was asked. Past the limit for an e-mail address nothing is
        # recorded or sent, and the page says the same as ever.
        if not _too_many_for_this_email(request, "sign_up", form.cleaned_data["email"]):
            try:
                request_sign_up(form.sign_up(), now=timezone.now())
            except DeskError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        if not form.errors:
            return redirect("portal:sign_up_done")
    return render(
        request,
        "holders/sign_up.html",
        {"form": form, "error_summary": field_errors_summary(form) if form.is_bound else []},
    )


def sign_up_done(request: HttpRequest) -> HttpResponse:
    return render(request, "holders/sign_up_done.html")


@require_http_methods(["GET", "POST"])
@_counters_unavailable
def password_reset(request: HttpRequest) -> HttpResponse:
    """A holder who forgot its password asks for a link; the answer never depends on the
    address (see holders.services.request_password_reset)."""
    if request.method == "POST" and _too_many_from_this_address(request, "password_reset"):
        return _slow_down(request)
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if not _too_many_for_this_email(request, "password_reset", email):
            request_password_reset(
                email, now=timezone.now(), site_url=request.build_absolute_uri("/")
            )
        return redirect("portal:password_reset_done")
    return render(request, "holders/password_reset.html", {"form": form})


def password_reset_done(request: HttpRequest) -> HttpResponse:
    return render(request, "holders/password_reset_done.html")
