"""Races with real threads on PostgreSQL: each thread has its own connection and
transaction, so only the services' row locks keep the desk's rules."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections
from django.db.models import Sum

from exchange.models import (
    TENDER_OPEN_STATES,
    NoteReturn,
    OfferState,
    StateChange,
    Tender,
    TenderState,
    WithdrawalNotice,
    WithdrawalState,
)
from exchange.services import tenders as tender_services
from exchange.services import withdrawals as withdrawal_services
from exchange.services.base import DeskError
from exchange.services.offers import expire_offer, terminate_offer
from exchange.services.withdrawals import NoticeOfWithdrawal, receive_withdrawal
from tests.factories import JOB, SUPERVISOR, SeedOffer, book_entry_tender, ny

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

EXPIRATION = ny(2000, 7, 12, 17, 0)
DURING = ny(2000, 6, 26, 10, 0)
TIMEOUT = 20.0


@pytest.fixture(scope="module", autouse=True)
def _database_restored_after_the_module(
    django_db_setup: None, django_db_blocker: Any
) -> Iterator[None]:
    """A transactional test ends by flushing every table, the data of migrations included
    (the Clerks and Supervisors groups, the beat schedule). serialized_rollback restores
    that data before each test here; restore it once more after the last, so later tests
    and --reuse-db runs find the database as migrations left it."""
    yield
    with django_db_blocker.unblock():
        contents = getattr(connection, "_test_serialized_contents", None)
        if contents:
            connection.creation.deserialize_db_from_string(contents)
        connections.close_all()


Outcome = tuple[str, Any]


def _run_concurrently(*calls: Callable[[], Any], start_together: bool = True) -> list[Outcome]:
    """Run each call in its own thread (own connection); ("ok", result), ("refused",
    DeskError) or ("error", exception) per call, in order."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Outcome | None] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            if start_together:
                barrier.wait(TIMEOUT)
            outcomes[index] = ("ok", call())
        except DeskError as exc:
            outcomes[index] = ("refused", exc)
        except BaseException as exc:
            outcomes[index] = ("error", exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(i, call), daemon=True) for i, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    errors = [o for o in outcomes if o is not None and o[0] == "error"]
    assert not errors, errors
    return [o for o in outcomes if o is not None]


def _meet_inside(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
    """Make two threads meet (waiting at most a second) on entering `module.name`, a step
    a service takes after taking its lock and before its check. Without the lock both
    reach it and pass the check together; with it the second thread is still waiting for
    the lock, so the first waits out its second alone, commits, and the second then sees
    what it wrote. Either way the outcome is the same on every run."""
    meeting = threading.Barrier(2)
    original = getattr(module, name)

    def meet_then_call(*args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait(1.0)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, meet_then_call)


def test_two_racing_tenders_cannot_together_exceed_the_position(
    seed: SeedOffer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _meet_inside(monkeypatch, tender_services, "available_to_tender")
    # Bayside's DTC position in the 2008 notes is $120,000,000; each letter asks for 70.
    outcomes = _run_concurrently(
        lambda: book_entry_tender(seed, DURING, amount="70000000"),
        lambda: book_entry_tender(seed, DURING, amount="70000000"),
    )
    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"]
    tenders = Tender.objects.filter(holder=seed.participant, series=seed.senior_2008)
    assert tenders.count() == 1
    assert tenders.aggregate(total=Sum("amount"))["total"] == Decimal("70000000")
    assert (
        StateChange.objects.filter(action="exchange.tender.received").count() == 1
    )  # the refused one left no trace


def test_two_expiration_jobs_at_the_instant_record_one_expiry(seed: SeedOffer) -> None:
    outcomes = _run_concurrently(
        lambda: expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION),
        lambda: expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION),
    )
    assert [kind for kind, _ in outcomes] == ["ok", "ok"]  # the second returns quietly
    seed.offer.refresh_from_db()
    assert seed.offer.state == OfferState.EXPIRED
    assert seed.offer.expired_at == EXPIRATION
    assert StateChange.objects.filter(action="exchange.offer.expired").count() == 1


def test_two_full_withdrawals_of_one_tender_withdraw_it_once(
    seed: SeedOffer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _meet_inside(monkeypatch, withdrawal_services, "missing_elements")
    tender = book_entry_tender(seed, DURING, amount="5000000")
    notice = NoticeOfWithdrawal(
        tendering_person_name="Bayside Securities LLC",
        certificate_numbers="",
        amount=Decimal("5000000"),
        states_withdrawal=True,
        registered_holder_name="Cede & Co.",
        signed_as_letter=True,
    )

    def withdraw() -> WithdrawalNotice:
        return receive_withdrawal(
            tender.pk, notice=notice, actor=SUPERVISOR, now=DURING + dt.timedelta(hours=1)
        )

    outcomes = _run_concurrently(withdraw, withdraw)
    effective = [
        result
        for kind, result in outcomes
        if kind == "ok" and result.state == WithdrawalState.EFFECTIVE
    ]
    others = [
        (kind, result)
        for kind, result in outcomes
        if kind == "refused" or result.state == WithdrawalState.REJECTED
    ]
    assert len(effective) == 1
    assert len(others) == 1
    tender.refresh_from_db()
    assert tender.state == TenderState.WITHDRAWN
    assert tender.withdrawn_amount == tender.amount == Decimal("5000000")
    assert NoteReturn.objects.filter(tender=tender).count() == 1
    assert WithdrawalNotice.objects.filter(state=WithdrawalState.EFFECTIVE).count() == 1


def test_a_tender_racing_termination_is_not_left_open(
    seed: SeedOffer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deterministic interleaving: the tender has passed its check that the offer is open
    when termination runs. A correct desk serialises the two (the tender is refused, or
    committed first and then rejected by the termination); it never leaves it open."""
    offer_checked = threading.Event()
    terminated = threading.Event()
    original = tender_services.available_to_tender

    def available_after_termination(*args: Any, **kwargs: Any) -> Decimal:
        offer_checked.set()
        terminated.wait(1.5)  # a desk that locks the offer makes this wait time out
        return original(*args, **kwargs)

    monkeypatch.setattr(tender_services, "available_to_tender", available_after_termination)

    def terminate() -> Any:
        offer_checked.wait(TIMEOUT)
        try:
            return terminate_offer(
                seed.offer.pk, actor=SUPERVISOR, now=DURING, reason="Material adverse change."
            )
        finally:
            terminated.set()

    _run_concurrently(
        lambda: book_entry_tender(seed, DURING, amount="10000000"),
        terminate,
        start_together=False,
    )
    seed.offer.refresh_from_db()
    assert seed.offer.state == OfferState.TERMINATED
    assert not Tender.objects.filter(offer=seed.offer, state__in=TENDER_OPEN_STATES).exists()
