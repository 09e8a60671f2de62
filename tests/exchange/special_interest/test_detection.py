"""Detection is a pure function of the milestones and the as-of date: no database."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from exchange.models import RegistrationDefaultTrigger as T
from exchange.models import RegistrationEventKind as K
from exchange.special_interest.detection import (
    Deadlines,
    DetectedDefault,
    Milestone,
    Stream,
    detect_defaults,
    merge_streams,
)

D = dt.date
SEED_TERMS = SimpleNamespace(
    original_issue_date=D(2000, 2, 29),
    filing_deadline_days=90,
    effectiveness_deadline_days=150,
    completion_deadline_days=180,
)
DEADLINES = Deadlines.for_offer(SEED_TERMS)


def ms(*events: tuple[str, dt.date]) -> list[Milestone]:
    return [Milestone(day, n, kind) for n, (kind, day) in enumerate(events, start=1)]


def defaults(events: list[Milestone], as_of: dt.date) -> list[tuple[str, dt.date, dt.date | None]]:
    found = detect_defaults(events, DEADLINES, as_of).defaults
    return [(d.trigger, d.occurred_on, d.cured_on) for d in found]


def test_the_seed_deadlines_count_from_the_leap_day_of_issue() -> None:
    # Feb 29 + 90 days: March 31 is +31, April 30 +61, May 29 +90.
    assert DEADLINES.filing == D(2000, 5, 29)
    # + 150: May 31 is +92, June 30 +122, July 28 +150.
    assert DEADLINES.effectiveness == D(2000, 7, 28)
    # + 180: July 31 is +153, August 27 +180.
    assert DEADLINES.completion == D(2000, 8, 27)


def test_a_missed_deadline_is_a_default_from_the_next_day_not_before() -> None:
    assert defaults([], D(2000, 5, 29)) == []  # the deadline day itself is still good
    assert defaults([], D(2000, 5, 30)) == [(T.NOT_FILED, D(2000, 5, 30), None)]


def test_filing_on_the_deadline_day_meets_it() -> None:
    assert defaults(ms((K.EXCHANGE_FILED, D(2000, 5, 29))), D(2000, 6, 30)) == []


def test_filing_the_day_after_is_a_default_cured_the_same_day_and_accrues_nothing() -> None:
    detection = detect_defaults(ms((K.SHELF_FILED, D(2000, 5, 30))), DEADLINES, D(2000, 6, 30))
    assert detection.defaults == ()
    assert "cured the day it occurred" in detection.notes[0]


def test_a_late_filing_cures_from_its_day() -> None:
    events = ms((K.EXCHANGE_FILED, D(2000, 6, 2)))
    assert defaults(events, D(2000, 6, 1)) == [(T.NOT_FILED, D(2000, 5, 30), None)]
    assert defaults(events, D(2000, 6, 2)) == [(T.NOT_FILED, D(2000, 5, 30), D(2000, 6, 2))]


def test_milestones_after_the_as_of_date_are_not_known_yet() -> None:
    events = ms((K.EXCHANGE_FILED, D(2000, 4, 14)), (K.EXCHANGE_EFFECTIVE, D(2000, 8, 1)))
    # As of July 31 effectiveness (due July 28) has not happened: default from July 29.
    assert defaults(events, D(2000, 7, 31)) == [(T.NOT_EFFECTIVE, D(2000, 7, 29), None)]
    assert defaults(events, D(2000, 8, 1)) == [(T.NOT_EFFECTIVE, D(2000, 7, 29), D(2000, 8, 1))]


def test_effectiveness_meets_the_filing_deadline_too() -> None:
    # A statement declared effective was filed; recording only "effective" is no default.
    assert defaults(ms((K.EXCHANGE_EFFECTIVE, D(2000, 5, 1))), D(2000, 8, 27)) == []


def test_the_completion_deadline_is_met_by_completion_or_the_shelf_effective() -> None:
    filed_and_effective = [
        (K.EXCHANGE_FILED, D(2000, 4, 14)),
        (K.EXCHANGE_EFFECTIVE, D(2000, 6, 9)),
    ]
    assert defaults(ms(*filed_and_effective), D(2000, 8, 28)) == [
        (T.NOT_COMPLETED, D(2000, 8, 28), None)
    ]
    shelf = ms(*filed_and_effective, (K.SHELF_EFFECTIVE, D(2000, 8, 27)))
    assert defaults(shelf, D(2000, 12, 31)) == []
    completed = ms(*filed_and_effective, (K.EXCHANGE_COMPLETED, D(2000, 7, 13)))
    assert defaults(completed, D(2000, 12, 31)) == []


def test_ceasing_to_be_usable_is_a_default_from_that_day_to_usable_again() -> None:
    events = ms(
        (K.EXCHANGE_FILED, D(2000, 4, 14)),
        (K.EXCHANGE_EFFECTIVE, D(2000, 6, 9)),
        (K.EXCHANGE_COMPLETED, D(2000, 7, 13)),
        (K.CEASED_USABLE, D(2000, 10, 2)),
        (K.USABLE_AGAIN, D(2000, 10, 12)),
    )
    assert defaults(events, D(2000, 10, 2)) == [(T.CEASED_USABLE, D(2000, 10, 2), None)]
    assert defaults(events, D(2000, 12, 31)) == [(T.CEASED_USABLE, D(2000, 10, 2), D(2000, 10, 12))]


def test_ceasing_before_anything_was_effective_is_not_a_default() -> None:
    detection = detect_defaults(
        ms((K.EXCHANGE_FILED, D(2000, 4, 14)), (K.CEASED_USABLE, D(2000, 5, 1))),
        DEADLINES,
        D(2000, 5, 20),
    )
    assert detection.defaults == ()
    assert "no statement had been declared effective" in detection.notes[0]


def test_a_second_cessation_while_unusable_changes_nothing() -> None:
    events = ms(
        (K.EXCHANGE_FILED, D(2000, 4, 14)),
        (K.EXCHANGE_EFFECTIVE, D(2000, 6, 9)),
        (K.EXCHANGE_COMPLETED, D(2000, 7, 13)),
        (K.CEASED_USABLE, D(2000, 10, 2)),
        (K.CEASED_USABLE, D(2000, 10, 5)),
        (K.USABLE_AGAIN, D(2000, 10, 12)),
    )
    assert defaults(events, D(2000, 12, 31)) == [(T.CEASED_USABLE, D(2000, 10, 2), D(2000, 10, 12))]


def test_detection_is_the_same_whatever_order_the_milestones_were_given_in() -> None:
    events = ms(
        (K.EXCHANGE_FILED, D(2000, 6, 2)),
        (K.EXCHANGE_EFFECTIVE, D(2000, 8, 3)),
        (K.EXCHANGE_COMPLETED, D(2000, 9, 20)),
    )
    forward = detect_defaults(events, DEADLINES, D(2001, 1, 1))
    backward = detect_defaults(list(reversed(events)), DEADLINES, D(2001, 1, 1))
    assert forward == backward
    assert [(d.trigger, d.occurred_on, d.cured_on) for d in forward.defaults] == [
        (T.NOT_FILED, D(2000, 5, 30), D(2000, 6, 2)),
        (T.NOT_EFFECTIVE, D(2000, 7, 29), D(2000, 8, 3)),
        (T.NOT_COMPLETED, D(2000, 8, 28), D(2000, 9, 20)),
    ]
    # Three defaults with gaps between them: three streams.
    assert [(s.start, s.end) for s in forward.streams] == [
        (D(2000, 5, 30), D(2000, 6, 2)),
        (D(2000, 7, 29), D(2000, 8, 3)),
        (D(2000, 8, 28), D(2000, 9, 20)),
    ]


# --- streams --------------------------------------------------------------------------------


def dd(trigger: str, start: dt.date, end: dt.date | None) -> DetectedDefault:
    return DetectedDefault(trigger, start, end)


def spans(streams: tuple[Stream, ...]) -> list[tuple[dt.date, dt.date | None]]:
    return [(s.start, s.end) for s in streams]


def test_overlapping_defaults_are_one_stream() -> None:
    merged = merge_streams(
        [
            dd(T.NOT_FILED, D(2000, 5, 30), D(2000, 10, 2)),
            dd(T.NOT_EFFECTIVE, D(2000, 7, 29), D(2001, 4, 2)),
            dd(T.NOT_COMPLETED, D(2000, 8, 28), D(2001, 4, 2)),
        ]
    )
    assert spans(merged) == [(D(2000, 5, 30), D(2001, 4, 2))]
    assert len(merged[0].defaults) == 3


def test_a_default_occurring_the_day_another_is_cured_continues_the_stream() -> None:
    # No day passed with every default cured, so the 90-day periods do not start again.
    merged = merge_streams(
        [
            dd(T.NOT_COMPLETED, D(2000, 8, 28), D(2000, 12, 20)),
            dd(T.CEASED_USABLE, D(2000, 12, 20), D(2001, 1, 5)),
        ]
    )
    assert spans(merged) == [(D(2000, 8, 28), D(2001, 1, 5))]


def test_a_default_after_a_full_cure_is_a_new_stream() -> None:
    merged = merge_streams(
        [
            dd(T.NOT_COMPLETED, D(2000, 8, 28), D(2000, 12, 20)),
            dd(T.CEASED_USABLE, D(2000, 12, 21), None),
        ]
    )
    assert spans(merged) == [(D(2000, 8, 28), D(2000, 12, 20)), (D(2000, 12, 21), None)]


def test_an_open_default_keeps_the_stream_open() -> None:
    merged = merge_streams(
        [dd(T.NOT_FILED, D(2000, 5, 30), None), dd(T.NOT_EFFECTIVE, D(2000, 7, 29), D(2000, 9, 1))]
    )
    assert spans(merged) == [(D(2000, 5, 30), None)]


@pytest.mark.parametrize("through", [D(2000, 6, 1), D(2000, 6, 5)])
def test_stream_days_stop_at_the_cure_or_the_day_given(through: dt.date) -> None:
    stream = Stream(D(2000, 5, 30), D(2000, 6, 2), ())
    days = list(stream.days_through(through))
    assert days == [D(2000, 5, 30), D(2000, 5, 31), D(2000, 6, 1)]
