"""The offer's conditions: asserted for the whole offer or named series, waived in whole or
in part until acceptance, each a recorded decision with its announcement drafted; on the
exchange date an asserted, unwaived condition holds back only its series."""

from __future__ import annotations

import datetime as dt

import pytest

from exchange.jobs.runner import run_job
from exchange.models import (
    ConditionAssertion,
    ConditionKind,
    ExchangeOffer,
    JobName,
    JobOutcome,
    OfferEvent,
    OfferEventKind,
    OfferState,
    StateChange,
    Tender,
    TenderState,
)
from exchange.services.base import DeskError
from exchange.services.conditions import assert_condition, held_back_series, waive_condition
from exchange.services.exchange_date import run_exchange_date
from exchange.services.offers import accept_offer, expire_offer
from exchange.services.review import validate_tender
from tests.factories import (
    CLERK,
    JOB,
    SUPERVISOR,
    SeedOffer,
    book_entry_tender,
    ny,
)

EXPIRATION = ny(2000, 7, 12, 17, 0)  # Wednesday
EXCHANGE_DAY = ny(2000, 7, 13, 9, 0)  # Thursday, the first business day after
ONE_SECOND = dt.timedelta(seconds=1)
DURING = ny(2000, 6, 26, 10, 0)


def _assert(seed: SeedOffer, *slugs: str, now: dt.datetime = DURING, kind=ConditionKind.PROCEEDING):
    return assert_condition(
        seed.offer.pk,
        kind=kind,
        series_slugs=list(slugs),
        description="A holder's suit seeks to enjoin the exchange of the 2010 notes.",
        actor=SUPERVISOR,
        now=now,
    )


def _valid(seed: SeedOffer, series, amount: str = "10000000") -> Tender:
    tender = book_entry_tender(seed, DURING, amount=amount, series=series)
    validate_tender(tender.pk, actor=CLERK, now=DURING)
    return tender


@pytest.mark.django_db
def test_asserting_for_one_series_records_the_decision_history_and_draft(seed: SeedOffer) -> None:
    event = _assert(seed, "2010-senior")
    rows = list(ConditionAssertion.objects.filter(offer=seed.offer))
    assert [(r.series_id, r.kind, r.waived_at) for r in rows] == [
        (seed.senior_2010.pk, ConditionKind.PROCEEDING, None)
    ]
    assert event.kind == OfferEventKind.CONDITION_ASSERTED
    assert "11 1/4% Senior Notes due 2010" in event.description
    assert "has asserted" in event.announcement_draft
    assert "11 1/4% Senior Notes due 2010" in event.announcement_draft
    assert StateChange.objects.filter(action="exchange.offer.condition_asserted").count() == 1
    assert held_back_series(seed.offer.pk) == {
        seed.senior_2010.pk: [ConditionKind.PROCEEDING.label]
    }


@pytest.mark.django_db
def test_asserting_for_the_whole_offer_covers_every_series(seed: SeedOffer) -> None:
    event = _assert(seed, kind=ConditionKind.ADVERSE_CHANGE)
    assert set(held_back_series(seed.offer.pk)) == {s.pk for s in seed.all_series}
    assert "the whole offer" in event.announcement_draft


@pytest.mark.django_db
def test_unknown_series_and_repeated_assertion_are_refused_without_writing(
    seed: SeedOffer,
) -> None:
    with pytest.raises(DeskError) as refused:
        _assert(seed, "2012-senior")
    assert refused.value.field == "series"
    assert "2008-senior" in refused.value.message  # names the series that exist
    _assert(seed, "2010-senior")
    events = OfferEvent.objects.count()
    with pytest.raises(DeskError, match="already asserted"):
        _assert(seed, "2010-senior")
    assert OfferEvent.objects.count() == events
    assert ConditionAssertion.objects.count() == 1


@pytest.mark.django_db
def test_waiver_in_part_keeps_the_rest_asserted(seed: SeedOffer) -> None:
    _assert(seed)  # the whole offer
    event = waive_condition(
        seed.offer.pk,
        kind=ConditionKind.PROCEEDING,
        series_slugs=["2008-senior"],
        notice_on=dt.date(2000, 6, 26),
        actor=SUPERVISOR,
        now=DURING,
    )
    assert event.kind == OfferEventKind.CONDITION_WAIVED
    assert event.notice_on == dt.date(2000, 6, 26)
    assert "has waived" in event.announcement_draft
    assert set(held_back_series(seed.offer.pk)) == {seed.senior_2010.pk, seed.discount_2010.pk}
    # Nothing is deleted: the waived row stays with its waiver.
    waived = ConditionAssertion.objects.get(series=seed.senior_2008)
    assert waived.waived_event_id == event.pk and waived.waived_at == DURING
    assert StateChange.objects.filter(action="exchange.offer.condition_waived").count() == 1


@pytest.mark.django_db
def test_a_condition_may_be_asserted_and_waived_after_expiration_until_acceptance(
    seed: SeedOffer,
) -> None:
    tender = _valid(seed, seed.senior_2008)
    expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION)
    _assert(seed, "2010-senior", now=EXPIRATION + ONE_SECOND)
    # After expiration a waiver extends nothing: the offer has expired.
    event = waive_condition(
        seed.offer.pk,
        kind=ConditionKind.PROCEEDING,
        notice_on=dt.date(2000, 7, 12),
        actor=SUPERVISOR,
        now=ny(2000, 7, 12, 18, 0),
    )
    assert event.new_expiration_at == EXPIRATION
    assert held_back_series(seed.offer.pk) == {}
    accept_offer(seed.offer.pk, actor=SUPERVISOR, now=EXCHANGE_DAY)
    run_exchange_date(seed.offer.pk, actor=JOB, now=EXCHANGE_DAY)
    assert Tender.objects.get(pk=tender.pk).state == TenderState.EXCHANGED
    # Once notes of a series are accepted, no condition can be asserted for it...
    with pytest.raises(DeskError, match="before the notes are accepted"):
        _assert(seed, "2008-senior", now=EXCHANGE_DAY)
    # ...and once the offer is completed, nothing is left to waive.
    assert ExchangeOffer.objects.get(pk=seed.offer.pk).state == OfferState.COMPLETED
    with pytest.raises(DeskError, match="before the notes are accepted"):
        waive_condition(
            seed.offer.pk,
            kind=ConditionKind.PROCEEDING,
            notice_on=dt.date(2000, 7, 13),
            actor=SUPERVISOR,
            now=EXCHANGE_DAY,
        )


@pytest.mark.django_db
def test_waiver_before_expiration_runs_the_five_business_day_rule_from_its_notice(
    seed: SeedOffer,
) -> None:
    # Notice given Friday July 7, recorded Monday July 10: from and including July 7 the
    # fifth business day is Thursday July 13 (7, 10, 11, 12, 13), after the July 12 expiration.
    event = waive_condition(
        seed.offer.pk,
        kind=ConditionKind.LAW,
        notice_on=dt.date(2000, 7, 7),
        actor=SUPERVISOR,
        now=ny(2000, 7, 10, 9, 0),
    )
    assert ExchangeOffer.objects.get(pk=seed.offer.pk).expiration_at == ny(2000, 7, 13, 17, 0)
    assert event.new_expiration_at == ny(2000, 7, 13, 17, 0)
    assert "July 13, 2000" in event.announcement_draft


@pytest.mark.django_db
def test_condition_for_one_series_holds_back_only_that_series_on_the_exchange_date(
    seed: SeedOffer,
) -> None:
    seed.offer.acceptance_automatic = True
    seed.offer.save(update_fields=["acceptance_automatic"])
    senior_2008 = _valid(seed, seed.senior_2008)
    senior_2010 = _valid(seed, seed.senior_2010, amount="5000000")
    _assert(seed, "2010-senior", now=ny(2000, 7, 12, 16, 0))
    expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION)

    run = run_job(JobName.EXCHANGE_DATE, seed.offer.pk, now=EXCHANGE_DAY)
    assert Tender.objects.get(pk=senior_2008.pk).state == TenderState.EXCHANGED
    assert Tender.objects.get(pk=senior_2010.pk).state == TenderState.VALID
    # The job page says why: the series and the condition.
    assert run.outcome == JobOutcome.WAITING
    assert "held back: 11 1/4% Senior Notes due 2010" in run.detail
    assert ConditionKind.PROCEEDING.label in run.detail

    # Waived for that series: the next run accepts it.
    waive_condition(
        seed.offer.pk,
        kind=ConditionKind.PROCEEDING,
        series_slugs=["2010-senior"],
        notice_on=dt.date(2000, 7, 13),
        actor=SUPERVISOR,
        now=ny(2000, 7, 13, 11, 0),
    )
    run_exchange_date(seed.offer.pk, actor=JOB, now=ny(2000, 7, 13, 12, 0))
    assert Tender.objects.get(pk=senior_2010.pk).state == TenderState.EXCHANGED


@pytest.mark.django_db
def test_condition_on_every_series_accepts_nothing(seed: SeedOffer) -> None:
    seed.offer.acceptance_automatic = True
    seed.offer.save(update_fields=["acceptance_automatic"])
    tender = _valid(seed, seed.senior_2008)
    _assert(seed, kind=ConditionKind.ADVERSE_CHANGE)
    expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION)
    result = run_exchange_date(seed.offer.pk, actor=JOB, now=EXCHANGE_DAY)
    assert result.outcome == "waiting"
    assert "nothing accepted" in result.summary()
    assert ExchangeOffer.objects.get(pk=seed.offer.pk).state == OfferState.EXPIRED
    assert Tender.objects.get(pk=tender.pk).state == TenderState.VALID
