"""Cure forms: a holder corrects the boxes of one deficiency, and only those."""

from __future__ import annotations

from typing import Any

from exchange.models import (
    Channel,
    DeficiencyKind,
    Tender,
)
from holders.forms.fields import TextField
from holders.forms.letter import GROUPS, LetterBoxesForm

# The deficiencies a holder can cure by correcting boxes; the others need the desk
# (certificates, amounts, a late receipt) or the issuer's waiver.
# The boxes shown are those cure_deficiency lets the holder correct for that kind.
CURABLE: dict[str, tuple[str, ...]] = {
    DeficiencyKind.SIGNATURE: ("signer_name", "signer_capacity", "signed"),
    DeficiencyKind.AUTHORITY_EVIDENCE: ("authority_evidence",),
    DeficiencyKind.REPRESENTATIONS: GROUPS["representations"],
    DeficiencyKind.BROKER_DEALER_ACKNOWLEDGMENT: (
        "broker_dealer_prospectus_acknowledged",
        "prospectus_copies_requested",
    ),
    DeficiencyKind.W9: GROUPS["w9"],
    DeficiencyKind.BOOK_ENTRY_CONFIRMATION: ("book_entry_confirmation", "agents_message"),
}
NOT_CURABLE_HERE: dict[str, str] = {
    DeficiencyKind.MEDALLION_GUARANTEE: (
        "A medallion signature guarantee is given by the guarantor institution itself: ask "
        "your bank or broker (a member of STAMP, SEMP or the NYSE MSP) to confirm it to the "
        "exchange agent from its own login, giving this tender's reference, the signer's "
        "name and the registered holder's name; or deliver the letter to the exchange agent "
        "with the medallion stamp on it."
    ),
    DeficiencyKind.ENDORSEMENT: (
        "Deliver to the exchange agent the notes endorsed, or a written instrument of "
        "transfer, executed by the registered holder, with its signature guaranteed by an "
        "eligible guarantor institution; the exchange agent records the cure when it has "
        "them. Or, if you sign for the registered holder as its representative, correct the "
        "signature: cure it with the capacity and the evidence of your authority."
    ),
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
