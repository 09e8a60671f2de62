"""Receiving letters of transmittal: denominations, holdings, certificates, book-entry,
receipt on or before expiration, the server's receipt time, deficiencies, the letter's
derived facts (backup withholding, medallion guarantee)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from exchange.models import (
    Channel,
    Deficiency,
    DeficiencyKind,
    DeficiencyStatus,
    SignerCapacity,
    StateChange,
    Tender,
    TenderedCertificate,
    TenderState,
)
from exchange.services.base import DeskError
from exchange.services.offers import expire_offer
from exchange.services.review import (
    cure_deficiency,
    record_deficiencies,
    reject_tender,
    validate_tender,
    waive_deficiency,
)
from exchange.services.tenders import CertificateTendered, LetterOfTransmittal, receive_tender
from exchange.services.withdrawals import NoticeOfWithdrawal, receive_withdrawal
from holders.models import Holder
from tests.factories import (
    CLERK,
    JOB,
    SUPERVISOR,
    SeedOffer,
    book_entry_tender,
    build_seed_offer,
    complete_letter,
    ny,
    paper_tender,
)

EXPIRATION = ny(2000, 7, 12, 17, 0)
COMMENCED = ny(2000, 6, 9, 9, 0)
ONE_SECOND = dt.timedelta(seconds=1)


def _counts() -> tuple[int, int, int, int]:
    return (
        Tender.objects.count(),
        StateChange.objects.count(),
        TenderedCertificate.objects.count(),
        Deficiency.objects.count(),
    )


def _tender(
    seed: SeedOffer,
    now: dt.datetime,
    *,
    amount: str,
    channel: Channel = Channel.PAPER_LETTER,
    holder: Holder | None = None,
    series_attr: str = "senior_2008",
    certificates: tuple[tuple[str, str], ...] = (),
    letter: dict[str, object] | None = None,
) -> Tender:
    return receive_tender(
        offer_id=seed.offer.pk,
        series_id=getattr(seed, series_attr).pk,
        holder_id=(holder or seed.registered).pk,
        submission=LetterOfTransmittal(
            amount=Decimal(amount),
            channel=channel,
            certificates=[CertificateTendered(n, Decimal(a)) for n, a in certificates],
            letter=letter if letter is not None else complete_letter(),
        ),
        actor=CLERK,
        now=now,
    )


def _withdraw_all(tender: Tender, now: dt.datetime, certificates: str = "") -> None:
    receive_withdrawal(
        tender.pk,
        notice=NoticeOfWithdrawal(
            tendering_person_name=tender.holder.name,
            certificate_numbers=certificates,
            amount=tender.live_amount,
            states_withdrawal=True,
            registered_holder_name=tender.registered_names,
            signed_as_letter=True,
        ),
        actor=CLERK,
        now=now,
    )


# --- denominations ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["1500", "0", "-1000", "999", "1000.50"])
def test_book_entry_amount_not_in_authorized_denominations_refused(
    seed: SeedOffer, during_offer: dt.datetime, amount: str
) -> None:
    before = _counts()
    with pytest.raises(DeskError) as refused:
        book_entry_tender(seed, during_offer, amount=amount)
    assert refused.value.field == "amount"
    assert _counts() == before


@pytest.mark.django_db
def test_certificate_amount_of_1500_refused(seed: SeedOffer, during_offer: dt.datetime) -> None:
    before = _counts()
    with pytest.raises(DeskError):
        paper_tender(seed, during_offer, certificates=(("R08-0001", "1500"),))
    assert _counts() == before


@pytest.mark.django_db
def test_whole_thousands_accepted(seed: SeedOffer, during_offer: dt.datetime) -> None:
    tender = book_entry_tender(seed, during_offer, amount="1000")
    assert tender.amount == Decimal("1000")
    assert book_entry_tender(seed, during_offer, amount="37000").amount == Decimal("37000")


@pytest.mark.django_db
def test_discount_notes_are_tendered_in_principal_amount_at_maturity(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    # D10-0001 is $3,000,000 principal amount at maturity; its accreted value on 06-26
    # (about $567 per $1,000, some $1.7 million) is not what is tendered.
    assert seed.discount_2010.denomination == Decimal("1000.00")
    with pytest.raises(DeskError):
        _tender(
            seed,
            during_offer,
            amount="1599240",  # 3,000 x 533.08, the issue price: not a $1,000 multiple
            series_attr="discount_2010",
            certificates=(("D10-0001", "1599240"),),
        )
    with pytest.raises(DeskError):
        _tender(
            seed,
            during_offer,
            amount="3001000",
            series_attr="discount_2010",
            certificates=(("D10-0001", "3001000"),),
        )
    tender = _tender(
        seed,
        during_offer,
        amount="3000000",
        series_attr="discount_2010",
        certificates=(("D10-0001", "3000000"),),
    )
    assert tender.amount == Decimal("3000000")
    assert tender.series == seed.discount_2010


# --- never more than the holding -------------------------------------------------------


@pytest.mark.django_db
def test_exact_holding_allowed_and_one_thousand_more_refused(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    with pytest.raises(DeskError) as refused:
        book_entry_tender(seed, during_offer, amount="120001000")
    assert refused.value.field == "amount"
    assert not Tender.objects.exists()
    tender = book_entry_tender(seed, during_offer, amount="120000000")
    assert tender.amount == Decimal("120000000")


@pytest.mark.django_db
def test_a_second_tender_counts_the_first(seed: SeedOffer, during_offer: dt.datetime) -> None:
    book_entry_tender(seed, during_offer, amount="70000000")
    with pytest.raises(DeskError):
        book_entry_tender(seed, during_offer, amount="51000000")
    book_entry_tender(seed, during_offer, amount="50000000")
    with pytest.raises(DeskError):
        book_entry_tender(seed, during_offer, amount="1000")
    assert Tender.objects.filter(holder=seed.participant).count() == 2


@pytest.mark.django_db
def test_other_series_are_counted_separately(seed: SeedOffer, during_offer: dt.datetime) -> None:
    book_entry_tender(seed, during_offer, amount="120000000")
    tender = book_entry_tender(seed, during_offer, amount="40000000", series=seed.senior_2010)
    assert tender.series == seed.senior_2010


@pytest.mark.django_db
def test_a_withdrawn_tender_frees_the_amount_for_re_tender(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    first = book_entry_tender(seed, during_offer, amount="120000000")
    _withdraw_all(first, during_offer + dt.timedelta(hours=1))
    first.refresh_from_db()
    assert first.state == TenderState.WITHDRAWN
    again = book_entry_tender(seed, during_offer + dt.timedelta(hours=2), amount="120000000")
    assert again.state == TenderState.RECEIVED


# --- certificates --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "certificates",
    [
        pytest.param((("R08-0003", "250000"),), id="another-holders-certificate"),
        pytest.param((("R08-9999", "1000000"),), id="unknown-certificate"),
        pytest.param((("R10-0002", "100000"),), id="certificate-of-another-series"),
        pytest.param((("R08-0001", "1000000"), ("R08-0001", "1000000")), id="listed-twice"),
        pytest.param((("R08-0002", "2000000"),), id="more-than-the-certificate"),
    ],
)
def test_certificates_not_matching_the_holding_refused(
    seed: SeedOffer, during_offer: dt.datetime, certificates: tuple[tuple[str, str], ...]
) -> None:
    before = _counts()
    with pytest.raises(DeskError) as refused:
        paper_tender(seed, during_offer, certificates=certificates)
    assert refused.value.field == "certificates"
    assert _counts() == before


@pytest.mark.django_db
def test_certificates_not_summing_to_the_amount_refused(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    before = _counts()
    with pytest.raises(DeskError) as refused:
        _tender(seed, during_offer, amount="6000000", certificates=(("R08-0001", "5000000"),))
    assert refused.value.field == "certificates"
    assert _counts() == before


@pytest.mark.django_db
def test_paper_tender_needs_certificates(seed: SeedOffer, during_offer: dt.datetime) -> None:
    before = _counts()
    with pytest.raises(DeskError):
        _tender(seed, during_offer, amount="5000000", certificates=())
    assert _counts() == before


@pytest.mark.django_db
def test_two_certificates_in_one_letter(seed: SeedOffer, during_offer: dt.datetime) -> None:
    tender = paper_tender(
        seed, during_offer, certificates=(("R08-0001", "5000000"), ("R08-0002", "1000000"))
    )
    assert tender.amount == Decimal("6000000")
    assert sorted(tender.certificates.values_list("certificate_number", "amount")) == [
        ("R08-0001", Decimal("5000000")),
        ("R08-0002", Decimal("1000000")),
    ]


@pytest.mark.django_db
def test_the_same_certificate_cannot_be_tendered_twice(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    paper_tender(seed, during_offer, certificates=(("R08-0001", "3000000"),))
    with pytest.raises(DeskError):
        paper_tender(seed, during_offer, certificates=(("R08-0001", "3000000"),))
    paper_tender(seed, during_offer, certificates=(("R08-0001", "2000000"),))


# --- book-entry ----------------------------------------------------------------------


@pytest.mark.django_db
def test_book_entry_needs_a_dtc_participant(seed: SeedOffer, during_offer: dt.datetime) -> None:
    before = _counts()
    with pytest.raises(DeskError) as refused:
        _tender(
            seed,
            during_offer,
            amount="1000000",
            channel=Channel.BOOK_ENTRY,
            holder=seed.registered,
            letter={"registered_names": "Ardsley", "book_entry_confirmation": "ATOP-1"},
        )
    assert refused.value.field == "channel"
    assert _counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("confirmation", ["", "   "])
def test_book_entry_needs_a_confirmation(
    seed: SeedOffer, during_offer: dt.datetime, confirmation: str
) -> None:
    before = _counts()
    with pytest.raises(DeskError) as refused:
        _tender(
            seed,
            during_offer,
            amount="1000000",
            channel=Channel.BOOK_ENTRY,
            holder=seed.participant,
            letter={"registered_names": "Cede & Co.", "book_entry_confirmation": confirmation},
        )
    assert refused.value.field == "book_entry_confirmation"
    assert _counts() == before


@pytest.mark.django_db
def test_book_entry_takes_the_participant_number(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    tender = book_entry_tender(seed, during_offer)
    assert tender.channel == Channel.BOOK_ENTRY
    assert tender.dtc_participant_number == "0901"
    assert not tender.certificates.exists()


@pytest.mark.django_db
def test_a_guaranteed_delivery_tender_needs_a_notice(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    before = _counts()
    with pytest.raises(DeskError):
        _tender(seed, during_offer, amount="1000000", channel=Channel.GUARANTEED_DELIVERY)
    assert _counts() == before


@pytest.mark.django_db
def test_an_eligible_guarantor_does_not_tender(seed: SeedOffer, during_offer: dt.datetime) -> None:
    with pytest.raises(DeskError):
        _tender(seed, during_offer, amount="1000000", holder=seed.guarantor)


# --- receipt on or before expiration ----------------------------------------------------


@pytest.mark.django_db
def test_tender_received_at_the_expiration_instant_counts(seed: SeedOffer) -> None:
    tender = paper_tender(seed, EXPIRATION)
    assert tender.received_at == EXPIRATION
    assert tender.state == TenderState.RECEIVED


@pytest.mark.django_db
def test_tender_received_one_second_after_expiration_refused(seed: SeedOffer) -> None:
    before = _counts()
    with pytest.raises(DeskError):
        paper_tender(seed, EXPIRATION + ONE_SECOND)
    with pytest.raises(DeskError):
        book_entry_tender(seed, EXPIRATION + ONE_SECOND)
    assert _counts() == before


@pytest.mark.django_db
def test_tender_refused_once_the_offer_expired(seed: SeedOffer) -> None:
    expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION)
    with pytest.raises(DeskError):
        paper_tender(seed, EXPIRATION + dt.timedelta(hours=1))
    assert not Tender.objects.exists()


@pytest.mark.django_db
def test_tender_before_commencement_refused(seed: SeedOffer) -> None:
    before = _counts()
    with pytest.raises(DeskError):
        paper_tender(seed, COMMENCED - ONE_SECOND)
    assert _counts() == before
    assert paper_tender(seed, COMMENCED).received_at == COMMENCED


@pytest.mark.django_db
def test_tender_refused_on_a_draft_offer(during_offer: dt.datetime) -> None:
    draft = build_seed_offer(commence=False)
    with pytest.raises(DeskError):
        paper_tender(draft, during_offer)
    assert not Tender.objects.exists()


@pytest.mark.django_db
def test_received_at_is_the_servers_now(seed: SeedOffer) -> None:
    now = ny(2000, 6, 30, 14, 37, 12)
    tender = paper_tender(seed, now)
    tender.refresh_from_db()
    assert tender.received_at == now
    assert StateChange.objects.get(object_id=tender.pk, action="exchange.tender.received").at == now


@pytest.mark.django_db
@pytest.mark.parametrize(
    "client_field",
    [
        {"received_at": ny(2000, 6, 1, 9, 0)},
        {"state": TenderState.VALID},
        {"amount": Decimal("1000")},
        {"withdrawn_amount": Decimal("5000000")},
        {"holder_id": 1},
    ],
    ids=["received_at", "state", "amount", "withdrawn_amount", "holder_id"],
)
def test_the_letter_cannot_set_what_the_desk_decides(
    seed: SeedOffer, during_offer: dt.datetime, client_field: dict[str, object]
) -> None:
    before = _counts()
    with pytest.raises(DeskError):
        _tender(
            seed,
            during_offer,
            amount="5000000",
            certificates=(("R08-0001", "5000000"),),
            letter=complete_letter(**client_field),
        )
    assert _counts() == before


@pytest.mark.django_db
def test_a_refused_tender_records_nothing(seed: SeedOffer, during_offer: dt.datetime) -> None:
    paper_tender(seed, during_offer, certificates=(("R08-0002", "1000000"),))
    before = _counts()
    # Every refusal path, each after some reads: none may leave a row behind.
    attempts = [
        lambda: paper_tender(seed, during_offer, certificates=(("R08-0002", "1000000"),)),
        lambda: paper_tender(seed, during_offer, certificates=(("R08-0003", "250000"),)),
        lambda: book_entry_tender(seed, during_offer, amount="120001000"),
        lambda: paper_tender(seed, EXPIRATION + ONE_SECOND),
    ]
    for attempt in attempts:
        with pytest.raises(DeskError):
            attempt()
    assert _counts() == before


# --- deficiencies --------------------------------------------------------------------


def _deficient(seed: SeedOffer, now: dt.datetime) -> tuple[Tender, list[Deficiency]]:
    # (A missing W-9 is no defect: backup withholding. The representations stand in.)
    tender = paper_tender(seed, now, rep_ordinary_course=False, signed=False)
    defects = record_deficiencies(
        tender.pk,
        defects=[
            (DeficiencyKind.REPRESENTATIONS, "Make the representations of the letter."),
            (DeficiencyKind.SIGNATURE, "Sign the letter as the notes are registered."),
        ],
        actor=CLERK,
        now=now,
    )
    tender.refresh_from_db()
    return tender, defects


@pytest.mark.django_db
def test_recording_deficiencies_makes_the_tender_deficient(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    tender, defects = _deficient(seed, during_offer)
    assert tender.state == TenderState.DEFICIENT
    assert [d.status for d in defects] == [DeficiencyStatus.OPEN, DeficiencyStatus.OPEN]
    with pytest.raises(DeskError):
        validate_tender(tender.pk, actor=CLERK, now=during_offer)
    tender.refresh_from_db()
    assert tender.state == TenderState.DEFICIENT


@pytest.mark.django_db
def test_a_deficiency_needs_a_cure_note(seed: SeedOffer, during_offer: dt.datetime) -> None:
    tender = paper_tender(seed, during_offer)
    with pytest.raises(DeskError):
        record_deficiencies(
            tender.pk,
            defects=[(DeficiencyKind.REPRESENTATIONS, "  ")],
            actor=CLERK,
            now=during_offer,
        )
    with pytest.raises(DeskError):
        record_deficiencies(tender.pk, defects=[], actor=CLERK, now=during_offer)
    tender.refresh_from_db()
    assert tender.state == TenderState.RECEIVED
    assert not Deficiency.objects.exists()


@pytest.mark.django_db
def test_curing_every_defect_before_expiration_makes_the_tender_valid(seed: SeedOffer) -> None:
    tender, (w9, signature) = _deficient(seed, ny(2000, 7, 10, 10, 0))
    cure_deficiency(w9.pk, actor=CLERK, now=EXPIRATION - ONE_SECOND, note="Reps made.")
    tender.refresh_from_db()
    assert tender.state == TenderState.DEFICIENT  # one still open
    cure_deficiency(signature.pk, actor=CLERK, now=EXPIRATION - ONE_SECOND, note="Signed.")
    tender.refresh_from_db()
    assert tender.state == TenderState.VALID
    w9.refresh_from_db()
    assert w9.status == DeficiencyStatus.CURED
    assert w9.resolved_at == EXPIRATION - ONE_SECOND


@pytest.mark.django_db
@pytest.mark.parametrize(
    "when", [EXPIRATION, EXPIRATION + dt.timedelta(days=1)], ids=["at", "after"]
)
def test_cure_at_or_after_expiration_refused(seed: SeedOffer, when: dt.datetime) -> None:
    _, (w9, _) = _deficient(seed, ny(2000, 7, 10, 10, 0))
    history = StateChange.objects.count()
    with pytest.raises(DeskError):
        cure_deficiency(w9.pk, actor=CLERK, now=when)
    w9.refresh_from_db()
    assert w9.status == DeficiencyStatus.OPEN
    assert w9.resolved_at is None
    assert StateChange.objects.count() == history


@pytest.mark.django_db
def test_a_waiver_names_who_authorised_it_and_makes_the_tender_valid(seed: SeedOffer) -> None:
    tender, (w9, signature) = _deficient(seed, ny(2000, 7, 10, 10, 0))
    cure_deficiency(signature.pk, actor=CLERK, now=ny(2000, 7, 11, 10, 0))
    with pytest.raises(DeskError) as refused:
        waive_deficiency(w9.pk, authorized_by="  ", actor=SUPERVISOR, now=ny(2000, 7, 13, 9, 0))
    assert refused.value.field == "authorized_by"
    w9.refresh_from_db()
    assert w9.status == DeficiencyStatus.OPEN
    # The issuer may waive after expiration; cure is then no longer possible.
    waive_deficiency(
        w9.pk, authorized_by="Treasurer, Level 3", actor=SUPERVISOR, now=ny(2000, 7, 13, 9, 0)
    )
    w9.refresh_from_db()
    assert w9.status == DeficiencyStatus.WAIVED
    assert w9.waiver_authorized_by == "Treasurer, Level 3"
    tender.refresh_from_db()
    assert tender.state == TenderState.VALID


# --- what the letter says -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("letter", "withholding"),
    [
        ({"w9_certified": True}, False),
        ({"w9_certified": False}, True),
        ({"w9_certified": False, "w9_exempt_payee": True}, False),
    ],
    ids=["certified", "not-certified", "exempt-payee"],
)
def test_backup_withholding_applies_without_a_certified_w9(
    seed: SeedOffer, during_offer: dt.datetime, letter: dict[str, object], withholding: bool
) -> None:
    tender = paper_tender(seed, during_offer, **letter)
    tender.refresh_from_db()
    assert tender.backup_withholding_applies is withholding


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("letter", "guarantee"),
    [
        ({}, False),
        (
            {"special_delivery_name": "Ardsley custodian", "special_delivery_address": "2 Main"},
            True,
        ),
        ({"special_issuance_name": "Someone Else"}, True),
        ({"signer_capacity": SignerCapacity.ATTORNEY_IN_FACT}, True),
        ({"signer_capacity": SignerCapacity.TRUSTEE}, True),
    ],
    ids=[
        "registered-holder-no-instructions",
        "special-delivery",
        "special-issuance",
        "attorney-in-fact",
        "trustee",
    ],
)
def test_medallion_guarantee_needed_unless_the_registered_holder_signs_for_itself(
    seed: SeedOffer, during_offer: dt.datetime, letter: dict[str, object], guarantee: bool
) -> None:
    tender = paper_tender(seed, during_offer, **letter)
    tender.refresh_from_db()
    assert tender.requires_medallion_guarantee is guarantee


@pytest.mark.django_db
def test_book_entry_through_atop_needs_no_medallion_guarantee(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    assert book_entry_tender(seed, during_offer).requires_medallion_guarantee is False


@pytest.mark.django_db
def test_a_defect_on_a_rejected_tender_cannot_be_cured(seed: SeedOffer) -> None:
    now = ny(2000, 6, 26, 10)
    tender = paper_tender(seed, now)
    [deficiency] = record_deficiencies(
        tender.pk, defects=[(DeficiencyKind.SIGNATURE, "Sign it.")], actor=CLERK, now=now
    )
    reject_tender(tender.pk, actor=SUPERVISOR, now=now, reason="Not in proper form.")
    with pytest.raises(DeskError, match="rejected; nothing can be cured"):
        cure_deficiency(deficiency.pk, actor=CLERK, now=ny(2000, 6, 27, 10))
    deficiency.refresh_from_db()
    assert deficiency.status == "open"


@pytest.mark.django_db
def test_a_cure_corrects_only_the_boxes_of_its_defect(seed: SeedOffer) -> None:
    now = ny(2000, 6, 26, 10)
    tender = paper_tender(seed, now, rep_ordinary_course=False)
    [reps] = record_deficiencies(
        tender.pk, defects=[(DeficiencyKind.REPRESENTATIONS, "Make them.")], actor=CLERK, now=now
    )
    with pytest.raises(DeskError, match="may correct only"):
        cure_deficiency(
            reps.pk, actor=CLERK, now=now, letter_updates={"special_delivery_name": "Someone"}
        )
    with pytest.raises(DeskError, match="yes or no"):
        cure_deficiency(
            reps.pk, actor=CLERK, now=now, letter_updates={"rep_ordinary_course": "yes"}
        )
    cure_deficiency(reps.pk, actor=CLERK, now=now, letter_updates={"rep_ordinary_course": True})
    tender.refresh_from_db()
    assert tender.special_delivery_name == ""
    cured = StateChange.objects.get(action="exchange.deficiency.cured")
    assert "rep_ordinary_course: False → True" in cured.reason


@pytest.mark.django_db
def test_book_entry_draws_on_the_dtc_position_and_paper_on_certificates(seed: SeedOffer) -> None:
    from tests.factories import give_certificate, give_position

    # Chen holds a $250,000 certificate of the 2008 notes and, now, a $50,000 DTC position:
    # a paper letter may tender only the certificate's $250,000.
    give_position(seed.second_registered, seed.senior_2008, "50000")
    with pytest.raises(DeskError, match="at most"):
        paper_tender(
            seed,
            ny(2000, 6, 26, 10),
            holder=seed.second_registered,
            certificates=(("R08-0003", "250000"), ("R08-0003", "50000")),
        )
    # And Bayside (a $120,000,000 position) cannot tender its new certificate by book entry.
    give_certificate(seed.participant, seed.senior_2008, "R08-7777", "1000000")
    with pytest.raises(DeskError, match="at most"):
        book_entry_tender(seed, ny(2000, 6, 26, 10), amount="121000000")
