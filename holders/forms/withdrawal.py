"""The notice of withdrawal, with the six elements the prospectus requires."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from exchange.models import (
    Channel,
    Tender,
    WithdrawalNotice,
)
from exchange.services.withdrawals import NoticeOfWithdrawal, missing_elements
from holders.forms.fields import AmountField, PortalForm, TextField, checkbox_field, money_text

# The prospectus numbers the six elements; missing_elements names them by number.
ELEMENT_FIELDS = {
    "(1)": "tendering_person_name",
    "(2)": "certificate_numbers",
    "(3)": "amount",
    "(4)": "states_withdrawal",
    "(5)": "registered_holder_name",
    "(6)": "signed_as_letter",
}


class WithdrawalForm(PortalForm):
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
    states_withdrawal = checkbox_field(
        "(4) I withdraw my election to have these original notes exchanged.",
        required="A notice of withdrawal must state that you withdraw: tick the box.",
    )
    registered_holder_name = TextField(
        label="(5) Name of the registered holder of the notes",
        max_length=200,
        error_messages={"required": "Name the registered holder of the notes."},
    )
    signed_as_letter = checkbox_field(
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
