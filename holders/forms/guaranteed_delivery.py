"""The notice of guaranteed delivery, and the delivery of notes and letter that completes it."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from exchange.models import (
    Channel,
    GuaranteedDelivery,
    NoteSeries,
    Tender,
)
from exchange.services.guaranteed_deliveries import NoticeOfGuaranteedDelivery, delivery_deadline
from exchange.terms import calendars
from holders.forms.fields import (
    CERTIFICATE_PATTERN,
    AmountField,
    CertificateLinesField,
    IsoDateField,
    PortalForm,
    TextField,
    checkbox_field,
    money_text,
)
from holders.forms.letter import (
    GROUPS_FIELDS,
    LetterBoxesForm,
    initial_letter,
    resolve_certificates,
)
from holders.selectors import CertificateLine


class GuaranteedDeliveryForm(PortalForm):
    """A notice of guaranteed delivery, executed by an eligible guarantor institution."""

    # Typed, as on the paper notice: a guarantor never gets a list of the register. The
    # desk matches the name (holders.selectors.holder_named_in_notice).
    tendering_holder = TextField(
        label="Name of the tendering registered holder",
        max_length=200,
        help_text="As registered on the notes' register (the name on the certificates).",
        error_messages={
            "required": "Give the name of the registered holder for whom the notes are tendered."
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
    states_tender = checkbox_field(
        "The undersigned tenders the original notes described above, on the terms of the "
        "prospectus and the letter of transmittal, under the guaranteed delivery procedure.",
        required="The notice must state that the tender is made: tick the box.",
    )
    guarantee = checkbox_field(
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
            if not CERTIFICATE_PATTERN.match(number):
                raise ValidationError(
                    f"“{number[:40]}” is not a certificate number (letters, digits and dashes)."
                )
        return ", ".join(numbers)

    def notice(self) -> NoticeOfGuaranteedDelivery:
        data = self.cleaned_data
        return NoticeOfGuaranteedDelivery(
            tendering_holder_name=data["tendering_holder"],
            tendering_holder_address=data["tendering_holder_address"],
            registered_names=data["registered_names"],
            certificate_numbers=data["certificate_numbers"],
            amount=data["amount"],
            executed_on=data["executed_on"],
        )


# --- notice of withdrawal -------------------------------------------------------------------------


class DeliveryForm(LetterBoxesForm):
    """The notes and the letter that complete a guaranteed delivery (the amount is fixed)."""

    def __init__(
        self,
        *args: Any,
        tender: Tender,
        certificate_lines: list[CertificateLine],
        notice: GuaranteedDelivery | None = None,
        reveal_amounts: bool = True,
        **kwargs: Any,
    ) -> None:
        # Prefilled from the notice it completes: the names and certificates the guarantor
        # gave (one a line, the notation of the letter), the tendering holder signing.
        from_notice: dict[str, Any] = {"registered_names": tender.registered_names}
        if notice is not None:
            from_notice = {
                "registered_names": notice.registered_names or tender.registered_names,
                "signer_name": notice.tendering_holder_name,
                "certificates": "\n".join(
                    n.strip() for n in notice.certificate_numbers.split(",") if n.strip()
                ),
            }
        kwargs.setdefault(
            "initial", {**initial_letter(tender.holder, Channel.PAPER_LETTER), **from_notice}
        )
        super().__init__(*args, offer=tender.offer, channel=Channel.PAPER_LETTER, **kwargs)
        self.tender = tender
        # The tendering holder's certificates: a number alone delivers what is free on it,
        # as on the letter of transmittal. A guarantor does not see them (reveal_amounts
        # False keeps their amounts out of its messages).
        self.certificate_lines = certificate_lines
        self.reveal_amounts = reveal_amounts
        self.fields["certificates"] = CertificateLinesField(
            label="Certificates delivered",
            denomination=tender.series.denomination,
            amounts_required=False,
            help_text="One per line: the certificate number, then the amount delivered from it "
            f"(e.g. “R08-0001 1,000,000”); a number alone delivers all of that certificate "
            f"not already tendered. Together {money_text(tender.live_amount)}.",
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
                self.certificate_lines,
                self.tender.holder.name,
                reveal_amounts=self.reveal_amounts,
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
