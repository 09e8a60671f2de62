"""Business days, NYSE trading days and New York time (exchange.terms.calendars).

No database: the calendars are pure functions over the `holidays` package. The dates are
the ones the seed offer of 2000 lives on, plus the historical cases where the two
calendars part company; they are facts, so they are written out rather than computed.
"""

from __future__ import annotations

import datetime as dt

import pytest

from exchange.terms import calendars

D = dt.date
UTC = dt.UTC


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def ny(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return calendars.ny_instant(D(year, month, day), dt.time(hour, minute, second))


# --- the two calendars --------------------------------------------------------------------

# (day, business day?, NYSE trading day?, why)
CALENDAR_FACTS = [
    # The days of 2000 on which the calendars differ.
    (D(2000, 4, 21), True, False, "Good Friday: NYSE closed, not a federal holiday"),
    (D(2000, 10, 9), False, True, "Columbus Day: federal holiday, NYSE open"),
    (D(2000, 11, 10), False, True, "Veterans Day (Sat 11-11) observed Friday; NYSE open"),
    # Holidays both keep.
    (D(2000, 7, 4), False, False, "Independence Day, a Tuesday"),
    (D(2000, 7, 3), True, True, "the Monday before July 4 is an ordinary day"),
    (D(2000, 11, 23), False, False, "Thanksgiving"),
    (D(2004, 7, 5), False, False, "Independence Day (Sun 07-04) observed Monday by both"),
    # New Year's Day on a Saturday: the federal government observes the Friday before,
    # the NYSE does not (it would close the year's last trading day).
    (D(1999, 12, 31), False, True, "New Year's Day 2000 (Sat) observed by federal offices"),
    (D(2021, 12, 31), False, True, "New Year's Day 2022 (Sat) observed by federal offices"),
    (D(2022, 1, 3), True, True, "the Monday after is an ordinary day"),
    # Unscheduled NYSE closures. The business-day calendar counts federal holidays plus
    # executive-order closings of federal offices (the `government` category, documented in
    # exchange.terms.calendars): so the days of national mourning close both, while 9/11 and
    # Hurricane Sandy (no executive order closed federal offices) stay business days.
    (D(2001, 9, 11), True, False, "NYSE closed after the attacks"),
    (D(2001, 9, 12), True, False, "NYSE closed after the attacks"),
    (D(2001, 9, 13), True, False, "NYSE closed after the attacks"),
    (D(2001, 9, 14), True, False, "NYSE closed after the attacks"),
    (D(2001, 9, 17), True, True, "NYSE reopened"),
    (D(2004, 6, 11), False, False, "Reagan: national day of mourning, EO and NYSE"),
    (D(2012, 10, 29), True, False, "Hurricane Sandy"),
    (D(2012, 10, 30), True, False, "Hurricane Sandy"),
    (D(2018, 12, 5), False, False, "G. H. W. Bush: national day of mourning, EO and NYSE"),
    # Juneteenth: federal from 2021 (signed 2021-06-17, observed Fri 06-18), NYSE from 2022.
    (D(2020, 6, 19), True, True, "no Juneteenth holiday yet"),
    (D(2021, 6, 18), False, True, "Juneteenth (Sat) observed federally; NYSE open"),
    (D(2022, 6, 20), False, False, "Juneteenth (Sun) observed Monday by both"),
    (D(2022, 6, 17), True, True, "the Friday before 2022's Juneteenth is ordinary"),
    # Weekends are neither.
    (D(2000, 7, 8), False, False, "Saturday"),
    (D(2000, 7, 9), False, False, "Sunday"),
]


@pytest.mark.parametrize(
    ("day", "business", "trading"),
    [pytest.param(day, b, t, id=f"{day}-{why}") for day, b, t, why in CALENDAR_FACTS],
)
def test_business_day_and_nyse_trading_day(day: dt.date, business: bool, trading: bool) -> None:
    assert calendars.is_business_day(day) is business
    assert calendars.is_nyse_trading_day(day) is trading


def test_holiday_names_say_why_a_weekday_is_closed() -> None:
    # The names are what the clerk sees next to a deadline; open days have none.
    assert calendars.nyse_closure_name(D(2000, 4, 21)) == "Good Friday"
    assert calendars.federal_holiday_name(D(2000, 4, 21)) is None
    assert calendars.federal_holiday_name(D(2000, 10, 9)) == "Columbus Day"
    assert calendars.nyse_closure_name(D(2000, 10, 9)) is None
    assert calendars.federal_holiday_name(D(2000, 11, 10)) == "Veterans Day (observed)"
    assert calendars.federal_holiday_name(D(2000, 7, 13)) is None


def test_the_calendars_differ_in_2000_exactly_on_the_known_days() -> None:
    # Over the whole of 2000 the weekdays where the two calendars disagree are precisely
    # Good Friday, Columbus Day and Veterans Day observed; a calendar that drifted
    # (a missing or extra holiday in either) changes this set.
    day, differing = D(2000, 1, 1), set()
    while day.year == 2000:
        if calendars.is_business_day(day) != calendars.is_nyse_trading_day(day):
            differing.add(day)
        day += dt.timedelta(days=1)
    assert differing == {D(2000, 4, 21), D(2000, 10, 9), D(2000, 11, 10)}


# --- counting days ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expiration_date", "exchange_date"),
    [
        pytest.param(D(2000, 7, 12), D(2000, 7, 13), id="seed-Wed-to-Thu"),
        pytest.param(D(2000, 7, 7), D(2000, 7, 10), id="Fri-over-weekend-to-Mon"),
        pytest.param(D(2000, 7, 3), D(2000, 7, 5), id="Mon-over-July-4-to-Wed"),
        pytest.param(D(2000, 4, 20), D(2000, 4, 21), id="Good-Friday-is-a-business-day"),
        pytest.param(D(2000, 11, 9), D(2000, 11, 13), id="over-Veterans-Day-and-weekend"),
        # Across the year end, where the holiday of the next year is observed in this one.
        pytest.param(D(2021, 12, 30), D(2022, 1, 3), id="over-New-Year-observed-on-Dec-31"),
        pytest.param(D(1999, 12, 30), D(2000, 1, 3), id="into-2000"),
        # A non-business day itself: the first business day strictly after it.
        pytest.param(D(2000, 7, 8), D(2000, 7, 10), id="from-a-Saturday"),
    ],
)
def test_next_business_day(expiration_date: dt.date, exchange_date: dt.date) -> None:
    assert calendars.next_business_day(expiration_date) == exchange_date


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        # 20 business days from the prospectus date, Friday 2000-06-09, counting it: the
        # Rule 14e-1(a) minimum ends Friday 2000-07-07 (July 4 skipped).
        pytest.param(D(2000, 6, 9), 20, D(2000, 7, 7), id="20-from-prospectus-date"),
        pytest.param(D(2000, 6, 9), 1, D(2000, 6, 9), id="the-day-itself-is-the-first"),
        # Notice given on a Saturday: the count starts on Monday.
        pytest.param(D(2000, 6, 10), 1, D(2000, 6, 12), id="Saturday-notice-first-is-Monday"),
        pytest.param(D(2000, 6, 10), 5, D(2000, 6, 16), id="Saturday-notice-fifth-is-Friday"),
        # The five-business-day rule: Thu 06-29, Fri 06-30, Mon 07-03, Wed 07-05, Thu 07-06.
        pytest.param(D(2000, 6, 29), 5, D(2000, 7, 6), id="fifth-skips-July-4"),
        # Good Friday counts as a business day; Columbus Day does not.
        pytest.param(D(2000, 4, 20), 2, D(2000, 4, 21), id="Good-Friday-counts"),
        pytest.param(D(2000, 10, 6), 2, D(2000, 10, 10), id="Columbus-Day-does-not"),
    ],
)
def test_nth_business_day_from_including(day: dt.date, n: int, expected: dt.date) -> None:
    assert calendars.nth_business_day_from_including(day, n) == expected


@pytest.mark.parametrize(
    ("executed_on", "n", "expected"),
    [
        # Executed Tuesday 2000-04-18: Wed 19, Thu 20, (Good Friday closed), Mon 24.
        pytest.param(D(2000, 4, 18), 3, D(2000, 4, 24), id="skips-Good-Friday"),
        pytest.param(D(2000, 4, 18), 1, D(2000, 4, 19), id="the-day-itself-never-counts"),
        # Columbus Day is a trading day: executed Thu 10-05 -> Fri 06, Mon 09, Tue 10.
        pytest.param(D(2000, 10, 5), 3, D(2000, 10, 10), id="counts-Columbus-Day"),
        # Executed Mon 2001-09-10: the market reopened Mon 09-17; 18, 19 follow.
        pytest.param(D(2001, 9, 10), 3, D(2001, 9, 19), id="skips-9-11-closure"),
        # Executed on a Saturday: counting starts with Monday.
        pytest.param(D(2000, 7, 8), 3, D(2000, 7, 12), id="from-a-Saturday"),
    ],
)
def test_nth_nyse_trading_day_after(executed_on: dt.date, n: int, expected: dt.date) -> None:
    assert calendars.nth_nyse_trading_day_after(executed_on, n) == expected


def test_guaranteed_delivery_window_is_not_a_business_day_count() -> None:
    # The same "three days after Tuesday 2000-04-18" counted in business days lands on
    # Good Friday: using the wrong calendar would cut the holder's window by a trading day.
    executed_on = D(2000, 4, 18)
    by_business_days = executed_on
    for _ in range(3):
        by_business_days = calendars.next_business_day(by_business_days)
    assert by_business_days == D(2000, 4, 21)
    assert calendars.nth_nyse_trading_day_after(executed_on, 3) == D(2000, 4, 24)
    assert by_business_days != calendars.nth_nyse_trading_day_after(executed_on, 3)


@pytest.mark.parametrize("n", [0, -1])
def test_day_counts_start_at_one(n: int) -> None:
    with pytest.raises(ValueError, match="from 1"):
        calendars.nth_business_day_from_including(D(2000, 6, 9), n)
    with pytest.raises(ValueError, match="from 1"):
        calendars.nth_nyse_trading_day_after(D(2000, 6, 9), n)


# --- New York time ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "end_utc"),
    [
        # The night of the spring-forward change (2000-04-02, 2 a.m.) is still EST at midnight.
        pytest.param(D(2000, 4, 1), utc(2000, 4, 2, 5), id="eve-of-spring-forward-EST"),
        pytest.param(D(2000, 4, 2), utc(2000, 4, 3, 4), id="spring-forward-day-ends-EDT"),
        # Fall back on 2000-10-29: the day starts in EDT and ends in EST.
        pytest.param(D(2000, 10, 28), utc(2000, 10, 29, 4), id="eve-of-fall-back-EDT"),
        pytest.param(D(2000, 10, 29), utc(2000, 10, 30, 5), id="fall-back-day-ends-EST"),
        pytest.param(D(2000, 7, 12), utc(2000, 7, 13, 4), id="seed-expiration-day"),
    ],
)
def test_end_of_ny_day(day: dt.date, end_utc: dt.datetime) -> None:
    end = calendars.end_of_ny_day(day)
    assert end == end_utc
    assert end.astimezone(UTC) == end_utc
    # The end of a day is the start of the next: the same instant, not one a microsecond off.
    assert end == calendars.start_of_ny_day(day + dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        pytest.param(D(2000, 4, 2), 23, id="spring-forward"),
        pytest.param(D(2000, 10, 29), 25, id="fall-back"),
        pytest.param(D(2000, 7, 12), 24, id="ordinary"),
    ],
)
def test_a_new_york_day_lasts_23_24_or_25_hours(day: dt.date, hours: int) -> None:
    # Subtract in UTC: Python subtracts two datetimes of the *same* zone by wall clock,
    # which would hide the DST change.
    start = calendars.start_of_ny_day(day).astimezone(UTC)
    end = calendars.end_of_ny_day(day).astimezone(UTC)
    assert end - start == dt.timedelta(hours=hours)


@pytest.mark.parametrize(
    ("day", "instant_utc"),
    [
        pytest.param(D(2000, 7, 12), utc(2000, 7, 12, 21), id="summer-EDT"),
        pytest.param(D(2000, 12, 12), utc(2000, 12, 12, 22), id="winter-EST"),
        pytest.param(D(2000, 4, 2), utc(2000, 4, 2, 21), id="spring-forward-day"),
        pytest.param(D(2000, 10, 29), utc(2000, 10, 29, 22), id="fall-back-day"),
    ],
)
def test_five_pm_new_york(day: dt.date, instant_utc: dt.datetime) -> None:
    moment = calendars.ny_instant(day, dt.time(17, 0))
    assert moment == instant_utc
    assert moment.utcoffset() == moment.replace(tzinfo=None) - instant_utc.replace(tzinfo=None)


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        pytest.param(
            ny(2000, 7, 12, 17, 0),
            "5:00 p.m. New York City time, Wednesday, July 12, 2000",
            id="seed-expiration",
        ),
        # An instant stored in UTC is shown in New York time.
        pytest.param(
            utc(2000, 7, 12, 21, 0),
            "5:00 p.m. New York City time, Wednesday, July 12, 2000",
            id="from-UTC",
        ),
        pytest.param(
            utc(2000, 12, 12, 22, 0),
            "5:00 p.m. New York City time, Tuesday, December 12, 2000",
            id="from-UTC-winter",
        ),
        pytest.param(
            ny(2000, 7, 13, 0, 0),
            "12:00 a.m. New York City time, Thursday, July 13, 2000",
            id="midnight",
        ),
        pytest.param(
            ny(2000, 7, 13, 12, 0),
            "12:00 p.m. New York City time, Thursday, July 13, 2000",
            id="noon",
        ),
        pytest.param(
            ny(2000, 7, 13, 9, 5),
            "9:05 a.m. New York City time, Thursday, July 13, 2000",
            id="morning-no-leading-zero",
        ),
        pytest.param(
            ny(2000, 7, 12, 16, 59, 30),
            "4:59:30 p.m. New York City time, Wednesday, July 12, 2000",
            id="seconds-when-not-zero",
        ),
    ],
)
def test_format_ny(moment: dt.datetime, text: str) -> None:
    assert calendars.format_ny(moment) == text


@pytest.mark.parametrize(
    ("text", "expected_utc"),
    [
        pytest.param("2000-07-12 17:00", utc(2000, 7, 12, 21, 0), id="minutes"),
        pytest.param("2000-07-12 17:00:30", utc(2000, 7, 12, 21, 0, 30), id="seconds"),
        pytest.param("2000-07-12", utc(2000, 7, 12, 4, 0), id="date-is-midnight"),
        pytest.param("  2000-12-12 17:00\n", utc(2000, 12, 12, 22, 0), id="stripped-winter"),
    ],
)
def test_parse_ny(text: str, expected_utc: dt.datetime) -> None:
    parsed = calendars.parse_ny(text)
    assert parsed == expected_utc
    assert parsed.tzinfo is not None
    # The date typed is the New York date of the instant, whatever the UTC date is.
    assert calendars.ny_date(parsed) == dt.date.fromisoformat(text.strip()[:10])


@pytest.mark.parametrize(
    "text",
    [
        "07/12/2000 5:00 pm",
        "2000-07-12 5pm",
        "2000-02-30 10:00",  # no such day
        "2000-07-12 25:00",
        "",
        "tomorrow",
    ],
)
def test_parse_ny_rejects_bad_input_helpfully(text: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        calendars.parse_ny(text)
    message = str(excinfo.value)
    # The operator is told what was typed and what form is wanted.
    assert repr(text.strip()) in message
    assert "YYYY-MM-DD HH:MM" in message
    assert "New York" in message


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # Summer (EDT, UTC-4): New York midnight is 04:00 UTC.
        pytest.param(utc(2000, 7, 13, 3, 59, 59), D(2000, 7, 12), id="EDT-just-before-midnight"),
        pytest.param(utc(2000, 7, 13, 4, 0, 0), D(2000, 7, 13), id="EDT-at-midnight"),
        # Winter (EST, UTC-5): New York midnight is 05:00 UTC.
        pytest.param(utc(2000, 12, 13, 4, 59, 59), D(2000, 12, 12), id="EST-just-before-midnight"),
        pytest.param(utc(2000, 12, 13, 5, 0, 0), D(2000, 12, 13), id="EST-at-midnight"),
        # A UTC date that is already tomorrow is still today in New York.
        pytest.param(utc(2000, 7, 13, 1, 0), D(2000, 7, 12), id="UTC-tomorrow-NY-today"),
    ],
)
def test_ny_date(moment: dt.datetime, expected: dt.date) -> None:
    assert calendars.ny_date(moment) == expected


def test_ny_date_around_end_of_ny_day() -> None:
    # The last instant of a day belongs to it; its end belongs to the next day.
    end = calendars.end_of_ny_day(D(2000, 7, 12)).astimezone(UTC)
    assert calendars.ny_date(end - dt.timedelta(microseconds=1)) == D(2000, 7, 12)
    assert calendars.ny_date(end) == D(2000, 7, 13)


def test_naive_datetimes_are_refused() -> None:
    # A naive datetime has no instant; guessing its zone is how deadlines go wrong.
    naive = dt.datetime(2000, 7, 12, 17, 0)
    with pytest.raises(ValueError, match="naive"):
        calendars.ny_date(naive)
    with pytest.raises(ValueError, match="naive"):
        calendars.format_ny(naive)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2000-04-02 02:30", "does not exist in New York"),
        ("2000-10-29 01:30", "happens twice in New York"),
    ],
)
def test_parse_ny_refuses_wall_times_that_name_no_single_instant(text: str, message: str) -> None:
    # An operator's deadline must be one instant: not in the spring gap, not in the autumn fold.
    with pytest.raises(ValueError, match=message):
        calendars.parse_ny(text)


def test_parse_ny_accepts_the_hours_either_side_of_a_dst_change() -> None:
    assert calendars.parse_ny("2000-04-02 03:00").utcoffset() == dt.timedelta(hours=-4)
    assert calendars.parse_ny("2000-10-29 02:00").utcoffset() == dt.timedelta(hours=-5)
