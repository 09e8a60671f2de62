"""The books after the exchange date: register before = after + exchanged, new notes =
exchanged, per series and per holder; `reconcile` fails loudly and the daily job alerts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from exchange.jobs.runner import run_due_jobs
from exchange.models import JobName, JobOutcome, TenderedCertificate
from exchange.selectors.reconciliation import reconcile_books
from holders.models import Holding
from tests.exchange.services.test_register import replay
from tests.factories import deliver_outbox, ny

M = Decimal("1000000")


@pytest.mark.django_db
def test_the_replayed_books_balance_per_series_and_per_holder() -> None:
    offer = replay()
    books = {b.series.slug: b for b in reconcile_books(offer, ny(2000, 7, 13, 12))}
    senior = books["2008-senior"]
    assert (senior.exchanged, senior.new_issued) == (25 * M, 25 * M)
    assert senior.original_before == senior.original_after + senior.exchanged
    assert senior.outstanding_after == Decimal("800000000") - 25 * M
    assert books["2010-senior"].exchanged == Decimal("40000")
    assert books["2010-senior-discount"].exchanged == 10 * M
    assert all(b.balanced for b in books.values())
    chen = next(h for h in books["2010-senior"].holders if h.holder_name == "Margaret Chen")
    assert (chen.original_before, chen.original_after, chen.exchanged, chen.new_issued) == (
        Decimal("100000"),
        Decimal("60000"),
        Decimal("40000"),
        Decimal("40000"),
    )
    # Before the exchange date nothing is exchanged and everything still balances.
    early = reconcile_books(offer, ny(2000, 7, 1))
    assert all(b.balanced for b in early)


@pytest.mark.django_db
def test_reconcile_prints_the_books_and_passes() -> None:
    replay()
    from io import StringIO

    out = StringIO()
    call_command("reconcile", "level3-2000", stdout=out)
    text = out.getvalue()
    assert "Books" in text and "MISMATCH" not in text
    assert "Margaret Chen" in text


@pytest.mark.django_db
def test_reconcile_fails_loudly_when_a_reissue_is_short() -> None:
    replay()
    # A remainder certificate entered for less than the certificate kept back.
    Holding.objects.filter(certificate_number__startswith="RI-").update(amount=Decimal("50000"))
    with pytest.raises(CommandError, match="books of 2010-senior"):
        call_command("reconcile", "level3-2000")


@pytest.mark.django_db
def test_reconcile_fails_when_a_certificate_is_tendered_above_its_amount() -> None:
    replay()
    TenderedCertificate.objects.filter(certificate_number="R10-0001").update(
        amount=Decimal("3000000")
    )
    with pytest.raises(CommandError, match="books of 2010-senior"):
        call_command("reconcile", "level3-2000")


@pytest.mark.django_db
@override_settings(ADMINS=[("Ops", "ops@desk.example")])
def test_the_daily_job_alerts_when_the_books_do_not_balance() -> None:
    replay()
    Holding.objects.new().filter(series__slug="2008-senior", form="certificate").update(
        amount=Decimal("4000000")
    )
    deliver_outbox()  # what is already due, so the mailbox then holds only what follows
    mail.outbox.clear()
    runs = [r for r in run_due_jobs(ny(2000, 7, 14, 9)) if r.job == JobName.RECONCILE]
    assert [r.outcome for r in runs] == [JobOutcome.BLOCKED]
    assert "books" in runs[0].detail and "MISMATCH" in runs[0].detail
    deliver_outbox()  # alerts go through the outbox like every notice
    assert any("MISMATCH" in m.subject for m in mail.outbox)


@pytest.mark.django_db
def test_a_position_the_desk_does_not_know_does_not_stop_the_exchange_but_fails_the_books(
    seed, caplog
) -> None:
    """A holder known only by certificate completes its guaranteed delivery through DTC:
    its new notes are issued like everyone's, and the books say its line is short."""
    import datetime as dt

    from exchange.services.exchange_date import run_exchange_date
    from exchange.services.guaranteed_deliveries import (
        NoticeOfGuaranteedDelivery,
        fulfil_guaranteed_delivery,
        receive_guaranteed_delivery,
    )
    from exchange.services.offers import expire_offer
    from exchange.services.review import validate_tender
    from tests.factories import CLERK, JOB, complete_letter

    gd = receive_guaranteed_delivery(
        offer_id=seed.offer.pk,
        series_id=seed.senior_2008.pk,
        holder_id=seed.registered.pk,
        guarantor_id=seed.guarantor.pk,
        notice=NoticeOfGuaranteedDelivery(
            "Ardsley Pension Trust",
            "1 Ardsley Plaza",
            "Ardsley Pension Trust",
            "",
            Decimal("1000000"),
            dt.date(2000, 7, 10),
        ),
        actor=CLERK,
        now=ny(2000, 7, 10, 10),
    )
    fulfil_guaranteed_delivery(
        gd.pk,
        by_book_entry=True,
        letter=complete_letter(
            book_entry_confirmation="ATOP-1", agents_message=True, registered_names="Cede & Co."
        ),
        actor=CLERK,
        now=ny(2000, 7, 11, 10),
    )
    validate_tender(gd.tender_id, actor=CLERK, now=ny(2000, 7, 11, 11))
    seed.offer.acceptance_automatic = True
    seed.offer.save(update_fields=["acceptance_automatic"])
    expire_offer(seed.offer.pk, actor=JOB, now=ny(2000, 7, 12, 17))
    result = run_exchange_date(seed.offer.pk, actor=JOB, now=ny(2000, 7, 13, 9))
    assert result.completed
    assert Holding.objects.new().get(issued_for_id=gd.tender_id).amount == 1 * M
    assert any("Register short" in r.getMessage() for r in caplog.records)
    (books,) = [
        b
        for b in reconcile_books(seed.offer, ny(2000, 7, 13, 12))
        if b.series.slug == "2008-senior"
    ]
    assert not books.balanced
    assert any("Ardsley Pension Trust" in a for a in books.anomalies)


@pytest.mark.django_db
def test_a_position_tendered_by_book_entry_above_its_amount_fails_the_books() -> None:
    from exchange.models import Tender, TenderState

    replay()
    assert all(b.balanced for b in reconcile_books(Tender.objects.first().offer, ny(2000, 7, 14)))
    # Bayside's discount position is 85,000,000 after the exchange; a book-entry tender of
    # the same series still open for more than that cannot be right.
    open_tender = Tender.objects.filter(
        holder__user__username="bayside", series__slug="2010-senior-discount"
    ).first()
    Tender.objects.filter(pk=open_tender.pk).update(
        state=TenderState.VALID, amount=Decimal("90000000"), withdrawn_amount=0
    )
    (books,) = [
        b
        for b in reconcile_books(open_tender.offer, ny(2000, 7, 14))
        if b.series.slug == "2010-senior-discount"
    ]
    # The demo's ATOP activity leaves more of Bayside's book-entry tenders of the series open:
    # the books count every live one against the position.
    from django.db.models import F, Sum

    live = Tender.objects.filter(
        holder=open_tender.holder,
        series=open_tender.series,
        channel="book_entry",
        state__in=[
            TenderState.RECEIVED,
            TenderState.IN_REVIEW,
            TenderState.VALID,
            TenderState.DEFICIENT,
            TenderState.ACCEPTED,
        ],
    ).aggregate(total=Sum(F("amount") - F("withdrawn_amount")))["total"]
    assert live >= Decimal("90000000")
    assert any(
        f"tendered {live:,.2f} by book entry, above its amount" in a for a in books.anomalies
    ), books.anomalies
