"""The guarantor's own guarantee of a signature: the document and names, as its stamp."""

from __future__ import annotations

from django import forms

from holders.forms.fields import PortalForm, TextField, checkbox_field


class GuaranteeForm(PortalForm):
    reference = forms.CharField(
        label="Reference of the letter of transmittal or notice of withdrawal",
        max_length=16,
        strip=True,
        help_text="As the signer gave it to you: LT-XXXX-XXXX for a letter, WD-… for a notice.",
        error_messages={"required": "Give the document's reference."},
    )
    signer_name = TextField(
        label="Name of the person whose signature you guarantee",
        max_length=200,
        error_messages={"required": "Give the signer's name, as signed."},
    )
    registered_holder_name = TextField(
        label="Registered holder of the notes",
        max_length=200,
        error_messages={"required": "Give the registered holder's name."},
    )
    confirm = checkbox_field(
        "We guarantee this signature as a member of our medallion signature guarantee "
        "program (Rule 17Ad-15).",
        required="Tick the guarantee to give it.",
    )
