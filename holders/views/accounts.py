"""Sign-in, accepting an invitation, and asking for access."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from exchange.services.base import DeskError
from holders.forms.accounts import PortalLoginForm, PortalSetPasswordForm, SignUpForm
from holders.forms.fields import field_errors_summary
from holders.services import is_staff_account, request_sign_up


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
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
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


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("portal:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            request_sign_up(form.sign_up(), now=timezone.now())
        except DeskError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return redirect("portal:sign_up_done")
    return render(
        request,
        "holders/sign_up.html",
        {"form": form, "error_summary": field_errors_summary(form) if form.is_bound else []},
    )


def sign_up_done(request: HttpRequest) -> HttpResponse:
    return render(request, "holders/sign_up_done.html")
