"""Signing in and asking for access to the portal."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.core.exceptions import ValidationError

from exchange.models import (
    MedallionProgram,
)
from holders.forms.fields import PORTAL_RENDERER, USERNAME_PATTERN, PortalForm, TextField
from holders.models import HolderKind
from holders.services import SignUp


class PortalLoginForm(AuthenticationForm):
    default_renderer = PORTAL_RENDERER

    """Django's sign-in (it passes the request to authenticate(), as django-axes needs)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That login name and password do not match. Both are case-sensitive. "
        "After five failed attempts, sign-in is paused for 15 minutes.",
    }


class PortalSetPasswordForm(SetPasswordForm):
    default_renderer = PORTAL_RENDERER

    """Django's set-password form with its help as plain text: the portal renders every
    help text escaped, so none may carry markup."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = " ".join(
            password_validation.password_validators_help_texts()
        )


class SignUpForm(PortalForm):
    username = forms.CharField(
        label="Login name",
        max_length=40,
        help_text="3 to 40 letters, digits, dots, dashes or underscores.",
    )
    email = forms.EmailField(label="E-mail address", max_length=254)
    contact_name = TextField(label="Your name", max_length=200)
    holder_name = TextField(
        label="Holder or institution, as registered",
        max_length=200,
        help_text="The registered holder of the notes, the DTC participant, or the guarantor "
        "institution you act for.",
    )
    kind = forms.ChoiceField(label="You act for a", choices=HolderKind.choices)
    address = TextField(label="Registered address", max_length=1000, multiline=True)
    dtc_participant_number = forms.CharField(
        label="DTC participant number (DTC participants)", max_length=10, required=False
    )
    medallion_program = forms.ChoiceField(
        label="Medallion program (eligible guarantor institutions)",
        choices=[("", "—"), *MedallionProgram.choices],
        required=False,
    )
    note = TextField(
        label="Anything that helps the exchange agent identify you",
        help_text="E.g. a certificate number you hold. Never give a full tax identification "
        "number here.",
        max_length=1000,
        required=False,
        multiline=True,
        rows=2,
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        # Plain text: the portal renders every help text escaped, none as markup.
        help_text=" ".join(password_validation.password_validators_help_texts()),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_username(self) -> str:
        value = self.cleaned_data["username"].strip()
        if not USERNAME_PATTERN.match(value):
            raise ValidationError("Use 3 to 40 letters, digits, dots, dashes or underscores.")
        return value

    def clean_dtc_participant_number(self) -> str:
        value = self.cleaned_data.get("dtc_participant_number", "").strip()
        if value and not re.fullmatch(r"\d{1,10}", value, re.ASCII):
            raise ValidationError("A DTC participant number is digits only, e.g. 0901.")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind")
        if kind == HolderKind.DTC_PARTICIPANT and not cleaned.get("dtc_participant_number"):
            self.add_error("dtc_participant_number", "Give your DTC participant number.")
        if kind == HolderKind.ELIGIBLE_GUARANTOR and not cleaned.get("medallion_program"):
            self.add_error("medallion_program", "Give the medallion program you belong to.")
        one, two = cleaned.get("password1"), cleaned.get("password2")
        if one and two and one != two:
            self.add_error("password2", "The two passwords differ.")
        elif one:
            try:
                password_validation.validate_password(one)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned

    def sign_up(self) -> SignUp:
        data = self.cleaned_data
        return SignUp(
            username=data["username"],
            email=data["email"],
            password=data["password1"],
            contact_name=data["contact_name"],
            holder_name=data["holder_name"],
            kind=HolderKind(data["kind"]),
            address=data["address"],
            dtc_participant_number=data["dtc_participant_number"],
            medallion_program=data["medallion_program"],
            note=data["note"],
        )


class PasswordResetRequestForm(PortalForm):
    email = forms.EmailField(
        label="E-mail address the exchange agent has for you",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
