"""Registration defaults from the milestones recorded and the clock: a pure function.

No database here: `detect_defaults(milestones, deadlines, as_of)` gives the same answer
for the same inputs, so the daily job, the command line and a rebuild from scratch agree,
and the figures can be checked by hand.

The prospectus ("The Exchange Offer - Special Interest") names four registration
defaults, counted from the original issue date (2000-02-29 in the seed):

1. neither registration statement filed on or before the 90th day after issue;
2. neither declared effective on or before the 150th day;
3. neither the exchange offer completed nor the shelf declared effective on or before
   the 180th day;
4. after a statement was declared effective, it ceases to be effective or usable.

"On or before the 90th day following February 29, 2000" makes the deadline day itself
(issue + 90 days = 2000-05-29) the last good day: a deadline default occurs on the day
after it (2000-05-30). A cessation default occurs on the day the statement ceases to be
usable. Special interest runs "from and including the date on which a registration
default occurs to but excluding the date on which all registration defaults have been
cured", so each default is the half-open span [occurred_on, cured_on).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from exchange.models import RegistrationDefaultTrigger, RegistrationEventKind

Kind = RegistrationEventKind
Trigger = RegistrationDefaultTrigger
ONE_DAY = dt.timedelta(days=1)

# What meets each deadline. A statement declared effective was necessarily filed, and an
# exchange offer can be completed only under an effective exchange registration
# statement, so later milestones also meet the earlier deadlines: a clerk who records
# only "effective" has not thereby put the issuer in default for not filing.
FILING_MET_BY = frozenset(
    {
        Kind.EXCHANGE_FILED,
        Kind.SHELF_FILED,
        Kind.EXCHANGE_EFFECTIVE,
        Kind.SHELF_EFFECTIVE,
        Kind.EXCHANGE_COMPLETED,
    }
)
EFFECTIVENESS_MET_BY = frozenset(
    {Kind.EXCHANGE_EFFECTIVE, Kind.SHELF_EFFECTIVE, Kind.EXCHANGE_COMPLETED}
)
COMPLETION_MET_BY = frozenset({Kind.EXCHANGE_COMPLETED, Kind.SHELF_EFFECTIVE})
# A statement can cease to be usable only once one has been declared effective.
MAKES_A_STATEMENT_EFFECTIVE = EFFECTIVENESS_MET_BY


@dataclass(frozen=True, order=True)
class Milestone:
    """A recorded event as detection sees it; `seq` (the event's id) orders one day's events."""

    occurred_on: dt.date
    seq: int
    kind: str


class RegistrationTerms(Protocol):
    """What detection needs of an offer's registration agreement (ExchangeOffer has it)."""

    original_issue_date: dt.date
    filing_deadline_days: int
    effectiveness_deadline_days: int
    completion_deadline_days: int


@dataclass(frozen=True)
class Deadlines:
    """The last good day of each milestone (inclusive: "on or before the Nth day")."""

    filing: dt.date
    effectiveness: dt.date
    completion: dt.date

    @classmethod
    def for_offer(cls, offer: RegistrationTerms) -> Deadlines:
        issued = offer.original_issue_date
        return cls(
            filing=issued + dt.timedelta(days=offer.filing_deadline_days),
            effectiveness=issued + dt.timedelta(days=offer.effectiveness_deadline_days),
            completion=issued + dt.timedelta(days=offer.completion_deadline_days),
        )


@dataclass(frozen=True)
class DetectedDefault:
    """One registration default: special interest for it runs [occurred_on, cured_on)."""

    trigger: str
    occurred_on: dt.date
    cured_on: dt.date | None  # None: still open as of the detection's date

    def is_open_on(self, day: dt.date) -> bool:
        return self.occurred_on <= day and (self.cured_on is None or day < self.cured_on)

    def describe(self) -> str:
        label = Trigger(self.trigger).label
        until = f", cured {self.cured_on}" if self.cured_on else ", not cured"
        return f"{label}: from {self.occurred_on}{until}"


@dataclass(frozen=True)
class Stream:
    """Days with at least one default open, without a break: one accrual stream.

    Overlapping defaults do not stack: the stream's rate depends only on how long the
    stream has run. `end` is the first day on which no default is open (exclusive).
    """

    start: dt.date
    end: dt.date | None
    defaults: tuple[DetectedDefault, ...]

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)

    def days_through(self, through: dt.date) -> Iterable[dt.date]:
        """The stream's days up to and including `through`."""
        last = through if self.end is None else min(through, self.end - ONE_DAY)
        day = self.start
        while day <= last:
            yield day
            day += ONE_DAY


@dataclass(frozen=True)
class Detection:
    as_of: dt.date
    deadlines: Deadlines
    defaults: tuple[DetectedDefault, ...]
    # Milestones that changed nothing, and defaults that lasted no day, said in words.
    notes: tuple[str, ...]

    @property
    def streams(self) -> tuple[Stream, ...]:
        return merge_streams(self.defaults)

    def open_on(self, day: dt.date) -> tuple[DetectedDefault, ...]:
        return tuple(d for d in self.defaults if d.is_open_on(day))


def _deadline_default(
    trigger: str,
    deadline: dt.date,
    met_by: frozenset[str],
    milestones: list[Milestone],
    as_of: dt.date,
    notes: list[str],
) -> DetectedDefault | None:
    occurs = deadline + ONE_DAY
    if as_of < occurs:
        return None  # the deadline has not passed yet
    meeting = [m.occurred_on for m in milestones if m.kind in met_by]
    if any(day <= deadline for day in meeting):
        return None  # met in time
    cured_on = min(meeting, default=None)  # every one is after the deadline here
    if cured_on == occurs:
        # From and including a day to but excluding the same day is no day at all.
        notes.append(
            f"{Trigger(trigger).label}: met on {cured_on}, the day after the deadline "
            f"{deadline}; the default was cured the day it occurred and accrues nothing."
        )
        return None
    return DetectedDefault(trigger, occurs, cured_on)


def _cessation_defaults(milestones: list[Milestone], notes: list[str]) -> list[DetectedDefault]:
    """Trigger 4: from the day a statement ceases to be usable to the day it is again."""
    found: list[DetectedDefault] = []
    effective_seen = False
    unusable_since: dt.date | None = None
    for m in milestones:  # in (day, recording order)
        if m.kind in MAKES_A_STATEMENT_EFFECTIVE:
            effective_seen = True
        elif m.kind == Kind.CEASED_USABLE:
            if not effective_seen:
                notes.append(
                    f"Ceased to be usable on {m.occurred_on}: no statement had been declared "
                    "effective by then, so it is not a registration default (ignored)."
                )
            elif unusable_since is not None:
                notes.append(
                    f"Ceased to be usable on {m.occurred_on}: already unusable since "
                    f"{unusable_since} (ignored)."
                )
            else:
                unusable_since = m.occurred_on
        elif m.kind == Kind.USABLE_AGAIN:
            if unusable_since is None:
                notes.append(
                    f"Usable again on {m.occurred_on}: no statement had ceased to be usable "
                    "(ignored)."
                )
            elif m.occurred_on == unusable_since:
                notes.append(
                    f"Ceased to be usable and usable again on {m.occurred_on}: no day accrues."
                )
                unusable_since = None
            else:
                found.append(DetectedDefault(Trigger.CEASED_USABLE, unusable_since, m.occurred_on))
                unusable_since = None
    if unusable_since is not None:
        found.append(DetectedDefault(Trigger.CEASED_USABLE, unusable_since, None))
    return found


def detect_defaults(
    milestones: Iterable[Milestone], deadlines: Deadlines, as_of: dt.date
) -> Detection:
    """The registration defaults as of the end of `as_of`, from milestones alone.

    Milestones after `as_of` are not yet known; a cure after `as_of` leaves the default
    open. Zero-day defaults (cured the day they occur) are left out: nothing accrues.
    """
    known = sorted(m for m in milestones if m.occurred_on <= as_of)
    notes: list[str] = []
    defaults = [
        d
        for d in (
            _deadline_default(
                Trigger.NOT_FILED, deadlines.filing, FILING_MET_BY, known, as_of, notes
            ),
            _deadline_default(
                Trigger.NOT_EFFECTIVE,
                deadlines.effectiveness,
                EFFECTIVENESS_MET_BY,
                known,
                as_of,
                notes,
            ),
            _deadline_default(
                Trigger.NOT_COMPLETED, deadlines.completion, COMPLETION_MET_BY, known, as_of, notes
            ),
        )
        if d is not None
    ]
    defaults += _cessation_defaults(known, notes)
    defaults.sort(key=lambda d: (d.occurred_on, d.trigger))
    return Detection(as_of, deadlines, tuple(defaults), tuple(notes))


def merge_streams(defaults: Iterable[DetectedDefault]) -> tuple[Stream, ...]:
    """Union of the defaults' spans. Spans that overlap or touch (one cured on the day the
    next occurs) form one stream: no day passed with every default cured, so the rate
    does not start again. A gap of at least one day starts a new stream."""
    streams: list[Stream] = []
    for d in sorted(defaults, key=lambda d: (d.occurred_on, d.trigger)):
        if streams:
            last = streams[-1]
            if last.end is None or d.occurred_on <= last.end:
                end = None if last.end is None or d.cured_on is None else max(last.end, d.cured_on)
                streams[-1] = Stream(last.start, end, (*last.defaults, d))
                continue
        streams.append(Stream(d.occurred_on, d.cured_on, (d,)))
    return tuple(streams)
