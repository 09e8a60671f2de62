"""Reads of an offer as of an instant: its state, its expiration, its figures per series.

For the operator commands, the reports and the desk; nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType

from exchange.models import (
    ExchangeOffer,
    StateChange,
)

ZERO = Decimal("0.00")


def offer_state_as_of(offer: ExchangeOffer, moment: dt.datetime) -> str:
    """The offer's state at `moment`, read back from its history."""
    last = (
        StateChange.objects.filter(
            content_type=ContentType.objects.get_for_model(ExchangeOffer),
            object_id=offer.pk,
            at__lte=moment,
        )
        .exclude(to_state="")
        .order_by("-at", "-id")
        .values_list("to_state", flat=True)
        .first()
    )
    return last or "draft"


def expiration_as_of(offer: ExchangeOffer, moment: dt.datetime) -> dt.datetime:
    """The expiration instant in force at `moment` (extensions recorded after it not yet known)."""
    later = (
        offer.events.filter(occurred_at__gt=moment, previous_expiration_at__isnull=False)
        .order_by("occurred_at", "id")
        .values_list("previous_expiration_at", flat=True)
        .first()
    )
    return later or offer.expiration_at


# The figures per series and state are exchange.selectors.figures.offer_tally.
