"""The jobs through a real Celery worker on the real Redis (not eager mode), on PostgreSQL:
expiration and the exchange date end to end, a worker killed mid-acceptance, and two
processes running the same acceptance at once."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
from django.utils import timezone

from exchange.demo.synthetic import SYNTHETIC_ACTOR, synthetic_offer, synthetic_valid_tenders
from exchange.jobs.tasks import tick
from exchange.models import (
    JobName,
    JobOutcome,
    JobRun,
    NewNoteDelivery,
    OfferState,
    StateChange,
    Tender,
    TenderState,
)
from exchange.selectors.reconciliation import reconcile
from exchange.services.offers import expire_offer
from exchange.terms import calendars
from tests.exchange.jobs.conftest import ROOT, process_env, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _offer_state(pk: int) -> str:
    from exchange.models import ExchangeOffer

    return ExchangeOffer.objects.values_list("state", flat=True).get(pk=pk)


def _expired_offer_with_tenders(slug: str, n: int):  # type: ignore[no-untyped-def]
    """An offer whose expiration has passed (expired by the job's service), with n valid tenders."""
    now = timezone.now()
    expiration = now - dt.timedelta(minutes=5)
    offer, series = synthetic_offer(
        slug, expiration=expiration, commenced=expiration - dt.timedelta(days=35)
    )
    synthetic_valid_tenders(offer, series, n, received_at=expiration - dt.timedelta(hours=1))
    expire_offer(offer.pk, actor=SYNTHETIC_ACTOR, now=expiration)
    exchange_moment = calendars.ny_instant(offer.exchange_date, dt.time(9, 0))
    return offer, exchange_moment


def test_expiration_end_to_end_through_the_worker(start_worker) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    offer, _ = synthetic_offer(
        "worker-expiry",
        expiration=now + dt.timedelta(seconds=3),
        commenced=now - dt.timedelta(days=35),
    )
    start_worker()
    tick.delay()  # before the instant: nothing is due
    wait_for(
        lambda: timezone.now() >= offer.expiration_at, timeout=10, what="the expiration instant"
    )
    assert _offer_state(offer.pk) == OfferState.OPEN
    assert not JobRun.objects.filter(job=JobName.EXPIRE_OFFER, subject_id=offer.pk).exists()
    tick.delay()  # as beat would, within the minute after the instant
    wait_for(lambda: _offer_state(offer.pk) == OfferState.EXPIRED, timeout=30, what="expiration")
    run = JobRun.objects.get(job=JobName.EXPIRE_OFFER, subject_id=offer.pk)
    assert run.outcome == JobOutcome.DONE
    change = StateChange.objects.get(object_id=offer.pk, action="exchange.offer.expired")
    assert change.actor_label == "job:expire_offer"
    assert change.at >= offer.expiration_at


def test_exchange_date_end_to_end_through_the_worker(start_worker) -> None:  # type: ignore[no-untyped-def]
    offer, exchange_moment = _expired_offer_with_tenders("worker-accept", 60)
    start_worker()
    tick.delay(exchange_moment.isoformat())
    wait_for(lambda: _offer_state(offer.pk) == OfferState.COMPLETED, timeout=60, what="completion")
    assert Tender.objects.filter(offer=offer, state=TenderState.EXCHANGED).count() == 60
    assert (
        NewNoteDelivery.objects.filter(tender__offer=offer, delivered_at__isnull=False).count()
        == 60
    )
    assert all(row.balanced for row in reconcile(offer))


def test_worker_killed_mid_acceptance_then_the_next_tick_finishes_exactly_once(
    start_worker,
) -> None:  # type: ignore[no-untyped-def]
    n = 400
    offer, exchange_moment = _expired_offer_with_tenders("worker-crash", n)
    slow = {"EXCHANGE_DATE_CHUNK_SIZE": "20", "EXCHANGE_DATE_CHUNK_PAUSE_SECONDS": "0.25"}
    worker = start_worker(**slow)
    tick.delay(exchange_moment.isoformat())

    def accepted() -> int:
        return NewNoteDelivery.objects.filter(tender__offer=offer).count()

    wait_for(lambda: accepted() >= 60, timeout=60, what="acceptance to be under way")
    worker.kill()
    partial = accepted()
    assert 60 <= partial < n, partial
    # Every chunk committed whole or not at all: the books balance even mid-way.
    assert all(row.balanced for row in reconcile(offer))
    # Acceptance and delivery are one chunk's transaction: a tender with a delivery is
    # exchanged, the rest are still valid, none is left accepted and undelivered.
    assert Tender.objects.filter(offer=offer, state=TenderState.EXCHANGED).count() == partial
    assert NewNoteDelivery.objects.filter(tender__offer=offer, delivered_at=None).count() == 0
    assert Tender.objects.filter(offer=offer, state=TenderState.VALID).count() == n - partial

    start_worker()
    tick.delay(exchange_moment.isoformat())  # the next beat tick finds the rest due
    wait_for(lambda: _offer_state(offer.pk) == OfferState.COMPLETED, timeout=90, what="completion")
    assert accepted() == n
    assert (
        NewNoteDelivery.objects.filter(tender__offer=offer).values("tender").distinct().count() == n
    )
    assert StateChange.objects.filter(offer=offer, action="exchange.tender.accepted").count() == n
    assert StateChange.objects.filter(offer=offer, action="exchange.tender.exchanged").count() == n
    assert all(row.balanced for row in reconcile(offer))


def test_two_processes_running_the_same_acceptance_deliver_each_note_once() -> None:
    n = 300
    offer, exchange_moment = _expired_offer_with_tenders("two-processes", n)
    as_of = calendars.ny_localtime(exchange_moment).strftime("%Y-%m-%d %H:%M")
    env = process_env(EXCHANGE_DATE_CHUNK_SIZE="25", EXCHANGE_DATE_CHUNK_PAUSE_SECONDS="0.05")
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "run_jobs", "--as-of", as_of],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert _offer_state(offer.pk) == OfferState.COMPLETED
    assert NewNoteDelivery.objects.filter(tender__offer=offer).count() == n
    assert StateChange.objects.filter(offer=offer, action="exchange.tender.accepted").count() == n
    assert StateChange.objects.filter(offer=offer, action="exchange.tender.exchanged").count() == n
    # Both processes really did work on the acceptance (not one after the other finished).
    assert sum("Exchange date" in out for out in outputs) == 2
    result = subprocess.run(
        [sys.executable, "manage.py", "reconcile", offer.slug],
        cwd=ROOT,
        env=process_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "MISMATCH" not in result.stdout


def test_a_condition_holds_the_exchange_date_through_the_worker_until_waived(
    start_worker,
) -> None:  # type: ignore[no-untyped-def]
    from exchange.models import ConditionKind
    from exchange.services.conditions import assert_condition, waive_condition

    offer, exchange_moment = _expired_offer_with_tenders("worker-condition", 5)
    assert_condition(
        offer.pk,
        kind=ConditionKind.PROCEEDING,
        description="An injunction is sought.",
        actor=SYNTHETIC_ACTOR,
        now=exchange_moment - dt.timedelta(hours=1),
    )
    start_worker()
    tick.delay(exchange_moment.isoformat())
    wait_for(
        lambda: JobRun.objects.filter(
            job=JobName.EXCHANGE_DATE, subject_id=offer.pk, outcome=JobOutcome.WAITING
        ).exists(),
        timeout=30,
        what="the exchange date held back",
    )
    run = JobRun.objects.get(job=JobName.EXCHANGE_DATE, subject_id=offer.pk)
    assert "nothing accepted" in run.detail and "Synthetic Senior Notes" in run.detail
    assert Tender.objects.filter(offer=offer, state=TenderState.VALID).count() == 5
    assert _offer_state(offer.pk) == OfferState.EXPIRED

    waive_condition(
        offer.pk,
        kind=ConditionKind.PROCEEDING,
        notice_on=calendars.ny_date(exchange_moment),
        actor=SYNTHETIC_ACTOR,
        now=exchange_moment + dt.timedelta(minutes=1),
    )
    tick.delay((exchange_moment + dt.timedelta(minutes=2)).isoformat())
    wait_for(lambda: _offer_state(offer.pk) == OfferState.COMPLETED, timeout=60, what="completion")
    assert Tender.objects.filter(offer=offer, state=TenderState.EXCHANGED).count() == 5
