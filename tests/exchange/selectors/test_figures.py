"""One tally feeds the dashboard, offer_status, the tender report and the final results:
on the replayed seed (the demo's nine tenders, then the exchange date) they agree."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client

from exchange.admin.dashboard import offer_dashboards
from exchange.jobs.runner import run_due_jobs
from exchange.models import ExchangeOffer, NewNoteDelivery, Tender, TenderState
from exchange.reports.results import final_results, tender_report
from exchange.selectors.figures import offer_tally
from tests.factories import ny, staff_user

BEFORE_EXPIRATION = ny(2000, 7, 12, 12)
EXCHANGE_DATE = ny(2000, 7, 13, 9)
AFTER_EXCHANGE = ny(2000, 7, 13, 12)


@pytest.fixture
def replayed(db: None, settings: Any) -> ExchangeOffer:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_offer", stdout=io.StringIO())
    return ExchangeOffer.objects.get(slug="level3-2000")


def money(text: str) -> Decimal:
    return Decimal(text.replace(",", "").replace("$", ""))


def offer_status_rows(moment: str) -> dict[str, list[Decimal]]:
    out = io.StringIO()
    call_command("offer_status", "level3-2000", "--as-of", moment, stdout=out)
    rows = {}
    for line in out.getvalue().splitlines():
        match = re.match(r"^(.+? due \d{4})\s+([\d,.\s]+)$", line)
        if match:
            rows[match.group(1)] = [money(v) for v in match.group(2).split()]
    return rows


def assert_all_agree(offer: ExchangeOffer, moment_text: str, moment: Any) -> None:
    now = {t.series.pk: t for t in offer_tally(offer)}
    then = {t.series.pk: t for t in offer_tally(offer, moment)}
    report = {r.series.pk: r for r in tender_report(offer, moment)}
    status = offer_status_rows(moment_text)
    for pk, t in now.items():
        # Now (the tenders' own state) and as of this instant (the history) are one story.
        for name in ("tendered", "withdrawn", "rejected", "not_withdrawn", "valid", "accepted"):
            assert getattr(t, name) == getattr(then[pk], name), (t.series.slug, name)
        assert t.counts == then[pk].counts
        # The report's buckets add up to what was tendered.
        r = report[pk]
        assert r.tendered == (
            r.withdrawn
            + r.rejected
            + r.pending_guaranteed_delivery
            + r.in_review
            + r.deficient
            + r.valid
            + r.accepted
            + r.exchanged
        )
        assert r.not_withdrawn == t.not_withdrawn
        # offer_status: tendered, withdrawn, rejected, not withdrawn, accepted, outstanding.
        assert status[t.series.name] == [
            r.tendered,
            r.withdrawn,
            r.rejected,
            r.not_withdrawn,
            r.accepted_for_exchange,
            r.outstanding,
        ]
        # The states the tenders are in, counted by the database directly.
        for state in TenderState:
            assert (
                t.counts.get(state, 0) == Tender.objects.filter(series_id=pk, state=state).count()
            )


@pytest.mark.django_db
def test_dashboard_offer_status_and_tender_report_agree_before_expiration(
    replayed: ExchangeOffer,
) -> None:
    assert_all_agree(replayed, "2000-07-12 12:00", BEFORE_EXPIRATION)
    (board,) = offer_dashboards(BEFORE_EXPIRATION)
    tally = offer_tally(replayed)
    assert [s.tendered for s in board.series] == [t.not_withdrawn for t in tally]
    # The seed's rejected tender is in neither the table nor the chart's last day.
    rejected = sum((t.rejected for t in tally), Decimal(0))
    assert rejected > 0
    assert board.chart.last == board.total_not_withdrawn
    counts = dict(board.by_state)
    for state in TenderState:
        assert counts[state.label] == sum(t.counts.get(state, 0) for t in tally)


@pytest.mark.django_db
def test_final_results_agree_with_the_tally_after_the_exchange_date(
    replayed: ExchangeOffer,
) -> None:
    run_due_jobs(EXCHANGE_DATE)
    replayed.refresh_from_db()
    assert_all_agree(replayed, "2000-07-13 12:00", AFTER_EXCHANGE)
    tally = {t.series.pk: t for t in offer_tally(replayed)}
    results = final_results(replayed)
    assert sum((r.accepted for r in results), Decimal(0)) > 0
    for r in results:
        t = tally[r.series.pk]
        assert r.accepted == t.accepted_for_exchange
        assert r.tenders == t.accepted_tenders
        # Every accepted amount is what the new notes were recorded for.
        recorded = NewNoteDelivery.objects.filter(series=r.series).aggregate(t=Sum("amount"))["t"]
        assert (recorded or 0) == r.accepted
    # The tender report files exchanged amounts under accepted/exchanged, not under valid.
    report = tender_report(replayed, AFTER_EXCHANGE)
    assert all(row.valid == 0 for row in report)
    out = io.StringIO()
    call_command(
        "tender_report",
        "level3-2000",
        "--as-of",
        "2000-07-13 12:00",
        "--format",
        "csv",
        stdout=out,
    )
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    for row, tally_row in zip(rows, report, strict=True):
        assert money(row["accepted"]) + money(row["exchanged"]) == tally_row.accepted_for_exchange
        assert money(row["valid"]) == 0


@pytest.mark.django_db
def test_the_dashboard_chart_has_axes_whole_labels_and_a_table(
    replayed: ExchangeOffer, client: Client
) -> None:
    client.force_login(staff_user("chart-clerk", "Clerks"))
    with time_machine.travel(BEFORE_EXPIRATION, tick=False):
        page = client.get("/admin/").content.decode()
    (board,) = offer_dashboards(BEFORE_EXPIRATION)
    chart = board.chart
    # Axes: a y tick at zero and one at or above the highest point, each a whole amount.
    assert chart.y_ticks[0].label == "$0"
    assert money(chart.y_ticks[-1].label) >= max(v for _, v in chart.days)
    assert 'class="axis-title">New York day' in page
    assert 'class="axis-title">US dollars' in page
    # Whole labels: month and day, none cut at the frame ("ov 13", "Nov 2").
    for tick in chart.x_ticks:
        assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}", tick.label)
        assert chart.left <= tick.at <= chart.right
    assert chart.x_ticks[-1].label == "Jul 12"
    # The figures as a table, one row a day, ending on the table's total.
    assert "The chart's figures" in page
    assert page.count('<th scope="row">') >= len(chart.days)
    total = f"${board.total_not_withdrawn:,.2f}"
    assert f"{total} now, the table's total of {total}" in page
