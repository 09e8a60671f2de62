"""The desk's checks of a letter, as the review queue and the checklist show them (the
checks themselves live with the services, which require them: exchange.services.checks)."""

from exchange.services.checks import suggested_defects

__all__ = ["suggested_defects"]
