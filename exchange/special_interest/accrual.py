"""Special interest accrual: the rate ladder, the 30/360 day, and the ledger.

The rules (prospectus, "The Exchange Offer - Special Interest"; desk practice where it
is silent, stated in README "Registration defaults and special interest"):

- While a stream is open (exchange.special_interest.detection), every series accrues,
  per $1,000 of principal (principal amount at maturity for the discount notes), on the
  principal or, for the discount notes, the accreted value of each day.
- The rate is 0.50% a year for days 1-90 of the stream (day 1 = the day the default
  occurred), 0.75% for days 91-180, 1.00% from day 181 on, never more: the step takes
  effect at the start of day 91, 181. Overlapping defaults do not stack; after every
  default is cured, a later default starts a new stream at 0.50%.
- A day accrues basis x rate x d / 360, d being the day's 30/360 days (below).

`expected_accruals` is pure; `accrue_special_interest` makes the ledger equal to it
through a day, so running it twice, or after deleting the ledger, writes the same rows.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Protocol

from django.db import transaction

from exchange.models import (
    ExchangeOffer,
    JobName,
    JobOutcome,
    JobRun,
    NoteSeries,
    RegistrationEvent,
    RegistrationEventKind,
    SpecialInterestAccrual,
)
from exchange.models.special_interest import ACCRUAL_DECIMAL_PLACES, BASIS_DECIMAL_PLACES
from exchange.services.base import Actor, DeskError, record, require_aware
from exchange.services.registration import DefaultSync, sync_registration_defaults
from exchange.special_interest.detection import (
    ONE_DAY,
    Deadlines,
    Detection,
    Milestone,
    Stream,
    detect_defaults,
)
from exchange.terms import calendars
from exchange.terms.daycount import days_30_360

log = logging.getLogger(__name__)

FIRST_RATE = Decimal("0.0050")
RATE_STEP = Decimal("0.0025")
RATE_CAP = Decimal("0.0100")
DAYS_PER_RATE_PERIOD = 90

# Products and sums of ledger values are kept exact: a basis has at most 34 significant
# digits (WORKING_PRECISION), a rate four places, and a period sums a few hundred days,
# so 80 digits never round. Division by 360 happens once, at payment.
EXACT_PRECISION = 80


def rate_on(stream_start: dt.date, day: dt.date) -> Decimal:
    """The annual rate on `day` of a stream that began on `stream_start` (day 1)."""
    if day < stream_start:
        raise ValueError(f"{day} is before the stream began ({stream_start})")
    completed_periods = (day - stream_start).days // DAYS_PER_RATE_PERIOD
    return min(FIRST_RATE + RATE_STEP * completed_periods, RATE_CAP)


def accrual_days_30_360(day: dt.date) -> int:
    """The 30/360 days that `day` itself accrues: 1 for an ordinary day, 0 for the 31st,
    and for the last day of February what is left to 30 (2 in a leap year, else 3).

    Measured with days_30_360 from the first of the month, so that summing the days of a
    period gives days_30_360(start, end) for every period that starts on a day from the
    1st to the 29th (interest periods start on the 15th): a 30-day month of twelve.
    (days_30_360(day, day + 1) would not: the bond basis counts 0 from the 30th to the
    31st and 1 from the 31st to the 1st, so March 1 to March 31 would sum to 29, not 30.)
    """
    first = day.replace(day=1)
    return days_30_360(first, day + ONE_DAY) - days_30_360(first, day)


class SeriesTerms(Protocol):
    """What accrual needs of a series (NoteSeries has it)."""

    pk: int | None
    issue_date: dt.date
    maturity_date: dt.date

    def accreted_value_per_1000(self, on: dt.date) -> Decimal: ...


def _exact(value: Decimal, places: int, what: str) -> Decimal:
    """`value` as the ledger stores it; refuse to store it if that would round it."""
    quantum = Decimal(1).scaleb(-places)
    with localcontext() as ctx:
        ctx.prec = EXACT_PRECISION
        stored = value.quantize(quantum)
    if stored != value:
        raise ValueError(f"{what} {value} has more than {places} decimal places")
    return stored


@dataclass(frozen=True)
class DailyAccrual:
    """One ledger row, computed."""

    series_id: int
    day: dt.date
    stream_start: dt.date
    rate: Decimal
    days_30_360: int
    basis_per_1000: Decimal

    @property
    def accrual_360ths_per_1000(self) -> Decimal:
        with localcontext() as ctx:
            ctx.prec = EXACT_PRECISION
            product = self.basis_per_1000 * self.rate * self.days_30_360
        return _exact(product, ACCRUAL_DECIMAL_PLACES, "accrual")

    def key(self) -> tuple[int, dt.date]:
        return (self.series_id, self.day)

    def matches(self, row: SpecialInterestAccrual) -> bool:
        return (
            row.stream_start == self.stream_start
            and row.rate == self.rate
            and row.days_30_360 == self.days_30_360
            and row.basis_per_1000 == self.basis_per_1000
            and row.accrual_360ths_per_1000 == self.accrual_360ths_per_1000
        )


def expected_accruals(
    streams: Iterable[Stream], series: Sequence[SeriesTerms], through: dt.date
) -> list[DailyAccrual]:
    """Every ledger row through `through` (inclusive), in (series, day) order. Pure."""
    rows: list[DailyAccrual] = []
    streams = list(streams)
    for terms in series:
        assert terms.pk is not None
        for stream in streams:
            for day in stream.days_through(through):
                # No special interest on notes not yet issued or already matured.
                if day < terms.issue_date or day >= terms.maturity_date:
                    continue
                basis = _exact(terms.accreted_value_per_1000(day), BASIS_DECIMAL_PLACES, "basis")
                rows.append(
                    DailyAccrual(
                        series_id=terms.pk,
                        day=day,
                        stream_start=stream.start,
                        rate=rate_on(stream.start, day),
                        days_30_360=accrual_days_30_360(day),
                        basis_per_1000=basis,
                    )
                )
    return rows


# --- reading the offer ------------------------------------------------------------------


def milestones_of(offer: ExchangeOffer) -> list[Milestone]:
    return [
        Milestone(occurred_on=day, seq=pk, kind=kind)
        for pk, day, kind in RegistrationEvent.objects.filter(offer=offer).values_list(
            "id", "occurred_on", "kind"
        )
    ]


def detect_for_offer(offer: ExchangeOffer, as_of: dt.date) -> Detection:
    return detect_defaults(milestones_of(offer), Deadlines.for_offer(offer), as_of)


def series_of(offer: ExchangeOffer) -> list[NoteSeries]:
    return list(offer.series.order_by("maturity_date", "name", "id"))


def expected_ledger(offer: ExchangeOffer, through: dt.date) -> list[DailyAccrual]:
    """The ledger the offer's milestones give through `through`, as of that day."""
    return expected_accruals(detect_for_offer(offer, through).streams, series_of(offer), through)


# --- making the ledger equal to it ---------------------------------------------------------


@dataclass
class AccrualResult:
    offer_id: int
    through: dt.date
    detection: Detection
    defaults: DefaultSync
    added: int = 0
    corrected: int = 0
    removed: int = 0

    @property
    def changed(self) -> bool:
        rows = self.added + self.corrected + self.removed
        return bool(rows or self.defaults.opened or self.defaults.cured)

    def summary(self) -> str:
        open_now = self.detection.open_on(self.through)
        parts = [f"through {self.through}"]
        if open_now:
            parts.append("open: " + "; ".join(d.describe() for d in open_now))
        else:
            parts.append("no default open")
        parts.append(
            f"ledger +{self.added} day-rows, {self.corrected} corrected, {self.removed} removed"
        )
        if self.defaults.opened:
            parts.append(f"defaults opened {len(self.defaults.opened)}")
        if self.defaults.cured:
            parts.append(f"defaults cured {len(self.defaults.cured)}")
        if self.defaults.discrepancies:
            parts.append("CHECK: " + " ".join(self.defaults.discrepancies))
        return "; ".join(parts)


def _row(offer: ExchangeOffer, expected: DailyAccrual) -> SpecialInterestAccrual:
    return SpecialInterestAccrual(
        offer=offer,
        series_id=expected.series_id,
        day=expected.day,
        stream_start=expected.stream_start,
        rate=expected.rate,
        days_30_360=expected.days_30_360,
        basis_per_1000=expected.basis_per_1000,
        accrual_360ths_per_1000=expected.accrual_360ths_per_1000,
    )


@transaction.atomic
def accrue_special_interest(
    offer_id: int, *, through: dt.date, actor: Actor, now: dt.datetime
) -> AccrualResult:
    """Persist the defaults as of `through` and make the ledger through it what the
    milestones give: add missing days, correct or remove days a milestone recorded since
    has changed (with a history row on the offer saying so). Rows after `through` are
    left alone. Idempotent; serialised per offer by the offer's row lock."""
    require_aware(now)
    if through >= calendars.ny_date(now):
        raise DeskError(
            f"Accrue only through a day that has ended: {through} is not before today "
            f"({calendars.ny_date(now)}, New York)."
        )
    offer = ExchangeOffer.objects.select_for_update().get(pk=offer_id)
    detection = detect_for_offer(offer, through)
    synced = sync_registration_defaults(offer.pk, detection=detection, actor=actor, now=now)
    expected = {
        row.key(): row for row in expected_accruals(detection.streams, series_of(offer), through)
    }
    existing = {
        (row.series_id, row.day): row
        for row in SpecialInterestAccrual.objects.filter(offer=offer, day__lte=through)
    }
    result = AccrualResult(offer.pk, through, detection, synced)
    to_add = [_row(offer, row) for key, row in expected.items() if key not in existing]
    stale = [
        row
        for key, row in existing.items()
        if key not in expected or not expected[key].matches(row)
    ]
    for row in stale:
        if (row.series_id, row.day) in expected:
            result.corrected += 1
        else:
            result.removed += 1
    if stale:
        # A milestone recorded (or corrected) after these days were accrued changed them:
        # replace them, and say so in the offer's history, since money was computed.
        SpecialInterestAccrual.objects.filter(pk__in=[r.pk for r in stale]).delete()
        to_add += [
            _row(offer, expected[(r.series_id, r.day)])
            for r in stale
            if (r.series_id, r.day) in expected
        ]
        first, last = min(r.day for r in stale), max(r.day for r in stale)
        record(
            offer,
            action="exchange.special_interest.corrected",
            from_state="",
            to_state="",
            actor=actor,
            now=now,
            reason=(
                f"Special interest ledger recomputed from the milestones recorded: "
                f"{result.corrected} day-row(s) corrected and {result.removed} removed "
                f"between {first} and {last}."
            ),
            offer=offer,
        )
        log.warning(
            "Special interest ledger of %s corrected: %s corrected, %s removed (%s to %s)",
            offer.slug,
            result.corrected,
            result.removed,
            first,
            last,
        )
    SpecialInterestAccrual.objects.bulk_create(to_add)
    result.added = len(to_add) - result.corrected
    return result


def ledger_differences(
    offer: ExchangeOffer, series: NoteSeries, start: dt.date, end: dt.date
) -> list[str]:
    """Days in [start, end) where the ledger is not what the milestones give as of end - 1."""
    expected = {
        row.day: row
        for row in expected_accruals(
            detect_for_offer(offer, end - ONE_DAY).streams, [series], end - ONE_DAY
        )
        if start <= row.day
    }
    stored = {
        row.day: row
        for row in SpecialInterestAccrual.objects.filter(series=series, day__gte=start, day__lt=end)
    }
    problems = [f"{day} not accrued" for day in sorted(set(expected) - set(stored))]
    problems += [
        f"{day} accrued but no default was open" for day in sorted(set(stored) - set(expected))
    ]
    problems += [
        f"{day} differs"
        for day in sorted(set(expected) & set(stored))
        if not expected[day].matches(stored[day])
    ]
    return problems


# --- the daily job ------------------------------------------------------------------------


def offers_due_for_accrual(now: dt.datetime) -> list[int]:
    """Offers whose accrual has not run yet this New York day.

    An offer's registration agreement is tracked from the first milestone a person
    records for it (filing, effectiveness, shelf, cessation): the exchange-date job's own
    "completed" alone does not start it, since without the filing and effectiveness
    dates the desk would be inventing defaults. The admin's special-interest page lists
    the offers not tracked yet.
    """
    today = calendars.ny_date(now)
    tracked = set(
        RegistrationEvent.objects.exclude(kind=RegistrationEventKind.EXCHANGE_COMPLETED)
        .filter(offer__original_issue_date__lt=today)
        .values_list("offer_id", flat=True)
    )
    if not tracked:
        return []
    # A run in progress or finished today counts; a failed one is due again.
    ran_today = set(
        JobRun.objects.filter(
            job=JobName.ACCRUE_SPECIAL_INTEREST,
            subject_id__in=tracked,
            as_of__gte=calendars.start_of_ny_day(today),
            as_of__lt=calendars.end_of_ny_day(today),
        )
        .exclude(outcome=JobOutcome.FAILED)
        .values_list("subject_id", flat=True)
    )
    return sorted(tracked - ran_today)


def run_daily_accrual(offer_id: int, now: dt.datetime, actor: Actor) -> tuple[str, str]:
    """The job: defaults and ledger through yesterday (New York), the last whole day.

    Today is not accrued yet: a cure recorded later today would make today not accrue.
    """
    through = calendars.ny_date(now) - ONE_DAY
    result = accrue_special_interest(offer_id, through=through, actor=actor, now=now)
    if result.defaults.discrepancies:
        return JobOutcome.BLOCKED, result.summary()
    return (JobOutcome.DONE if result.changed else JobOutcome.NOTHING_DUE), result.summary()
