"""The ledger as the daily job keeps it: idempotent, equal to a rebuild from scratch,
corrected when a milestone is recorded late; defaults persisted with their history; the
job due once per New York day; the exchange-date job's completion is a milestone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, localcontext
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType

from exchange.jobs.due import due_work
from exchange.jobs.runner import run_due_jobs, run_job
from exchange.models import (
    ExchangeOffer,
    JobName,
    JobOutcome,
    OfferState,
    RegistrationDefault,
    RegistrationDefaultState,
    RegistrationDefaultTrigger,
    RegistrationEvent,
    SpecialInterestAccrual,
    StateChange,
)
from exchange.services.base import DeskError
from exchange.services.registration import (
    cure_registration_default,
    record_exchange_completed,
    record_registration_event,
)
from exchange.services.review import validate_tender
from exchange.special_interest.accrual import accrue_special_interest, expected_ledger
from tests.exchange.special_interest.helpers import D, K, accrue, milestone
from tests.factories import CLERK, JOB, SeedOffer, ny, paper_tender

pytestmark = pytest.mark.django_db

LEDGER_FIELDS = (
    "series_id",
    "day",
    "stream_start",
    "rate",
    "days_30_360",
    "basis_per_1000",
    "accrual_360ths_per_1000",
)


def ledger(offer: ExchangeOffer) -> list[tuple[Any, ...]]:
    return list(
        SpecialInterestAccrual.objects.filter(offer=offer)
        .order_by("series_id", "day")
        .values_list(*LEDGER_FIELDS)
    )


def late_everything(seed: SeedOffer) -> None:
    """Filed late (June 2), effective late (August 3), completed late (September 20)."""
    milestone(seed, K.EXCHANGE_FILED, D(2000, 6, 2))
    milestone(seed, K.EXCHANGE_EFFECTIVE, D(2000, 8, 3))
    milestone(seed, K.EXCHANGE_COMPLETED, D(2000, 9, 20))


def test_running_twice_writes_the_same_ledger_and_nothing_more(seed: SeedOffer) -> None:
    late_everything(seed)
    first = accrue(seed, D(2000, 12, 31))
    # Three streams x three series: (3 + 5 + 23) calendar days each.
    assert first.added == 3 * (3 + 5 + 23)
    rows = ledger(seed.offer)
    history = StateChange.objects.count()
    second = accrue(seed, D(2000, 12, 31))
    assert (second.added, second.corrected, second.removed) == (0, 0, 0)
    assert not second.changed
    assert ledger(seed.offer) == rows
    assert StateChange.objects.count() == history


def test_a_rebuild_from_scratch_is_the_same_ledger(seed: SeedOffer) -> None:
    late_everything(seed)
    # Day by day, as the job runs...
    day = D(2000, 5, 29)
    while day <= D(2000, 10, 1):
        accrue(seed, day)
        day += dt.timedelta(days=1)
    daily = ledger(seed.offer)
    # ...equals all at once after deleting everything.
    SpecialInterestAccrual.objects.all().delete()
    accrue(seed, D(2000, 10, 1))
    assert ledger(seed.offer) == daily
    # ...and equals the pure computation.
    expected = [
        (
            r.series_id,
            r.day,
            r.stream_start,
            r.rate,
            r.days_30_360,
            r.basis_per_1000,
            r.accrual_360ths_per_1000,
        )
        for r in sorted(expected_ledger(seed.offer, D(2000, 10, 1)), key=lambda r: r.key())
    ]
    assert daily == expected


def test_the_ledger_keeps_exact_values(seed: SeedOffer) -> None:
    late_everything(seed)
    accrue(seed, D(2000, 6, 1))
    par = SpecialInterestAccrual.objects.get(series=seed.senior_2008, day=D(2000, 5, 30))
    assert (par.rate, par.days_30_360, par.basis_per_1000) == (Decimal("0.005"), 1, 1000)
    assert par.accrual_360ths_per_1000 == 5  # 1,000 x 0.005 x 1: divided by 360 only at payment
    discount = SpecialInterestAccrual.objects.get(series=seed.discount_2010, day=D(2000, 5, 30))
    assert discount.basis_per_1000 == seed.discount_2010.accreted_value_per_1000(D(2000, 5, 30))
    with localcontext() as ctx:
        ctx.prec = 80  # the default 28 digits would round the product
        assert discount.accrual_360ths_per_1000 == discount.basis_per_1000 * Decimal("0.005")
    thirty_first = SpecialInterestAccrual.objects.get(series=seed.senior_2008, day=D(2000, 5, 31))
    assert (thirty_first.days_30_360, thirty_first.accrual_360ths_per_1000) == (0, 0)


def test_a_milestone_recorded_late_corrects_the_ledger_with_a_history_row(
    seed: SeedOffer,
) -> None:
    # The desk learned of the June 2 filing only on June 10: the job had accrued meanwhile.
    accrue(seed, D(2000, 6, 9))
    assert SpecialInterestAccrual.objects.filter(series=seed.senior_2008).count() == 11
    record_registration_event(
        seed.offer.pk,
        kind=K.EXCHANGE_FILED,
        occurred_on=D(2000, 6, 2),
        actor=CLERK,
        now=ny(2000, 6, 10, 9),
    )
    result = accrue(seed, D(2000, 6, 10))
    assert result.removed == 3 * 8  # June 2-9 no longer accrue, for each series
    assert [
        d.isoformat()
        for d in SpecialInterestAccrual.objects.filter(series=seed.senior_2008).values_list(
            "day", flat=True
        )
    ] == [
        "2000-05-30",
        "2000-05-31",
        "2000-06-01",
    ]
    change = StateChange.objects.get(action="exchange.special_interest.corrected")
    assert "24 removed" in change.reason
    assert change.offer_id == seed.offer.pk


def test_defaults_are_persisted_once_with_history(seed: SeedOffer) -> None:
    late_everything(seed)
    accrue(seed, D(2000, 6, 1))
    [open_default] = RegistrationDefault.objects.all()
    assert (open_default.state, open_default.cured_on) == (RegistrationDefaultState.OCCURRED, None)
    accrue(seed, D(2000, 12, 31))
    accrue(seed, D(2000, 12, 31))
    rows = {
        (d.trigger, d.occurred_on, d.cured_on, d.state) for d in RegistrationDefault.objects.all()
    }
    assert rows == {
        (RegistrationDefaultTrigger.NOT_FILED, D(2000, 5, 30), D(2000, 6, 2), "cured"),
        (RegistrationDefaultTrigger.NOT_EFFECTIVE, D(2000, 7, 29), D(2000, 8, 3), "cured"),
        (RegistrationDefaultTrigger.NOT_COMPLETED, D(2000, 8, 28), D(2000, 9, 20), "cured"),
    }
    content_type = ContentType.objects.get_for_model(RegistrationDefault)
    actions = sorted(
        StateChange.objects.filter(content_type=content_type).values_list("action", flat=True)
    )
    assert actions == sorted(
        ["exchange.registration_default.occurred"] * 3 + ["exchange.registration_default.cured"] * 3
    )


def test_a_default_cured_by_hand_without_its_milestone_is_flagged_and_still_accrues(
    seed: SeedOffer,
) -> None:
    accrue(seed, D(2000, 6, 1))
    [default] = RegistrationDefault.objects.all()
    cure_registration_default(default.pk, cured_on=D(2000, 6, 2), actor=CLERK, now=ny(2000, 6, 3))
    result = accrue(seed, D(2000, 6, 5))
    assert result.defaults.discrepancies
    assert "no milestone recorded cures it" in result.defaults.discrepancies[0]
    # Special interest follows the milestones: June 2-5 accrue.
    assert SpecialInterestAccrual.objects.filter(series=seed.senior_2008).count() == 7


def test_accrual_only_through_a_day_that_has_ended(seed: SeedOffer) -> None:
    with pytest.raises(DeskError, match="has ended"):
        accrue_special_interest(
            seed.offer.pk, through=D(2000, 6, 1), actor=JOB, now=ny(2000, 6, 1, 23, 59)
        )


# --- milestones as recorded --------------------------------------------------------------------


def test_milestones_are_facts_of_the_past(seed: SeedOffer) -> None:
    with pytest.raises(DeskError, match="has not come yet"):
        record_registration_event(
            seed.offer.pk,
            kind=K.EXCHANGE_FILED,
            occurred_on=D(2000, 6, 2),
            actor=CLERK,
            now=ny(2000, 6, 1, 12),
        )


def test_a_statement_ceases_to_be_usable_only_after_one_was_effective(seed: SeedOffer) -> None:
    milestone(seed, K.EXCHANGE_FILED, D(2000, 4, 14))
    with pytest.raises(DeskError, match="after one was declared effective"):
        milestone(seed, K.CEASED_USABLE, D(2000, 5, 1))
    with pytest.raises(DeskError, match="ceased to be usable on or before"):
        milestone(seed, K.USABLE_AGAIN, D(2000, 5, 1))
    milestone(seed, K.EXCHANGE_EFFECTIVE, D(2000, 6, 9))
    milestone(seed, K.CEASED_USABLE, D(2000, 6, 20))
    with pytest.raises(DeskError, match="already recorded"):
        milestone(seed, K.CEASED_USABLE, D(2000, 6, 20))


def test_recording_the_completion_is_idempotent(seed: SeedOffer) -> None:
    first = record_exchange_completed(
        seed.offer.pk, completed_on=D(2000, 7, 13), actor=JOB, now=ny(2000, 7, 13, 10)
    )
    again = record_exchange_completed(
        seed.offer.pk, completed_on=D(2000, 7, 14), actor=JOB, now=ny(2000, 7, 14, 10)
    )
    assert again.pk == first.pk
    assert RegistrationEvent.objects.filter(kind=K.EXCHANGE_COMPLETED).count() == 1


def test_the_exchange_date_job_records_the_completion(seed: SeedOffer) -> None:
    seed.offer.acceptance_automatic = True
    seed.offer.save(update_fields=["acceptance_automatic"])
    tender = paper_tender(seed, ny(2000, 6, 26, 10))
    validate_tender(tender.pk, actor=CLERK, now=ny(2000, 6, 26, 11))
    run_due_jobs(ny(2000, 7, 12, 17))
    runs = run_due_jobs(ny(2000, 7, 13, 9))
    seed.offer.refresh_from_db()
    assert seed.offer.state == OfferState.COMPLETED
    [event] = RegistrationEvent.objects.filter(offer=seed.offer)
    assert (event.kind, event.occurred_on) == (K.EXCHANGE_COMPLETED, D(2000, 7, 13))
    assert event.recorded_by_label == "job:exchange_date"
    # The completion alone does not start tracking (no filing or effectiveness known).
    assert JobName.ACCRUE_SPECIAL_INTEREST not in [r.job for r in runs]


# --- the daily job ------------------------------------------------------------------------------


def accrual_work(now: dt.datetime) -> list[int]:
    return [w.subject_id for w in due_work(now) if w.job == JobName.ACCRUE_SPECIAL_INTEREST]


def test_the_job_is_due_once_per_new_york_day_for_tracked_offers(seed: SeedOffer) -> None:
    assert accrual_work(ny(2000, 6, 1, 0, 1)) == []  # nothing recorded: not tracked
    milestone(seed, K.EXCHANGE_FILED, D(2000, 6, 2))
    morning = ny(2000, 6, 3, 0, 1)
    assert accrual_work(morning) == [seed.offer.pk]
    run = run_job(JobName.ACCRUE_SPECIAL_INTEREST, seed.offer.pk, now=morning)
    assert run.outcome == JobOutcome.DONE
    assert "through 2000-06-02" in run.detail
    assert "ledger +9 day-rows" in run.detail  # May 30 - June 1, three series
    # Not again today (New York): 23:59 EDT is still June 3.
    assert accrual_work(ny(2000, 6, 3, 23, 59)) == []
    # Tomorrow again; nothing new, so nothing due.
    assert accrual_work(ny(2000, 6, 4, 0, 0)) == [seed.offer.pk]
    again = run_job(JobName.ACCRUE_SPECIAL_INTEREST, seed.offer.pk, now=ny(2000, 6, 4, 0, 0))
    assert again.outcome == JobOutcome.NOTHING_DUE
    assert SpecialInterestAccrual.objects.count() == 9


def test_run_due_jobs_runs_the_accrual_once_and_a_rerun_adds_nothing(seed: SeedOffer) -> None:
    milestone(seed, K.EXCHANGE_FILED, D(2000, 4, 14))
    runs = run_due_jobs(ny(2000, 8, 1, 0, 5))  # not effective by July 28: default July 29
    accruals = [r for r in runs if r.job == JobName.ACCRUE_SPECIAL_INTEREST]
    assert [r.outcome for r in accruals] == [JobOutcome.DONE]
    rows = ledger(seed.offer)
    assert len(rows) == 3 * 3  # July 29, 30, 31
    later = run_due_jobs(ny(2000, 8, 1, 12))
    assert JobName.ACCRUE_SPECIAL_INTEREST not in [r.job for r in later]
    assert ledger(seed.offer) == rows


def test_a_discrepancy_blocks_the_job_with_its_reason(seed: SeedOffer) -> None:
    milestone(seed, K.EXCHANGE_FILED, D(2000, 4, 14))
    run_job(JobName.ACCRUE_SPECIAL_INTEREST, seed.offer.pk, now=ny(2000, 8, 1, 0, 5))
    [default] = RegistrationDefault.objects.all()
    cure_registration_default(default.pk, cured_on=D(2000, 7, 31), actor=CLERK, now=ny(2000, 8, 1))
    run = run_job(JobName.ACCRUE_SPECIAL_INTEREST, seed.offer.pk, now=ny(2000, 8, 2, 0, 5))
    assert run.outcome == JobOutcome.BLOCKED
    assert "no milestone recorded cures it" in run.detail
