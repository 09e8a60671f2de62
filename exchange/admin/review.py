"""The desk's checks of a letter, as the review queue and the checklist show them (the
checks themselves live with the services, which require them: exchange.services.checks),
and the words the queue uses for each defect."""

from __future__ import annotations

from exchange.models import DeficiencyKind, Tender
from exchange.services.checks import suggested_defects

__all__ = ["defect_headline", "suggested_defects"]


def defect_headline(tender: Tender, kind: str) -> str:
    """The defect as the queue names it: what is actually missing on this letter.

    One kind covers the whole book-entry transfer, but a confirmation number without its
    Agent's Message is not a "missing confirmation", and the clerk acts differently on it.
    """
    if kind == DeficiencyKind.BOOK_ENTRY_CONFIRMATION:
        if tender.book_entry_confirmation.strip():
            return "Agent's Message missing"
        if tender.agents_message:
            return "Book-entry confirmation number missing"
        return "Book-entry confirmation and Agent's Message missing"
    return str(DeficiencyKind(kind).label)
