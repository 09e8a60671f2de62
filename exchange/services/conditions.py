"""The issuer asserts or waives the offer's conditions, for the whole offer or named series.

"Level 3 may assert these conditions regarding all or any portion of the exchange offer
... [and] may waive these conditions in whole or in part at any time" (p.29): until the
offer is accepted. An asserted, unwaived condition holds back its series on the exchange
date; a waiver is a material change, so the five-business-day rule runs from its notice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction

from exchange.models import (
    ConditionAssertion,
    ConditionKind,
    ExchangeOffer,
    NoteSeries,
    OfferEvent,
    OfferEventKind,
    OfferState,
    Tender,
    TenderState,
)
from exchange.services.base import Actor, DeskError, record, require_aware
from exchange.services.offers import _event, _lock, check_notice_day, five_business_day_expiration
from exchange.terms import calendars

# Before acceptance the issuer may assert or waive. Once the offer is accepted, only for a
# series none of whose notes were accepted (one a condition held back); after completion or
# termination nothing is left to condition.
_CONDITIONABLE = (OfferState.OPEN, OfferState.EXPIRED, OfferState.ACCEPTED)


def _require_before_acceptance(offer: ExchangeOffer, what: str) -> None:
    if offer.state not in _CONDITIONABLE:
        raise DeskError(
            f"The offer is {offer.get_state_display().lower()}: a condition can be {what} only "
            f"after the offer commences and before the notes are accepted."
        )


def _require_series_not_accepted(offer: ExchangeOffer, chosen: list[NoteSeries], what: str) -> None:
    if offer.state != OfferState.ACCEPTED:
        return
    accepted = sorted(
        set(
            Tender.objects.filter(
                offer=offer,
                series__in=chosen,
                state__in=[TenderState.ACCEPTED, TenderState.EXCHANGED],
            ).values_list("series__name", flat=True)
        )
    )
    if accepted:
        raise DeskError(
            f"Notes of {', '.join(accepted)} were accepted: a condition can be {what} only "
            f"before the notes are accepted.",
            field="series",
        )


def _series_in_scope(offer: ExchangeOffer, series_slugs: Sequence[str]) -> list[NoteSeries]:
    """Every series of the offer when none is named; else exactly the named ones."""
    all_series = list(offer.series.order_by("maturity_date", "name"))
    if not series_slugs:
        return all_series
    by_slug = {s.slug: s for s in all_series}
    unknown = [slug for slug in series_slugs if slug not in by_slug]
    if unknown:
        raise DeskError(
            f"No series {', '.join(sorted(set(unknown)))} in this offer; its series are "
            f"{', '.join(sorted(by_slug))}.",
            field="series",
        )
    return [s for s in all_series if s.slug in set(series_slugs)]


def _scope_label(offer: ExchangeOffer, chosen: list[NoteSeries]) -> str:
    if len(chosen) == offer.series.count():
        return "the whole offer"
    return ", ".join(s.name for s in chosen)


def condition_announcement(
    offer: ExchangeOffer, kind: ConditionKind, scope: str, *, waived: bool, extra: str = ""
) -> str:
    verb = "waived" if waived else "asserted"
    return (
        f"{offer.issuer.name} announced today that it has {verb} the following condition of its "
        f"offer to exchange registered new notes for its outstanding original notes, as to "
        f"{scope}: {kind.label}.{(' ' + extra) if extra else ''} {offer.exchange_agent} is the "
        f"exchange agent."
    ).strip()


@transaction.atomic
def assert_condition(
    offer_id: int,
    *,
    kind: ConditionKind,
    actor: Actor,
    now: dt.datetime,
    description: str,
    series_slugs: Sequence[str] = (),
) -> OfferEvent:
    """The issuer asserts `kind` for the whole offer (no series named) or the named series."""
    require_aware(now)
    kind = ConditionKind(kind)
    if not description.strip():
        raise DeskError(
            "Say what gives rise to the condition, as the issuer's notice states it.",
            field="description",
        )
    offer = _lock(offer_id)
    _require_before_acceptance(offer, "asserted")
    chosen = _series_in_scope(offer, series_slugs)
    _require_series_not_accepted(offer, chosen, "asserted")
    already = set(
        ConditionAssertion.objects.filter(
            offer=offer, kind=kind, waived_at__isnull=True, series__in=chosen
        ).values_list("series_id", flat=True)
    )
    targets = [s for s in chosen if s.pk not in already]
    if not targets:
        raise DeskError(
            f"“{kind.label}” is already asserted for {_scope_label(offer, chosen)}.",
            field="series",
        )
    scope = _scope_label(offer, targets)
    text = f"Condition asserted for {scope}: {kind.label}. {description.strip()}"
    event = _event(
        offer,
        OfferEventKind.CONDITION_ASSERTED,
        actor,
        now,
        text,
        announcement_draft=condition_announcement(offer, kind, scope, waived=False),
    )
    ConditionAssertion.objects.bulk_create(
        ConditionAssertion(offer=offer, kind=kind, series=s, asserted_at=now, asserted_event=event)
        for s in targets
    )
    record(
        offer,
        action="exchange.offer.condition_asserted",
        from_state=offer.state,
        to_state=offer.state,
        actor=actor,
        now=now,
        reason=text,
        offer=offer,
    )
    return event


@transaction.atomic
def waive_condition(
    offer_id: int,
    *,
    kind: ConditionKind,
    actor: Actor,
    now: dt.datetime,
    notice_on: dt.date,
    description: str = "",
    series_slugs: Sequence[str] = (),
) -> OfferEvent:
    """The issuer waives `kind` in whole (no series named) or in part (the named series),
    whether or not it had been asserted. While the offer is open this is a material change:
    the offer stays open to the fifth business day from, and including, `notice_on`."""
    require_aware(now)
    kind = ConditionKind(kind)
    check_notice_day(notice_on, now)
    offer = _lock(offer_id)
    _require_before_acceptance(offer, "waived")
    chosen = _series_in_scope(offer, series_slugs)
    if offer.state == OfferState.ACCEPTED:
        # Accepted: only what a condition still holds back remains to be waived.
        held = set(held_back_series(offer))
        chosen = [s for s in chosen if s.pk in held]
        if not chosen:
            raise DeskError(
                "The offer is accepted and no condition holds back the series named: there is "
                "nothing left to waive before the notes are accepted.",
                field="series",
            )
    scope = _scope_label(offer, chosen)
    previous = offer.expiration_at
    extended_to = None
    if offer.state == OfferState.OPEN and now < offer.expiration_at:
        extended_to = five_business_day_expiration(offer, notice_on)
    if extended_to is not None:
        offer.amend()
        offer.expiration_at = extended_to
        offer.save(update_fields=["state", "expiration_at"])
    consequence = (
        f" Expiration extended to {calendars.format_ny(extended_to)} (fifth business day from "
        f"the notice of {notice_on:%Y-%m-%d})."
        if extended_to
        else ""
    )
    text = (
        f"Condition waived for {scope}: {kind.label}. Notice given {notice_on:%Y-%m-%d}."
        f"{consequence} {description.strip()}"
    ).strip()
    event = _event(
        offer,
        OfferEventKind.CONDITION_WAIVED,
        actor,
        now,
        text,
        notice_on=notice_on,
        previous_expiration_at=previous,
        new_expiration_at=offer.expiration_at,
        announcement_draft=condition_announcement(
            offer,
            kind,
            scope,
            waived=True,
            extra=(
                f"The offer will now expire at {calendars.format_ny(extended_to)}, unless "
                f"further extended."
                if extended_to
                else ""
            ),
        ),
    )
    ConditionAssertion.objects.filter(
        offer=offer, kind=kind, series__in=chosen, waived_at__isnull=True
    ).update(waived_at=now, waived_event=event)
    record(
        offer,
        action="exchange.offer.condition_waived",
        from_state=offer.state,
        to_state=offer.state,
        actor=actor,
        now=now,
        reason=text,
        offer=offer,
    )
    return event


def open_assertions(offer: ExchangeOffer | int) -> list[ConditionAssertion]:
    return list(
        ConditionAssertion.objects.filter(offer=offer, waived_at__isnull=True)
        .select_related("series")
        .order_by("series__maturity_date", "series__name", "kind")
    )


def held_back_series(offer: ExchangeOffer | int) -> dict[int, list[str]]:
    """Series id → the asserted, unwaived conditions holding it back (their labels)."""
    held: dict[int, list[str]] = {}
    for assertion in open_assertions(offer):
        held.setdefault(assertion.series_id, []).append(assertion.get_kind_display())
    return held
