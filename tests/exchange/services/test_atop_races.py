"""Two overlapping ATOP activity files imported at once, by real threads on PostgreSQL:
every VOI recorded once, whichever thread reaches it first."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchange.models import AtopException, AtopInstruction, StateChange, Tender
from exchange.services.atop import import_activity
from tests.exchange.services.test_atop import CUSIP_2008, HEADER, IMPORTED_AT, row
from tests.exchange.services.test_concurrency import (
    _database_restored_after_the_module,
    _run_concurrently,
)
from tests.factories import CLERK, SeedOffer

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
__all__ = ["_database_restored_after_the_module"]


@pytest.mark.parametrize(
    ("second_in_bulk", "repeat"),
    [(True, 0), (True, 1), (False, 0), (False, 1)],
    ids=[
        "both-set-based-0",
        "both-set-based-1",
        "set-based-and-per-line-0",
        "set-based-and-per-line-1",
    ],
)
def test_two_overlapping_files_imported_concurrently_record_each_voi_once(
    seed: SeedOffer, second_in_bulk: bool, repeat: int
) -> None:
    seed.senior_2008.original_cusip = CUSIP_2008
    seed.senior_2008.save(update_fields=["original_cusip"])
    # Forty tenders of $1,000,000 each; the files share twenty of them (same content),
    # and one VOI that each file carries with different content.
    lines = [
        row(f"V-{n:03}", "tender", "1000000", f"2000-07-10T10:{n % 60:02}:00") for n in range(40)
    ]
    first = (
        HEADER + "".join(lines[:30]) + row("V-CLASH", "tender", "1000000", "2000-07-10T11:00:00")
    )
    second = (
        HEADER
        + "".join(reversed(lines[10:]))
        + row("V-CLASH", "tender", "2000000", "2000-07-10T11:00:00")
    )
    outcomes = _run_concurrently(
        lambda: import_activity(
            seed.offer.pk, file_name="a.csv", text=first, actor=CLERK, now=IMPORTED_AT
        ),
        lambda: import_activity(
            seed.offer.pk,
            file_name="b.csv",
            text=second,
            actor=CLERK,
            now=IMPORTED_AT,
            bulk=second_in_bulk,
        ),
    )
    assert [o[0] for o in outcomes] == ["ok", "ok"], outcomes
    a, b = outcomes[0][1], outcomes[1][1]
    assert a.new_tenders + b.new_tenders == 41
    assert a.already_recorded + b.already_recorded == 20
    assert AtopInstruction.objects.count() == 41
    assert Tender.objects.count() == 41
    assert StateChange.objects.filter(action="exchange.tender.received").count() == 41
    clash = AtopException.objects.get()
    assert clash.voi_number == "V-CLASH" and clash.kind == "duplicate_voi"
    total = sum(Tender.objects.values_list("amount", flat=True), Decimal("0"))
    assert total == Decimal("40000000") + AtopInstruction.objects.get(voi_number="V-CLASH").quantity
