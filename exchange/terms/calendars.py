"""The two calendars of an exchange offer, and New York time.

*Business days* (SEC Rule 14d-1(g)(3): any day but Saturday, Sunday or a federal
holiday) govern the exchange date, the five-business-day rule and the 20-business-day
minimum. *NYSE trading days* govern the guaranteed-delivery window. They differ
(Good Friday; Columbus and Veterans Day; unscheduled closures such as 2001-09-11),
so every caller names the one it means.

Both come from the `holidays` package, which keeps historical years: the federal
calendar uses its "government" category (the statutory holidays, observed on the
nearest weekday, plus executive-order closures of federal offices, which is when
the SEC itself is closed), and the NYSE calendar includes unscheduled closures.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.UTC


@lru_cache(maxsize=256)
def _federal_holidays(year: int) -> dict[dt.date, str]:
    return dict(holidays.US(years=year, categories=(holidays.PUBLIC, holidays.GOVERNMENT)))


@lru_cache(maxsize=256)
def _nyse_closures(year: int) -> dict[dt.date, str]:
    return dict(holidays.financial_holidays("NYSE", years=year))


def federal_holiday_name(day: dt.date) -> str | None:
    return _federal_holidays(day.year).get(day)


def nyse_closure_name(day: dt.date) -> str | None:
    return _nyse_closures(day.year).get(day)


def is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5 and federal_holiday_name(day) is None


def is_nyse_trading_day(day: dt.date) -> bool:
    return day.weekday() < 5 and nyse_closure_name(day) is None


def next_business_day(day: dt.date) -> dt.date:
    """The first business day strictly after `day`."""
    candidate = day + dt.timedelta(days=1)
    while not is_business_day(candidate):
        candidate += dt.timedelta(days=1)
    return candidate


def nth_business_day_from_including(day: dt.date, n: int) -> dt.date:
    """The n-th business day counting `day` itself as the first if it is one.

    "The fifth business day from, and including, the date notice is given" and
    "20 business days" (the day the offer commences counts) both read this way.
    """
    if n < 1:
        raise ValueError("n counts business days from 1")
    candidate = day
    counted = 0
    while True:
        if is_business_day(candidate):
            counted += 1
            if counted == n:
                return candidate
        candidate += dt.timedelta(days=1)


def nth_nyse_trading_day_after(day: dt.date, n: int) -> dt.date:
    """The n-th NYSE trading day strictly after `day` (the day itself not counted)."""
    if n < 1:
        raise ValueError("n counts trading days from 1")
    candidate = day
    counted = 0
    while counted < n:
        candidate += dt.timedelta(days=1)
        if is_nyse_trading_day(candidate):
            counted += 1
    return candidate


def ny_localtime(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the desk only compares aware instants")
    return moment.astimezone(NEW_YORK)


def ny_date(moment: dt.datetime) -> dt.date:
    """The New York calendar date of an instant."""
    return ny_localtime(moment).date()


def ny_instant(day: dt.date, at: dt.time) -> dt.datetime:
    """The instant of a New York wall-clock time on a day (DST resolved by zoneinfo).

    Deadlines of this desk fall at 5:00 p.m. or midnight, never in the 1-2 a.m. gap
    or fold of a DST change, so the default fold is always the intended one.
    """
    return dt.datetime.combine(day, at, tzinfo=NEW_YORK)


def start_of_ny_day(day: dt.date) -> dt.datetime:
    return ny_instant(day, dt.time(0, 0))


def end_of_ny_day(day: dt.date) -> dt.datetime:
    """The instant a New York day ends: midnight, the start of the next day."""
    return start_of_ny_day(day + dt.timedelta(days=1))


def format_ny(moment: dt.datetime) -> str:
    """'5:00 p.m. New York City time, Wednesday, July 12, 2000' — as the prospectus writes it."""
    local = ny_localtime(moment)
    hour = local.hour % 12 or 12
    ampm = "a.m." if local.hour < 12 else "p.m."
    seconds = f":{local.second:02d}" if local.second else ""
    return (
        f"{hour}:{local.minute:02d}{seconds} {ampm} New York City time, "
        f"{local:%A}, {local:%B} {local.day}, {local.year}"
    )


# Bond offers and their replays live well inside these years; beyond them date arithmetic
# (the next day, a time zone's offset) would overflow rather than mean anything.
MIN_YEAR, MAX_YEAR = 1900, 2199


def _unambiguous(naive: dt.datetime) -> dt.datetime:
    """Refuse a wall-clock time that never happened (spring forward) or happened twice
    (fall back): an operator's deadline must name one instant."""
    first = naive.replace(tzinfo=NEW_YORK, fold=0)
    second = naive.replace(tzinfo=NEW_YORK, fold=1)
    if first.astimezone(UTC).astimezone(NEW_YORK).replace(tzinfo=None) != naive:
        raise ValueError(
            f"{naive:%Y-%m-%d %H:%M} does not exist in New York (clocks go forward); give a "
            f"time outside 2:00-3:00 a.m. that day"
        )
    if first.utcoffset() != second.utcoffset():
        raise ValueError(
            f"{naive:%Y-%m-%d %H:%M} happens twice in New York (clocks go back); give a time "
            f"outside 1:00-2:00 a.m. that day"
        )
    return first


def parse_ny(text: str) -> dt.datetime:
    """Parse an operator's "YYYY-MM-DD HH:MM" (or "YYYY-MM-DD") as New York time."""
    text = text.strip()
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            naive = dt.datetime.strptime(text, fmt)  # noqa: DTZ007 — zone attached below
        except ValueError:
            continue
        if not MIN_YEAR <= naive.year <= MAX_YEAR:
            raise ValueError(
                f"{text!r} is outside the years {MIN_YEAR}-{MAX_YEAR} the desk handles"
            )
        return _unambiguous(naive)
    raise ValueError(f"{text!r} is not a New York time of the form YYYY-MM-DD HH:MM")
