"""The reports, with figures computed by hand from the tenders each test makes."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from exchange.jobs.runner import run_due_jobs
from exchange.models import DeficiencyKind, Tender, TenderState
from exchange.reports.results import final_results, tender_report
from exchange.services.guaranteed_deliveries import (
    NoticeOfGuaranteedDelivery,
    receive_guaranteed_delivery,
)
from exchange.services.review import record_deficiencies, reject_tender, validate_tender
from exchange.services.withdrawals import NoticeOfWithdrawal, receive_withdrawal
from tests.factories import (
    CLERK,
    SUPERVISOR,
    SeedOffer,
    book_entry_tender,
    ny,
    paper_tender,
    staff_user,
)

D = Decimal


@pytest.fixture
def desk(seed: SeedOffer) -> SeedOffer:
    """Tenders in several states:
    2008 notes: A $5,000,000 paper, valid; B $10,000,000 book-entry, valid, $4,000,000 of it
    withdrawn on June 27; C $1,000,000 by guaranteed delivery (executed June 26), pending.
    2010 notes: D Margaret Chen's $100,000, deficient.
    Discount notes: E $3,000,000 paper, received (not yet reviewed).
    """
    seed.offer.acceptance_automatic = True
    seed.offer.save(update_fields=["acceptance_automatic"])
    june26 = ny(2000, 6, 26, 10)
    a = paper_tender(seed, june26)
    validate_tender(a.pk, actor=CLERK, now=june26)
    b = book_entry_tender(seed, june26, amount="10000000")
    validate_tender(b.pk, actor=CLERK, now=june26)
    receive_withdrawal(
        b.pk,
        notice=NoticeOfWithdrawal("Bayside", "", D("4000000"), True, "Cede & Co.", True),
        actor=CLERK,
        now=ny(2000, 6, 27, 11),
    )
    receive_guaranteed_delivery(
        offer_id=seed.offer.pk,
        series_id=seed.senior_2008.pk,
        holder_id=seed.registered.pk,
        guarantor_id=seed.guarantor.pk,
        notice=NoticeOfGuaranteedDelivery(
            "Ardsley Pension Trust",
            "1 Ardsley Plaza",
            "Ardsley Pension Trust",
            "R08-0002",
            D("1000000"),
            dt.date(2000, 6, 26),
        ),
        actor=CLERK,
        now=june26,
    )
    d = paper_tender(
        seed,
        june26,
        holder=seed.second_registered,
        series=seed.senior_2010,
        certificates=(("R10-0002", "100000"),),
        registered_names="Margaret Chen",
    )
    record_deficiencies(
        d.pk, defects=[(DeficiencyKind.SIGNATURE, "Sign the letter.")], actor=CLERK, now=june26
    )
    paper_tender(seed, june26, series=seed.discount_2010, certificates=(("D10-0001", "3000000"),))
    return seed


def _by_slug(rows):  # type: ignore[no-untyped-def]
    return {r.series.slug: r for r in rows}


@pytest.mark.django_db
def test_tender_report_as_of_two_instants(desk: SeedOffer) -> None:
    before = _by_slug(tender_report(desk.offer, ny(2000, 6, 26, 12)))["2008-senior"]
    assert before.tendered == D(5_000_000 + 10_000_000 + 1_000_000)
    assert before.withdrawn == 0
    assert before.valid == D(15_000_000)
    assert before.pending_guaranteed_delivery == D(1_000_000)
    # 16,000,000 / 800,000,000 = 2.00%
    assert before.outstanding_percent == D("2.00")

    after = _by_slug(tender_report(desk.offer, ny(2000, 6, 28, 12)))
    s2008 = after["2008-senior"]
    assert s2008.withdrawn == D(4_000_000)
    assert s2008.valid == D(5_000_000 + 10_000_000 - 4_000_000)
    # (16,000,000 - 4,000,000) / 800,000,000 = 1.50%
    assert s2008.outstanding_percent == D("1.50")
    assert after["2010-senior"].deficient == D(100_000)
    assert after["2010-senior-discount"].in_review == D(3_000_000)
    # Before anything was received, nothing shows.
    empty = _by_slug(tender_report(desk.offer, ny(2000, 6, 10, 9)))
    assert all(r.tendered == 0 for r in empty.values())


@pytest.mark.django_db
def test_final_results_after_the_exchange_date(desk: SeedOffer) -> None:
    run_due_jobs(ny(2000, 7, 13, 9))  # expiry, guarantee lapse, exchange date
    results = {r.series.slug: r for r in final_results(desk.offer)}
    # A (5,000,000) and what remains of B (6,000,000) were accepted; C lapsed; D, E not valid.
    assert results["2008-senior"].accepted == D(11_000_000)
    assert results["2008-senior"].tenders == 2
    assert results["2008-senior"].holders == 2
    # 11,000,000 / 800,000,000 = 1.375% -> 1.38% (half-up)
    assert results["2008-senior"].percent == D("1.38")
    assert results["2010-senior"].accepted == 0
    # A tender still received after the exchange date: the figures are preliminary and the
    # press release of final results is refused (the rule changed: it used to be drafted).
    out = io.StringIO()
    call_command("final_results", desk.offer.slug, stdout=out)
    assert "PRELIMINARY" in out.getvalue()
    assert "No press release of final results can be drafted yet" in out.getvalue()
    assert "$11,000,000 aggregate principal amount" not in out.getvalue()
    for tender in Tender.objects.filter(
        offer=desk.offer, state__in=[TenderState.RECEIVED, TenderState.IN_REVIEW]
    ):
        reject_tender(tender.pk, actor=SUPERVISOR, now=ny(2000, 7, 13, 15), reason="Late cure.")
    run_due_jobs(ny(2000, 7, 14, 9))
    out = io.StringIO()
    call_command("final_results", desk.offer.slug, stdout=out)
    assert "PRELIMINARY" not in out.getvalue()
    assert (
        "$11,000,000 aggregate principal amount of its 11% Senior Notes due 2008 (1.38%"
        in out.getvalue()
    )


@pytest.mark.django_db
def test_delivery_and_return_lists(desk: SeedOffer) -> None:
    run_due_jobs(ny(2000, 7, 13, 9))
    out = io.StringIO()
    call_command("delivery_list", desk.offer.slug, stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    amounts = {(r["holder"], r["series"]): r["amount"] for r in rows}
    assert amounts == {
        ("Ardsley Pension Trust", "2008-senior"): "5000000.00",
        ("Bayside Securities LLC", "2008-senior"): "6000000.00",
    }
    assert {r["method"] for r in rows} == {"DTC book-entry", "registered certificate"}
    out = io.StringIO()
    call_command("delivery_list", desk.offer.slug, "--returns", stdout=out)
    returns = {
        (r["holder"], r["series"], r["reason"]): r["amount"]
        for r in csv.DictReader(io.StringIO(out.getvalue()))
    }
    assert returns == {
        ("Bayside Securities LLC", "2008-senior", "withdrawn"): "4000000.00",
        ("Margaret Chen", "2010-senior", "not_accepted"): "100000.00",
    }


@pytest.mark.django_db
def test_audit_history_csv_lists_every_change_in_order(desk: SeedOffer) -> None:
    out = io.StringIO()
    call_command("audit_history", desk.offer.slug, stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[0]["action"] == "exchange.offer.commenced"
    assert rows[0]["at_new_york"] == "2000-06-09 09:00:00 EDT"
    actions = [r["action"] for r in rows]
    assert actions.count("exchange.tender.received") == 5
    assert "exchange.withdrawal.effective" in actions
    assert all(r["actor"] for r in rows)
    assert [r["at_utc"] for r in rows] == sorted(r["at_utc"] for r in rows)


@pytest.mark.django_db
def test_tender_report_command_and_admin_pages_agree(desk: SeedOffer, client) -> None:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    call_command(
        "tender_report",
        desk.offer.slug,
        "--as-of",
        "2000-06-28 12:00",
        "--format",
        "csv",
        stdout=out,
    )
    command_rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert command_rows[1][:3] == ["2008-senior", "16000000.00", "4000000.00"]
    client.force_login(staff_user("clerk1", "Clerks"))
    base = f"/admin/exchange/exchangeoffer/{desk.offer.pk}/reports/"
    assert client.get(base).status_code == 200
    page = client.get(base + "tender/", {"as_of": "2000-06-28 12:00"})
    assert page.status_code == 200
    assert "$16,000,000.00" in page.content.decode()
    csv_response = client.get(base + "tender/", {"as_of": "2000-06-28 12:00", "format": "csv"})
    assert csv_response["Content-Type"].startswith("text/csv")
    streamed = b"".join(csv_response.streaming_content).decode()
    assert list(csv.reader(io.StringIO(streamed))) == command_rows
    bad = client.get(base + "tender/", {"as_of": "June 28"})
    assert bad.status_code == 400 and "YYYY-MM-DD HH:MM" in bad.content.decode()
    for name in ("final/", "deliveries.csv", "returns.csv", "audit.csv"):
        assert client.get(base + name).status_code == 200, name


@pytest.mark.django_db
def test_dashboard_on_the_admin_index(desk: SeedOffer, client) -> None:  # type: ignore[no-untyped-def]
    import time_machine

    client.force_login(staff_user("clerk2", "Clerks"))
    with time_machine.travel(ny(2000, 6, 28, 12), tick=False):
        page = client.get("/admin/").content.decode()
    # 2008: A 5,000,000 + what remains of B 6,000,000 + C 1,000,000 pending delivery
    # = 12,000,000 of 800,000,000 = 1.50%.
    assert "$12,000,000.00" in page and "1.50%" in page
    # 2010: D 100,000 (deficient) of 250,000,000 = 0.04%.
    assert "$100,000.00" in page and "0.04%" in page
    assert "Guaranteed delivery, notes pending" in page
    # The guarantee executed Monday June 26 is due by the end of Thursday June 29.
    assert "Fri Jun 30, 2000 00:00 EDT" in page
    # 14 days, 5 hours to 5:00 p.m. on July 12.
    assert "14 days 5 h 0 min" in page
    assert "<polyline" in page


@pytest.mark.django_db
def test_dashboard_query_count_does_not_grow_with_tenders(desk: SeedOffer, client) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(staff_user("clerk3", "Clerks"))
    with CaptureQueriesContext(connection) as few:
        client.get("/admin/")
    for i in range(5):
        book_entry_tender(desk, ny(2000, 6, 29, 10, i), amount="1000000")
    with CaptureQueriesContext(connection) as more:
        client.get("/admin/")
    assert len(more.captured_queries) == len(few.captured_queries)
