"""The agent's DTC account position per CUSIP, as DTC reports it (the position report) or
as a clerk reads it off DTC's screen: recorded, never edited (a new reading supersedes)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal, InvalidOperation

from django.db import transaction

from exchange.models import DtcPosition, DtcPositionSource, ExchangeOffer
from exchange.services.base import Actor, DeskError, record, require_aware
from exchange.terms import calendars

_CUSIP = re.compile(r"^[0-9A-Z]{9}$")


def read_position_report(text: str) -> dict[str, Decimal]:
    """A CSV with columns cusip and quantity (principal amount; at maturity for the
    discount notes). Refuses the whole file on any bad line, naming it."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "cusip" not in header or "quantity" not in header:
        raise DeskError("A position report's first line names its columns: cusip,quantity.")
    reader.fieldnames = header
    positions: dict[str, Decimal] = {}
    for row in reader:
        cusip = (row.get("cusip") or "").strip().upper()
        raw = (row.get("quantity") or "").strip().replace(",", "")
        try:
            quantity = Decimal(raw)
            if (
                not quantity.is_finite()
                or quantity < 0
                or quantity != quantity.quantize(Decimal("0.01"))
            ):
                raise InvalidOperation
        except InvalidOperation:
            raise DeskError(
                f"Line {reader.line_num}: quantity “{raw}” is not an amount in dollars and cents."
            ) from None
        if not _CUSIP.match(cusip):
            raise DeskError(f"Line {reader.line_num}: “{cusip}” is not a nine-character CUSIP.")
        if cusip in positions:
            raise DeskError(f"Line {reader.line_num}: CUSIP {cusip} is listed twice.")
        positions[cusip] = quantity
    if not positions:
        raise DeskError("The position report lists no CUSIP.")
    return positions


@transaction.atomic
def record_positions(
    offer_id: int,
    positions: dict[str, Decimal],
    *,
    as_of: dt.datetime,
    source: DtcPositionSource,
    actor: Actor,
    now: dt.datetime,
) -> list[DtcPosition]:
    """Record the agent's position in each CUSIP at `as_of` (not in the future)."""
    require_aware(now)
    require_aware(as_of)
    if as_of > now:
        raise DeskError("A position cannot be as of a time still to come.", field="as_of")
    offer = ExchangeOffer.objects.get(pk=offer_id)
    known = {s.original_cusip.upper() for s in offer.series.exclude(original_cusip="")}
    unknown = sorted(set(positions) - known)
    if unknown:
        raise DeskError(
            f"CUSIP {', '.join(unknown)} is not a series of {offer}; its CUSIPs are "
            f"{', '.join(sorted(known)) or 'not recorded'}.",
            field="cusip",
        )
    rows = []
    for cusip, quantity in sorted(positions.items()):
        if quantity < 0:
            raise DeskError("A position is not negative.", field="quantity")
        row = DtcPosition.objects.create(
            offer=offer,
            cusip=cusip,
            as_of=as_of,
            quantity=quantity,
            source=source,
            recorded_at=now,
            recorded_by_label=actor.label,
        )
        record(
            row,
            action="exchange.dtc_position.recorded",
            from_state="",
            to_state="recorded",
            actor=actor,
            now=now,
            reason=f"{cusip}: ${quantity:,.2f} in the agent's DTC account as of "
            f"{calendars.format_ny(as_of)} ({row.get_source_display().lower()}).",
            offer=offer,
        )
        rows.append(row)
    return rows
