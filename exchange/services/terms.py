"""The issuer's amendment of a term of a commenced offer or of one of its series.

After commencement the admin's forms edit no term (exchange.admin.offers): a change is the
issuer's decision, recorded by a supervisor here with the old and the new value, and
announced through the amendment service (offers.amend_offer), which applies the
five-business-day rule when the change is material. The row-change trigger captures it too.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models, transaction

from exchange.models import ActorKind, NoteSeries, OfferEvent
from exchange.services.base import Actor, DeskError, record, require_aware
from exchange.services.offers import amend_offer

# The terms an amendment may change. Identity (the offer, slugs, CUSIPs) never changes.
OFFER_TERMS = (
    "acceptance_automatic",
    "backup_withholding_rate",
    "filing_deadline_days",
    "effectiveness_deadline_days",
    "completion_deadline_days",
)
SERIES_TERMS = ("coupon_rate", "denomination", "amount_outstanding")


@transaction.atomic
def amend_term(
    offer_id: int,
    *,
    term: str,
    value: str,
    description: str,
    material: bool,
    actor: Actor,
    now: dt.datetime,
    notice_on: dt.date,
    series_id: int | None = None,
) -> OfferEvent:
    """Change one term, recorded with the old and new value, as the issuer's amendment.

    `notice_on` is the day the issuer's notice was first published, sent or given: the
    amendment service refuses a later day than the recording and counts the
    five-business-day rule from it."""
    require_aware(now)
    if actor.kind != ActorKind.SUPERVISOR:
        raise DeskError("A change of the offer's terms is the issuer's decision: a supervisor's.")
    allowed = SERIES_TERMS if series_id is not None else OFFER_TERMS
    if term not in allowed:
        raise DeskError(
            f"“{term}” is not a term an amendment changes; one of: {', '.join(allowed)}.",
            field="term",
        )
    # The amendment first: it locks the offer (FOR UPDATE, the lock order's first), refuses
    # after expiration, and extends to the fifth business day when the change is material.
    from exchange.models import ExchangeOffer

    target: models.Model
    if series_id is None:
        target = ExchangeOffer.objects.get(pk=offer_id)
    else:
        target = NoteSeries.objects.get(pk=series_id, offer_id=offer_id)
    field = type(target)._meta.get_field(term)
    try:
        new = field.clean(value.strip(), target)
    except ValidationError as exc:
        raise DeskError(f"{term}: {' '.join(exc.messages)}", field="value") from None
    if isinstance(field, models.DecimalField) and new is not None:
        # As the column keeps it, so that old and new read alike in the history.
        new = new.quantize(Decimal(1).scaleb(-field.decimal_places))
    old = getattr(target, term)
    if old == new:
        raise DeskError(f"{term} is already {old}; nothing to amend.", field="value")
    where = f"series {target}" if series_id is not None else "the offer"
    event = amend_offer(
        offer_id,
        description=f"{description.strip()} ({where}: {term} {old} → {new})",
        material=material,
        actor=actor,
        now=now,
        notice_on=notice_on,
    )
    locked = type(target).objects.select_for_update().get(pk=target.pk)
    setattr(locked, term, new)
    locked.save(update_fields=[term])
    record(
        locked,
        action="exchange.offer.term_amended",
        from_state=str(old),
        to_state=str(new),
        actor=actor,
        now=now,
        reason=f"{term}: {old} → {new}. {description.strip()}",
        offer=offer_id,
    )
    return event
