"""The issuer's decisions on an offer, as desk buttons for supervisors.

Each shows its consequence with figures before it is confirmed, and calls one service.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from exchange.admin.base import DeskTransition, Outcome, Perform, Rule
from exchange.admin.forms import (
    AcceptOfferForm,
    AmendOfferForm,
    AnnouncementForm,
    CommenceOfferForm,
    ConditionForm,
    CurePeriodForm,
    ExtendOfferForm,
    StopOrderForm,
    TerminateOfferForm,
    WaiveConditionForm,
)
from exchange.models import (
    TENDER_OPEN_STATES,
    ConditionKind,
    ExchangeOffer,
    NoteReturn,
    OfferState,
    Tender,
)
from exchange.services import (
    announcements,
    conditions,
    cure_periods,
    drafts,
    offer_calendar,
    offers,
)
from exchange.services.base import Actor
from exchange.terms import calendars


def _commence(o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    o = offers.commence_offer(o.pk, actor=actor, now=now, mailed_on=data["mailed_on"])
    return Outcome(
        f"The offer is open; notice mailed {o.notice_mailed_on:%Y-%m-%d}. It expires "
        f"{calendars.format_ny(o.expiration_at)}."
    )


def _extend(o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    event = offers.extend_offer(
        o.pk, new_expiration=data["new_expiration"], actor=actor, now=now, reason=data["reason"]
    )
    assert event.announcement_due_at is not None  # extend_offer always sets it
    return Outcome(
        f"Extended to {calendars.format_ny(data['new_expiration'])}. Announce it by "
        f"{calendars.format_ny(event.announcement_due_at)} (Rule 14e-1(d)); the drafted text is "
        f"kept with the decision and offered by “Record an announcement”. "
        f"Draft: {event.announcement_draft}"
    )


def _extension_consequence(o: ExchangeOffer, now: dt.datetime) -> str:
    due = offer_calendar.extension_announcement_due(o)
    totals = "; ".join(
        f"{name}: ${total:,.0f}" for name, total in drafts.tendered_to_date(o).items()
    )
    return (
        f"The issuer extends the offer, now expiring {calendars.format_ny(o.expiration_at)}, "
        f"to the new expiration below. Every tendered note stays tendered and withdrawal "
        f"rights continue; the exchange date moves to the business day after. Announce it by "
        f"{calendars.format_ny(due)} with the approximate amount tendered so far "
        f"({totals or 'nothing yet'}); the announcement is drafted for you on confirming."
    )


def _amendment_consequence(o: ExchangeOffer, now: dt.datetime) -> str:
    moved = offer_calendar.five_business_day_expiration(o, calendars.ny_date(now))
    effect = (
        f"If it is material, the offer, now expiring "
        f"{calendars.format_ny(o.expiration_at)}, stays open to the fifth business day from, "
        f"and including, the day notice was first given: {calendars.format_ny(moved)} if "
        f"that was today, earlier if it was given before."
        if moved
        else f"The offer expires {calendars.format_ny(o.expiration_at)}, on or after the fifth "
        f"business day from today: a material change does not extend it."
    )
    return (
        f"The issuer's amendment is recorded, its announcement drafted. {effect} A condition "
        f"is waived with “Waive a condition”."
    )


def _amend(o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    event = offers.amend_offer(
        o.pk,
        description=data["description"],
        material=data["material"],
        notice_on=data["notice_on"],
        actor=actor,
        now=now,
    )
    moved = event.new_expiration_at != event.previous_expiration_at
    assert event.new_expiration_at is not None
    return Outcome(
        f"Recorded: {event.get_kind_display()}."
        + (
            f" The offer now expires {calendars.format_ny(event.new_expiration_at)} (fifth "
            f"business day from the notice)."
            if moved
            else ""
        )
    )


def _terminate(o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    offers.terminate_offer(
        o.pk, actor=actor, now=now, reason=data["reason"], ground=data.get("ground", "")
    )
    returns = NoteReturn.objects.filter(tender__offer_id=o.pk, returned_at__isnull=True).count()
    return Outcome(
        f"The offer is terminated. Every open tender was rejected; {returns} return(s) of "
        f"original notes are waiting to be sent."
    )


def _stop_order(in_effect: bool) -> Perform:
    def perform(o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
        offers.set_stop_order(
            o.pk, in_effect=in_effect, actor=actor, now=now, reason=data["reason"]
        )
        return Outcome(
            "Stop order recorded: nothing may be accepted while it stands."
            if in_effect
            else "Stop order lifted: acceptance may proceed."
        )

    return perform


def _accept(o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    offers.accept_offer(o.pk, actor=actor, now=now, reason=data["reason"])
    return Outcome("The issuer's notice of acceptance is recorded: the offer is accepted.")


def _expire(o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    o = offers.expire_offer(o.pk, actor=actor, now=now)
    return Outcome(
        f"The offer expired; the exchange date is {o.exchange_date:%A, %B %d, %Y}.",
    )


def _complete(o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    offers.complete_offer(o.pk, actor=actor, now=now)
    return Outcome("The offer is completed.")


def _before_expiration(o: ExchangeOffer, now: dt.datetime) -> bool:
    return now < o.expiration_at


def _at_or_after_expiration(o: ExchangeOffer, now: dt.datetime) -> bool:
    return now >= o.expiration_at


def _on_or_after_exchange_date(o: ExchangeOffer, now: dt.datetime) -> bool:
    return calendars.ny_date(now) >= o.exchange_date


def _stop_order_can_change(to: bool) -> Rule:
    def rule(o: ExchangeOffer, now: dt.datetime) -> bool:
        closed = o.state in (OfferState.COMPLETED, OfferState.TERMINATED)
        return not closed and o.stop_order_in_effect != to

    return rule


def _announce(o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime) -> Outcome:
    announcements.record_announcement(
        o.pk,
        text=data["text"],
        actor=actor,
        now=now,
        made_at=data.get("made_at"),
        channel=data.get("channel", ""),
        decision_id=data.get("decision"),
    )
    return Outcome("The announcement is recorded in the offer's events and history.")


def _announcement_initial(o: ExchangeOffer, now: dt.datetime) -> dict[str, Any]:
    """The first decision awaiting its announcement, with the text drafted for it."""
    pending = announcements.decisions_awaiting_announcement(o)
    if not pending:
        return {}
    first = pending[0]
    return {"decision": first.pk, "text": first.announcement_draft}


def _announcement_consequence(o: ExchangeOffer, now: dt.datetime) -> str:
    pending = announcements.decisions_awaiting_announcement(o)
    listed = "; ".join(
        f"no. {e.pk}: {e.get_kind_display().lower()} of {calendars.format_ny(e.occurred_at)}"
        + (
            f", due by {calendars.format_ny(e.announcement_due_at)}"
            if e.announcement_due_at
            else ""
        )
        + (" — LATE" if e.announcement_late_at else "")
        for e in pending
    )
    return (
        "The issuer's public announcement (press release, Dow Jones News Service) is recorded "
        "with the offer's events, as released, when and how it was made. "
        + (
            f"Decisions awaiting an announcement: {listed}. The first is filled in with its "
            f"drafted text."
            if pending
            else "No decision is awaiting an announcement."
        )
    )


def _series_list(o: ExchangeOffer) -> str:
    return ", ".join(f"{s.slug} ({s.name})" for s in o.series.order_by("maturity_date", "name"))


def _conditions_now(o: ExchangeOffer) -> str:
    held = conditions.open_assertions(o)
    if not held:
        return "No condition is asserted."
    return (
        "Asserted now: "
        + "; ".join(f"{a.get_kind_display()} for {a.series.slug}" for a in held)
        + "."
    )


def _assert_condition(
    o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime
) -> Outcome:
    conditions.assert_condition(
        o.pk,
        kind=ConditionKind(data["kind"]),
        series_slugs=data["series"],
        description=data["description"],
        actor=actor,
        now=now,
    )
    return Outcome(
        "The condition is asserted: nothing of the series concerned will be accepted until it "
        "is waived. Record its announcement."
    )


def _waive_condition(
    o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime
) -> Outcome:
    event = conditions.waive_condition(
        o.pk,
        kind=ConditionKind(data["kind"]),
        series_slugs=data["series"],
        description=data.get("description", ""),
        notice_on=data["notice_on"],
        actor=actor,
        now=now,
    )
    return Outcome(f"Recorded: {event.description} Record its announcement.")


def _before_acceptance(o: ExchangeOffer, now: dt.datetime) -> bool:
    return o.state in (OfferState.OPEN, OfferState.EXPIRED)


def _set_cure_period(
    o: ExchangeOffer, data: dict[str, Any], actor: Actor, now: dt.datetime
) -> Outcome:
    cure_periods.set_cure_period(
        o.pk, ends_at=data["ends_at"], reason=data["reason"], actor=actor, now=now
    )
    return Outcome(f"Defects may now be cured until {calendars.format_ny(data['ends_at'])}.")


def _open_tender_count(o: ExchangeOffer) -> int:
    return Tender.objects.filter(offer=o, state__in=TENDER_OPEN_STATES).count()


def _ny_minute(moment: dt.datetime) -> str:
    return f"{calendars.ny_localtime(moment):%Y-%m-%d %H:%M}"


OFFER_TRANSITIONS: tuple[DeskTransition, ...] = (
    DeskTransition(
        name="commence",
        label="Commence",
        fsm="commence",
        issuer_decision=True,
        consequence=lambda o, now: (
            f"The offer opens to tenders now. It expires "
            f"{calendars.format_ny(o.expiration_at)}, which must leave it open at least "
            f"{o.minimum_open_days} days and {o.minimum_open_business_days} business days "
            f"after notice is mailed."
        ),
        perform=_commence,
        form_class=CommenceOfferForm,
        initial=lambda o, now: {"mailed_on": calendars.ny_date(now)},
    ),
    DeskTransition(
        name="extend",
        label="Extend",
        fsm="extend",
        issuer_decision=True,
        allowed_now=_before_expiration,
        consequence=_extension_consequence,
        perform=_extend,
        form_class=ExtendOfferForm,
        initial=lambda o, now: {"new_expiration": _ny_minute(o.expiration_at)},
    ),
    DeskTransition(
        name="amend",
        label="Amend",
        fsm="amend",
        issuer_decision=True,
        allowed_now=_before_expiration,
        consequence=_amendment_consequence,
        perform=_amend,
        form_class=AmendOfferForm,
    ),
    DeskTransition(
        name="stop_order_on",
        label="Stop order in effect",
        issuer_decision=True,
        allowed_now=_stop_order_can_change(True),
        consequence=lambda o, now: (
            "A stop order is threatened or in effect on the registration statement or the "
            "indentures' qualification: while it stands no original notes may be accepted and "
            "no new notes issued."
        ),
        perform=_stop_order(True),
        form_class=StopOrderForm,
    ),
    DeskTransition(
        name="stop_order_off",
        label="Stop order lifted",
        issuer_decision=True,
        allowed_now=_stop_order_can_change(False),
        consequence=lambda o, now: (
            "The stop order is lifted: acceptance may proceed on or after the exchange date."
        ),
        perform=_stop_order(False),
        form_class=StopOrderForm,
    ),
    DeskTransition(
        name="expire",
        label="Expire",
        fsm="expire",
        allowed_now=_at_or_after_expiration,
        consequence=lambda o, now: (
            f"The expiration instant ({calendars.format_ny(o.expiration_at)}) has passed: the "
            f"offer closes to new tenders and withdrawals. The exchange date is "
            f"{o.exchange_date:%A, %B %d, %Y}."
        ),
        perform=_expire,
    ),
    DeskTransition(
        name="accept",
        label="Accept (notice of acceptance)",
        fsm="accept",  # its FSM condition: no stop order in effect
        issuer_decision=True,
        allowed_now=_on_or_after_exchange_date,
        consequence=lambda o, now: (
            f"The issuer's written notice of acceptance is recorded: notes validly tendered and "
            f"not withdrawn are accepted, and new notes become due. "
            f"{_open_tender_count(o)} tender(s) are still undecided."
        ),
        perform=_accept,
        form_class=AcceptOfferForm,
    ),
    DeskTransition(
        name="complete",
        label="Complete",
        fsm="complete",
        consequence=lambda o, now: (
            "Every new note has been delivered and everything not accepted returned: the offer "
            "is completed. Refused while any tender is neither accepted nor rejected."
        ),
        perform=_complete,
    ),
    DeskTransition(
        name="terminate",
        label="Terminate",
        fsm="terminate",
        issuer_decision=True,
        consequence=lambda o, now: (
            f"The issuer terminates the offer: nothing will be accepted. The "
            f"{_open_tender_count(o)} tender(s) still open are rejected and their notes "
            f"recorded for return. This cannot be undone. "
            + (
                "Before the expiration instant the issuer may terminate for any reason."
                if now < o.expiration_at
                else "The offer has expired: it may be terminated only on a condition in "
                "effect, named below"
                + (
                    " (in effect now: "
                    + "; ".join(k.label for k in offers.termination_grounds(o))
                    + ")."
                    if offers.termination_grounds(o)
                    else "; none is asserted and no stop order is in effect, so it will be refused."
                )
            )
            + " The announcement is drafted and kept with the decision."
        ),
        perform=_terminate,
        form_class=TerminateOfferForm,
    ),
    DeskTransition(
        name="announce",
        label="Record an announcement",
        issuer_decision=True,
        allowed_now=lambda o, now: o.state != OfferState.DRAFT,
        consequence=lambda o, now: (
            "The issuer's public announcement (press release, Dow Jones News Service) is "
            "recorded with the offer's events, as released."
        ),
        perform=_announce,
        form_class=AnnouncementForm,
        initial=_announcement_initial,
    ),
    DeskTransition(
        name="assert_condition",
        label="Assert a condition",
        issuer_decision=True,
        allowed_now=_before_acceptance,
        consequence=lambda o, now: (
            f"The issuer asserts a condition of the offer for the whole offer or named series "
            f"({_series_list(o)}). While it stands, nothing of those series is accepted on the "
            f"exchange date; it is announced. {_conditions_now(o)}"
        ),
        perform=_assert_condition,
        form_class=ConditionForm,
    ),
    DeskTransition(
        name="waive_condition",
        label="Waive a condition",
        issuer_decision=True,
        allowed_now=_before_acceptance,
        consequence=lambda o, now: (
            f"The issuer waives a condition in whole or for named series "
            f"({_series_list(o)}). Before expiration a waiver is a material change: the offer "
            f"stays open to the fifth business day from, and including, the day notice was "
            f"first given. {_conditions_now(o)}"
        ),
        perform=_waive_condition,
        form_class=WaiveConditionForm,
    ),
    DeskTransition(
        name="cure_period",
        label="Set the time to cure",
        issuer_decision=True,
        allowed_now=lambda o, now: (
            o.state in (OfferState.OPEN, OfferState.EXPIRED, OfferState.ACCEPTED)
        ),
        consequence=lambda o, now: (
            f"The issuer determines the time by which defects must be cured. Now: "
            f"{calendars.format_ny(cure_periods.offer_cure_deadline(o))} (a guaranteed-delivery "
            f"tender keeps its delivery deadline if later). Deficient tenders are not rejected "
            f"on the exchange date before it."
        ),
        perform=_set_cure_period,
        form_class=CurePeriodForm,
    ),
)
