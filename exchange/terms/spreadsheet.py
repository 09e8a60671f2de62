"""CSV cells a spreadsheet will not run.

Names, addresses and delivery instructions in our exports were typed by holders; a cell
that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (`=HYPERLINK(...)`, DDE). Following OWASP's
"CSV Injection" advice, such a cell is written with a leading apostrophe, which the
spreadsheet shows as text. Plain numbers (a negative amount) are left as they are: they
cannot carry a formula, and a clerk summing a column needs them numeric.

Every CSV the desk writes goes through `safe_row`. It lives with the terms, the bottom
layer, because it is a pure rule every layer that writes CSV (reports, special interest
payments) must share; like them it imports neither Django nor the project.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def safe_row(row: Iterable[object]) -> list[str]:
    return [safe_cell(value) for value in row]
