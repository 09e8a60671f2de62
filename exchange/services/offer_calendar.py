"""The offer's calendar rules, apart from the decisions that apply them: the minimum open
period, the five-business-day rule and the notice day it counts from, and the extension
announcement's deadline (Rule 14e-1(d)). All in New York time on the business-day calendar.
"""

from __future__ import annotations

import datetime as dt

from exchange.models import ExchangeOffer
from exchange.services.base import DeskError
from exchange.terms import calendars

ANNOUNCEMENT_TIME = dt.time(9, 0)  # Rule 14e-1(d): by 9:00 a.m. New York time


def earliest_permitted_expiration(
    offer: ExchangeOffer, mailed_on: dt.date | None = None
) -> dt.datetime:
    """The offer stays open through the end of the 30th day after notice is mailed and
    through the end of its 20th business day (the mailing day counts as the first if it
    is a business day; a business day runs to midnight, Rule 14d-1(g)(3)).
    """
    mailed = mailed_on or offer.notice_mailed_on
    if mailed is None:
        raise DeskError("Record the day notice of the offer was mailed first.")
    by_days = calendars.end_of_ny_day(mailed + dt.timedelta(days=offer.minimum_open_days))
    by_business_days = calendars.end_of_ny_day(
        calendars.nth_business_day_from_including(mailed, offer.minimum_open_business_days)
    )
    return max(by_days, by_business_days)


def _check_minimum_open(offer: ExchangeOffer, expiration: dt.datetime, mailed_on: dt.date) -> None:
    earliest = earliest_permitted_expiration(offer, mailed_on)
    if expiration < earliest:
        raise DeskError(
            f"The offer must stay open at least {offer.minimum_open_days} days after notice "
            f"is mailed and {offer.minimum_open_business_days} business days: it may not "
            f"expire before {calendars.format_ny(earliest)} "
            f"(asked for {calendars.format_ny(expiration)}).",
            field="expiration_at",
        )


def extension_announcement_due(offer: ExchangeOffer) -> dt.datetime:
    """Rule 14e-1(d): 9:00 a.m. New York time on the business day after the previously
    scheduled expiration *date*. A midnight expiration belongs to the day it ends (stored as
    the next day's first instant), so "midnight ending July 12" makes it Thursday July 13."""
    return calendars.ny_instant(
        calendars.next_business_day(offer.expiration_date), ANNOUNCEMENT_TIME
    )


def check_notice_day(notice_on: dt.date | None, now: dt.datetime) -> dt.date:
    """The day notice of an amendment or waiver was first published, sent or given: it is
    what the five-business-day rule counts from, so it is required, and it cannot be later
    than the day it is recorded (New York)."""
    if notice_on is None:
        raise DeskError(
            "Give the day notice was first published, sent or given (YYYY-MM-DD); the "
            "five-business-day rule counts from it.",
            field="notice_on",
        )
    today = calendars.ny_date(now)
    if notice_on > today:
        raise DeskError(
            f"Notice cannot have been given on {notice_on:%A, %B %d, %Y}, after today "
            f"({today:%A, %B %d, %Y}, New York): record it once it is given.",
            field="notice_on",
        )
    return notice_on


def five_business_day_expiration(offer: ExchangeOffer, notice_day: dt.date) -> dt.datetime | None:
    """If the offer would expire before the fifth business day from, and including, the
    day notice of a material change is first given, the expiration that day at the
    offer's usual time; otherwise None."""
    fifth = calendars.nth_business_day_from_including(notice_day, 5)
    if offer.expiration_date >= fifth:
        return None
    usual_time = calendars.ny_localtime(offer.expiration_at).time()
    if usual_time == dt.time(0, 0):  # "12:00 midnight": the end of the fifth business day
        return calendars.end_of_ny_day(fifth)
    return calendars.ny_instant(fifth, usual_time)
