"""The five state machines, checked against tables written out here by hand.

Each table is the specification (../shared/docs/domain.md, "Suggested state charts"):
transition name -> (source states, target state). The tests assert that the models
declare exactly that table, and then try *every* transition from *every* state on an
unsaved instance, so a source added or dropped by accident fails loudly. Conditions
(Tender.validate: no open deficiency; ExchangeOffer.accept: no stop order) and the
guarantees of the state field itself (protected, optimistic concurrency) are checked on
saved instances.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import models, transaction
from django_fsm import ConcurrentTransition, FSMField, TransitionNotAllowed, can_proceed

from exchange.models import (
    Deficiency,
    DeficiencyKind,
    DeficiencyStatus,
    ExchangeOffer,
    GuaranteedDelivery,
    OfferState,
    RegistrationDefault,
    RegistrationDefaultTrigger,
    Tender,
    TenderState,
    WithdrawalNotice,
)
from tests.factories import SeedOffer, paper_tender

# transition name -> (source states, target state)
Table = dict[str, tuple[frozenset[str], str]]


@dataclass(frozen=True)
class Machine:
    model: type[models.Model]
    states: frozenset[str]
    # The field's default: the state a new object starts in.
    initial: str
    # Other states a service may create an object in (a guaranteed-delivery tender starts
    # pending delivery, waiting for the notes).
    other_entry_states: frozenset[str]
    table: Table
    # Transitions that carry a condition besides their source state.
    conditioned: frozenset[str] = frozenset()


def _t(sources: set[str], target: str) -> tuple[frozenset[str], str]:
    return frozenset(sources), target


# The tender states in which the notes are still in the agent's hands, subject to the offer:
# a holder may withdraw, and the issuer may reject, from any of them.
_TENDER_OPEN = {"received", "pending_delivery", "in_review", "deficient", "valid"}

MACHINES: dict[str, Machine] = {
    "ExchangeOffer": Machine(
        model=ExchangeOffer,
        states=frozenset({"draft", "open", "expired", "accepted", "completed", "terminated"}),
        initial="draft",
        other_entry_states=frozenset(),
        table={
            "commence": _t({"draft"}, "open"),
            # Extension and amendment keep the offer open with a new expiration.
            "extend": _t({"open"}, "open"),
            "amend": _t({"open"}, "open"),
            "expire": _t({"open"}, "expired"),
            "accept": _t({"expired"}, "accepted"),
            "complete": _t({"accepted"}, "completed"),
            # Termination is possible before expiration or before acceptance, never after.
            "terminate": _t({"open", "expired"}, "terminated"),
        },
        conditioned=frozenset({"accept"}),
    ),
    "Tender": Machine(
        model=Tender,
        states=frozenset(
            {
                "received",
                "pending_delivery",
                "in_review",
                "deficient",
                "valid",
                "accepted",
                "exchanged",
                "withdrawn",
                "rejected",
                "returned",
            }
        ),
        initial="received",
        other_entry_states=frozenset({"pending_delivery"}),
        table={
            "start_review": _t({"received"}, "in_review"),
            # A defect may still be found in a tender already found valid.
            "find_deficient": _t({"received", "in_review", "valid"}, "deficient"),
            "validate": _t({"received", "in_review", "deficient"}, "valid"),
            # A holder's cure sends the tender back to the desk for a clerk's check.
            "return_to_review": _t({"deficient"}, "in_review"),
            # The notes under a guaranteed delivery arrive: the tender is then received.
            "deliver_notes": _t({"pending_delivery"}, "received"),
            "withdraw": _t(_TENDER_OPEN, "withdrawn"),
            "reject": _t(_TENDER_OPEN, "rejected"),
            "accept": _t({"valid"}, "accepted"),
            "exchange": _t({"accepted"}, "exchanged"),
            "return_notes": _t({"withdrawn", "rejected"}, "returned"),
        },
        conditioned=frozenset({"validate"}),
    ),
    "GuaranteedDelivery": Machine(
        model=GuaranteedDelivery,
        states=frozenset({"received", "fulfilled", "lapsed"}),
        initial="received",
        other_entry_states=frozenset(),
        table={
            "fulfil": _t({"received"}, "fulfilled"),
            "lapse": _t({"received"}, "lapsed"),
        },
    ),
    "WithdrawalNotice": Machine(
        model=WithdrawalNotice,
        states=frozenset({"received", "effective", "rejected"}),
        initial="received",
        other_entry_states=frozenset(),
        table={
            "make_effective": _t({"received"}, "effective"),
            "reject": _t({"received"}, "rejected"),
        },
    ),
    "RegistrationDefault": Machine(
        model=RegistrationDefault,
        states=frozenset({"occurred", "cured"}),
        initial="occurred",
        other_entry_states=frozenset(),
        table={"cure": _t({"occurred"}, "cured")},
    ),
}


def _state_field(model: type[models.Model]) -> FSMField:
    field = model._meta.get_field("state")
    assert isinstance(field, FSMField)
    return field


def _declared_table(model: type[models.Model]) -> Table:
    """What the model's @transition decorators declare, normalised to plain strings."""
    sources: dict[str, set[str]] = {}
    targets: dict[str, set[str]] = {}
    for transition in _state_field(model).get_all_transitions(model):
        sources.setdefault(transition.name, set()).add(str(transition.source))
        targets.setdefault(transition.name, set()).add(str(transition.target))
    # One target per transition name: a method whose target depends on its source would
    # not fit the table's shape (and none of the desk's do).
    assert all(len(t) == 1 for t in targets.values()), targets
    return {name: (frozenset(sources[name]), next(iter(targets[name]))) for name in sources}


@pytest.mark.parametrize("name", MACHINES)
def test_declared_transitions_are_exactly_the_table(name: str) -> None:
    machine = MACHINES[name]
    assert _declared_table(machine.model) == machine.table


@pytest.mark.parametrize("name", MACHINES)
def test_states_initial_state_and_reachability(name: str) -> None:
    machine = MACHINES[name]
    field = _state_field(machine.model)
    assert {str(value) for value, _ in field.choices} == machine.states
    assert str(field.default) == machine.initial
    assert field.protected
    # Every state in the table is a declared state, and every state can be reached from an
    # entry state: no dead choice that no transition leads to.
    mentioned = {s for sources, target in machine.table.values() for s in (*sources, target)}
    assert mentioned <= machine.states
    reached = {machine.initial, *machine.other_entry_states}
    frontier = list(reached)
    while frontier:
        state = frontier.pop()
        for sources, target in machine.table.values():
            if state in sources and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == machine.states


@pytest.mark.parametrize("name", MACHINES)
def test_conditions_are_declared_exactly_where_expected(name: str) -> None:
    machine = MACHINES[name]
    conditioned = {
        t.name
        for t in _state_field(machine.model).get_all_transitions(machine.model)
        if t.conditions
    }
    assert conditioned == machine.conditioned


@pytest.fixture
def conditions_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop every transition's conditions for the duration of a test.

    The exhaustive table test is about source states only. Tender.validate's condition
    queries the tender's deficiencies, which an unsaved instance cannot do (Django refuses a
    reverse relation without a primary key); the conditions get their own db-backed tests.
    """
    for machine in MACHINES.values():
        for transition in _state_field(machine.model).get_all_transitions(machine.model):
            monkeypatch.setattr(transition, "conditions", [])


def _every_pair() -> list[object]:
    return [
        pytest.param(name, state, transition, id=f"{name}:{state}.{transition}")
        for name, machine in MACHINES.items()
        for state in sorted(machine.states)
        for transition in sorted(machine.table)
    ]


@pytest.mark.usefixtures("conditions_ignored")
@pytest.mark.parametrize(("name", "state", "transition"), _every_pair())
def test_every_transition_from_every_state(name: str, state: str, transition: str) -> None:
    machine = MACHINES[name]
    sources, target = machine.table[transition]
    # A protected state can be given once, in the constructor: that is how the object
    # is placed in an arbitrary state without running the transitions that lead there.
    obj = machine.model(state=state)
    method = getattr(obj, transition)
    allowed = state in sources
    assert can_proceed(method, check_conditions=False) is allowed
    if allowed:
        method()
        assert obj.state == target
    else:
        with pytest.raises(TransitionNotAllowed):
            method()
        assert obj.state == state  # a refused transition leaves the state alone


# --- saved instances ---------------------------------------------------------------------


def _make_offer(seed: SeedOffer, now: dt.datetime) -> models.Model:
    return seed.offer


def _make_tender(seed: SeedOffer, now: dt.datetime) -> models.Model:
    return paper_tender(seed, now)


def _make_guaranteed_delivery(seed: SeedOffer, now: dt.datetime) -> models.Model:
    # Straight through the ORM: this is about the model's state field, not the service.
    return GuaranteedDelivery.objects.create(
        tender=paper_tender(seed, now),
        guarantor=seed.guarantor,
        tendering_holder_name="Ardsley Pension Trust",
        tendering_holder_address="1 Wall Street\nNew York, NY",
        registered_names="Ardsley Pension Trust",
        executed_on=now.date(),
        received_at=now,
        deadline_at=now + dt.timedelta(days=5),
    )


def _make_withdrawal(seed: SeedOffer, now: dt.datetime) -> models.Model:
    return WithdrawalNotice.objects.create(
        tender=paper_tender(seed, now),
        received_at=now,
        tendering_person_name="Ardsley Pension Trust",
        certificate_numbers="R08-0001",
        amount=Decimal("5000000"),
        states_withdrawal=True,
        registered_holder_name="Ardsley Pension Trust",
        signed_as_letter=True,
    )


def _make_registration_default(seed: SeedOffer, now: dt.datetime) -> models.Model:
    return RegistrationDefault.objects.create(
        offer=seed.offer,
        trigger=RegistrationDefaultTrigger.NOT_FILED,
        occurred_on=dt.date(2000, 5, 29),
    )


SAVED: dict[str, Callable[[SeedOffer, dt.datetime], models.Model]] = {
    "ExchangeOffer": _make_offer,
    "Tender": _make_tender,
    "GuaranteedDelivery": _make_guaranteed_delivery,
    "WithdrawalNotice": _make_withdrawal,
    "RegistrationDefault": _make_registration_default,
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", MACHINES)
def test_state_of_a_loaded_instance_cannot_be_assigned(
    name: str, seed: SeedOffer, during_offer: dt.datetime
) -> None:
    model = MACHINES[name].model
    obj = model._default_manager.get(pk=SAVED[name](seed, during_offer).pk)
    before = obj.state
    with pytest.raises(AttributeError, match="Direct state modification is not allowed"):
        obj.state = "x"
    assert obj.state == before
    # The state still moves the other ways it must: reloading from the database (which the
    # services do after a queryset update, and the losers of a race do) is not refused.
    elsewhere = min(MACHINES[name].states - {before})
    model._default_manager.filter(pk=obj.pk).update(state=elsewhere)
    obj.refresh_from_db()
    assert obj.state == elsewhere


@pytest.mark.django_db
@pytest.mark.parametrize("resolution", [DeficiencyStatus.CURED, DeficiencyStatus.WAIVED])
def test_tender_validate_refused_while_a_deficiency_is_open(
    seed: SeedOffer, during_offer: dt.datetime, resolution: DeficiencyStatus
) -> None:
    tender = paper_tender(seed, during_offer)
    deficiency = Deficiency.objects.create(
        tender=tender,
        kind=DeficiencyKind.W9,
        note="Certify the TIN on the Substitute Form W-9.",
        opened_at=during_offer,
        opened_by_label="test clerk",
    )
    # The source state allows it; only the condition refuses.
    assert can_proceed(tender.validate, check_conditions=False)
    assert not can_proceed(tender.validate)
    with pytest.raises(TransitionNotAllowed, match="conditions have not been met"):
        tender.validate()
    assert tender.state == TenderState.RECEIVED

    deficiency.status = resolution
    deficiency.resolved_at = during_offer
    if resolution == DeficiencyStatus.WAIVED:
        deficiency.waiver_authorized_by = "Issuer's general counsel"
    deficiency.save()

    assert can_proceed(tender.validate)
    tender.validate()
    assert tender.state == TenderState.VALID


@pytest.mark.django_db
def test_offer_accept_refused_while_a_stop_order_is_in_effect(seed: SeedOffer) -> None:
    # Put the saved offer where acceptance is possible: the offer has expired.
    ExchangeOffer.objects.filter(pk=seed.offer.pk).update(state=OfferState.EXPIRED)
    offer = ExchangeOffer.objects.get(pk=seed.offer.pk)
    offer.stop_order_in_effect = True
    assert can_proceed(offer.accept, check_conditions=False)
    assert not can_proceed(offer.accept)
    with pytest.raises(TransitionNotAllowed, match="conditions have not been met"):
        offer.accept()
    assert offer.state == OfferState.EXPIRED

    offer.stop_order_in_effect = False  # the stop order is lifted
    assert can_proceed(offer.accept)
    offer.accept()
    assert offer.state == OfferState.ACCEPTED


@pytest.mark.django_db
@pytest.mark.parametrize(
    "second",
    [
        pytest.param("validate", id="same-transition-twice"),
        pytest.param("reject", id="different-transition-same-source"),
    ],
)
def test_concurrent_transition_is_detected(
    seed: SeedOffer, during_offer: dt.datetime, second: str
) -> None:
    pk = paper_tender(seed, during_offer).pk
    first_copy = Tender.objects.get(pk=pk)
    second_copy = Tender.objects.get(pk=pk)

    first_copy.validate()
    first_copy.save(update_fields=["state"])

    # The second copy still believes the tender is received, so the transition itself
    # goes through in memory; the save must notice the row moved underneath it.
    getattr(second_copy, second)()
    # The services save inside an atomic block, as django-fsm requires; here it is a
    # savepoint, so the refused save rolls back only itself and the test can go on.
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        second_copy.save(update_fields=["state"])
    assert Tender.objects.get(pk=pk).state == TenderState.VALID

    # The loser reloads and decides again from the state that won.
    second_copy.refresh_from_db()
    assert second_copy.state == TenderState.VALID
    second_copy.reject()
    second_copy.save(update_fields=["state"])
    assert Tender.objects.get(pk=pk).state == TenderState.REJECTED
