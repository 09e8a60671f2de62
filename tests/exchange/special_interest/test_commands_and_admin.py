"""The operator commands (registration_event, accrue_special_interest,
special_interest_report) and the admin's pages (ledger, milestone form, payment report)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from exchange.models import RegistrationEvent, SpecialInterestAccrual, StateChange
from tests.exchange.special_interest.helpers import D, K, accrue, milestone
from tests.factories import SeedOffer, staff_user

pytestmark = pytest.mark.django_db

# Example 1 (test_worked_examples): filed June 2, default May 30 to June 1, 2 days at 0.50%.
# Discount notes: S = 0.005 x (A(May 30) + A(June 1)), A the accreted value per $1,000.
EXAMPLE_1_CSV = """\
holder,series,basis,days,rate_steps,gross,withholding,net,notes,cusip
Ardsley Pension Trust,2008-senior,6000000.00,2,0.50%,166.67,0.00,166.67,original,
Bayside Securities LLC,2008-senior,120000000.00,2,0.50%,3333.33,0.00,3333.33,original,
Margaret Chen,2008-senior,250000.00,2,0.50%,6.94,2.15,4.79,original,
Bayside Securities LLC,2010-senior,40000000.00,2,0.50%,1111.11,0.00,1111.11,original,
Margaret Chen,2010-senior,100000.00,2,0.50%,2.78,0.86,1.92,original,
Ardsley Pension Trust,2010-senior-discount,3000000.00,2,0.50%,45.88,0.00,45.88,original,
Bayside Securities LLC,2010-senior-discount,95000000.00,2,0.50%,1452.99,0.00,1452.99,original,
"""


def call(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def example_1_by_command() -> None:
    for kind, day in (
        ("exchange_filed", "2000-06-02"),
        ("exchange_effective", "2000-06-09"),
        ("exchange_completed", "2000-07-13"),
    ):
        call("registration_event", "level3-2000", kind, day, "--as-of", "2000-07-14 09:00")
    call("accrue_special_interest", "level3-2000", "--through", "2000-09-14")


def test_registration_event_records_and_says_what_follows(seed: SeedOffer) -> None:
    out = call(
        "registration_event",
        "level3-2000",
        "exchange_filed",
        "2000-06-02",
        "--note",
        "Form S-4",
        "--as-of",
        "2000-06-10 09:00",
    )
    event = RegistrationEvent.objects.get()
    assert (event.kind, event.occurred_on, event.note) == (
        K.EXCHANGE_FILED,
        D(2000, 6, 2),
        "Form S-4",
    )
    assert event.recorded_by_label == "operator (manage.py registration_event)"
    assert (
        "Recorded for level3-2000: Exchange offer registration statement filed on 2000-06-02."
        in out
    )
    assert "Not filed by the filing deadline: from 2000-05-30, cured 2000-06-02" in out
    assert StateChange.objects.filter(action="exchange.registration.exchange_filed").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("level3-2000", "filed", "2000-06-02"), "invalid choice"),
        (("level3-2000", "exchange_filed", "June 2"), "YYYY-MM-DD"),
        (("nope", "exchange_filed", "2000-06-02"), "No exchange offer 'nope'"),
        (("level3-2000", "usable_again", "2000-06-02"), "ceased to be usable"),
        (("level3-2000", "exchange_filed", "2000-01-02"), "before the original notes were issued"),
    ],
)
def test_registration_event_refusals(seed: SeedOffer, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call("registration_event", *args, "--as-of", "2000-06-10 09:00")
    assert not RegistrationEvent.objects.exists()


def test_accrue_command_is_idempotent_and_reports(seed: SeedOffer) -> None:
    milestone(seed, K.EXCHANGE_FILED, D(2000, 6, 2))
    milestone(seed, K.EXCHANGE_EFFECTIVE, D(2000, 6, 9))
    first = call("accrue_special_interest", "level3-2000", "--through", "2000-06-30")
    assert "ledger +9 day-rows" in first
    assert "stream from 2000-05-30 to 2000-06-02 (excluded)" in first
    assert "11% Senior Notes due 2008: 3 day(s) in the ledger, 2 days (30/360) at 0.50%" in first
    second = call("accrue_special_interest", "level3-2000", "--through", "2000-06-30")
    assert "ledger +0 day-rows, 0 corrected, 0 removed" in second
    assert SpecialInterestAccrual.objects.count() == 9


def test_accrue_command_refuses_a_day_not_ended(seed: SeedOffer) -> None:
    with pytest.raises(CommandError, match="has ended"):
        call(
            "accrue_special_interest",
            "level3-2000",
            "--through",
            "2000-06-30",
            "--as-of",
            "2000-06-30 12:00",
        )


def test_report_csv_one_row_per_holder_and_series(seed: SeedOffer) -> None:
    example_1_by_command()
    out = call(
        "special_interest_report", "level3-2000", "--payment-date", "2000-09-15", "--format", "csv"
    )
    assert out == EXAMPLE_1_CSV


def test_report_table_has_totals_per_series(seed: SeedOffer) -> None:
    example_1_by_command()
    out = call("special_interest_report", "level3-2000", "--payment-date", "2000-09-15")
    assert (
        "11% Senior Notes due 2008: accrual 2000-03-15 to 2000-09-14, holders of record on 2000-09-01"
        in out
    )
    assert "2 days (30/360) at 0.50%: 0.0277777778 per $1,000 principal amount" in out
    # 166.67 + 3,333.33 + 6.94 = 3,506.94; withholding 2.15; net 3,504.79.
    [total_2008] = [line.split() for line in out.splitlines() if "126,250,000.00" in line]
    assert total_2008 == ["Total", "126,250,000.00", "3,506.94", "2.15", "3,504.79"]


def test_report_refuses_when_the_ledger_is_not_current(seed: SeedOffer) -> None:
    milestone(seed, K.EXCHANGE_FILED, D(2000, 6, 2))
    with pytest.raises(CommandError, match="--through 2000-09-14` first"):
        call("special_interest_report", "level3-2000", "--payment-date", "2000-09-15")


def test_report_refuses_a_date_that_is_not_a_payment_date(seed: SeedOffer) -> None:
    with pytest.raises(CommandError, match="not an interest payment date"):
        call("special_interest_report", "level3-2000", "--payment-date", "2000-09-14")


# --- admin --------------------------------------------------------------------------------------


@pytest.fixture
def superuser(db: None) -> AbstractBaseUser:
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw-for-tests")


def report_url() -> str:
    return reverse("admin:exchange_specialinterestaccrual_report")


def test_admin_report_page_shows_payments_and_totals(
    client: Client, superuser: AbstractBaseUser, seed: SeedOffer
) -> None:
    example_1_by_command()
    client.force_login(superuser)
    response = client.get(report_url(), {"offer": seed.offer.pk, "payment_date": "2000-09-15"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Total 11% Senior Notes due 2008" in page
    assert "$3,506.94" in page  # 166.67 + 3,333.33 + 6.94
    assert "$3,504.79" in page
    assert "$1,113.89" in page  # 2010s gross: 1,111.11 + 2.78
    assert "$1,498.87" in page  # discount notes: 45.88 + 1,452.99
    assert "Special interest stream from 2000-05-30" in page
    report = response.context["report"]
    assert [str(s.total_gross) for s in report.sections] == ["3506.94", "1113.89", "1498.87"]


def test_admin_report_page_says_when_the_ledger_is_behind(
    client: Client, superuser: AbstractBaseUser, seed: SeedOffer
) -> None:
    milestone(seed, K.EXCHANGE_FILED, D(2000, 6, 2))
    client.force_login(superuser)
    response = client.get(report_url(), {"offer": seed.offer.pk, "payment_date": "2000-09-15"})
    assert response.status_code == 200
    assert "accrue_special_interest level3-2000 --through 2000-09-14" in response.content.decode()


def test_admin_report_page_lists_offers_not_tracked(
    client: Client, superuser: AbstractBaseUser, seed: SeedOffer
) -> None:
    client.force_login(superuser)
    page = client.get(report_url()).content.decode()
    assert "the daily accrual does not track it yet" in page
    assert "filing 2000-05-29" in page


def test_clerk_records_a_milestone_in_the_admin(client: Client, seed: SeedOffer) -> None:
    client.force_login(staff_user("clara", "Clerks"))
    record_url = reverse("admin:exchange_specialinterestaccrual_record_milestone")
    assert client.get(record_url).status_code == 200
    response = client.post(
        record_url,
        {"offer": seed.offer.pk, "kind": "exchange_filed", "occurred_on": "2000-06-02", "note": ""},
    )
    assert response.status_code == 302
    event = RegistrationEvent.objects.get()
    assert (event.kind, event.recorded_by_label) == (K.EXCHANGE_FILED, "clara")
    # A refusal is the service's message on the form; nothing is written.
    refused = client.post(
        record_url,
        {"offer": seed.offer.pk, "kind": "usable_again", "occurred_on": "2000-06-03", "note": ""},
    )
    assert refused.status_code == 200
    assert "ceased to be usable" in refused.content.decode()
    assert RegistrationEvent.objects.count() == 1
    # Clerks read the ledger and the report.
    assert client.get(report_url()).status_code == 200
    assert (
        client.get(reverse("admin:exchange_specialinterestaccrual_changelist")).status_code == 200
    )


def test_ledger_pages_are_read_only(
    client: Client, superuser: AbstractBaseUser, seed: SeedOffer
) -> None:
    milestone(seed, K.EXCHANGE_FILED, D(2000, 6, 2))
    accrue(seed, D(2000, 6, 5))
    client.force_login(superuser)
    changelist = reverse("admin:exchange_specialinterestaccrual_changelist")
    page = client.get(changelist).content.decode()
    assert "Payment report and defaults" in page
    assert "0.50%" in page
    assert client.get(changelist, {"q": "2008"}).status_code == 200
    row = SpecialInterestAccrual.objects.order_by("pk").first()
    assert row is not None
    change = reverse("admin:exchange_specialinterestaccrual_change", args=[row.pk])
    assert client.get(change).status_code == 200
    assert client.get(reverse("admin:exchange_specialinterestaccrual_add")).status_code == 403


def test_a_user_without_the_ledger_permission_cannot_see_the_report(
    client: Client, seed: SeedOffer
) -> None:
    user = get_user_model().objects.create_user("eve", password="pw-for-tests-only", is_staff=True)
    client.force_login(user)
    assert client.get(report_url()).status_code == 403
    record_url = reverse("admin:exchange_specialinterestaccrual_record_milestone")
    assert client.get(record_url).status_code == 403


def test_admin_report_page_gives_the_csv_and_caps_long_pages(
    client: Client, superuser: AbstractBaseUser, seed: SeedOffer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import exchange.admin.special_interest as page_module

    example_1_by_command()
    client.force_login(superuser)
    query = {"offer": seed.offer.pk, "payment_date": "2000-09-15"}
    csv_response = client.get(report_url(), {**query, "format": "csv"})
    assert csv_response["Content-Type"].startswith("text/csv")
    body = csv_response.content.decode()
    # Columns notes and cusip added: after an exchange date a holder is paid on its
    # original and its new notes separately (README, "Special interest after the exchange").
    assert (
        body.splitlines()[0]
        == "holder,series,basis,days,rate_steps,gross,withholding,net,notes,cusip"
    )
    assert "Margaret Chen,2008-senior,250000.00,2,0.50%,6.94,2.15,4.79,original," in body
    # With a page of one row per series, the rest is announced and the totals still count all.
    monkeypatch.setattr(page_module, "ROWS_SHOWN", 1)
    page = client.get(report_url(), query).content.decode()
    assert "more holders of record" in page
    assert "$3,506.94" in page
