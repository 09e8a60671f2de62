"""Races at the edges, with real threads on PostgreSQL: a withdrawal against the expiration
instant, two clerks on one tender, the exchange date against a withdrawal being decided.
Whichever wins, exactly one story is recorded and the books balance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from exchange.models import (
    NewNoteDelivery,
    OfferState,
    StateChange,
    Tender,
    TenderState,
    WithdrawalNotice,
    WithdrawalState,
)
from exchange.selectors.reconciliation import reconcile
from exchange.services.exchange_date import run_exchange_date
from exchange.services.offers import expire_offer
from exchange.services.review import start_review, validate_tender
from exchange.services.withdrawals import NoticeOfWithdrawal, process_withdrawal, receive_withdrawal
from tests.exchange.services.test_concurrency import (
    _database_restored_after_the_module,
    _run_concurrently,
)
from tests.factories import CLERK, JOB, SeedOffer, ny, paper_tender

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
__all__ = ["_database_restored_after_the_module"]  # the module fixture, used here too

EXPIRATION = ny(2000, 7, 12, 17, 0)
DURING = ny(2000, 6, 26, 10)
NOTICE = NoticeOfWithdrawal(
    "Ardsley Pension Trust", "R08-0001", Decimal("5000000"), True, "Ardsley Pension Trust", True
)


@pytest.mark.parametrize("repeat", range(3))
def test_a_withdrawal_racing_the_expiration_instant(seed: SeedOffer, repeat: int) -> None:
    tender = paper_tender(seed, DURING)
    outcomes = _run_concurrently(
        lambda: receive_withdrawal(
            tender.pk, notice=NOTICE, actor=CLERK, now=EXPIRATION - dt.timedelta(milliseconds=1)
        ),
        lambda: expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION),
    )
    withdrawal, expiry = outcomes
    assert expiry[0] == "ok"
    seed.offer.refresh_from_db()
    assert seed.offer.state == OfferState.EXPIRED
    tender.refresh_from_db()
    expired_at = StateChange.objects.get(action="exchange.offer.expired")
    if withdrawal[0] == "ok":
        # The withdrawal committed first: effective, received before the instant, and the
        # history shows it before the offer closed.
        assert withdrawal[1].state == WithdrawalState.EFFECTIVE
        assert tender.state == TenderState.WITHDRAWN
        effective = StateChange.objects.get(action="exchange.withdrawal.effective")
        assert effective.pk < expired_at.pk
    else:
        # The expiration committed first: the notice was refused and nothing recorded.
        assert withdrawal[0] == "refused"
        assert tender.state == TenderState.RECEIVED
        assert not WithdrawalNotice.objects.exists()
    assert all(row.balanced for row in reconcile(seed.offer))


def test_two_clerks_deciding_the_same_tender_record_one_decision(seed: SeedOffer) -> None:
    tender = paper_tender(seed, DURING)
    outcomes = _run_concurrently(
        lambda: start_review(tender.pk, actor=CLERK, now=DURING),
        lambda: start_review(tender.pk, actor=CLERK, now=DURING),
    )
    assert [kind for kind, _ in outcomes] == ["ok", "ok"]  # the second finds it done
    outcomes = _run_concurrently(
        lambda: validate_tender(tender.pk, actor=CLERK, now=DURING),
        lambda: validate_tender(tender.pk, actor=CLERK, now=DURING),
    )
    assert [kind for kind, _ in outcomes] == ["ok", "ok"]
    assert (
        StateChange.objects.filter(
            object_id=tender.pk, action="exchange.tender.review_started"
        ).count()
        == 1
    )
    assert (
        StateChange.objects.filter(object_id=tender.pk, action="exchange.tender.valid").count() == 1
    )


@pytest.mark.parametrize("repeat", range(3))
def test_the_exchange_date_racing_a_withdrawal_being_decided(seed: SeedOffer, repeat: int) -> None:
    seed.offer.acceptance_automatic = True
    seed.offer.save(update_fields=["acceptance_automatic"])
    tender = paper_tender(seed, DURING)
    validate_tender(tender.pk, actor=CLERK, now=DURING)
    notice = receive_withdrawal(
        tender.pk,
        notice=NOTICE,
        actor=CLERK,
        now=EXPIRATION - dt.timedelta(minutes=30),
        process=False,
    )
    expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION)
    exchange_day = ny(2000, 7, 13, 9)
    outcomes = _run_concurrently(
        lambda: process_withdrawal(notice.pk, actor=CLERK, now=exchange_day),
        lambda: run_exchange_date(seed.offer.pk, actor=JOB, now=exchange_day),
    )
    assert [kind for kind, _ in outcomes] == ["ok", "ok"]
    notice.refresh_from_db()
    tender.refresh_from_db()
    # Received before expiration, the withdrawal stands whichever ran first: the tender is
    # never accepted, and its notes go back once.
    assert notice.state == WithdrawalState.EFFECTIVE
    assert tender.state in (TenderState.WITHDRAWN, TenderState.RETURNED)
    assert not NewNoteDelivery.objects.filter(tender=tender).exists()
    assert tender.returns.count() == 1
    assert all(row.balanced for row in reconcile(seed.offer))
    assert Tender.objects.filter(state=TenderState.ACCEPTED).count() == 0
