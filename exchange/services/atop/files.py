"""The ATOP activity file: its columns, and each line read or refused with the reason."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cached_property

from exchange.models import AtopInstructionKind
from exchange.services.base import DeskError
from exchange.terms import calendars

# The activity file's columns, in the order the README documents them.
COLUMNS = (
    "participant_number",
    "participant_name",
    "voi_number",
    "cusip",
    "quantity",
    "instruction_type",
    "dtc_timestamp",
    "agents_message",
    "original_voi",
    "beneficial_owners",
)
REQUIRED_COLUMNS = COLUMNS[:8]
_YES = {"y", "yes", "true", "1"}
_NO = {"n", "no", "false", "0", ""}
_KINDS = {k.value: k for k in AtopInstructionKind}
_VOI = re.compile(r"^[A-Za-z0-9-]{1,40}$")
_CUSIP = re.compile(r"^[0-9A-Z]{9}$")


@dataclass(frozen=True)
class ActivityLine:
    """One line of the file: read, or unreadable with the reason."""

    line_number: int
    raw: str
    error: str = ""
    voi_number: str = ""
    kind: str = ""
    participant_number: str = ""
    participant_name: str = ""
    cusip: str = ""
    quantity: Decimal = Decimal("0")
    dtc_timestamp: dt.datetime | None = None
    agents_message: bool = False
    related_voi: str = ""
    beneficial_owners: str = ""

    @cached_property
    def content_hash(self) -> str:
        """What identifies the instruction's content; the raw text for an unreadable line."""
        if self.error:
            basis = "unreadable|" + self.raw
        else:
            assert self.dtc_timestamp is not None
            basis = "|".join(
                [
                    self.voi_number,
                    self.kind,
                    self.participant_number,
                    self.participant_name,
                    self.cusip,
                    f"{self.quantity:.2f}",
                    self.dtc_timestamp.astimezone(dt.UTC).isoformat(),
                    "Y" if self.agents_message else "N",
                    self.related_voi,
                    self.beneficial_owners,
                ]
            )
        return hashlib.sha256(basis.encode()).hexdigest()


def _timestamp(text: str) -> dt.datetime:
    """ISO 8601; without an offset it is New York time, DTC's clock."""
    moment = dt.datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        return calendars.ny_instant(moment.date(), moment.time())
    return moment.astimezone(dt.UTC)


def _read_line(number: int, row: dict[str, str], raw: str) -> ActivityLine:
    values = {k: (row.get(k) or "").strip() for k in COLUMNS}
    problems: list[str] = []
    voi = values["voi_number"]
    if not _VOI.match(voi):
        problems.append(f"VOI number “{voi}” is not 1-40 letters, digits or hyphens")
    kind = _KINDS.get(values["instruction_type"].lower())
    if kind is None:
        problems.append(
            f"instruction type “{values['instruction_type']}” is not one of " + ", ".join(_KINDS)
        )
    quantity = Decimal("0")
    try:
        quantity = Decimal(values["quantity"].replace(",", ""))
        if (
            not quantity.is_finite()
            or quantity <= 0
            or quantity != quantity.quantize(Decimal("0.01"))
        ):
            raise InvalidOperation
    except InvalidOperation:
        problems.append(
            f"quantity “{values['quantity']}” is not a positive amount in dollars and cents"
        )
    moment = None
    try:
        moment = _timestamp(values["dtc_timestamp"])
    except ValueError:
        problems.append(
            f"DTC timestamp “{values['dtc_timestamp']}” is not an ISO 8601 date and time"
        )
    flag = values["agents_message"].lower()
    if flag not in _YES | _NO:
        problems.append(f"Agent's Message flag “{values['agents_message']}” is not Y or N")
    if not values["participant_number"]:
        problems.append("the participant number is missing")
    related = values["original_voi"]
    if kind in (AtopInstructionKind.WITHDRAWAL, AtopInstructionKind.COVER) and not related:
        problems.append(
            f"a {kind.value} must name the original VOI it {'withdraws' if kind == AtopInstructionKind.WITHDRAWAL else 'covers'}"
        )
    if problems:
        return ActivityLine(
            number, raw, error="; ".join(problems).capitalize() + ".", voi_number=voi[:40]
        )
    return ActivityLine(
        line_number=number,
        raw=raw,
        voi_number=voi,
        kind=kind.value,  # type: ignore[union-attr]
        participant_number=values["participant_number"].lstrip("0").zfill(4),
        participant_name=values["participant_name"][:200],
        cusip=values["cusip"].upper(),
        quantity=quantity,
        dtc_timestamp=moment,
        agents_message=flag in _YES,
        related_voi=related,
        beneficial_owners=values["beneficial_owners"],
    )


def read_activity_file(text: str) -> list[ActivityLine]:
    """The file's lines; refuses a file whose header lacks a required column."""
    text = text.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise DeskError(
            "This is not an ATOP activity file: its first line must name the columns "
            + ", ".join(COLUMNS)
            + f" (missing: {', '.join(missing)}). Nothing was imported."
        )
    reader.fieldnames = header
    raw_lines = text.splitlines()
    lines: list[ActivityLine] = []
    for row in reader:
        number = reader.line_num
        raw = raw_lines[number - 1] if number - 1 < len(raw_lines) else ""
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        lines.append(_read_line(number, row, raw))
    return lines
