"""The supervisor's button to record the issuer's amendment of one term (old and new value)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from exchange.admin.base import DeskTransition, Outcome
from exchange.admin.forms import notice_on_field
from exchange.models import ExchangeOffer, OfferState
from exchange.services import terms
from exchange.services.base import Actor, DeskError


class AmendTermForm(forms.Form):
    series = forms.CharField(
        label="Series",
        max_length=50,
        required=False,
        help_text="The series' slug (e.g. 2008-senior) for a term of a series; blank for the offer.",
    )
    term = forms.ChoiceField(
        label="Term",
        choices=[(t, f"Offer: {t}") for t in terms.OFFER_TERMS]
        + [(t, f"Series: {t}") for t in terms.SERIES_TERMS],
    )
    value = forms.CharField(label="New value", max_length=100)
    description = forms.CharField(
        label="The issuer's amendment",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="As the issuer's notice states it.",
    )
    notice_on = notice_on_field()
    material = forms.BooleanField(
        label="Material",
        required=False,
        help_text="The offer then stays open to the fifth business day from, and including, "
        "the day the notice was given.",
    )


def _amend_term(o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    slug = data["series"].strip()
    series_id = None
    if slug:
        series_id = o.series.filter(slug=slug).values_list("pk", flat=True).first()
        if series_id is None:
            raise DeskError(f"The offer has no series “{slug}”.", field="series")
    terms.amend_term(
        o.pk,
        series_id=series_id,
        term=data["term"],
        value=data["value"],
        description=data["description"],
        material=data["material"],
        actor=actor,
        now=now,
        notice_on=data["notice_on"],
    )
    return Outcome(f"Recorded the issuer's amendment of {data['term']}; see the offer's history.")


TERMS_TRANSITIONS: tuple[DeskTransition, ...] = (
    DeskTransition(
        name="amend_term",
        label="Amend a term",
        fsm="amend",
        issuer_decision=True,
        allowed_now=lambda o, now: o.state == OfferState.OPEN and now < o.expiration_at,
        consequence=lambda o, now: (
            "The issuer's amendment of one term is recorded with its old and new value and "
            "announced; a material one keeps the offer open to the fifth business day."
        ),
        perform=_amend_term,
        form_class=AmendTermForm,
    ),
)
