"""DTC ATOP activity: the agent's activity file applied through the portal's services.

- `files`: the file's columns; each line read, or unreadable with the reason.
- `apply`: the import, one line one transaction, through receive_tender, the
  guaranteed-delivery services and receive_withdrawal; once per VOI number.
- `queue`: the exceptions queue (match, reject, escalate).
"""

from exchange.services.atop.apply import ImportSummary, import_activity
from exchange.services.atop.files import COLUMNS, ActivityLine, read_activity_file
from exchange.services.atop.queue import (
    escalate_exception,
    match_exception,
    open_exceptions,
    reject_exception,
)

__all__ = [
    "COLUMNS",
    "ActivityLine",
    "ImportSummary",
    "escalate_exception",
    "import_activity",
    "match_exception",
    "open_exceptions",
    "read_activity_file",
    "reject_exception",
]
