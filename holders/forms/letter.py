"""The letter of transmittal: its boxes, grouped as the paper letter groups them.

The boxes (LetterBoxesForm) are shared by the letter itself, the delivery that completes
a guaranteed delivery and the cure forms; this module holds the letter as a holder
submits it.

Kept whole because the boxes' cross-checks (who signs, the guarantee it then needs, the
instructions, the representations) read each other's values, and the cure forms reuse
them box group by box group.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from exchange.models import (
    REPRESENTATIVE_CAPACITIES,
    Channel,
    ExchangeOffer,
    MedallionProgram,
    NoteSeries,
    SignerCapacity,
    Tender,
    same_name,
)
from exchange.services.base import DeskError
from exchange.services.tenders import CertificateTendered, LetterOfTransmittal
from holders.forms.fields import (
    CONFIRMATION_PATTERN,
    TIN_PATTERN,
    AmountField,
    CertificateEntry,
    CertificateLinesField,
    PortalForm,
    ShortModelChoiceField,
    TextField,
    WholeNumberField,
    checkbox_field,
    money_text,
)
from holders.models import Holder, HolderKind
from holders.selectors import CertificateLine

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
        "authority_evidence",
        "endorsed_or_instrument_of_transfer",
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


class LetterBoxesForm(PortalForm):
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
    agents_message = checkbox_field(
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
    signed = checkbox_field(
        "I sign this letter of transmittal",
        "Ticking this box is your signature: the exchange agent records who signed, and when.",
        required="Sign the letter: tick the box.",
    )
    authority_evidence = TextField(
        label="Evidence of authority delivered with this letter",
        max_length=1000,
        required=False,
        multiline=True,
        rows=2,
        help_text="When you sign for the registered holder (as attorney-in-fact, trustee, "
        "executor, guardian, officer or other representative): what shows your authority, "
        "e.g. “power of attorney dated 3 May 2000”. Deliver the document itself to the "
        "exchange agent.",
    )
    endorsed_or_instrument_of_transfer = checkbox_field(
        "The notes are endorsed, or accompanied by a written instrument of transfer, executed "
        "by the registered holder",
        "Needed when the person signing is neither the registered holder nor its "
        "representative; the registered holder's signature must then carry a medallion "
        "guarantee.",
    )
    medallion_guarantor = ShortModelChoiceField(
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
    rep_full_authority = checkbox_field(
        "I have full power and authority to tender, exchange, assign and transfer these notes, "
        "and when they are accepted the issuer will acquire good and unencumbered title, free "
        "of all liens, restrictions, charges and encumbrances and of any adverse claim."
    )
    rep_not_affiliate = checkbox_field("I am not an affiliate of the issuer (Rule 405).")
    rep_not_broker_dealer_from_issuer = checkbox_field(
        "I am not a broker-dealer that owns original notes acquired directly from the issuer "
        "or an affiliate of the issuer."
    )
    rep_ordinary_course = checkbox_field(
        "I am acquiring the new notes in the ordinary course of my business."
    )
    rep_no_distribution = checkbox_field(
        "I have no arrangement with any person to participate in the distribution of the new notes."
    )
    rep_affiliate_will_comply = checkbox_field(
        "I am an affiliate of the issuer or of the initial purchasers, and I will comply with "
        "the registration and prospectus delivery requirements of the Securities Act."
    )
    is_broker_dealer = checkbox_field(
        "I am a broker-dealer receiving new notes for my own account."
    )
    broker_dealer_prospectus_acknowledged = checkbox_field(
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
    w9_certified = checkbox_field(
        "Under penalties of perjury, I certify that the number shown is my correct taxpayer "
        "identification number, and that I am not subject to backup withholding."
    )
    w9_exempt_payee = checkbox_field(
        "I am an exempt payee (e.g. a corporation or a tax-exempt organization)."
    )

    # A cure form asks for what the exchange agent found missing, whatever the rule says.
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
        if value and not CONFIRMATION_PATTERN.match(value):
            raise ValidationError(
                "A DTC confirmation number is letters, digits and dashes (e.g. ATOP-000123)."
            )
        return value

    def clean_tin(self) -> str:
        value = self.cleaned_data.get("tin", "").strip()
        if not value:
            return ""
        if not TIN_PATTERN.match(value) or set(value.replace("-", "")) == {"0"}:
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

    def registered_name(self) -> str:
        """The register's name for the notes (the holder's), never the letter's own Box 1."""
        # The letter's form knows its holder; a delivery, its tender; a cure, its base.
        tender = getattr(self, "tender", None) or self.base
        holder = getattr(self, "holder", None) or (tender.holder if tender is not None else None)
        return holder.name if holder is not None else ""

    def signed_by_registered_holder(self) -> bool:
        return self._value("signer_capacity") == SignerCapacity.REGISTERED_HOLDER and (
            same_name(self._value("signer_name") or "", self.registered_name())
        )

    def needs_medallion_guarantee(self) -> bool:
        """The prospectus's rule: no guarantee when the registered holder signs and the new
        notes go to it at its registered address (book-entry tenders: DTC's own rules)."""
        if self.channel == Channel.BOOK_ENTRY:
            return False
        special = any(self._value(n) for n in GROUPS["instructions"])
        return not self.signed_by_registered_holder() or special

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
        if {"signer_name", "signer_capacity", "medallion_guarantor", "medallion_program"} & set(
            self.errors
        ):
            return  # a box that did not parse has its own message
        capacity = self._value("signer_capacity")
        if (
            self.channel != Channel.BOOK_ENTRY
            and capacity in REPRESENTATIVE_CAPACITIES
            and not (self._value("authority_evidence") or "").strip()
        ):
            self._add(
                "authority_evidence",
                "You sign in a representative capacity: say what evidence of your authority "
                "you deliver with this letter (e.g. the power of attorney).",
            )
        if (
            self.channel != Channel.BOOK_ENTRY
            and capacity == SignerCapacity.REGISTERED_HOLDER
            and self.registered_name()
            and not self.signed_by_registered_holder()
            and not self._value("endorsed_or_instrument_of_transfer")
        ):
            self._add(
                "signer_name",
                f"The notes are registered to {self.registered_name()}: sign as "
                f"{self.registered_name()}, or choose the capacity in which you sign for it. "
                f"Anyone else needs the notes endorsed, or an instrument of transfer, by the "
                f"registered holder, with a medallion signature guarantee.",
            )
        guarantor = self._value("medallion_guarantor")
        program = self._value("medallion_program")
        if self.needs_medallion_guarantee():
            why = (
                "A signature other than the registered holder's, or special issuance or "
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
    entries: list[CertificateEntry],
    lines: list[CertificateLine],
    holder_name: str,
    *,
    reveal_amounts: bool = True,
) -> list[CertificateTendered]:
    """Fill in "the whole certificate" for lines given without an amount, and check every
    line against what is free to tender on it, reporting every wrong line at once (the
    service checks the same again under its lock).

    `reveal_amounts` False (a guarantor delivering for a holder) keeps the holder's
    amounts out of the messages."""
    free = {line.holding.certificate_number: line.free for line in lines}
    result, errors = [], []
    for entry in entries:
        amount = entry.amount
        if entry.number not in free:
            errors.append(
                f"Certificate {entry.number} is not registered to {holder_name} for this "
                f"series; check the number against "
                + ("your certificates below." if reveal_amounts else "the certificate itself.")
            )
            continue
        if free[entry.number] <= 0:
            errors.append(f"Certificate {entry.number} is already tendered in full.")
            continue
        if amount is None:
            amount = free[entry.number]
        elif amount > free[entry.number]:
            errors.append(
                f"Certificate {entry.number}: {money_text(free[entry.number])} of it is not "
                f"already tendered, less than the {money_text(amount)} given."
                if reveal_amounts
                else f"Certificate {entry.number} does not have the amount given free to "
                f"tender: check it with the holder."
            )
            continue
        result.append(CertificateTendered(entry.number, amount))
    if errors:
        raise ValidationError(errors)
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
        available: Decimal | None = None,
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
        # What the holder may still tender (held less tendered): checked here so that a
        # letter that asks for too much says so with its other errors, not on the next
        # submit; the service checks it again under its lock.
        self.available = available
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
        amount = cleaned.get("amount")
        if self.available is not None and amount is not None and amount > self.available:
            self.add_error(
                "amount",
                f"{self.holder.name} can tender at most {money_text(self.available)} "
                f"{self.series.amount_label} of the {self.series.name} (held, less what is "
                f"already tendered); {money_text(amount)} was given.",
            )
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
