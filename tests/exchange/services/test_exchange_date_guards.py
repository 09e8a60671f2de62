"""What the exchange date must not do: accept a tender whose timely withdrawal is still
undecided, go on accepting once a stop order is recorded, or complete with new notes
undelivered or returns unsent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings

from exchange.jobs.runner import run_due_jobs
from exchange.models import (
    JobName,
    JobOutcome,
    NewNoteDelivery,
    OfferState,
    Tender,
    TenderState,
    WithdrawalState,
)
from exchange.services import exchange_date
from exchange.services.base import DeskError
from exchange.services.offers import accept_offer, complete_offer, expire_offer, set_stop_order
from exchange.services.review import validate_tender
from exchange.services.tenders import accept_tender
from exchange.services.withdrawals import NoticeOfWithdrawal, process_withdrawal, receive_withdrawal
from tests.factories import CLERK, JOB, SUPERVISOR, SeedOffer, book_entry_tender, ny, paper_tender

DURING = ny(2000, 6, 26, 10)
EXPIRATION = ny(2000, 7, 12, 17)
EXCHANGE_DAY = ny(2000, 7, 13, 9)


@pytest.fixture
def auto(seed: SeedOffer) -> SeedOffer:
    seed.offer.acceptance_automatic = True
    seed.offer.save(update_fields=["acceptance_automatic"])
    return seed


@pytest.mark.django_db
def test_a_timely_withdrawal_awaiting_a_clerk_holds_the_tender_back(auto: SeedOffer) -> None:
    tender = paper_tender(auto, DURING)
    validate_tender(tender.pk, actor=CLERK, now=DURING)
    # A paper notice arrives at 4:00 p.m. on the expiration date; the clerk has not decided it.
    notice = receive_withdrawal(
        tender.pk,
        notice=NoticeOfWithdrawal(
            "Ardsley Pension Trust",
            "R08-0001",
            Decimal("5000000"),
            True,
            "Ardsley Pension Trust",
            True,
        ),
        actor=CLERK,
        now=ny(2000, 7, 12, 16),
        process=False,
    )
    runs = run_due_jobs(EXCHANGE_DAY)
    assert (JobName.EXCHANGE_DATE, JobOutcome.WAITING) in [(r.job, r.outcome) for r in runs]
    tender.refresh_from_db()
    assert tender.state == TenderState.VALID  # not accepted
    assert not NewNoteDelivery.objects.exists()
    with pytest.raises(DeskError, match="notice of withdrawal"):
        accept_tender(tender.pk, actor=JOB, now=EXCHANGE_DAY)
    # The clerk decides it (received in time: effective), and the next run completes.
    assert (
        process_withdrawal(notice.pk, actor=CLERK, now=ny(2000, 7, 13, 10)).state
        == WithdrawalState.EFFECTIVE
    )
    run_due_jobs(ny(2000, 7, 13, 10, 5))
    tender.refresh_from_db()
    assert tender.state == TenderState.RETURNED
    auto.offer.refresh_from_db()
    assert auto.offer.state == OfferState.COMPLETED


@pytest.mark.django_db
@override_settings(EXCHANGE_DATE_CHUNK_SIZE=1)
def test_a_stop_order_recorded_mid_run_stops_acceptance(
    auto: SeedOffer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for amount in ("10000000", "20000000"):
        validate_tender(book_entry_tender(auto, DURING, amount=amount).pk, actor=CLERK, now=DURING)
    expire_offer(auto.offer.pk, actor=JOB, now=EXPIRATION)
    # The issuer reports a stop order right after the first chunk commits.
    real_pause = exchange_date.pause_between_chunks
    calls = {"n": 0}

    def stop_order_after_first_chunk() -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            set_stop_order(
                auto.offer.pk, in_effect=True, actor=SUPERVISOR, now=EXCHANGE_DAY, reason="SEC"
            )
        real_pause()

    monkeypatch.setattr(exchange_date, "pause_between_chunks", stop_order_after_first_chunk)
    runs = run_due_jobs(EXCHANGE_DAY)
    assert [(r.job, r.outcome) for r in runs if r.job == JobName.EXCHANGE_DATE] == [
        (JobName.EXCHANGE_DATE, JobOutcome.BLOCKED)
    ]
    # The chunk before the stop order was accepted and its notes delivered in its own
    # transaction; nothing after it was accepted, and no new notes were issued for it.
    assert NewNoteDelivery.objects.count() == 1
    assert NewNoteDelivery.objects.filter(delivered_at__isnull=False).count() == 1
    states = sorted(Tender.objects.filter(offer=auto.offer).values_list("state", flat=True))
    assert states == [TenderState.EXCHANGED, TenderState.VALID]
    auto.offer.refresh_from_db()
    assert auto.offer.state == OfferState.ACCEPTED


@pytest.mark.django_db
def test_completion_refused_while_new_notes_are_undelivered(seed: SeedOffer) -> None:
    tender = paper_tender(seed, DURING)
    validate_tender(tender.pk, actor=CLERK, now=DURING)
    expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION)
    accept_offer(seed.offer.pk, actor=SUPERVISOR, now=EXCHANGE_DAY)
    accept_tender(tender.pk, actor=JOB, now=EXCHANGE_DAY)  # recorded, not yet delivered
    with pytest.raises(DeskError, match="1 new-note deliveries not yet made"):
        complete_offer(seed.offer.pk, actor=CLERK, now=EXCHANGE_DAY)
