"""Bulk work on the tender list and the review queue: the same button, on many tenders.

A clerk selects tenders and picks an action; a confirmation page lists, per tender, what
will happen (the button's own consequence) or why it is skipped (state, open deficiencies,
the clerk's role). Confirming runs the single button's `perform` once per tender, each in
its own service call and transaction, so each tender gets the same locking, re-checks and
history row as when done one at a time, and one tender refused by its service (a state
changed since the page was shown) leaves the others done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from exchange.admin.base import DeskTransition, TransitionAdmin
from exchange.models import (
    RECORDABLE_DEFICIENCY_KINDS,
    DeficiencyKind,
    DeficiencyStatus,
    Tender,
)
from exchange.services.base import Actor, DeskError

# More than this in one go is a mistake of selection more often than a day's work, and
# the confirmation page must stay readable.
BULK_LIMIT = 200


class SameDefectForm(forms.Form):
    """The one defect recorded on every selected tender, with what each holder must do."""

    # Only kinds a clerk may record: a missing W-9 is backup withholding, not a defect.
    kind = forms.ChoiceField(
        label="Defect", choices=[(k.value, k.label) for k in RECORDABLE_DEFICIENCY_KINDS]
    )
    note = forms.CharField(
        label="What the holder must do to cure it",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
    )

    def perform_data(self) -> dict[str, Any]:
        kind = DeficiencyKind(self.cleaned_data["kind"])
        return {"defects": [(kind, self.cleaned_data["note"].strip())]}


class NothingToAsk(forms.Form):
    def perform_data(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class BulkAction:
    name: str  # the admin action's name
    transition: str  # the DeskTransition it repeats
    description: str  # the action menu's words
    form_class: type[forms.Form] = NothingToAsk


BULK_ACTIONS: tuple[BulkAction, ...] = (
    BulkAction("bulk_start_review", "start_review", "Start review of the selected tenders"),
    BulkAction(
        "bulk_record_defect",
        "find_deficient",
        "Record the same defect on the selected tenders",
        SameDefectForm,
    ),
    BulkAction(
        "bulk_validate",
        "validate",
        "Mark valid the selected tenders that have no open defect",
    ),
)


@dataclass(frozen=True)
class Planned:
    tender: Tender
    will: str  # the consequence, when it will happen
    skipped: str  # why not, when it will not


def _why_not(tender: Tender, transition: DeskTransition) -> str:
    open_defects = tender.deficiencies.filter(status=DeficiencyStatus.OPEN).count()
    if transition.name == "validate" and open_defects:
        return (
            f"Skipped: {open_defects} open deficienc{'y' if open_defects == 1 else 'ies'} "
            f"(cure or waive each first)."
        )
    return f"Skipped: it is {tender.get_state_display().lower()}, so “{transition.label}” is not possible."


def plan(
    model_admin: TransitionAdmin,
    request: HttpRequest,
    tenders: list[Tender],
    transition: DeskTransition,
    now: dt.datetime,
) -> list[Planned]:
    rows = []
    for tender in tenders:
        if not model_admin.may_run(request, transition):
            rows.append(Planned(tender, "", "Skipped: your role may not do this."))
        elif transition.is_available(tender, now):
            rows.append(Planned(tender, transition.consequence(tender, now), ""))
        else:
            rows.append(Planned(tender, "", _why_not(tender, transition)))
    return rows


def _run(
    model_admin: TransitionAdmin,
    request: HttpRequest,
    queryset: QuerySet[Tender],
    action: BulkAction,
) -> HttpResponse | None:
    transition = next(t for t in model_admin.desk_transitions if t.name == action.transition)
    now = timezone.now()
    tenders = list(
        queryset.select_related("offer", "series", "holder").order_by("received_at", "id")[
            : BULK_LIMIT + 1
        ]
    )
    if len(tenders) > BULK_LIMIT:
        model_admin.message_user(
            request,
            f"Select at most {BULK_LIMIT} tenders at a time; nothing was done.",
            messages.ERROR,
        )
        return None
    confirmed = request.POST.get("confirmed") == "yes"
    form = action.form_class(request.POST if confirmed else None)
    if confirmed and form.is_valid():
        user: AbstractBaseUser = request.user  # type: ignore[assignment]
        actor = Actor.for_user(user, transition.actor_kind)
        data = form.perform_data()  # type: ignore[attr-defined]
        done, skipped = [], []
        for row in plan(model_admin, request, tenders, transition, now):
            if row.skipped:
                skipped.append(f"{row.tender.reference}: {row.skipped}")
                continue
            try:
                outcome = transition.perform(row.tender, data, actor, now)
            except DeskError as exc:
                # The service re-checked under its lock and refused: nothing written for
                # this tender; the others stand.
                skipped.append(f"{row.tender.reference}: {exc.message}")
            else:
                model_admin.log_change(request, row.tender, f"{transition.label} (bulk)")
                done.append(outcome.message)
        for message in done:
            model_admin.message_user(request, message, messages.SUCCESS)
        for message in skipped:
            model_admin.message_user(request, message, messages.WARNING)
        model_admin.message_user(
            request,
            f"{transition.label}: {len(done)} done, {len(skipped)} skipped.",
            messages.INFO,
        )
        return None
    rows = plan(model_admin, request, tenders, transition, now)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"{action.description}: confirm",
        "subtitle": None,
        "opts": model_admin.opts,
        "action": action,
        "transition": transition,
        "rows": rows,
        "will_count": sum(1 for r in rows if not r.skipped),
        "form": form,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        "select_across": request.POST.get("select_across", "0"),
        "media": model_admin.media + form.media,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/desk/bulk_confirm.html", context)


def admin_actions() -> list[Callable[..., HttpResponse | None]]:
    """The bulk actions as Django admin actions (for `ModelAdmin.actions`)."""

    def make(action: BulkAction) -> Callable[..., HttpResponse | None]:
        def run(
            model_admin: TransitionAdmin, request: HttpRequest, queryset: QuerySet[Tender]
        ) -> HttpResponse | None:
            return _run(model_admin, request, queryset, action)

        run.__name__ = action.name
        # Transitions change the tender: the model's change permission, as for the buttons.
        return admin.action(description=action.description, permissions=["transition"])(run)

    return [make(a) for a in BULK_ACTIONS]
