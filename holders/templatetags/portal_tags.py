"""Template filters of the holder portal: New York time and dollars, as the desk writes them."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django import template
from django.forms import BoundField
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from exchange.models import Tender
from exchange.selectors.exchange_status import TenderOutcome, tender_outcome
from exchange.terms import calendars
from holders.models import Holding

register = template.Library()


@register.filter
def ny(moment: dt.datetime | None) -> str:
    """'5:00 p.m. New York City time, Wednesday, July 12, 2000' (the prospectus's way)."""
    return "—" if moment is None else calendars.format_ny(moment)


@register.filter
def ny_exact(moment: dt.datetime | None) -> str:
    """A receipt time to the second, with the zone in force: '4:59:59 p.m. EDT, July 12, 2000'.

    Receipt "on or before 5:00 p.m." is decided to the second, and EDT/EST removes any
    doubt near a change of daylight-saving time.
    """
    if moment is None:
        return "—"
    local = calendars.ny_localtime(moment)
    hour = local.hour % 12 or 12
    ampm = "a.m." if local.hour < 12 else "p.m."
    return (
        f"{hour}:{local.minute:02d}:{local.second:02d} {ampm} {local.tzname()} "
        f"(New York City time), {local:%A}, {local:%B} {local.day}, {local.year}"
    )


@register.filter
def ny_date(day: dt.date | None) -> str:
    return "—" if day is None else f"{day:%A}, {day:%B} {day.day}, {day.year}"


@register.filter
def usd(amount: Decimal | None) -> str:
    return "—" if amount is None else f"${Decimal(amount):,.2f}"


@register.filter
def duration(seconds: int | float | None) -> str:
    """'12 days, 4 hours, 3 minutes' — what the countdown shows without JavaScript."""
    if seconds is None or seconds <= 0:
        return "no time"
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    for value, unit in ((days, "day"), (hours, "hour"), (minutes, "minute")):
        if value:
            parts.append(f"{value} {unit}{'' if value == 1 else 's'}")
    return ", ".join(parts) or "less than a minute"


@register.filter
def percent(rate: Decimal | None) -> str:
    """0.1125 → '11.25%' (no trailing zeros; rates are exact decimals)."""
    if rate is None:
        return "—"
    value = (Decimal(rate) * 100).normalize()
    return f"{value:f}%"


@register.filter
def ny_deadline(moment: dt.datetime | None) -> str:
    """A deadline at midnight reads as the end of the day before: 'the end of Wednesday,
    November 25, 2026 (midnight, New York City time)', not '12:00 a.m. ... Thursday'."""
    if moment is None:
        return "—"
    local = calendars.ny_localtime(moment)
    if (local.hour, local.minute, local.second) != (0, 0, 0):
        return calendars.format_ny(moment)
    day = local.date() - dt.timedelta(days=1)
    return f"the end of {day:%A}, {day:%B} {day.day}, {day.year} (midnight, New York City time)"


@register.filter
def outcome(tender: Tender) -> TenderOutcome:
    """What became of a tender: "Still tendered" only while it is subject to the offer."""
    return tender_outcome(tender)


@register.filter
def new_notes_for(tender: Tender) -> Holding | None:
    """The new notes entered on the register for an exchanged tender (None before)."""
    return Holding.objects.new().filter(issued_for=tender).select_related("series").first()


@register.simple_tag
def page_token() -> str:
    """A fresh one-time token for a form page: sent again, the page gets its first receipt
    (holders.services.submit_once)."""
    return format_html('<input type="hidden" name="page_token" value="{}">', uuid.uuid4())


@register.simple_tag
def form_field(field: BoundField | str) -> SafeString | str:
    """One form field: its label tied to it, the help and the error next to it (the input's
    aria-describedby names both; Django adds it, and aria-invalid on error). A box the form
    does not show (an unknown name resolves to "") renders nothing.

    Built here rather than by including a template per field: a letter has some thirty
    boxes, and thirty template includes were most of the CPU a form page took. Every value
    goes through format_html, which escapes it; nothing from data is marked safe.
    """
    if not isinstance(field, BoundField):
        return ""
    errors = field.errors
    required = (
        format_html(' <span class="required">{}</span>', "(required)")
        if field.field.required
        else ""
    )
    label = format_html('<label for="{}">{}{}</label>', field.id_for_label, field.label, required)
    help_text = (
        format_html('<p class="help" id="{}_helptext">{}</p>', field.auto_id, field.help_text)
        if field.help_text
        else ""
    )
    error_list = (
        format_html(
            '<ul class="errorlist" id="{}_error">{}</ul>',
            field.auto_id,
            format_html_join("", "<li>{}</li>", ((error,) for error in errors)),
        )
        if errors
        else ""
    )
    invalid = " field--error" if errors else ""
    if field.widget_type == "checkbox":
        return format_html(
            '<div class="field field--check{}">\n  {}\n  <div class="check">{} {}</div>\n  {}\n</div>',
            invalid,
            error_list,
            field,
            label,
            help_text,
        )
    return format_html(
        '<div class="field{}">\n  {}\n  {}\n  {}\n  {}\n</div>',
        invalid,
        label,
        help_text,
        error_list,
        field,
    )
