"""Factories for the domain graph: the seed-shaped offer, holders and tenders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group

from exchange.models import (
    ActorKind,
    Channel,
    ExchangeOffer,
    Issuer,
    NoteSeries,
    SignerCapacity,
    Tender,
)
from exchange.services.base import Actor
from exchange.services.offers import commence_offer
from exchange.services.tenders import CertificateTendered, LetterOfTransmittal, receive_tender
from exchange.terms import calendars
from holders.models import Holder, HolderKind, Holding, HoldingForm, TinStatus


def ny(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    """A New York wall-clock instant."""
    return calendars.ny_instant(dt.date(year, month, day), dt.time(hour, minute, second))


CLERK = Actor(kind=ActorKind.CLERK, label="test clerk")
SUPERVISOR = Actor(kind=ActorKind.SUPERVISOR, label="test supervisor")
JOB = Actor.job("test job")


@dataclass
class SeedOffer:
    offer: ExchangeOffer
    senior_2008: NoteSeries
    senior_2010: NoteSeries
    discount_2010: NoteSeries
    registered: Holder
    second_registered: Holder
    participant: Holder
    guarantor: Holder

    @property
    def all_series(self) -> list[NoteSeries]:
        return [self.senior_2008, self.senior_2010, self.discount_2010]


def make_offer(
    *,
    slug: str = "level3-2000",
    expiration: dt.datetime | None = None,
    commence_at: dt.datetime | None = None,
    mailed_on: dt.date | None = dt.date(2000, 6, 9),
) -> ExchangeOffer:
    issuer, _ = Issuer.objects.get_or_create(name="Level 3 Communications, Inc.")
    expiration = expiration or ny(2000, 7, 12, 17, 0)
    offer = ExchangeOffer.objects.create(
        issuer=issuer,
        slug=slug,
        name=f"Exchange offer {slug}",
        exchange_agent="The Bank of New York",
        prospectus_date=dt.date(2000, 6, 9),
        registration_agreement_date=dt.date(2000, 2, 24),
        original_issue_date=dt.date(2000, 2, 29),
        initial_expiration_at=expiration,
        expiration_at=expiration,
    )
    return offer


def make_series(offer: ExchangeOffer, slug: str, **overrides: Any) -> NoteSeries:
    values: dict[str, Any] = {
        "name": slug,
        "coupon_rate": Decimal("0.11"),
        "issue_date": dt.date(2000, 2, 29),
        "maturity_date": dt.date(2008, 3, 15),
        "interest_payment_dates": "03-15,09-15",
        "record_dates": "03-01,09-01",
        "first_interest_payment_date": dt.date(2000, 9, 15),
        "amount_outstanding": Decimal("800000000.00"),
    }
    values.update(overrides)
    return NoteSeries.objects.create(offer=offer, slug=slug, **values)


def make_holder(
    kind: HolderKind = HolderKind.REGISTERED_HOLDER, name: str = "Holder", **extra: Any
) -> Holder:
    if kind == HolderKind.DTC_PARTICIPANT:
        extra.setdefault("dtc_participant_number", "0901")
    if kind == HolderKind.ELIGIBLE_GUARANTOR:
        extra.setdefault("medallion_program", "STAMP")
    extra.setdefault("tin_status", TinStatus.CERTIFIED)
    return Holder.objects.create(
        kind=kind, name=name, address="1 Wall Street\nNew York, NY", **extra
    )


def give_certificate(
    holder: Holder,
    series: NoteSeries,
    number: str,
    amount: str,
    since: dt.date = dt.date(2000, 2, 29),
) -> Holding:
    return Holding.objects.create(
        holder=holder,
        series=series,
        form=HoldingForm.CERTIFICATE,
        certificate_number=number,
        amount=Decimal(amount),
        effective_from=since,
    )


def give_position(
    holder: Holder, series: NoteSeries, amount: str, owner: str = "Omnibus"
) -> Holding:
    return Holding.objects.create(
        holder=holder,
        series=series,
        form=HoldingForm.DTC_POSITION,
        amount=Decimal(amount),
        beneficial_owner=owner,
        effective_from=dt.date(2000, 2, 29),
    )


def build_seed_offer(*, commence: bool = True, slug: str = "level3-2000") -> SeedOffer:
    offer = make_offer(slug=slug)
    s2008 = make_series(offer, "2008-senior", name="11% Senior Notes due 2008")
    s2010 = make_series(
        offer,
        "2010-senior",
        name="11 1/4% Senior Notes due 2010",
        coupon_rate=Decimal("0.1125"),
        maturity_date=dt.date(2010, 3, 15),
        amount_outstanding=Decimal("250000000.00"),
    )
    disc = make_series(
        offer,
        "2010-senior-discount",
        name="12 7/8% Senior Discount Notes due 2010",
        coupon_rate=Decimal("0.12875"),
        maturity_date=dt.date(2010, 3, 15),
        amount_outstanding=Decimal("675000000.00"),
        first_interest_payment_date=dt.date(2005, 9, 15),
        is_discount=True,
        issue_price_per_1000=Decimal("533.08"),
        accretion_rate=Decimal("0.12875"),
        full_accretion_date=dt.date(2005, 3, 15),
        cash_interest_from=dt.date(2005, 3, 15),
    )
    registered = make_holder(name="Ardsley Pension Trust")
    second = make_holder(name="Margaret Chen", tin_status=TinStatus.NOT_CERTIFIED)
    participant = make_holder(
        HolderKind.DTC_PARTICIPANT, name="Bayside Securities LLC", is_broker_dealer=True
    )
    guarantor = make_holder(HolderKind.ELIGIBLE_GUARANTOR, name="Empire Trust Company")
    give_certificate(registered, s2008, "R08-0001", "5000000")
    give_certificate(registered, s2008, "R08-0002", "1000000")
    give_certificate(registered, disc, "D10-0001", "3000000")
    give_certificate(second, s2008, "R08-0003", "250000")
    give_certificate(second, s2010, "R10-0002", "100000")
    give_position(participant, s2008, "120000000")
    give_position(participant, s2010, "40000000")
    give_position(participant, disc, "95000000")
    if commence:
        commence_offer(
            offer.pk, actor=SUPERVISOR, now=ny(2000, 6, 9, 9, 0), mailed_on=dt.date(2000, 6, 9)
        )
        offer.refresh_from_db()
    return SeedOffer(offer, s2008, s2010, disc, registered, second, participant, guarantor)


def complete_letter(**overrides: Any) -> dict[str, Any]:
    """A properly completed letter signed by the registered holder, no special instructions."""
    letter: dict[str, Any] = {
        "registered_names": "Ardsley Pension Trust",
        "signer_name": "Ardsley Pension Trust",
        "signer_capacity": SignerCapacity.REGISTERED_HOLDER,
        "signed": True,
        "rep_full_authority": True,
        "rep_not_affiliate": True,
        "rep_not_broker_dealer_from_issuer": True,
        "rep_ordinary_course": True,
        "rep_no_distribution": True,
        "w9_tin_last4": "6789",
        "w9_certified": True,
    }
    letter.update(overrides)
    return letter


def paper_tender(
    seed: SeedOffer,
    now: dt.datetime,
    *,
    holder: Holder | None = None,
    series: NoteSeries | None = None,
    certificates: tuple[tuple[str, str], ...] = (("R08-0001", "5000000"),),
    actor: Actor = CLERK,
    **letter: Any,
) -> Tender:
    amount = sum((Decimal(a) for _, a in certificates), Decimal("0"))
    # The letter names the notes as registered: to the holder tendering them.
    letter.setdefault("registered_names", (holder or seed.registered).name)
    # ...and is signed by that registered holder, unless the test says otherwise.
    letter.setdefault("signer_name", (holder or seed.registered).name)
    return receive_tender(
        offer_id=seed.offer.pk,
        series_id=(series or seed.senior_2008).pk,
        holder_id=(holder or seed.registered).pk,
        submission=LetterOfTransmittal(
            amount=amount,
            channel=Channel.PAPER_LETTER,
            certificates=[CertificateTendered(n, Decimal(a)) for n, a in certificates],
            letter=complete_letter(**letter),
        ),
        actor=actor,
        now=now,
    )


def book_entry_tender(
    seed: SeedOffer, now: dt.datetime, amount: str = "10000000", series: NoteSeries | None = None
) -> Tender:
    return receive_tender(
        offer_id=seed.offer.pk,
        series_id=(series or seed.senior_2008).pk,
        holder_id=seed.participant.pk,
        submission=LetterOfTransmittal(
            amount=Decimal(amount),
            channel=Channel.BOOK_ENTRY,
            letter={
                "registered_names": "Cede & Co.",
                "book_entry_confirmation": "ATOP-000123",
                "agents_message": True,
                "signer_capacity": SignerCapacity.DTC_PARTICIPANT,
                # The representations, as the Agent's Message binds the participant to them
                # (a tender with open defects on its face is never found valid).
                "rep_full_authority": True,
                "rep_not_affiliate": True,
                "rep_not_broker_dealer_from_issuer": True,
                "rep_ordinary_course": True,
                "rep_no_distribution": True,
            },
        ),
        actor=CLERK,
        now=now,
    )


def staff_user(username: str, group: str) -> AbstractBaseUser:
    user = get_user_model().objects.create_user(
        username=username, password="pw-for-tests-only", is_staff=True
    )
    user.groups.add(Group.objects.get(name=group))
    return user


def legacy_w9_deficiency(tender_id: int, now: dt.datetime, note: str = "Certify your TIN.") -> None:
    """A "Substitute Form W-9 incomplete" deficiency as recorded before a missing W-9
    stopped being a defect (record_deficiencies now refuses it): such rows exist and can
    still be cured or waived."""
    from exchange.models import Deficiency, DeficiencyKind, Tender, TenderState

    Deficiency.objects.create(
        tender_id=tender_id,
        kind=DeficiencyKind.W9,
        note=note,
        opened_at=now,
        opened_by_label="clerk",
    )
    Tender.objects.filter(pk=tender_id).update(state=TenderState.DEFICIENT)


def deliver_outbox() -> list[Any]:
    """What a mail worker would do now: send every message due in the outbox (to Django's
    test mailbox), and return that mailbox."""
    from django.core import mail
    from django.utils import timezone

    from exchange.services import outbox

    outbox.deliver_due(timezone.now())
    return list(mail.outbox)


def guarantor_actor(seed: SeedOffer) -> Actor:
    """The seed's eligible guarantor institution signed in to the portal."""
    guarantor = seed.guarantor
    if guarantor.user_id is None:
        guarantor.user = get_user_model().objects.create_user(
            username=f"guarantor-{guarantor.pk}", password=None
        )
        guarantor.save(update_fields=["user"])
    return Actor.for_user(guarantor.user, ActorKind.HOLDER)  # type: ignore[arg-type]


def guarantee_letter(seed: SeedOffer, tender: Tender, now: dt.datetime) -> None:
    """The guarantor confirms the letter's signature from its own login."""
    from exchange.services.guarantees import confirm_guarantee

    confirm_guarantee(
        guarantor=seed.guarantor,
        reference=tender.reference,
        signer_name=tender.signer_name,
        registered_holder_name=tender.holder.name,
        actor=guarantor_actor(seed),
        now=now,
    )
