"""The issuer's decisions as the prospectus has them: termination before the expiration
instant for any reason, after it only on a condition in effect, never after acceptance;
amendments dated by their notice; announcements drafted with each decision and recorded as
made. Each deadline at the instant and one second before."""

from __future__ import annotations

import datetime as dt

import pytest

from exchange.models import (
    ConditionKind,
    ExchangeOffer,
    OfferEvent,
    OfferEventKind,
    OfferState,
    StateChange,
)
from exchange.services.announcements import decisions_awaiting_announcement, record_announcement
from exchange.services.base import DeskError
from exchange.services.conditions import assert_condition
from exchange.services.offers import (
    accept_offer,
    amend_offer,
    commence_offer,
    expire_offer,
    extend_offer,
    set_stop_order,
    terminate_offer,
)
from tests.factories import JOB, SUPERVISOR, SeedOffer, build_seed_offer, ny

EXPIRATION = ny(2000, 7, 12, 17, 0)  # Wednesday 5:00 p.m.
ONE_SECOND = dt.timedelta(seconds=1)


def _offer(seed: SeedOffer) -> ExchangeOffer:
    return ExchangeOffer.objects.get(pk=seed.offer.pk)


# --- termination -----------------------------------------------------------------------


@pytest.mark.django_db
def test_termination_for_any_reason_one_second_before_expiration(seed: SeedOffer) -> None:
    terminate_offer(
        seed.offer.pk,
        actor=SUPERVISOR,
        now=EXPIRATION - ONE_SECOND,
        reason="The issuer changed its mind.",
    )
    assert _offer(seed).state == OfferState.TERMINATED


@pytest.mark.django_db
@pytest.mark.parametrize(
    "when",
    [
        pytest.param(EXPIRATION, id="at-the-instant"),
        pytest.param(ny(2000, 7, 13, 8), id="next-8am"),
    ],
)
def test_termination_after_expiration_without_a_condition_is_refused(
    seed: SeedOffer, when: dt.datetime
) -> None:
    if when > EXPIRATION:
        expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION)
    history = StateChange.objects.count()
    with pytest.raises(DeskError) as refused:
        terminate_offer(
            seed.offer.pk, actor=SUPERVISOR, now=when, reason="Issuer changed its mind."
        )
    assert refused.value.field == "ground"
    assert "No condition is asserted" in refused.value.message
    assert _offer(seed).state != OfferState.TERMINATED
    assert StateChange.objects.count() == history
    # Naming a condition that is not asserted is refused too.
    with pytest.raises(DeskError, match="not asserted"):
        terminate_offer(
            seed.offer.pk,
            actor=SUPERVISOR,
            now=when,
            reason="Litigation.",
            ground=ConditionKind.PROCEEDING,
        )


@pytest.mark.django_db
def test_termination_after_expiration_allowed_on_an_asserted_condition(seed: SeedOffer) -> None:
    expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION)
    assert_condition(
        seed.offer.pk,
        kind=ConditionKind.PROCEEDING,
        series_slugs=["2010-senior"],  # "all or any portion"
        description="Injunction sought against the exchange.",
        actor=SUPERVISOR,
        now=ny(2000, 7, 13, 7, 0),
    )
    with pytest.raises(DeskError) as refused:  # the condition must be named
        terminate_offer(seed.offer.pk, actor=SUPERVISOR, now=ny(2000, 7, 13, 8), reason="Suit.")
    assert ConditionKind.PROCEEDING.label in refused.value.message
    terminate_offer(
        seed.offer.pk,
        actor=SUPERVISOR,
        now=ny(2000, 7, 13, 8),
        reason="Injunction issued.",
        ground=ConditionKind.PROCEEDING,
    )
    offer = _offer(seed)
    assert offer.state == OfferState.TERMINATED
    event = OfferEvent.objects.get(offer=offer, kind=OfferEventKind.TERMINATED)
    assert "Condition relied on" in event.description
    # Its announcement is drafted with it and waits to be recorded.
    assert "has terminated its offer" in event.announcement_draft
    assert event in decisions_awaiting_announcement(offer)


@pytest.mark.django_db
def test_termination_after_expiration_allowed_on_a_stop_order(seed: SeedOffer) -> None:
    set_stop_order(
        seed.offer.pk,
        in_effect=True,
        actor=SUPERVISOR,
        now=EXPIRATION + ONE_SECOND,
        reason="SEC stop order on the registration statement.",
    )
    terminate_offer(
        seed.offer.pk,
        actor=SUPERVISOR,
        now=EXPIRATION + ONE_SECOND,
        reason="Stop order.",
        ground=ConditionKind.STOP_ORDER,
    )
    assert _offer(seed).state == OfferState.TERMINATED


@pytest.mark.django_db
def test_termination_never_after_acceptance_even_with_a_condition(seed: SeedOffer) -> None:
    expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION)
    accept_offer(seed.offer.pk, actor=SUPERVISOR, now=ny(2000, 7, 13, 9))
    set_stop_order(
        seed.offer.pk, in_effect=True, actor=SUPERVISOR, now=ny(2000, 7, 13, 10), reason="SEC."
    )
    with pytest.raises(DeskError, match="once the notes are accepted"):
        terminate_offer(
            seed.offer.pk,
            actor=SUPERVISOR,
            now=ny(2000, 7, 13, 11),
            reason="Stop order.",
            ground=ConditionKind.STOP_ORDER,
        )
    assert _offer(seed).state == OfferState.ACCEPTED


# --- amendment notice date --------------------------------------------------------------


@pytest.mark.django_db
def test_five_business_days_count_from_the_notice_not_the_recording(seed: SeedOffer) -> None:
    # Notice first given Friday July 7, recorded Monday July 10 at 9:00. From and including
    # July 7: 7, 10, 11, 12, 13 -> Thursday July 13, 5:00 p.m. (Counting from the recording
    # day would have given Friday July 14.)
    event = amend_offer(
        seed.offer.pk,
        description="The exchange ratio wording is amended (material).",
        material=True,
        notice_on=dt.date(2000, 7, 7),
        actor=SUPERVISOR,
        now=ny(2000, 7, 10, 9, 0),
    )
    assert _offer(seed).expiration_at == ny(2000, 7, 13, 17, 0)
    assert event.notice_on == dt.date(2000, 7, 7)
    assert "notice of 2000-07-07" in event.description
    assert "July 13, 2000" in event.announcement_draft


@pytest.mark.django_db
def test_notice_from_monday_july_10_extends_to_friday_july_14(seed: SeedOffer) -> None:
    amend_offer(
        seed.offer.pk,
        description="Material amendment.",
        material=True,
        notice_on=dt.date(2000, 7, 10),
        actor=SUPERVISOR,
        now=ny(2000, 7, 10, 9, 0),
    )
    assert _offer(seed).expiration_at == ny(2000, 7, 14, 17, 0)


@pytest.mark.django_db
def test_notice_date_cannot_be_later_than_the_recording(seed: SeedOffer) -> None:
    # Notice "given" Tuesday July 11 cannot be recorded one second before that day begins...
    with pytest.raises(DeskError) as refused:
        amend_offer(
            seed.offer.pk,
            description="Material amendment.",
            material=True,
            notice_on=dt.date(2000, 7, 11),
            actor=SUPERVISOR,
            now=ny(2000, 7, 11) - ONE_SECOND,
        )
    assert refused.value.field == "notice_on"
    assert _offer(seed).expiration_at == EXPIRATION
    # ...and is accepted at the instant it begins (New York midnight).
    amend_offer(
        seed.offer.pk,
        description="Material amendment.",
        material=True,
        notice_on=dt.date(2000, 7, 11),
        actor=SUPERVISOR,
        now=ny(2000, 7, 11),
    )
    # 11, 12, 13, 14, 17 -> Monday July 17.
    assert _offer(seed).expiration_at == ny(2000, 7, 17, 17, 0)


@pytest.mark.django_db
def test_notice_date_is_required(seed: SeedOffer) -> None:
    with pytest.raises(DeskError) as refused:
        amend_offer(
            seed.offer.pk,
            description="Material amendment.",
            material=True,
            notice_on=None,
            actor=SUPERVISOR,
            now=ny(2000, 7, 10, 9, 0),
        )
    assert refused.value.field == "notice_on"


# --- announcements ----------------------------------------------------------------------


def _midnight_seed() -> SeedOffer:
    """The seed offer expiring at "12:00 midnight" ending Wednesday July 12 (stored as
    Thursday July 13 00:00 New York)."""
    seed = build_seed_offer(commence=False)
    ExchangeOffer.objects.filter(pk=seed.offer.pk).update(
        expiration_at=ny(2000, 7, 13), initial_expiration_at=ny(2000, 7, 13)
    )
    commence_offer(
        seed.offer.pk, actor=SUPERVISOR, now=ny(2000, 6, 9, 9), mailed_on=dt.date(2000, 6, 9)
    )
    return seed


@pytest.mark.django_db
def test_midnight_expiration_extension_is_announced_by_thursday_9am() -> None:
    seed = _midnight_seed()
    event = extend_offer(
        seed.offer.pk,
        new_expiration=ny(2000, 7, 20),
        actor=SUPERVISOR,
        now=ny(2000, 7, 12, 23, 59, 59),
    )
    # The previously scheduled expiration date is Wednesday July 12 (the day the midnight
    # ends); the next business day is Thursday July 13, not Friday July 14.
    assert event.announcement_due_at == ny(2000, 7, 13, 9, 0)
    # And for a 5:00 p.m. expiration on Wednesday July 12, the same Thursday.
    seed = build_seed_offer(slug="level3-5pm")
    five_pm = extend_offer(
        seed.offer.pk, new_expiration=ny(2000, 7, 19, 17), actor=SUPERVISOR, now=ny(2000, 7, 12)
    )
    assert five_pm.announcement_due_at == ny(2000, 7, 13, 9, 0)
    assert "has extended its offer" in event.announcement_draft
    assert (
        "scheduled to expire at 12:00 a.m. New York City time, Thursday, July 13, 2000"
        in event.announcement_draft
    )


@pytest.mark.django_db
def test_every_decision_stores_its_drafted_announcement(seed: SeedOffer) -> None:
    extend_offer(
        seed.offer.pk, new_expiration=ny(2000, 7, 19, 17), actor=SUPERVISOR, now=ny(2000, 7, 5)
    )
    amend_offer(
        seed.offer.pk,
        description="Wording amended.",
        material=False,
        notice_on=dt.date(2000, 7, 6),
        actor=SUPERVISOR,
        now=ny(2000, 7, 6),
    )
    assert_condition(
        seed.offer.pk,
        kind=ConditionKind.LAW,
        description="A rule is proposed.",
        actor=SUPERVISOR,
        now=ny(2000, 7, 7),
    )
    expire_offer(seed.offer.pk, actor=JOB, now=ny(2000, 7, 19, 17))
    drafts = {e.kind: e.announcement_draft for e in OfferEvent.objects.filter(offer=seed.offer)}
    for kind in (
        OfferEventKind.EXTENDED,
        OfferEventKind.AMENDED,
        OfferEventKind.CONDITION_ASSERTED,
    ):
        assert seed.offer.issuer.name in drafts[kind], kind
    from exchange.services.conditions import waive_condition

    waive_condition(
        seed.offer.pk,
        kind=ConditionKind.LAW,
        notice_on=dt.date(2000, 7, 20),
        actor=SUPERVISOR,
        now=ny(2000, 7, 20, 8),
    )
    accept_offer(seed.offer.pk, actor=SUPERVISOR, now=ny(2000, 7, 20, 9))
    results = OfferEvent.objects.get(offer=seed.offer, kind=OfferEventKind.ACCEPTANCE_NOTICE)
    assert "results" in results.announcement_draft
    assert len(decisions_awaiting_announcement(seed.offer)) == 5


@pytest.mark.django_db
def test_an_announcement_is_recorded_as_made_against_its_decision(seed: SeedOffer) -> None:
    decision = extend_offer(
        seed.offer.pk,
        new_expiration=ny(2000, 7, 19, 17),
        actor=SUPERVISOR,
        now=ny(2000, 7, 12, 16),
    )
    # Not in the future of its recording.
    with pytest.raises(DeskError) as refused:
        record_announcement(
            seed.offer.pk,
            text=decision.announcement_draft,
            channel="Dow Jones News Service release",
            made_at=ny(2000, 7, 13, 8, 30),
            decision_id=decision.pk,
            actor=SUPERVISOR,
            now=ny(2000, 7, 13, 8, 30) - ONE_SECOND,
        )
    assert refused.value.field == "made_at"
    made = record_announcement(
        seed.offer.pk,
        text=decision.announcement_draft,
        channel="Dow Jones News Service release",
        made_at=ny(2000, 7, 13, 8, 30),
        decision_id=decision.pk,
        actor=SUPERVISOR,
        now=ny(2000, 7, 13, 8, 45),
    )
    assert made.occurred_at == ny(2000, 7, 13, 8, 30)
    assert made.announces_id == decision.pk
    assert made.announcement_channel == "Dow Jones News Service release"
    assert decisions_awaiting_announcement(seed.offer) == []
    with pytest.raises(DeskError, match="already announced"):
        record_announcement(
            seed.offer.pk,
            text="Again.",
            decision_id=decision.pk,
            actor=SUPERVISOR,
            now=ny(2000, 7, 13, 9),
        )
    history = StateChange.objects.get(action="exchange.offer.announcement")
    assert "Dow Jones News Service release" in history.reason
    assert "after its deadline" not in history.reason
