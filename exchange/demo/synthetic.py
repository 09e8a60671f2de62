"""Synthetic offers at volume, for the benchmarks and the jobs' crash tests.

Rows are bulk-inserted straight into the tables (with their states set at creation)
because the point is to measure or exercise what comes after receipt, not receipt.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from exchange.models import (
    ActorKind,
    Channel,
    ExchangeOffer,
    Issuer,
    NoteSeries,
    OfferState,
    SignerCapacity,
    Tender,
)
from exchange.models.tenders import new_reference
from exchange.services.base import Actor
from exchange.services.offers import commence_offer
from exchange.terms import calendars
from holders.models import Holder, HolderKind, Holding, HoldingForm

SYNTHETIC_ACTOR = Actor(kind=ActorKind.SUPERVISOR, label="synthetic")


def synthetic_offer(
    slug: str, *, expiration: dt.datetime, commenced: dt.datetime
) -> tuple[ExchangeOffer, NoteSeries]:
    """An open offer with one series, commenced at `commenced` (notice mailed 40 days before
    expiration so the minimum-open rules hold), acceptance automatic."""
    issuer, _ = Issuer.objects.get_or_create(name="Synthetic Issuer, Inc.")
    mailed = calendars.ny_date(expiration) - dt.timedelta(days=40)
    offer = ExchangeOffer.objects.create(
        issuer=issuer,
        slug=slug,
        name=f"Synthetic offer {slug}",
        exchange_agent="Synthetic Agent",
        prospectus_date=mailed,
        registration_agreement_date=mailed - dt.timedelta(days=100),
        original_issue_date=mailed - dt.timedelta(days=105),
        initial_expiration_at=expiration,
        expiration_at=expiration,
        acceptance_automatic=True,
    )
    series = NoteSeries.objects.create(
        offer=offer,
        slug="senior",
        name="Synthetic Senior Notes",
        coupon_rate=Decimal("0.10"),
        issue_date=mailed - dt.timedelta(days=105),
        maturity_date=mailed + dt.timedelta(days=3650),
        interest_payment_dates="03-15,09-15",
        record_dates="03-01,09-01",
        first_interest_payment_date=mailed + dt.timedelta(days=60),
        amount_outstanding=Decimal("100000000000.00"),
    )
    commence_offer(offer.pk, actor=SYNTHETIC_ACTOR, now=commenced, mailed_on=mailed)
    offer.refresh_from_db()
    assert offer.state == OfferState.OPEN
    return offer, series


def synthetic_valid_tenders(
    offer: ExchangeOffer, series: NoteSeries, n: int, *, received_at: dt.datetime, batch: int = 5000
) -> None:
    """`n` valid book-entry tenders of $1,000-$50,000 each from one DTC participant."""
    participant = Holder.objects.create(
        kind=HolderKind.DTC_PARTICIPANT,
        name=f"Synthetic participant for {offer.slug}",
        address="Synthetic",
        dtc_participant_number="9999",
    )
    Holding.objects.create(
        holder=participant,
        series=series,
        form=HoldingForm.DTC_POSITION,
        amount=Decimal(n) * Decimal("50000"),
        effective_from=series.issue_date,
    )
    # Random references collide about once in a hundred builds of 100,000 (30^8 of
    # them); a benchmark must not fail on that, so each is drawn until it is new.
    used: set[str] = set()

    def fresh_reference() -> str:
        while (reference := new_reference("LT")) in used:
            pass
        used.add(reference)
        return reference

    for start in range(0, n, batch):
        Tender.objects.bulk_create(
            Tender(
                reference=fresh_reference(),
                offer=offer,
                series=series,
                holder=participant,
                channel=Channel.BOOK_ENTRY,
                state="valid",
                received_at=received_at,
                amount=Decimal(1000 * (1 + (i % 50))),
                registered_names="Cede & Co.",
                book_entry_confirmation=f"ATOP-{i:07d}",
                dtc_participant_number="9999",
                agents_message=True,
                signer_capacity=SignerCapacity.DTC_PARTICIPANT,
                beneficial_owner=f"Beneficial owner {i}",
            )
            for i in range(start, min(n, start + batch))
        )
