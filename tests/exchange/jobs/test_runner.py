"""The scheduled jobs as run_jobs --as-of runs them: edges of the clock, idempotency,
the exchange date end to end, a stop order, reconciliation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from exchange.jobs.due import due_work
from exchange.jobs.runner import run_due_jobs
from exchange.models import (
    JobName,
    JobOutcome,
    NewNoteDelivery,
    NoteReturn,
    OfferState,
    StateChange,
    Tender,
    TenderState,
)
from exchange.selectors.reconciliation import reconcile
from exchange.services.guaranteed_deliveries import (
    NoticeOfGuaranteedDelivery,
    receive_guaranteed_delivery,
)
from exchange.services.offers import extend_offer, set_stop_order
from exchange.services.review import record_deficiencies, validate_tender
from exchange.services.withdrawals import NoticeOfWithdrawal, receive_withdrawal
from tests.factories import (
    CLERK,
    SUPERVISOR,
    SeedOffer,
    book_entry_tender,
    deliver_outbox,
    ny,
    paper_tender,
)

EXPIRATION = ny(2000, 7, 12, 17, 0)
SECOND = dt.timedelta(seconds=1)


def _jobs(runs: list) -> list[tuple[str, str]]:
    return [(r.job, r.outcome) for r in runs]


@pytest.fixture
def auto(seed: SeedOffer) -> SeedOffer:
    """The seed offer with acceptance automatic, as `seed_offer` loads it for the demo."""
    seed.offer.acceptance_automatic = True
    seed.offer.save(update_fields=["acceptance_automatic"])
    return seed


@pytest.mark.django_db
def test_expiration_runs_at_the_instant_never_before(seed: SeedOffer) -> None:
    assert run_due_jobs(EXPIRATION - SECOND) == []
    seed.offer.refresh_from_db()
    assert seed.offer.state == OfferState.OPEN
    runs = run_due_jobs(EXPIRATION)
    assert _jobs(runs) == [(JobName.EXPIRE_OFFER, JobOutcome.DONE)]
    seed.offer.refresh_from_db()
    assert seed.offer.state == OfferState.EXPIRED
    # Run again: nothing due, nothing written.
    before = StateChange.objects.count()
    assert run_due_jobs(EXPIRATION + SECOND) == []
    assert StateChange.objects.count() == before


@pytest.mark.django_db
def test_extension_recorded_before_the_instant_moves_the_expiration_job(seed: SeedOffer) -> None:
    extend_offer(
        seed.offer.pk, new_expiration=ny(2000, 7, 19, 17), actor=SUPERVISOR, now=EXPIRATION - SECOND
    )
    assert run_due_jobs(EXPIRATION) == []
    # Nothing expires before the new instant; the extension's own announcement deadline
    # (9:00 a.m. Thursday 07-13) is the only job that has come due meanwhile.
    assert _jobs(run_due_jobs(ny(2000, 7, 19, 16, 59, 59))) == [
        (JobName.ANNOUNCEMENT_DEADLINE, JobOutcome.BLOCKED)
    ]
    assert _jobs(run_due_jobs(ny(2000, 7, 19, 17))) == [(JobName.EXPIRE_OFFER, JobOutcome.DONE)]


@pytest.mark.django_db
def test_catches_up_after_downtime(auto: SeedOffer) -> None:
    """Down from before expiration until after the exchange date: one run does it all, in order."""
    tender = paper_tender(auto, ny(2000, 6, 26, 10))
    validate_tender(tender.pk, actor=CLERK, now=ny(2000, 6, 26, 11))
    runs = run_due_jobs(ny(2000, 7, 20, 9))
    # Expiration before the exchange date (the daily reconciliation runs alongside).
    assert [r.job for r in runs if r.job != JobName.RECONCILE] == [
        JobName.EXPIRE_OFFER,
        JobName.EXCHANGE_DATE,
    ]
    auto.offer.refresh_from_db()
    assert auto.offer.state == OfferState.COMPLETED


@pytest.mark.django_db
def test_exchange_date_accepts_valid_returns_the_rest_and_completes(auto: SeedOffer) -> None:
    during = ny(2000, 6, 26, 10)
    valid = paper_tender(auto, during)
    validate_tender(valid.pk, actor=CLERK, now=during)
    book_entry = book_entry_tender(auto, during, amount="10000000")
    validate_tender(book_entry.pk, actor=CLERK, now=during)
    deficient = paper_tender(
        auto, during, certificates=(("R08-0002", "1000000"),), rep_ordinary_course=False
    )
    record_deficiencies(
        deficient.pk,
        defects=[("representations", "Tick the ordinary-course box.")],
        actor=CLERK,
        now=during,
    )
    withdrawn = paper_tender(
        auto, during, holder=auto.second_registered, certificates=(("R08-0003", "250000"),)
    )
    receive_withdrawal(
        withdrawn.pk,
        notice=NoticeOfWithdrawal(
            "Margaret Chen", "R08-0003", Decimal("250000"), True, "Margaret Chen", True
        ),
        actor=CLERK,
        now=during,
    )

    # Expiration, then nothing happens until the exchange date (Thursday July 13).
    run_due_jobs(EXPIRATION)
    assert all(r.job != JobName.EXCHANGE_DATE for r in run_due_jobs(ny(2000, 7, 12, 23, 59, 59)))
    runs = run_due_jobs(ny(2000, 7, 13, 0, 0))
    assert (JobName.EXCHANGE_DATE, JobOutcome.DONE) in _jobs(runs)

    states = dict(Tender.objects.values_list("id", "state"))
    assert states[valid.pk] == TenderState.EXCHANGED
    assert states[book_entry.pk] == TenderState.EXCHANGED
    assert states[deficient.pk] == TenderState.RETURNED
    assert states[withdrawn.pk] == TenderState.RETURNED
    deliveries = {d.tender_id: d for d in NewNoteDelivery.objects.all()}
    assert deliveries[valid.pk].amount == Decimal("5000000")
    assert deliveries[book_entry.pk].by_book_entry is True
    assert set(deliveries) == {valid.pk, book_entry.pk}
    assert NoteReturn.objects.get(tender=deficient).reason == "not_accepted"
    auto.offer.refresh_from_db()
    assert auto.offer.state == OfferState.COMPLETED
    assert all(row.balanced for row in reconcile(auto.offer))
    by_series = {row.series.slug: row for row in reconcile(auto.offer)}
    # 5,000,000 + 10,000,000 delivered; 1,000,000 + 250,000 returned, all of the 2008 notes.
    assert by_series["2008-senior"].tendered == Decimal("16250000")
    assert by_series["2008-senior"].delivered == Decimal("15000000")
    assert by_series["2008-senior"].returned == Decimal("1250000")
    # A second run changes nothing.
    history = StateChange.objects.count()
    run_due_jobs(ny(2000, 7, 13, 0, 1))
    assert StateChange.objects.count() == history


@pytest.mark.django_db
def test_exchange_date_waits_for_the_notice_of_acceptance_when_not_automatic(
    seed: SeedOffer,
) -> None:
    seed.offer.acceptance_automatic = False
    seed.offer.save(update_fields=["acceptance_automatic"])
    run_due_jobs(EXPIRATION)
    runs = run_due_jobs(ny(2000, 7, 13, 9))
    assert _jobs(runs) == [(JobName.EXCHANGE_DATE, JobOutcome.WAITING)]
    assert "notice of acceptance" in runs[0].detail


@pytest.mark.django_db
def test_stop_order_blocks_the_exchange_date_loudly(
    seed: SeedOffer, caplog: pytest.LogCaptureFixture
) -> None:
    seed.offer.acceptance_automatic = True
    seed.offer.save(update_fields=["acceptance_automatic"])
    tender = paper_tender(seed, ny(2000, 6, 26, 10))
    validate_tender(tender.pk, actor=CLERK, now=ny(2000, 6, 26, 10))
    set_stop_order(
        seed.offer.pk, in_effect=True, actor=SUPERVISOR, now=ny(2000, 7, 10), reason="SEC notice"
    )
    run_due_jobs(EXPIRATION)
    runs = run_due_jobs(ny(2000, 7, 13, 9))
    assert [(j, o) for j, o in _jobs(runs) if j != JobName.RECONCILE] == [
        (JobName.EXCHANGE_DATE, JobOutcome.BLOCKED)
    ]
    assert "stop order" in runs[0].detail
    assert any(r.levelname == "ERROR" and "stop order" in r.getMessage() for r in caplog.records)
    tender.refresh_from_db()
    assert tender.state == TenderState.VALID
    assert not NewNoteDelivery.objects.exists()
    with pytest.raises(CommandError, match="blocked"):
        call_command("run_jobs", "--as-of", "2000-07-13 09:05")
    set_stop_order(
        seed.offer.pk, in_effect=False, actor=SUPERVISOR, now=ny(2000, 7, 13, 10), reason="Lifted"
    )
    run_due_jobs(ny(2000, 7, 13, 10, 1))
    tender.refresh_from_db()
    assert tender.state == TenderState.EXCHANGED


@pytest.mark.django_db
def test_guaranteed_delivery_lapses_at_its_deadline_and_the_holder_is_told(seed: SeedOffer) -> None:
    seed.registered.email = "custody@ardsley.example"
    seed.registered.save()
    gd = receive_guaranteed_delivery(
        offer_id=seed.offer.pk,
        series_id=seed.senior_2008.pk,
        holder_id=seed.registered.pk,
        guarantor_id=seed.guarantor.pk,
        notice=NoticeOfGuaranteedDelivery(
            "Ardsley Pension Trust",
            "1 Ardsley Plaza",
            "Ardsley Pension Trust",
            "R08-0001",
            Decimal("5000000"),
            dt.date(2000, 7, 12),
        ),
        actor=CLERK,
        now=ny(2000, 7, 12, 16, 30),
    )
    # Executed Wednesday July 12: three NYSE trading days after are 13, 14, 17 July.
    deadline = ny(2000, 7, 18, 0, 0)
    assert gd.deadline_at == deadline
    assert not [
        w for w in due_work(deadline - SECOND) if w.job == JobName.LAPSE_GUARANTEED_DELIVERY
    ]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("django.db.transaction.on_commit", lambda fn, using=None, robust=False: fn())
        runs = run_due_jobs(deadline)
    assert (JobName.LAPSE_GUARANTEED_DELIVERY, JobOutcome.DONE) in _jobs(runs)
    gd.tender.refresh_from_db()
    assert gd.tender.state == TenderState.REJECTED
    assert not NoteReturn.objects.filter(tender=gd.tender).exists()  # no notes ever arrived
    # The outbox also holds the tender's receipt; the lapse goes to holder and guarantor.
    lapses = [m for m in deliver_outbox() if gd.reference in m.subject]
    assert "custody@ardsley.example" in [to for m in lapses for to in m.to]


@pytest.mark.django_db
def test_reconcile_command_exits_non_zero_on_a_mismatch(auto: SeedOffer) -> None:
    tender = paper_tender(auto, ny(2000, 6, 26, 10))
    validate_tender(tender.pk, actor=CLERK, now=ny(2000, 6, 26, 10))
    run_due_jobs(EXPIRATION)
    run_due_jobs(ny(2000, 7, 13, 9))
    call_command("reconcile", auto.offer.slug)  # balanced: no error
    # Corrupt the ledger the way a double delivery would.
    delivery = NewNoteDelivery.objects.get(tender=tender)
    NewNoteDelivery.objects.filter(pk=delivery.pk).update(amount=delivery.amount * 2)
    with pytest.raises(CommandError, match="2008-senior"):
        call_command("reconcile", auto.offer.slug)


@pytest.mark.django_db
def test_the_admin_jobs_page_shows_schedule_last_run_and_next_due(
    seed: SeedOffer, admin_client
) -> None:  # type: ignore[no-untyped-def]
    run_due_jobs(EXPIRATION)  # the expiration job ran once
    response = admin_client.get("/admin/exchange/jobrun/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "beat tick every" in page
    assert "Expiration" in page and "Done" in page
    # The exchange date is next: Thursday, July 13, 2000, 00:00 New York.
    assert "2000-07-13 00:00:00 EDT" in page
    assert "level3-2000" in page


@pytest.mark.django_db
def test_a_job_waiting_tick_after_tick_keeps_one_row(seed: SeedOffer) -> None:
    from exchange.models import JobRun

    run_due_jobs(EXPIRATION)  # acceptance is not automatic: the exchange date will wait
    first = run_due_jobs(ny(2000, 7, 13, 9, 0))
    second = run_due_jobs(ny(2000, 7, 13, 9, 1))
    assert first[0].outcome == second[0].outcome == JobOutcome.WAITING
    assert JobRun.objects.filter(job=JobName.EXCHANGE_DATE).count() == 1
    assert JobRun.objects.get(job=JobName.EXCHANGE_DATE).as_of == ny(2000, 7, 13, 9, 1)


@pytest.mark.django_db
def test_daily_reconciliation_runs_once_a_day_and_alerts_on_a_mismatch(auto: SeedOffer) -> None:
    tender = paper_tender(auto, ny(2000, 6, 26, 10))
    validate_tender(tender.pk, actor=CLERK, now=ny(2000, 6, 26, 10))
    first = [r for r in run_due_jobs(ny(2000, 6, 27, 1)) if r.job == JobName.RECONCILE]
    assert [(r.outcome, r.detail.split(" —")[0]) for r in first] == [(JobOutcome.DONE, "balanced")]
    assert not [r for r in run_due_jobs(ny(2000, 6, 27, 23)) if r.job == JobName.RECONCILE]
    run_due_jobs(ny(2000, 7, 13, 9))  # accepted and exchanged
    # A double delivery, as a bug or a hand edit would make it.
    delivery = NewNoteDelivery.objects.get(tender=tender)
    NewNoteDelivery.objects.filter(pk=delivery.pk).update(amount=delivery.amount * 2)
    mail.outbox.clear()
    with override_settings(ADMINS=[("Operations", "ops@agent.example")]):
        [alert] = [r for r in run_due_jobs(ny(2000, 7, 14, 1)) if r.job == JobName.RECONCILE]
    assert alert.outcome == JobOutcome.BLOCKED
    assert "MISMATCH" in alert.detail
    deliver_outbox()
    assert mail.outbox and "ops@agent.example" in mail.outbox[0].to
