"""The portal's field helpers: text, amounts, whole numbers, dates, certificate lines.

Nothing typed is trusted beyond its shape: the owner is the signed-in holder, the
time is the server's, the state is the desk's, and the service checks the amounts against
the holding again under its locks. What these fields add is a message a person can act
on, next to the box it is about, before anything is recorded.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import Jinja2

# The largest amount the desk stores (17 digits, 2 of them cents); no series comes near it.
MAX_AMOUNT = Decimal("999999999999999")
# Typed dollars: digits with optional thousands commas and optional cents, a "$" in front.
# re.ASCII so that \d is 0-9 only: Python's int() and Decimal() would otherwise accept
# Arabic-Indic or full-width digits, exponents ("1e6") and underscores ("1_000").
_AMOUNT = re.compile(r"^\$?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$", re.ASCII)
CERTIFICATE_PATTERN = re.compile(r"^[A-Z0-9](?:[A-Z0-9-]{0,38}[A-Z0-9])?$", re.ASCII)
CONFIRMATION_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}[A-Za-z0-9])?$", re.ASCII)
TIN_PATTERN = re.compile(r"^(?:\d{9}|\d{3}-\d{2}-\d{4}|\d{2}-\d{7})$", re.ASCII)
_CERTIFICATE_LINE = re.compile(r"^(\S+?)(?:\s*[:;]\s*|\s+)(.*)$")
_WHOLE = re.compile(r"^\d{1,4}$", re.ASCII)
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_]{2,39}$", re.ASCII)
# Bidirectional embeddings, overrides and isolates can make text read differently from what
# it is (a name that displays as another); nobody needs them in a letter of transmittal.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_MINUS_SIGNS = ("-", "\u2212", "\u2012", "\u2013", "\u2014", "\ufe63", "\uff0d", "(")


def money_text(amount: Decimal) -> str:
    return f"${amount:,.2f}"


# --- fields that parse strictly ---------------------------------------------------------------


def clean_text(value: str, *, multiline: bool) -> str:
    """NFC-normalised text without control characters (line breaks allowed when multiline)."""
    value = unicodedata.normalize("NFC", value)
    allowed = {"\n", "\r", "\t"} if multiline else {"\t"}
    for char in value:
        if char in _BIDI_CONTROLS or (unicodedata.category(char) == "Cc" and char not in allowed):
            raise ValidationError(
                "Remove the control characters (invisible formatting characters) from this box.",
                code="control_characters",
            )
    if not multiline and ("\n" in value or "\r" in value):
        raise ValidationError("Keep this to one line.", code="one_line")
    return value.replace("\r\n", "\n").replace("\t", " ").strip()


class TextField(forms.CharField):
    """Plain text a person types: normalised, without control characters."""

    def __init__(self, *, multiline: bool = False, rows: int = 3, **kwargs: Any) -> None:
        self.multiline = multiline
        if multiline:
            kwargs.setdefault("widget", forms.Textarea(attrs={"rows": rows}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        return clean_text(text, multiline=self.multiline) if text else text


def parse_amount(text: str) -> Decimal:
    """A dollar amount as a person types it: "250,000", "$1,000,000.00", "5000"."""
    text = text.strip()
    if text.startswith(_MINUS_SIGNS) or text.startswith("$-"):
        raise ValidationError("The amount must be more than zero.", code="negative")
    match = _AMOUNT.match(text)
    if match is None:
        raise ValidationError(
            "Type the amount in dollars with the digits 0-9 only, e.g. 250,000 or "
            "$1,000,000.00 (no letters, exponents, spaces or other signs).",
            code="format",
        )
    digits = text.replace("$", "").replace(",", "").strip()
    if len(digits.split(".", 1)[0].lstrip("0")) > len(str(int(MAX_AMOUNT))):
        raise ValidationError("That amount is larger than any series of notes.", code="huge")
    amount = Decimal(digits)
    if amount > MAX_AMOUNT:
        raise ValidationError("That amount is larger than any series of notes.", code="huge")
    if amount <= 0:
        raise ValidationError("The amount must be more than zero.", code="zero")
    return amount.quantize(Decimal("0.01"))


def check_denomination(amount: Decimal, denomination: Decimal, label: str) -> None:
    if amount % denomination:
        raise ValidationError(
            f"The {label} must be in authorized denominations: {money_text(denomination)} "
            f"and integral multiples of {money_text(denomination)} "
            f"({money_text(amount)} is not).",
            code="denomination",
        )


class AmountField(forms.CharField):
    """A principal amount: strictly parsed, positive, in the series' denomination."""

    def __init__(self, *, denomination: Decimal, label_for_errors: str, **kwargs: Any) -> None:
        self.denomination = denomination
        self.label_for_errors = label_for_errors
        # No max_length: Django would run its length validator on the parsed Decimal.
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"inputmode": "decimal", "autocomplete": "off", "size": 20, "maxlength": 40}
            ),
        )
        kwargs.setdefault(
            "error_messages", {"required": f"Give the {label_for_errors}, e.g. 250,000."}
        )
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        if len(text) > 40:
            raise ValidationError("That amount is larger than any series of notes.", code="huge")
        amount = parse_amount(text)
        check_denomination(amount, self.denomination, self.label_for_errors)
        return amount

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return f"{value:,.2f}".removesuffix(".00")
        return value


class WholeNumberField(forms.CharField):
    """A small count (copies of the prospectus): ASCII digits only, 0 to `maximum`."""

    def __init__(self, *, maximum: int, **kwargs: Any) -> None:
        self.maximum = maximum
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric", "size": 4}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int:  # type: ignore[override]
        text = (super().to_python(value) or "").strip()
        if not text:
            return 0
        if not _WHOLE.match(text) or int(text) > self.maximum:
            raise ValidationError(
                f"Give a whole number from 0 to {self.maximum}, in the digits 0-9.",
                code="whole_number",
            )
        return int(text)

    def prepare_value(self, value: Any) -> Any:
        return "" if value in (0, "0") else value


class IsoDateField(forms.DateField):
    """A date as YYYY-MM-DD in the digits 0-9 (strptime alone would take other digits)."""

    input_formats = ["%Y-%m-%d"]

    def to_python(self, value: Any) -> dt.date | None:
        if (
            isinstance(value, str)
            and value.strip()
            and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip(), re.ASCII)
        ):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


@dataclass(frozen=True)
class CertificateEntry:
    number: str
    amount: Decimal | None  # None: the whole of what is still free on the certificate


def split_certificate_list(line: str) -> list[str]:
    """ "R08-0001, R08-0002" as two lines: the notice of guaranteed delivery and the notice of
    withdrawal take numbers separated by commas, and a holder copies them from there. Only
    when every part is a certificate number with a letter or dash in it, so that an amount
    such as "1,000,000" is never split."""
    parts = [p.strip().upper() for p in line.split(",")]
    if len(parts) > 1 and all(CERTIFICATE_PATTERN.match(p) and not p.isdigit() for p in parts if p):
        return [p for p in parts if p]
    return [line]


class CertificateLinesField(forms.CharField):
    """Box 1 of the letter: one certificate per line, its number and the amount tendered."""

    MAX_LINES = 50

    def __init__(self, *, denomination: Decimal, amounts_required: bool, **kwargs: Any) -> None:
        self.denomination = denomination
        self.amounts_required = amounts_required
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[CertificateEntry]:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return []
        if len(text) > self.MAX_LINES * 80:
            raise ValidationError(f"List at most {self.MAX_LINES} certificates on one letter.")
        text = clean_text(text, multiline=True)
        lines = [
            part
            for line in text.splitlines()
            if line.strip()
            for part in split_certificate_list(line.strip())
        ]
        if len(lines) > self.MAX_LINES:
            raise ValidationError(f"List at most {self.MAX_LINES} certificates on one letter.")
        entries: list[CertificateEntry] = []
        seen: set[str] = set()
        for line in lines:
            match = _CERTIFICATE_LINE.match(line)
            number, rest = (match.group(1), match.group(2)) if match else (line, "")
            number = number.upper()
            if not CERTIFICATE_PATTERN.match(number):
                raise ValidationError(
                    f"“{line[:40]}”: a certificate number is letters, digits and dashes "
                    f"(e.g. R08-0001), then the amount tendered from it.",
                    code="certificate_number",
                )
            if number in seen:
                raise ValidationError(f"Certificate {number} is listed twice.", code="twice")
            seen.add(number)
            amount: Decimal | None = None
            if rest.strip():
                try:
                    amount = parse_amount(rest)
                except ValidationError as exc:
                    raise ValidationError(
                        f"Certificate {number}: {' '.join(exc.messages)}", code="amount"
                    ) from None
                check_denomination(amount, self.denomination, f"amount of certificate {number}")
            elif self.amounts_required:
                raise ValidationError(
                    f"Certificate {number}: give the principal amount delivered from it.",
                    code="amount_required",
                )
            entries.append(CertificateEntry(number, amount))
        return entries


def checkbox_field(
    label: str, help_text: str = "", *, required: str | None = None
) -> forms.BooleanField:
    """A box to tick; `required` is the message when a box that must be ticked is not."""
    return forms.BooleanField(
        label=label,
        help_text=help_text,
        required=required is not None,
        error_messages={"required": required} if required else None,
    )


def field_errors_summary(form: forms.Form) -> list[tuple[str, str, str]]:
    """(field id, label, first message) for the error summary at the top of a form."""
    summary = []
    for name, errors in form.errors.items():
        if name == "__all__":
            continue
        bound = form[name]
        summary.append((bound.id_for_label, str(bound.label), errors[0]))
    return summary


class _ListedChoices(forms.models.ModelChoiceIterator):
    """The choices read as one plain query: Django iterates a choice field's queryset with
    .iterator(), which on PostgreSQL is a server-side cursor (DECLARE, and a transaction
    around it) on every page that shows the field; for a short list that is pure cost."""

    def __iter__(self):  # type: ignore[no-untyped-def]
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


class ShortModelChoiceField(forms.ModelChoiceField):
    """A choice of a few rows (the eligible guarantor institutions)."""

    iterator = _ListedChoices


# The portal's forms render their widgets with Jinja2 (Django's own widget templates, in
# their Jinja2 form): the same HTML at a fraction of the CPU of Django's template engine,
# which a form page of some thirty boxes spent a third of its time in. The desk keeps
# Django's renderer, which the admin's own widgets need. One instance: its engine is
# built once per process.
PORTAL_RENDERER = Jinja2()


class PortalForm(forms.Form):
    """A holder-facing form (see PORTAL_RENDERER)."""

    default_renderer = PORTAL_RENDERER
