"""Demo tenders for the seed offer, in every state an open offer can show, made through
the same services a clerk and the holders use (so their history is real)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from exchange.models import (
    ActorKind,
    Channel,
    DeficiencyKind,
    ExchangeOffer,
    SignerCapacity,
    Tender,
)
from exchange.services.base import Actor
from exchange.services.guaranteed_deliveries import (
    NoticeOfGuaranteedDelivery,
    receive_guaranteed_delivery,
)
from exchange.services.review import (
    record_deficiencies,
    reject_tender,
    start_review,
    validate_tender,
)
from exchange.services.tenders import CertificateTendered, LetterOfTransmittal, receive_tender
from exchange.services.withdrawals import NoticeOfWithdrawal, receive_withdrawal
from exchange.terms import calendars
from holders.models import Holder

CLERK = Actor(kind=ActorKind.CLERK, label="clerk (demo)")
SUPERVISOR = Actor(kind=ActorKind.SUPERVISOR, label="supervisor (demo)")

COMPLETE_REPRESENTATIONS: dict[str, object] = {
    "rep_full_authority": True,
    "rep_not_affiliate": True,
    "rep_not_broker_dealer_from_issuer": True,
    "rep_ordinary_course": True,
    "rep_no_distribution": True,
}


def _as_holder(holder: Holder) -> Actor:
    label = holder.user.get_username() if holder.user else holder.name
    return Actor(kind=ActorKind.HOLDER, label=label, user=holder.user)


def _paper(
    offer: ExchangeOffer,
    holder: Holder,
    series_slug: str,
    certificate: str,
    amount: str,
    at: dt.datetime,
    **overrides: object,
) -> Tender:
    letter: dict[str, object] = {
        "registered_names": holder.name,
        "signer_name": holder.name,
        "signer_capacity": SignerCapacity.REGISTERED_HOLDER,
        "signed": True,
        **COMPLETE_REPRESENTATIONS,
        "w9_tin_last4": "1234",
        "w9_certified": True,
        **overrides,
    }
    return receive_tender(
        offer_id=offer.pk,
        series_id=offer.series.get(slug=series_slug).pk,
        holder_id=holder.pk,
        submission=LetterOfTransmittal(
            amount=Decimal(amount),
            channel=Channel.PAPER_LETTER,
            certificates=[CertificateTendered(certificate, Decimal(amount))],
            letter=letter,
        ),
        actor=_as_holder(holder),
        now=at,
    )


def _book_entry(
    offer: ExchangeOffer,
    participant: Holder,
    series_slug: str,
    amount: str,
    confirmation: str,
    at: dt.datetime,
) -> Tender:
    return receive_tender(
        offer_id=offer.pk,
        series_id=offer.series.get(slug=series_slug).pk,
        holder_id=participant.pk,
        submission=LetterOfTransmittal(
            amount=Decimal(amount),
            channel=Channel.BOOK_ENTRY,
            letter={
                "registered_names": "Cede & Co.",
                "book_entry_confirmation": confirmation,
                "agents_message": True,
                "signer_capacity": SignerCapacity.DTC_PARTICIPANT,
                "signer_name": participant.name,
                "is_broker_dealer": True,
                "broker_dealer_prospectus_acknowledged": True,
                **COMPLETE_REPRESENTATIONS,
                "w9_certified": True,
                "w9_tin_last4": "0901",
            },
        ),
        actor=_as_holder(participant),
        now=at,
    )


def load_demo_tenders(offer: ExchangeOffer, anchor: dt.datetime) -> int:
    """Tenders received over the days before `anchor` (an instant while the offer is open):
    valid (one of them part of a certificate), awaiting review, in review, deficient, partly withdrawn, withdrawn, rejected, and
    one pending under a guaranteed delivery. Does nothing if the offer has tenders already."""
    if offer.tenders.exists():
        return 0
    holders = {
        h.user.get_username(): h for h in Holder.objects.select_related("user").exclude(user=None)
    }
    ardsley, mchen, hudson = holders["ardsley"], holders["mchen"], holders["hudson"]
    bayside, empire = holders["bayside"], holders["empire"]
    start = max(offer.commenced_at or anchor, anchor - dt.timedelta(days=10))

    def day(n: float) -> dt.datetime:
        return min(start + dt.timedelta(days=n), anchor - dt.timedelta(minutes=5))

    valid = _paper(offer, ardsley, "2008-senior", "R08-0001", "5000000", day(0.1))
    start_review(valid.pk, actor=CLERK, now=day(0.2))
    validate_tender(valid.pk, actor=CLERK, now=day(0.3))

    _paper(offer, ardsley, "2010-senior", "R10-0001", "2000000", day(8))  # awaiting review

    # Part of a certificate: on the exchange date the untendered $60,000 is reissued.
    # No W-9 on it either (see her rejected letter below): her TIN stays uncertified.
    part = _paper(
        offer,
        mchen,
        "2010-senior",
        "R10-0002",
        "40000",
        day(5.5),
        w9_certified=False,
        w9_tin_last4="",
    )
    start_review(part.pk, actor=CLERK, now=day(5.6))
    validate_tender(part.pk, actor=CLERK, now=day(5.7))

    in_review = _paper(offer, hudson, "2010-senior", "R10-0003", "1500000", day(6))
    start_review(in_review.pk, actor=CLERK, now=day(7))

    deficient = _paper(
        offer,
        mchen,
        "2008-senior",
        "R08-0003",
        "250000",
        day(2),
        signed=False,
        w9_certified=False,
        w9_tin_last4="",
    )
    start_review(deficient.pk, actor=CLERK, now=day(3))
    record_deficiencies(
        deficient.pk,
        defects=[
            (
                DeficiencyKind.SIGNATURE,
                "Sign the letter of transmittal exactly as your name appears on the certificate.",
            ),
        ],
        actor=CLERK,
        now=day(3.1),
    )

    partly = _book_entry(offer, bayside, "2008-senior", "25000000", "ATOP-2008-000417", day(1))
    validate_tender(partly.pk, actor=CLERK, now=day(1.1))
    receive_withdrawal(
        partly.pk,
        notice=NoticeOfWithdrawal(bayside.name, "", Decimal("5000000"), True, "Cede & Co.", True),
        actor=_as_holder(bayside),
        now=day(5),
    )
    discount = _book_entry(
        offer, bayside, "2010-senior-discount", "10000000", "ATOP-2010D-000233", day(4)
    )
    validate_tender(discount.pk, actor=CLERK, now=day(4.1))

    withdrawn = _paper(offer, hudson, "2010-senior-discount", "D10-0003", "500000", day(2.5))
    receive_withdrawal(
        withdrawn.pk,
        notice=NoticeOfWithdrawal(
            hudson.name, "D10-0003", Decimal("500000"), True, hudson.name, True
        ),
        actor=_as_holder(hudson),
        now=day(4.5),
    )

    rejected = _paper(
        offer,
        mchen,
        "2010-senior-discount",
        "D10-0002",
        "150000",
        day(1.5),
        signer_capacity=SignerCapacity.ATTORNEY_IN_FACT,
        signer_name="R. Chen (attorney-in-fact)",
        # No W-9 on any of her letters: the demo's special interest shows backup
        # withholding (a certified W-9 would set her TIN status and stop it).
        w9_certified=False,
        w9_tin_last4="",
    )
    reject_tender(
        rejected.pk,
        actor=SUPERVISOR,
        now=day(2),
        reason="Signed by an attorney-in-fact without a medallion signature guarantee or "
        "evidence of authority.",
    )

    receive_guaranteed_delivery(
        offer_id=offer.pk,
        series_id=offer.series.get(slug="2008-senior").pk,
        holder_id=hudson.pk,
        guarantor_id=empire.pk,
        notice=NoticeOfGuaranteedDelivery(
            tendering_holder_name=hudson.name,
            tendering_holder_address=hudson.address,
            registered_names=hudson.name,
            certificate_numbers="R08-0004",
            amount=Decimal("750000"),
            executed_on=calendars.ny_date(day(9)),
        ),
        actor=_as_holder(empire),
        now=day(9),
    )
    return offer.tenders.count()
