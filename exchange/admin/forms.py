"""The forms the desk's transition buttons ask for: reasons, dates, waivers, the defect checklist."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.forms.boundfield import BoundField

from exchange.models import (
    RECORDABLE_DEFICIENCY_KINDS,
    ConditionKind,
    DeficiencyKind,
    MedallionProgram,
)
from exchange.terms import calendars

# --- forms ------------------------------------------------------------------------------


def _text(label: str, help_text: str = "", *, required: bool = True, rows: int = 3) -> forms.Field:
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=required,
        widget=forms.Textarea(attrs={"rows": rows, "cols": 60}),
    )


class RejectTenderForm(forms.Form):
    reason = _text("Reason for rejection", "The holder will be told it, as written here.")


class TerminateOfferForm(forms.Form):
    reason = _text(
        "The issuer's reason",
        "The condition not met (an action or proceeding, a statute or rule, a material "
        "adverse change), as the issuer's notice states it.",
    )
    ground = forms.ChoiceField(
        label="Condition relied on",
        required=False,
        choices=[("", "— none (before expiration: any reason) —"), *ConditionKind.choices],
        help_text="Required from the expiration instant on: the offer can then be terminated "
        "only on a condition asserted and not waived, or a stop order in effect.",
    )


class StopOrderForm(forms.Form):
    reason = _text("What the agent was told", "Who gave notice, and of what.", rows=2)


def _ny_minute_field(label: str, help_text: str, *, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=16,
        required=required,
        help_text=help_text,
        widget=forms.TextInput(attrs={"placeholder": "YYYY-MM-DD HH:MM"}),
    )


def _parse_ny_minute(text: str) -> dt.datetime:
    text = text.strip()
    if not _NY_MINUTE.match(text):
        raise forms.ValidationError(
            "Give it as YYYY-MM-DD HH:MM, New York City time (e.g. 2000-07-13 08:30)."
        )
    try:
        return calendars.parse_ny(text)
    except ValueError:
        raise forms.ValidationError(f"{text} is not a date and time that exists.") from None


def notice_on_field() -> forms.DateField:
    return forms.DateField(
        label="Notice first published, sent or given on",
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"placeholder": "YYYY-MM-DD"}),
        help_text="YYYY-MM-DD, not later than today. The five-business-day rule counts from, "
        "and including, this day, not from the day it is recorded.",
    )


class AnnouncementForm(forms.Form):
    decision = forms.IntegerField(
        label="Decision announced",
        required=False,
        min_value=1,
        help_text="The number of the decision it announces (listed above); blank for an "
        "announcement of no recorded decision.",
    )
    made_at = _ny_minute_field(
        "Made at (New York time)",
        "When the release went out, YYYY-MM-DD HH:MM; blank: now. Not later than now.",
        required=False,
    )
    channel = forms.CharField(
        label="Channel",
        max_length=120,
        initial="Dow Jones News Service release",
        help_text="How it was made public.",
    )
    text = _text(
        "The announcement as released",
        "The text of the press release or Dow Jones News Service release.",
        rows=6,
    )

    def clean_made_at(self) -> dt.datetime | None:
        text = self.cleaned_data.get("made_at", "")
        return _parse_ny_minute(text) if text else None


class ConditionForm(forms.Form):
    kind = forms.ChoiceField(label="Condition", choices=ConditionKind.choices)
    series = forms.CharField(
        label="Series",
        required=False,
        max_length=400,
        help_text="Slugs of the series concerned, separated by spaces or commas (listed above); "
        "blank: the whole offer.",
    )
    description = _text("The issuer's notice", "As the issuer states it.", rows=3)

    def clean_series(self) -> list[str]:
        return [part for part in re.split(r"[\s,]+", self.cleaned_data.get("series", "")) if part]


class WaiveConditionForm(ConditionForm):
    notice_on = notice_on_field()
    description = _text("The issuer's notice", "As the issuer states it.", required=False, rows=3)


class CurePeriodForm(forms.Form):
    ends_at = _ny_minute_field(
        "Defects must be cured by (New York time)", "YYYY-MM-DD HH:MM, New York City time."
    )
    reason = _text("The issuer's determination, as received", rows=2)

    def clean_ends_at(self) -> dt.datetime:
        return _parse_ny_minute(self.cleaned_data["ends_at"])


class ExtendCureForm(forms.Form):
    until = _ny_minute_field(
        "This holder may cure until (New York time)", "YYYY-MM-DD HH:MM, New York City time."
    )
    authorized_by = forms.CharField(
        label="Authorised by",
        max_length=200,
        help_text="The issuer's officer who authorised the extension for this holder.",
    )
    reason = _text("Note", required=False, rows=2)

    def clean_until(self) -> dt.datetime:
        return _parse_ny_minute(self.cleaned_data["until"])


class AcceptOfferForm(forms.Form):
    reason = _text(
        "The issuer's written notice of acceptance",
        "Date and reference of the notice, as received.",
        required=False,
        rows=2,
    )


class CommenceOfferForm(forms.Form):
    mailed_on = forms.DateField(
        label="Notice mailed on",
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"placeholder": "YYYY-MM-DD"}),
        help_text="The day notice of the offer was first mailed (YYYY-MM-DD); blank: today. "
        "The minimum open periods count from it.",
    )


_NY_MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")


class ExtendOfferForm(forms.Form):
    new_expiration = forms.CharField(
        label="New expiration (New York time)",
        max_length=16,
        help_text="As YYYY-MM-DD HH:MM in New York City time, e.g. 2000-07-19 17:00.",
        widget=forms.TextInput(attrs={"placeholder": "YYYY-MM-DD HH:MM"}),
    )
    reason = _text("The issuer's notice, as received", required=False, rows=2)

    def clean_new_expiration(self) -> dt.datetime:
        text = self.cleaned_data["new_expiration"].strip()
        # The time is required: "2000-07-19" alone would mean midnight, the start of
        # the day, when an extension "to July 19" almost always means 5:00 p.m.
        if not _NY_MINUTE.match(text):
            raise forms.ValidationError(
                "Give the new expiration as YYYY-MM-DD HH:MM, New York City time "
                "(e.g. 2000-07-19 17:00)."
            )
        try:
            return calendars.parse_ny(text)
        except ValueError:
            raise forms.ValidationError(f"{text} is not a date and time that exists.") from None


class AmendOfferForm(forms.Form):
    description = _text(
        "The amendment", "As the issuer's notice states it; it is announced as written."
    )
    notice_on = notice_on_field()
    material = forms.BooleanField(
        label="Material",
        required=False,
        help_text="A material amendment: the offer then stays open at least to the fifth "
        "business day from, and including, the notice day. (A condition is waived with "
        "“Waive a condition”, which applies the same rule.)",
    )


class LetterCorrectionForm(forms.Form):
    """One box of a paper letter corrected as keyed, with the reason (recorded with the
    old and the new value)."""

    box = forms.ChoiceField(label="Box")
    value = forms.CharField(
        label="What the paper letter says",
        max_length=200,
        required=False,
        help_text="For a yes/no box: yes or no.",
    )
    reason = forms.CharField(label="Why", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from exchange.services.review import CORRECTABLE_BOXES

        super().__init__(*args, **kwargs)
        self.fields["box"].choices = [(name, name) for name in sorted(CORRECTABLE_BOXES)]

    def clean(self) -> dict[str, Any]:
        from exchange.services.review import _BOOLEAN_BOXES

        cleaned = super().clean() or {}
        box, value = cleaned.get("box"), (cleaned.get("value") or "").strip()
        if box in _BOOLEAN_BOXES:
            if value.lower() not in ("yes", "no"):
                self.add_error("value", "Answer yes or no for this box.")
            else:
                cleaned["value"] = value.lower() == "yes"
        elif box == "prospectus_copies_requested":
            if not value.isdigit():
                self.add_error("value", "Give a whole number of copies.")
            else:
                cleaned["value"] = int(value)
        else:
            cleaned["value"] = value
        return cleaned


class WaiverForm(forms.Form):
    authorized_by = forms.CharField(
        label="Authorised by",
        max_length=200,
        help_text="The issuer's officer who authorised the waiver.",
    )


class DeficiencyWaiverForm(WaiverForm):
    note = _text("Note", required=False, rows=2)


class CureDeficiencyForm(forms.Form):
    note = _text("What the holder sent", "E.g. “Signed letter received by mail.”", required=False)


class DeficiencyChecklistForm(forms.Form):
    """One checkbox per kind of defect, and what the holder must do to cure each.

    A ticked defect without a note is left to the service to refuse (its message names
    the defect); a note without its tick is refused here, since it would be dropped.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in RECORDABLE_DEFICIENCY_KINDS:
            self.fields[f"defect_{kind.value}"] = forms.BooleanField(
                label=kind.label, required=False
            )
            self.fields[f"note_{kind.value}"] = forms.CharField(
                label=f"What the holder must do: {kind.label}",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2, "cols": 50}),
            )

    @property
    def checklist_rows(self) -> list[tuple[str, BoundField, BoundField]]:
        return [
            (kind.label, self[f"defect_{kind.value}"], self[f"note_{kind.value}"])
            for kind in RECORDABLE_DEFICIENCY_KINDS
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        defects: list[tuple[DeficiencyKind, str]] = []
        for kind in RECORDABLE_DEFICIENCY_KINDS:
            ticked = cleaned.get(f"defect_{kind.value}", False)
            note = cleaned.get(f"note_{kind.value}", "")
            if ticked:
                defects.append((kind, note))
            elif note:
                self.add_error(f"note_{kind.value}", f"Tick “{kind.label}” or clear its note.")
        cleaned["defects"] = defects
        return cleaned


class MedallionStampForm(forms.Form):
    """The medallion stamp on the paper, as printed on it: the guarantor's act, keyed."""

    institution = forms.CharField(
        label="Guarantor institution (as on the stamp)", max_length=200, strip=True
    )
    program = forms.ChoiceField(
        label="Medallion program", choices=[("", "—"), *MedallionProgram.choices]
    )
    stamp_number = forms.CharField(
        label="Stamp serial number",
        max_length=40,
        strip=True,
        help_text="The prefix letter and number printed on the medallion stamp.",
    )
