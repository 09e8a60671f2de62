"""The portal's forms: they parse and check what a person typed; the services act.

Nothing typed here is trusted beyond its shape: the owner is the signed-in holder, the
time is the server's, the state is the desk's, and the service checks the amounts against
the holding again under its locks. What these forms add is a message a person can act on,
next to the box it is about, before anything is recorded.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from exchange import calendars
from exchange.models import (
    Channel,
    DeficiencyKind,
    ExchangeOffer,
    MedallionProgram,
    NoteSeries,
    SignerCapacity,
    Tender,
    WithdrawalNotice,
)
from exchange.services.base import DeskError
from exchange.services.guaranteed_deliveries import NoticeOfGuaranteedDelivery, delivery_deadline
from exchange.services.tenders import CertificateTendered, LetterOfTransmittal
from exchange.services.withdrawals import NoticeOfWithdrawal, missing_elements
from holders.models import Holder, HolderKind
from holders.selectors import CertificateLine
from holders.services import SignUp

# The largest amount the desk stores (17 digits, 2 of them cents); no series comes near it.
MAX_AMOUNT = Decimal("999999999999999")
# Typed dollars: digits with optional thousands commas and optional cents, a "$" in front.
# re.ASCII so that \d is 0-9 only: Python's int() and Decimal() would otherwise accept
# Arabic-Indic or full-width digits, exponents ("1e6") and underscores ("1_000").
_AMOUNT = re.compile(r"^\$?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$", re.ASCII)
_CERTIFICATE = re.compile(r"^[A-Z0-9](?:[A-Z0-9-]{0,38}[A-Z0-9])?$", re.ASCII)
_CONFIRMATION = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}[A-Za-z0-9])?$", re.ASCII)
_TIN = re.compile(r"^(?:\d{9}|\d{3}-\d{2}-\d{4}|\d{2}-\d{7})$", re.ASCII)
_CERTIFICATE_LINE = re.compile(r"^(\S+?)(?:\s*[:;]\s*|\s+)(.*)$")
_WHOLE = re.compile(r"^\d{1,4}$", re.ASCII)
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_]{2,39}$", re.ASCII)
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
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if len(lines) > self.MAX_LINES:
            raise ValidationError(f"List at most {self.MAX_LINES} certificates on one letter.")
        entries: list[CertificateEntry] = []
        seen: set[str] = set()
        for line in lines:
            match = _CERTIFICATE_LINE.match(line)
            number, rest = (match.group(1), match.group(2)) if match else (line, "")
            number = number.upper()
            if not _CERTIFICATE.match(number):
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


def _checkbox(
    label: str, help_text: str = "", *, required: str | None = None
) -> forms.BooleanField:
    """A box to tick; `required` is the message when a box that must be ticked is not."""
    return forms.BooleanField(
        label=label,
        help_text=help_text,
        required=required is not None,
        error_messages={"required": required} if required else None,
    )


# --- the boxes of the letter of transmittal -----------------------------------------------------

# Which boxes go together: a cure form shows the group a deficiency is about.
GROUPS: dict[str, tuple[str, ...]] = {
    "box1": ("registered_names",),
    "book_entry": ("book_entry_confirmation", "agents_message", "beneficial_owner"),
    "instructions": (
        "special_issuance_name",
        "special_issuance_address",
        "special_delivery_name",
        "special_delivery_address",
    ),
    "signature": (
        "signer_name",
        "signer_capacity",
        "signed",
        "medallion_guarantor",
        "medallion_program",
    ),
    "representations": (
        "rep_full_authority",
        "rep_not_affiliate",
        "rep_not_broker_dealer_from_issuer",
        "rep_ordinary_course",
        "rep_no_distribution",
        "rep_affiliate_will_comply",
    ),
    "broker_dealer": (
        "is_broker_dealer",
        "broker_dealer_prospectus_acknowledged",
        "prospectus_copies_requested",
    ),
    "w9": ("tin", "w9_certified", "w9_exempt_payee"),
}
# The deficiencies a holder can cure by correcting boxes; the others need the desk
# (certificates, amounts, a late receipt) or the issuer's waiver.
# The boxes shown are those cure_deficiency lets the holder correct for that kind.
CURABLE: dict[str, tuple[str, ...]] = {
    DeficiencyKind.SIGNATURE: ("signer_name", "signer_capacity", "signed"),
    DeficiencyKind.MEDALLION_GUARANTEE: ("medallion_guarantor", "medallion_program"),
    DeficiencyKind.REPRESENTATIONS: GROUPS["representations"],
    DeficiencyKind.BROKER_DEALER_ACKNOWLEDGMENT: (
        "broker_dealer_prospectus_acknowledged",
        "prospectus_copies_requested",
    ),
    DeficiencyKind.W9: GROUPS["w9"],
    DeficiencyKind.BOOK_ENTRY_CONFIRMATION: ("book_entry_confirmation", "agents_message"),
}
NOT_CURABLE_HERE: dict[str, str] = {
    DeficiencyKind.CERTIFICATES: (
        "The certificates cannot be changed on a letter already received: withdraw this "
        "tender and tender again listing the right certificates, before the offer expires."
    ),
    DeficiencyKind.DENOMINATION: (
        "The amount cannot be changed on a letter already received: withdraw this tender and "
        "tender again in an authorized denomination, before the offer expires."
    ),
    DeficiencyKind.LATE_RECEIPT: (
        "A letter received after the expiration instant cannot be cured; only the issuer "
        "can waive it."
    ),
    DeficiencyKind.OTHER: (
        "Do what the exchange agent's note asks; the exchange agent records the cure when it "
        "has what it needs. Call or write to the exchange agent with any question."
    ),
}


class LetterBoxesForm(forms.Form):
    """The boxes of a letter of transmittal that are the holder's to fill in.

    Used whole by the letter (and by the delivery completing a guaranteed delivery), and
    group by group by a cure, where the boxes not shown keep the tender's values.
    """

    registered_names = TextField(
        label="Name(s) in which the original notes are registered",
        max_length=500,
        multiline=True,
        rows=2,
        help_text="Exactly as on the certificates (for DTC positions: as on the security "
        "position listing, usually Cede & Co.).",
        error_messages={"required": "Give the name(s) in which the notes are registered."},
    )
    # Book-entry (DTC participants).
    book_entry_confirmation = forms.CharField(
        label="DTC book-entry confirmation number",
        max_length=40,
        required=False,
        help_text="The confirmation of the transfer into the exchange agent's account at DTC.",
    )
    agents_message = _checkbox(
        "An Agent's Message was transmitted through DTC's ATOP",
        "DTC's statement that the participant agrees to be bound by this letter.",
    )
    beneficial_owner = TextField(
        label="Beneficial owner(s) tendered for", max_length=200, required=False
    )
    # Special issuance and delivery instructions.
    special_issuance_name = TextField(
        label="Issue the new notes (and any notes not exchanged) in the name of",
        max_length=200,
        required=False,
    )
    special_issuance_address = TextField(
        label="Address of that person", max_length=1000, required=False, multiline=True
    )
    special_delivery_name = TextField(
        label="Deliver the new notes (and any notes not exchanged) to",
        max_length=200,
        required=False,
    )
    special_delivery_address = TextField(
        label="Delivery address", max_length=1000, required=False, multiline=True
    )
    # Signature.
    signer_name = TextField(
        label="Name of the person signing",
        max_length=200,
        error_messages={"required": "Give the name of the person signing the letter."},
    )
    signer_capacity = forms.ChoiceField(
        label="Signing as",
        choices=(),
        error_messages={"required": "Say in which capacity the letter is signed."},
    )
    signed = _checkbox(
        "I sign this letter of transmittal",
        "Ticking this box is your signature: the exchange agent records who signed, and when.",
        required="Sign the letter: tick the box.",
    )
    medallion_guarantor = forms.ModelChoiceField(
        label="Signature guaranteed by (eligible guarantor institution)",
        queryset=Holder.objects.filter(kind=HolderKind.ELIGIBLE_GUARANTOR).order_by("name"),
        required=False,
        empty_label="No signature guarantee",
    )
    medallion_program = forms.ChoiceField(
        label="Medallion program of the guarantee",
        choices=[("", "—"), *MedallionProgram.choices],
        required=False,
    )
    # Representations of the transferor.
    rep_full_authority = _checkbox(
        "I have full power and authority to tender, exchange, assign and transfer these notes, "
        "and when they are accepted the issuer will acquire good and unencumbered title, free "
        "of all liens, restrictions, charges and encumbrances and of any adverse claim."
    )
    rep_not_affiliate = _checkbox("I am not an affiliate of the issuer (Rule 405).")
    rep_not_broker_dealer_from_issuer = _checkbox(
        "I am not a broker-dealer that owns original notes acquired directly from the issuer "
        "or an affiliate of the issuer."
    )
    rep_ordinary_course = _checkbox(
        "I am acquiring the new notes in the ordinary course of my business."
    )
    rep_no_distribution = _checkbox(
        "I have no arrangement with any person to participate in the distribution of the new notes."
    )
    rep_affiliate_will_comply = _checkbox(
        "I am an affiliate of the issuer or of the initial purchasers, and I will comply with "
        "the registration and prospectus delivery requirements of the Securities Act."
    )
    is_broker_dealer = _checkbox("I am a broker-dealer receiving new notes for my own account.")
    broker_dealer_prospectus_acknowledged = _checkbox(
        "I acknowledge that I will deliver a prospectus in connection with any resale of the "
        "new notes (by so acknowledging I do not admit to being an underwriter)."
    )
    prospectus_copies_requested = WholeNumberField(
        label="Copies of the prospectus wanted (broker-dealers)",
        maximum=99,
        required=False,
    )
    # Substitute Form W-9. The full TIN is read, checked and reduced to its last four
    # digits here; it is never stored, logged or shown back.
    tin = forms.CharField(
        label="Taxpayer identification number (TIN)",
        required=False,
        max_length=20,
        strip=True,
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "off", "inputmode": "numeric", "size": 12}
        ),
        help_text="Social security number (123-45-6789) or employer identification number "
        "(12-3456789). Only its last four digits are kept; for your protection it is not shown "
        "back, so type it again if the form returns with an error.",
    )
    w9_certified = _checkbox(
        "Under penalties of perjury, I certify that the number shown is my correct taxpayer "
        "identification number, and that I am not subject to backup withholding."
    )
    w9_exempt_payee = _checkbox(
        "I am an exempt payee (e.g. a corporation or a tax-exempt organization)."
    )

    # A cure form asks for what the exchange agent found missing, whatever the rule says.
    require_medallion = False
    require_w9 = False

    def __init__(
        self,
        *args: Any,
        offer: ExchangeOffer,
        channel: Channel,
        groups: Iterable[str] | None = None,
        base: Tender | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.offer = offer
        self.channel = channel
        self.base = base
        wanted = (
            set(groups)
            if groups is not None
            else set(GROUPS) - ({"book_entry"} if channel != Channel.BOOK_ENTRY else set())
        )
        self.groups = [g for g in GROUPS if g in wanted]
        keep = {name for g in self.groups for name in GROUPS[g]}
        for name in [n for n in GROUPS_FIELDS if n not in keep]:
            del self.fields[name]
        if "signer_capacity" in self.fields:
            capacities = (
                [SignerCapacity.DTC_PARTICIPANT]
                if channel == Channel.BOOK_ENTRY
                else [c for c in SignerCapacity if c != SignerCapacity.DTC_PARTICIPANT]
            )
            field = self.fields["signer_capacity"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", "Choose…"), *((c.value, c.label) for c in capacities)]
        issuer = offer.issuer.name
        for name in GROUPS["representations"]:
            if name in self.fields:
                label = str(self.fields[name].label).replace("the issuer", issuer)
                self.fields[name].label = label.replace("..", ".")  # "Inc." ends a sentence
        if "book_entry_confirmation" in self.fields and channel == Channel.BOOK_ENTRY:
            self.fields["book_entry_confirmation"].required = True
            self.fields["book_entry_confirmation"].error_messages["required"] = (
                "A book-entry tender is received only with DTC's book-entry confirmation."
            )

    @property
    def backup_withholding_rate(self) -> str:
        return f"{(self.offer.backup_withholding_rate * 100).normalize():f}%"

    def _value(self, name: str) -> Any:
        """A box as it will stand: what was typed, or the tender's value for a box not shown."""
        if name in self.fields:
            return self.cleaned_data.get(name)
        if self.base is not None and name != "tin":
            return getattr(self.base, name)
        return None

    def clean_book_entry_confirmation(self) -> str:
        value = self.cleaned_data.get("book_entry_confirmation", "").strip()
        if value and not _CONFIRMATION.match(value):
            raise ValidationError(
                "A DTC confirmation number is letters, digits and dashes (e.g. ATOP-000123)."
            )
        return value

    def clean_tin(self) -> str:
        value = self.cleaned_data.get("tin", "").strip()
        if not value:
            return ""
        if not _TIN.match(value) or set(value.replace("-", "")) == {"0"}:
            raise ValidationError(
                "Give the 9-digit TIN in the digits 0-9: an SSN as 123-45-6789 or an EIN as "
                "12-3456789."
            )
        return value.replace("-", "")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for group in self.groups:
            check = getattr(self, f"_check_{group}", None)
            if check is not None:
                check()
        return cleaned

    def needs_medallion_guarantee(self) -> bool:
        """The prospectus's rule: no guarantee when the registered holder signs and the new
        notes go to it at its registered address (book-entry tenders: DTC's own rules)."""
        if self.channel == Channel.BOOK_ENTRY:
            return False
        special = any(self._value(n) for n in GROUPS["instructions"])
        return self._value("signer_capacity") != SignerCapacity.REGISTERED_HOLDER or special

    def _add(self, name: str, message: str) -> None:
        """An error next to its box, or at the top when this form does not show that box
        (a cure shows only the boxes its deficiency is about)."""
        self.add_error(name if name in self.fields else None, message)

    def _check_instructions(self) -> None:
        for name_field, address_field, what in (
            ("special_issuance_name", "special_issuance_address", "special issuance"),
            ("special_delivery_name", "special_delivery_address", "special delivery"),
        ):
            if name_field in self.errors or address_field in self.errors:
                continue  # its own message says what is wrong; no second guess from a blank
            name, address = self._value(name_field), self._value(address_field)
            if name and not address:
                self._add(address_field, f"Give the address for the {what} instructions.")
            if address and not name:
                self._add(name_field, f"Give the name for the {what} instructions.")

    def _check_signature(self) -> None:
        if {"signer_capacity", "medallion_guarantor", "medallion_program"} & set(self.errors):
            return  # a box that did not parse has its own message
        guarantor = self._value("medallion_guarantor")
        program = self._value("medallion_program")
        if self.needs_medallion_guarantee() or self.require_medallion:
            why = (
                "The exchange agent asked for a medallion signature guarantee."
                if self.require_medallion
                else "A signature other than the registered holder's, or special issuance or "
                "delivery instructions, need a medallion signature guarantee."
            )
            if "medallion_guarantor" not in self.fields and not guarantor:
                self._add(
                    "signer_capacity",
                    f"{why} This letter has none: sign as the registered holder, or cure a "
                    f"medallion guarantee deficiency with the exchange agent.",
                )
                return
            if not guarantor:
                self._add("medallion_guarantor", f"{why} Choose the guarantor institution.")
            if not program:
                self._add("medallion_program", f"{why} Choose its medallion program.")
        if guarantor and program and guarantor.medallion_program != program:
            self._add(
                "medallion_program",
                f"{guarantor.name} is a member of {guarantor.medallion_program}, not {program}.",
            )
        if program and not guarantor:
            self._add("medallion_guarantor", "Choose the institution that guarantees.")

    def _check_representations(self) -> None:
        if not self._value("rep_full_authority"):
            self._add(
                "rep_full_authority",
                "Every tendering holder makes this representation: tick it to tender.",
            )
        ordinary = [
            "rep_not_affiliate",
            "rep_not_broker_dealer_from_issuer",
            "rep_ordinary_course",
            "rep_no_distribution",
        ]
        ticked = [n for n in ordinary if self._value(n)]
        affiliate = bool(self._value("rep_affiliate_will_comply"))
        if affiliate and self._value("rep_not_affiliate"):
            self._add(
                "rep_affiliate_will_comply",
                "You cannot certify both that you are not an affiliate and that you are one: "
                "choose (1) or (2).",
            )
        elif not affiliate and len(ticked) != len(ordinary):
            missing = next(n for n in ordinary if n not in ticked)
            self._add(
                missing,
                "Certify all four statements of (1), or, if you are an affiliate, (2).",
            )

    def _check_broker_dealer(self) -> None:
        if self._value("is_broker_dealer") and not self._value(
            "broker_dealer_prospectus_acknowledged"
        ):
            self._add(
                "broker_dealer_prospectus_acknowledged",
                "A broker-dealer receiving new notes for its own account must acknowledge that "
                "it will deliver a prospectus on any resale.",
            )

    def _check_w9(self) -> None:
        tin = self.cleaned_data.get("tin", "")
        certified = bool(self.cleaned_data.get("w9_certified"))
        exempt = bool(self.cleaned_data.get("w9_exempt_payee"))
        kept = self.base.w9_tin_last4 if self.base is not None else ""
        if "tin" in self.errors:
            return
        if tin and not certified:
            self.add_error(
                "w9_certified",
                "Tick the certification for the TIN you gave, or leave the TIN blank.",
            )
        if certified and not tin and not kept:
            self.add_error("tin", "Give the taxpayer identification number you certify.")
        if self.require_w9 and not (certified or exempt):
            self.add_error(
                "w9_certified",
                "Certify your TIN, or state that you are an exempt payee, to complete the "
                "Substitute Form W-9.",
            )

    def letter(self) -> dict[str, object]:
        """The boxes shown, as the Tender's fields (the TIN reduced to its last four digits)."""
        data: dict[str, object] = {}
        for name in GROUPS_FIELDS:
            if name in self.fields:
                value = self.cleaned_data.get(name)
                if name == "tin":
                    if value:
                        data["w9_tin_last4"] = str(value)[-4:]
                    elif not self.cleaned_data.get("w9_certified"):
                        data["w9_tin_last4"] = ""
                    continue
                if name in ("medallion_guarantor",):
                    data[name] = value or None
                elif name in ("medallion_program", "signer_capacity"):
                    data[name] = value or ""
                elif name == "prospectus_copies_requested":
                    data[name] = int(value or 0)
                else:
                    data[name] = value if value is not None else ""
        return data

    def add_desk_error(self, exc: DeskError, field_map: dict[str, str] | None = None) -> None:
        """A service's refusal, next to the box it is about when the form has that box."""
        name = (field_map or {}).get(exc.field or "", exc.field)
        self.add_error(name if name in self.fields else None, exc.message)


GROUPS_FIELDS = [name for names in GROUPS.values() for name in names]


def initial_letter(holder: Holder, channel: Channel) -> dict[str, Any]:
    """What the desk already knows about the holder, as a starting point (all editable)."""
    return {
        "registered_names": "Cede & Co." if channel == Channel.BOOK_ENTRY else holder.name,
        "signer_capacity": SignerCapacity.DTC_PARTICIPANT
        if channel == Channel.BOOK_ENTRY
        else SignerCapacity.REGISTERED_HOLDER,
        "is_broker_dealer": holder.is_broker_dealer,
        "w9_exempt_payee": holder.tin_status == "exempt",
    }


def resolve_certificates(
    entries: list[CertificateEntry], lines: list[CertificateLine], holder_name: str
) -> list[CertificateTendered]:
    """Fill in "the whole certificate" for lines given without an amount."""
    free = {line.holding.certificate_number: line.free for line in lines}
    result = []
    for entry in entries:
        amount = entry.amount
        if amount is None:
            if entry.number not in free:
                raise ValidationError(
                    f"Certificate {entry.number} is not registered to {holder_name} for this "
                    f"series; check the number against your certificates below."
                )
            amount = free[entry.number]
            if amount <= 0:
                raise ValidationError(f"Certificate {entry.number} is already tendered in full.")
        result.append(CertificateTendered(entry.number, amount))
    return result


class LetterOfTransmittalForm(LetterBoxesForm):
    """The letter of transmittal for one series, with the notes (or DTC's confirmation)."""

    field_order = ["amount", "certificates"]

    def __init__(
        self,
        *args: Any,
        holder: Holder,
        series: NoteSeries,
        certificate_lines: list[CertificateLine],
        **kwargs: Any,
    ) -> None:
        channel = (
            Channel.BOOK_ENTRY
            if holder.kind == HolderKind.DTC_PARTICIPANT
            else Channel.PAPER_LETTER
        )
        kwargs.setdefault("initial", initial_letter(holder, channel))
        super().__init__(*args, offer=series.offer, channel=channel, **kwargs)
        self.holder = holder
        self.series = series
        self.certificate_lines = certificate_lines
        self.fields["amount"] = AmountField(
            label=f"{series.amount_label.capitalize()} tendered",
            denomination=series.denomination,
            label_for_errors=series.amount_label,
            help_text=f"In {money_text(series.denomination)} multiples, not more than you hold "
            f"and have not already tendered.",
        )
        if channel == Channel.PAPER_LETTER:
            example = (
                certificate_lines[0].holding.certificate_number if certificate_lines else "R08-0001"
            )
            self.fields["certificates"] = CertificateLinesField(
                label="Certificates delivered with this letter",
                denomination=series.denomination,
                amounts_required=False,
                help_text="One per line: the certificate number, then the amount tendered from "
                f"it (e.g. “{example} 1,000,000”). A number alone tenders all of that "
                "certificate not already tendered.",
                error_messages={"required": "List the certificate numbers of the notes tendered."},
            )
        self.order_fields(["amount", "certificates", *GROUPS_FIELDS])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.channel == Channel.PAPER_LETTER and "certificates" not in self.errors:
            try:
                certificates = resolve_certificates(
                    cleaned.get("certificates") or [], self.certificate_lines, self.holder.name
                )
            except ValidationError as exc:
                self.add_error("certificates", exc)
                return cleaned
            cleaned["resolved_certificates"] = certificates
            amount = cleaned.get("amount")
            total = sum((c.amount for c in certificates), Decimal("0"))
            if amount is not None and certificates and total != amount:
                self.add_error(
                    "certificates",
                    f"The certificates listed come to {money_text(total)}, not the "
                    f"{money_text(amount)} tendered.",
                )
        return cleaned

    def submission(self) -> LetterOfTransmittal:
        return LetterOfTransmittal(
            amount=self.cleaned_data["amount"],
            channel=self.channel,
            certificates=self.cleaned_data.get("resolved_certificates", ()),
            letter=self.letter(),
        )


class DeliveryForm(LetterBoxesForm):
    """The notes and the letter that complete a guaranteed delivery (the amount is fixed)."""

    def __init__(
        self,
        *args: Any,
        tender: Tender,
        certificate_lines: list[CertificateLine] | None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault(
            "initial",
            {
                **initial_letter(tender.holder, Channel.PAPER_LETTER),
                "registered_names": tender.registered_names,
            },
        )
        super().__init__(*args, offer=tender.offer, channel=Channel.PAPER_LETTER, **kwargs)
        self.tender = tender
        # The guarantor sees no holdings, so it gives every amount; the holder may not.
        self.certificate_lines = certificate_lines
        self.fields["certificates"] = CertificateLinesField(
            label="Certificates delivered",
            denomination=tender.series.denomination,
            amounts_required=certificate_lines is None,
            help_text="One per line: the certificate number, then the amount delivered from it "
            f"(e.g. “R08-0001 1,000,000”); together {money_text(tender.live_amount)}.",
            error_messages={"required": "List the certificates delivered."},
        )
        self.order_fields(["certificates", *GROUPS_FIELDS])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "certificates" in self.errors:
            return cleaned
        try:
            certificates = resolve_certificates(
                cleaned.get("certificates") or [],
                self.certificate_lines or [],
                self.tender.holder.name,
            )
        except ValidationError as exc:
            self.add_error("certificates", exc)
            return cleaned
        total = sum((c.amount for c in certificates), Decimal("0"))
        due = self.tender.live_amount  # a part withdrawn meanwhile is not delivered
        if certificates and total != due:
            self.add_error(
                "certificates",
                f"The certificates listed come to {money_text(total)}, not the "
                f"{money_text(due)} guaranteed.",
            )
        cleaned["resolved_certificates"] = certificates
        return cleaned


class CureForm(LetterBoxesForm):
    """The boxes a deficiency is about, corrected; the others keep the letter's values."""

    def __init__(self, *args: Any, tender: Tender, kind: str, **kwargs: Any) -> None:
        names = CURABLE[kind]
        groups = [g for g, fields in GROUPS.items() if set(fields) & set(names)]
        kwargs.setdefault("initial", {n: getattr(tender, n) for n in names if n != "tin"})
        super().__init__(
            *args,
            offer=tender.offer,
            channel=Channel(tender.channel),
            groups=groups,
            base=tender,
            **kwargs,
        )
        for name in [n for n in self.fields if n not in names]:
            del self.fields[name]
        self.require_medallion = kind == DeficiencyKind.MEDALLION_GUARANTEE
        self.require_w9 = kind == DeficiencyKind.W9
        if "tin" in self.fields and tender.w9_tin_last4:
            self.fields["tin"].help_text = (
                f"The letter shows a TIN ending {tender.w9_tin_last4}; leave blank to keep it, "
                f"or give the full corrected TIN."
            )
        self.fields["note"] = TextField(
            label="Anything the exchange agent should know (optional)",
            required=False,
            max_length=1000,
            multiline=True,
            rows=2,
        )


# --- notice of guaranteed delivery -------------------------------------------------------------


class GuaranteedDeliveryForm(forms.Form):
    """A notice of guaranteed delivery, executed by an eligible guarantor institution."""

    tendering_holder = forms.ModelChoiceField(
        label="Tendering registered holder",
        queryset=Holder.objects.filter(kind=HolderKind.REGISTERED_HOLDER).order_by("name"),
        empty_label="Choose the holder…",
        error_messages={
            "required": "Choose the registered holder for whom the notes are tendered.",
            "invalid_choice": "Choose one of the registered holders listed.",
        },
    )
    tendering_holder_address = TextField(
        label="Address of the tendering holder",
        max_length=1000,
        multiline=True,
        error_messages={"required": "The notice must set forth the tendering holder's address."},
    )
    registered_names = TextField(
        label="Name(s) in which the notes are registered",
        max_length=500,
        multiline=True,
        rows=2,
        error_messages={
            "required": "The notice must set forth the names in which the notes are registered."
        },
    )
    certificate_numbers = TextField(
        label="Certificate numbers (if available)",
        max_length=2000,
        required=False,
        multiline=True,
        rows=2,
        help_text="Separated by commas or on separate lines.",
    )
    executed_on = IsoDateField(
        label="Date of execution of this notice",
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        help_text="YYYY-MM-DD. The notes and the letter are due by the end of the third New York "
        "Stock Exchange trading day after it.",
        error_messages={"invalid": "Give the date as YYYY-MM-DD, e.g. 2000-07-11."},
    )
    states_tender = _checkbox(
        "The undersigned tenders the original notes described above, on the terms of the "
        "prospectus and the letter of transmittal, under the guaranteed delivery procedure.",
        required="The notice must state that the tender is made: tick the box.",
    )
    guarantee = _checkbox(
        "The undersigned, an eligible guarantor institution, guarantees that the notes in "
        "proper form for transfer (or a book-entry confirmation), with a properly completed "
        "and signed letter of transmittal, will reach the exchange agent within three New York "
        "Stock Exchange trading days after the date of execution of this notice.",
        required="The notice is a guarantee: tick the box to give it.",
    )

    def __init__(self, *args: Any, series: NoteSeries, now: dt.datetime, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"executed_on": calendars.ny_date(now)})
        super().__init__(*args, **kwargs)
        self.series = series
        self.now = now
        self.fields["amount"] = AmountField(
            label=f"{series.amount_label.capitalize()} tendered",
            denomination=series.denomination,
            label_for_errors=series.amount_label,
            help_text=f"In {money_text(series.denomination)} multiples.",
        )
        self.order_fields(
            [
                "tendering_holder",
                "tendering_holder_address",
                "registered_names",
                "amount",
                "certificate_numbers",
                "executed_on",
            ]
        )

    def clean_executed_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["executed_on"]
        today = calendars.ny_date(self.now)
        if day > today:
            raise ValidationError(
                f"The notice cannot be executed after today ({today:%Y-%m-%d}, New York)."
            )
        commenced = self.series.offer.commenced_at
        if commenced is not None and day < calendars.ny_date(commenced):
            raise ValidationError("The notice cannot be executed before the offer commenced.")
        if delivery_deadline(day) <= self.now:
            raise ValidationError(
                f"Executed on {day:%Y-%m-%d}, the notes would already have been due by "
                f"{calendars.format_ny(delivery_deadline(day))}."
            )
        return day

    def clean_certificate_numbers(self) -> str:
        text = self.cleaned_data.get("certificate_numbers", "")
        numbers = [n.strip().upper() for n in re.split(r"[,\n]", text) if n.strip()]
        for number in numbers:
            if not _CERTIFICATE.match(number):
                raise ValidationError(
                    f"“{number[:40]}” is not a certificate number (letters, digits and dashes)."
                )
        return ", ".join(numbers)

    def notice(self) -> NoticeOfGuaranteedDelivery:
        data = self.cleaned_data
        return NoticeOfGuaranteedDelivery(
            tendering_holder_name=data["tendering_holder"].name,
            tendering_holder_address=data["tendering_holder_address"],
            registered_names=data["registered_names"],
            certificate_numbers=data["certificate_numbers"],
            amount=data["amount"],
            executed_on=data["executed_on"],
        )


# --- notice of withdrawal -------------------------------------------------------------------------


# The prospectus numbers the six elements; missing_elements names them by number.
ELEMENT_FIELDS = {
    "(1)": "tendering_person_name",
    "(2)": "certificate_numbers",
    "(3)": "amount",
    "(4)": "states_withdrawal",
    "(5)": "registered_holder_name",
    "(6)": "signed_as_letter",
}


class WithdrawalForm(forms.Form):
    """A notice of withdrawal with the six elements the prospectus requires."""

    tendering_person_name = TextField(
        label="(1) Person named in the letter of transmittal as having tendered",
        max_length=200,
        error_messages={"required": "Name the person who tendered the notes."},
    )
    certificate_numbers = TextField(
        label="(2) Certificate numbers of the notes withdrawn",
        max_length=2000,
        required=False,
        multiline=True,
        rows=2,
        help_text="Separated by commas or on separate lines.",
    )
    states_withdrawal = _checkbox(
        "(4) I withdraw my election to have these original notes exchanged.",
        required="A notice of withdrawal must state that you withdraw: tick the box.",
    )
    registered_holder_name = TextField(
        label="(5) Name of the registered holder of the notes",
        max_length=200,
        error_messages={"required": "Name the registered holder of the notes."},
    )
    signed_as_letter = _checkbox(
        "(6) I sign this notice as the letter of transmittal was signed, with any signature "
        "guarantee it carried."
    )
    succession_evidence = TextField(
        label="…or, if you succeeded to the beneficial ownership of these notes, the evidence of it",
        max_length=2000,
        required=False,
        multiline=True,
        rows=2,
    )

    def __init__(self, *args: Any, tender: Tender, **kwargs: Any) -> None:
        live = [c for c in tender.certificates.all() if c.live_amount > 0]
        kwargs.setdefault(
            "initial",
            {
                "tendering_person_name": tender.holder.name,
                "registered_holder_name": tender.registered_names,
                "certificate_numbers": ", ".join(c.certificate_number for c in live),
                "amount": tender.live_amount,
            },
        )
        super().__init__(*args, **kwargs)
        self.tender = tender
        self.live_certificates = {c.certificate_number: c for c in live}
        self.fields["amount"] = AmountField(
            label=f"(3) {tender.series.amount_label.capitalize()} withdrawn",
            denomination=tender.series.denomination,
            label_for_errors=f"{tender.series.amount_label} withdrawn",
            help_text=f"At most {money_text(tender.live_amount)}, still tendered under this letter.",
        )
        if tender.channel != Channel.PAPER_LETTER:
            del self.fields["certificate_numbers"]
        self.order_fields(
            [
                "tendering_person_name",
                "certificate_numbers",
                "amount",
                "states_withdrawal",
                "registered_holder_name",
                "signed_as_letter",
                "succession_evidence",
            ]
        )

    def clean_amount(self) -> Decimal:
        amount: Decimal = self.cleaned_data["amount"]
        if amount > self.tender.live_amount:
            raise ValidationError(
                f"At most {money_text(self.tender.live_amount)} is still tendered under "
                f"{self.tender.reference}."
            )
        return amount

    def clean_certificate_numbers(self) -> str:
        text = self.cleaned_data.get("certificate_numbers", "")
        numbers = list(
            dict.fromkeys(n.strip().upper() for n in re.split(r"[,\n]", text) if n.strip())
        )
        if not numbers:
            raise ValidationError("Give the certificate numbers of the notes withdrawn.")
        unknown = [n for n in numbers if n not in self.live_certificates]
        if unknown:
            raise ValidationError(
                f"Not tendered under {self.tender.reference}: {', '.join(u[:40] for u in unknown)}."
                f" Still tendered: {', '.join(self.live_certificates) or 'none'}."
            )
        return ", ".join(numbers)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("signed_as_letter") and not cleaned.get("succession_evidence"):
            self.add_error(
                "signed_as_letter",
                "Sign the notice as the letter was signed, or give the evidence that you "
                "succeeded to the beneficial ownership.",
            )
        if not self.errors:
            # The service's own test of the six elements (names as the letter gives them),
            # so a notice it would reject is returned here with nothing recorded.
            for gap in missing_elements(self._unsaved_notice(cleaned), self.tender):
                name = ELEMENT_FIELDS.get(gap[:3], "")
                self.add_error(
                    name if name in self.fields else None, f"The notice must give {gap}."
                )
        numbers = cleaned.get("certificate_numbers")
        amount = cleaned.get("amount")
        if numbers and amount is not None:
            covered = sum(
                (self.live_certificates[n].live_amount for n in numbers.split(", ")),
                Decimal("0"),
            )
            if covered < amount:
                self.add_error(
                    "certificate_numbers",
                    f"The certificates named have {money_text(covered)} still tendered, less "
                    f"than the {money_text(amount)} withdrawn.",
                )
        return cleaned

    def _unsaved_notice(self, data: dict[str, Any]) -> WithdrawalNotice:
        return WithdrawalNotice(
            tender=self.tender,
            tendering_person_name=data.get("tendering_person_name", ""),
            certificate_numbers=data.get("certificate_numbers", ""),
            amount=data.get("amount") or Decimal("0"),
            states_withdrawal=bool(data.get("states_withdrawal")),
            registered_holder_name=data.get("registered_holder_name", ""),
            signed_as_letter=bool(data.get("signed_as_letter")),
            succession_evidence=data.get("succession_evidence", ""),
        )

    def notice(self) -> NoticeOfWithdrawal:
        data = self.cleaned_data
        return NoticeOfWithdrawal(
            tendering_person_name=data["tendering_person_name"],
            certificate_numbers=data.get("certificate_numbers", ""),
            amount=data["amount"],
            states_withdrawal=data["states_withdrawal"],
            registered_holder_name=data["registered_holder_name"],
            signed_as_letter=data["signed_as_letter"],
            succession_evidence=data["succession_evidence"],
        )


# --- accounts ---------------------------------------------------------------------------------------


class PortalLoginForm(AuthenticationForm):
    """Django's sign-in (it passes the request to authenticate(), as django-axes needs)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That login name and password do not match. Both are case-sensitive. "
        "After five failed attempts, sign-in is paused for 15 minutes.",
    }


class SignUpForm(forms.Form):
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
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_username(self) -> str:
        value = self.cleaned_data["username"].strip()
        if not _USERNAME.match(value):
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


def field_errors_summary(form: forms.Form) -> list[tuple[str, str, str]]:
    """(field id, label, first message) for the error summary at the top of a form."""
    summary = []
    for name, errors in form.errors.items():
        if name == "__all__":
            continue
        bound = form[name]
        summary.append((bound.id_for_label, str(bound.label), errors[0]))
    return summary
