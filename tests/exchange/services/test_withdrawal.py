"""Notices of withdrawal: strictly before the expiration instant, the six elements,
partial withdrawals, re-tender, paper notices decided later, and the return of notes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from exchange.models import (
    NoteReturn,
    ReturnReason,
    StateChange,
    Tender,
    TenderState,
    WithdrawalNotice,
    WithdrawalState,
)
from exchange.services.base import DeskError
from exchange.services.offers import expire_offer
from exchange.services.review import validate_tender
from exchange.services.tenders import complete_return
from exchange.services.withdrawals import (
    NoticeOfWithdrawal,
    process_withdrawal,
    receive_withdrawal,
)
from tests.factories import CLERK, JOB, SeedOffer, book_entry_tender, ny, paper_tender

EXPIRATION = ny(2000, 7, 12, 17, 0)
ONE_SECOND = dt.timedelta(seconds=1)


def _notice(amount: str = "5000000", certificates: str = "R08-0001") -> NoticeOfWithdrawal:
    return NoticeOfWithdrawal(
        tendering_person_name="Ardsley Pension Trust",
        certificate_numbers=certificates,
        amount=Decimal(amount),
        states_withdrawal=True,
        registered_holder_name="Ardsley Pension Trust",
        signed_as_letter=True,
    )


def _book_entry_notice(amount: str) -> NoticeOfWithdrawal:
    """As the DTC participant signs it: its own name; the notes registered to Cede & Co."""
    return dataclasses.replace(
        _notice(amount, ""),
        tendering_person_name="Bayside Securities LLC",
        registered_holder_name="Cede & Co.",
    )


def _counts() -> tuple[int, int, int]:
    return (
        WithdrawalNotice.objects.count(),
        StateChange.objects.count(),
        NoteReturn.objects.count(),
    )


def _withdraw(
    tender: Tender, notice: NoticeOfWithdrawal, now: dt.datetime, *, process: bool = True
) -> WithdrawalNotice:
    return receive_withdrawal(tender.pk, notice=notice, actor=CLERK, now=now, process=process)


# --- strictly before the expiration instant ------------------------------------------


@pytest.mark.django_db
def test_withdrawal_allowed_one_second_before_expiration(seed: SeedOffer) -> None:
    tender = paper_tender(seed, ny(2000, 6, 26, 10, 0))
    notice = _withdraw(tender, _notice(), EXPIRATION - ONE_SECOND)
    assert notice.state == WithdrawalState.EFFECTIVE
    assert notice.received_at == EXPIRATION - ONE_SECOND
    tender.refresh_from_db()
    assert tender.state == TenderState.WITHDRAWN


@pytest.mark.django_db
def test_withdrawal_refused_at_the_expiration_instant(seed: SeedOffer) -> None:
    tender = paper_tender(seed, ny(2000, 6, 26, 10, 0))
    before = _counts()
    with pytest.raises(DeskError):
        _withdraw(tender, _notice(), EXPIRATION)
    with pytest.raises(DeskError):
        _withdraw(tender, _notice(), EXPIRATION, process=False)
    assert _counts() == before
    tender.refresh_from_db()
    assert (tender.state, tender.withdrawn_amount) == (TenderState.RECEIVED, Decimal("0"))


@pytest.mark.django_db
def test_withdrawal_refused_after_the_offer_expired(seed: SeedOffer) -> None:
    tender = book_entry_tender(seed, ny(2000, 6, 26, 10, 0))
    expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION)
    before = _counts()
    with pytest.raises(DeskError):
        _withdraw(tender, _book_entry_notice("10000000"), EXPIRATION + dt.timedelta(hours=1))
    assert _counts() == before


# --- the six elements --------------------------------------------------------------


SIX_ELEMENTS = [
    pytest.param(1, {"tendering_person_name": "  "}, id="1-person-who-tendered"),
    pytest.param(2, {"certificate_numbers": ""}, id="2-certificate-numbers"),
    pytest.param(
        3,
        {"amount": Decimal("1500")},
        id="3-authorized-denomination",
    ),
    pytest.param(4, {"states_withdrawal": False}, id="4-statement-of-withdrawal"),
    pytest.param(5, {"registered_holder_name": ""}, id="5-registered-holder"),
    pytest.param(
        6, {"signed_as_letter": False, "succession_evidence": ""}, id="6-signature-or-succession"
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("element", "defect"), SIX_ELEMENTS)
def test_a_notice_missing_an_element_is_rejected_naming_it(
    seed: SeedOffer, during_offer: dt.datetime, element: int, defect: dict[str, object]
) -> None:
    tender = paper_tender(seed, during_offer)
    notice = _withdraw(tender, dataclasses.replace(_notice(), **defect), during_offer)
    notice.refresh_from_db()
    assert notice.state == WithdrawalState.REJECTED
    assert notice.decided_at == during_offer
    assert f"({element})" in notice.rejection_reason
    for other in {1, 2, 3, 4, 5, 6} - {element}:
        assert f"({other})" not in notice.rejection_reason
    tender.refresh_from_db()
    assert (tender.state, tender.withdrawn_amount) == (TenderState.RECEIVED, Decimal("0"))
    assert not NoteReturn.objects.exists()
    assert StateChange.objects.filter(
        object_id=notice.pk, action="exchange.withdrawal.rejected"
    ).exists()


@pytest.mark.django_db
def test_succession_to_beneficial_ownership_stands_for_the_signature(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    tender = paper_tender(seed, during_offer)
    notice = _withdraw(
        tender,
        dataclasses.replace(
            _notice(), signed_as_letter=False, succession_evidence="Letters testamentary."
        ),
        during_offer,
    )
    assert notice.state == WithdrawalState.EFFECTIVE


@pytest.mark.django_db
def test_a_book_entry_notice_needs_no_certificate_numbers(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    tender = book_entry_tender(seed, during_offer, amount="10000000")
    notice = _withdraw(tender, _book_entry_notice("10000000"), during_offer)
    assert notice.state == WithdrawalState.EFFECTIVE
    assert NoteReturn.objects.get(tender=tender).by_book_entry is True


@pytest.mark.django_db
def test_a_notice_naming_a_certificate_not_tendered_is_rejected(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    tender = paper_tender(seed, during_offer)
    notice = _withdraw(tender, _notice(certificates="R08-0002"), during_offer)
    assert notice.state == WithdrawalState.REJECTED
    assert "R08-0002" in notice.rejection_reason
    tender.refresh_from_db()
    assert tender.state == TenderState.RECEIVED


@pytest.mark.django_db
def test_more_than_is_tendered_cannot_be_withdrawn(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    # Recorded as received (the agent keeps what arrived) and rejected with the reason;
    # the tender is untouched.
    tender = paper_tender(seed, during_offer)
    notice = _withdraw(tender, _notice("6000000"), during_offer)
    assert notice.state == WithdrawalState.REJECTED
    assert "still tendered" in notice.rejection_reason
    tender.refresh_from_db()
    assert tender.withdrawn_amount == 0
    assert tender.state == TenderState.RECEIVED
    assert not NoteReturn.objects.filter(tender=tender).exists()


# --- partial withdrawal ------------------------------------------------------------


@pytest.mark.django_db
def test_partial_withdrawal_leaves_the_rest_tendered(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    tender = paper_tender(seed, during_offer)  # $5,000,000 certificate R08-0001
    validate_tender(tender.pk, actor=CLERK, now=during_offer)
    notice = _withdraw(tender, _notice("2000000"), during_offer + dt.timedelta(hours=1))
    assert notice.state == WithdrawalState.EFFECTIVE
    tender.refresh_from_db()
    assert tender.amount == Decimal("5000000")
    assert tender.withdrawn_amount == Decimal("2000000")
    assert tender.live_amount == Decimal("3000000")
    assert tender.state == TenderState.VALID
    note_return = NoteReturn.objects.get(tender=tender)
    assert note_return.withdrawal_id == notice.pk
    assert note_return.reason == ReturnReason.WITHDRAWN
    assert note_return.amount == Decimal("2000000")
    assert note_return.by_book_entry is False
    assert StateChange.objects.filter(
        object_id=tender.pk, action="exchange.tender.partly_withdrawn"
    ).exists()


@pytest.mark.django_db
def test_partial_withdrawal_of_a_book_entry_tender_then_the_rest(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    tender = book_entry_tender(seed, during_offer, amount="5000000")
    _withdraw(tender, _book_entry_notice("2000000"), during_offer)
    tender.refresh_from_db()
    assert (tender.state, tender.live_amount) == (TenderState.RECEIVED, Decimal("3000000"))
    rest = _withdraw(tender, _book_entry_notice("3000000"), during_offer + dt.timedelta(hours=1))
    assert rest.state == WithdrawalState.EFFECTIVE
    tender.refresh_from_db()
    assert (tender.state, tender.live_amount) == (TenderState.WITHDRAWN, Decimal("0"))
    assert sorted(NoteReturn.objects.filter(tender=tender).values_list("amount", flat=True)) == [
        Decimal("2000000"),
        Decimal("3000000"),
    ]


@pytest.mark.django_db
def test_withdrawing_the_rest_of_a_certificate_after_a_partial_withdrawal(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    tender = paper_tender(seed, during_offer)  # $5,000,000 certificate R08-0001
    _withdraw(tender, _notice("2000000"), during_offer)
    rest = _withdraw(tender, _notice("3000000"), during_offer + dt.timedelta(hours=1))
    assert rest.state == WithdrawalState.EFFECTIVE, rest.rejection_reason
    tender.refresh_from_db()
    assert (tender.state, tender.live_amount) == (TenderState.WITHDRAWN, Decimal("0"))


@pytest.mark.django_db
def test_a_partly_withdrawn_certificate_cannot_be_tendered_beyond_its_face(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    # R08-0001 is $5,000,000: 3,000,000 stays tendered after withdrawing 2,000,000, so only
    # 2,000,000 of it may be tendered again (the holder's R08-0002 keeps the total in range).
    tender = paper_tender(seed, during_offer)
    _withdraw(tender, _notice("2000000"), during_offer)
    with pytest.raises(DeskError):
        paper_tender(seed, during_offer, certificates=(("R08-0001", "3000000"),))


@pytest.mark.django_db
def test_withdrawn_notes_may_be_tendered_again_before_expiration(seed: SeedOffer) -> None:
    tender = paper_tender(seed, ny(2000, 6, 26, 10, 0))
    _withdraw(tender, _notice(), ny(2000, 7, 5, 10, 0))
    again = paper_tender(seed, EXPIRATION - ONE_SECOND)
    assert again.state == TenderState.RECEIVED
    assert again.amount == Decimal("5000000")
    tender.refresh_from_db()
    assert tender.state == TenderState.WITHDRAWN


# --- paper notices decided later ----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("expired_first", [False, True], ids=["still-open", "expired"])
def test_a_notice_received_before_expiration_is_effective_when_decided_after(
    seed: SeedOffer, expired_first: bool
) -> None:
    tender = paper_tender(seed, ny(2000, 6, 26, 10, 0))
    notice = _withdraw(tender, _notice(), EXPIRATION - ONE_SECOND, process=False)
    assert notice.state == WithdrawalState.RECEIVED
    tender.refresh_from_db()
    assert tender.state == TenderState.RECEIVED
    if expired_first:
        expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION)
    decided = EXPIRATION + dt.timedelta(hours=1)
    process_withdrawal(notice.pk, actor=CLERK, now=decided)
    notice.refresh_from_db()
    assert notice.state == WithdrawalState.EFFECTIVE
    assert notice.received_at == EXPIRATION - ONE_SECOND
    assert notice.decided_at == decided
    tender.refresh_from_db()
    assert tender.state == TenderState.WITHDRAWN
    assert NoteReturn.objects.get(tender=tender).withdrawal_id == notice.pk


@pytest.mark.django_db
def test_processing_a_notice_twice_changes_nothing(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    tender = paper_tender(seed, during_offer)
    notice = _withdraw(tender, _notice(), during_offer, process=False)
    process_withdrawal(notice.pk, actor=CLERK, now=during_offer)
    before = _counts()
    process_withdrawal(notice.pk, actor=CLERK, now=during_offer + dt.timedelta(hours=1))
    assert _counts() == before
    tender.refresh_from_db()
    assert tender.withdrawn_amount == Decimal("5000000")


# --- return of the notes -------------------------------------------------------------


@pytest.mark.django_db
def test_completing_the_return_makes_a_withdrawn_tender_returned(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    tender = paper_tender(seed, during_offer)
    _withdraw(tender, _notice(), during_offer)
    note_return = NoteReturn.objects.get(tender=tender)
    assert note_return.returned_at is None
    sent = ny(2000, 6, 27, 11, 0)
    complete_return(note_return.pk, actor=CLERK, now=sent)
    note_return.refresh_from_db()
    assert note_return.returned_at == sent
    tender.refresh_from_db()
    assert tender.state == TenderState.RETURNED
    assert StateChange.objects.filter(
        object_id=tender.pk, action="exchange.tender.returned"
    ).exists()


@pytest.mark.django_db
def test_returning_a_partial_withdrawal_leaves_the_tender_open(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    tender = book_entry_tender(seed, during_offer, amount="5000000")
    _withdraw(tender, _book_entry_notice("2000000"), during_offer)
    complete_return(NoteReturn.objects.get(tender=tender).pk, actor=CLERK, now=during_offer)
    tender.refresh_from_db()
    assert tender.state == TenderState.RECEIVED
    assert tender.live_amount == Decimal("3000000")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "element"),
    [
        ("tendering_person_name", "Somebody Else", "(1) the person who tendered"),
        ("registered_holder_name", "Margaret Chen", "(5) the registered holder"),
    ],
)
def test_a_notice_naming_someone_other_than_the_letter_is_rejected(
    seed: SeedOffer, during_offer: dt.datetime, field: str, value: str, element: str
) -> None:
    tender = paper_tender(seed, during_offer)
    notice = _withdraw(tender, dataclasses.replace(_notice(), **{field: value}), during_offer)
    assert notice.state == WithdrawalState.REJECTED
    assert element in notice.rejection_reason
    tender.refresh_from_db()
    assert tender.withdrawn_amount == 0


@pytest.mark.django_db
def test_a_shortened_or_differently_cased_name_is_the_same_person(
    seed: SeedOffer, during_offer: dt.datetime
) -> None:
    tender = paper_tender(seed, during_offer)
    notice = _withdraw(
        tender,
        dataclasses.replace(
            _notice(),
            tendering_person_name="ardsley pension trust.",
            registered_holder_name="ARDSLEY",
        ),
        during_offer,
    )
    assert notice.state == WithdrawalState.EFFECTIVE
