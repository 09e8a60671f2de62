"""A DTC participant sees its ATOP instructions and what became of them, next to its other
documents, read-only; nobody else sees them."""

from __future__ import annotations

import datetime as dt
import html
import re

from django.urls import reverse

from exchange.models import AtopException, AtopInstruction
from exchange.services.atop import import_activity, reject_exception
from holders.models import HolderKind
from tests.exchange.services.test_atop import CUSIP_2008, HEADER, row
from tests.factories import CLERK, make_holder, ny
from tests.holders.conftest import Cast

BEFORE = ny(2000, 6, 26, 9, 0)


def _import(cast: Cast) -> None:
    for series, cusip in ((cast.seed.senior_2008, CUSIP_2008),):
        series.original_cusip = cusip
        series.save(update_fields=["original_cusip"])
    make_holder(
        HolderKind.DTC_PARTICIPANT, name="Harbor Clearing Corp", dtc_participant_number="0777"
    )
    import_activity(
        cast.seed.offer.pk,
        file_name="a.csv",
        text=HEADER
        + row("VP-1", "tender", "10000000", "2000-06-23T10:00:00")
        + row("VP-2", "withdrawal", "1000000", "2000-06-23T11:00:00", original="VP-1")
        + row("VP-3", "tender", "1500", "2000-06-23T12:00:00")
        + row("VP-4", "tender", "1000000", "2000-06-23T12:30:00", message="N")
        + row("VO-1", "tender", "1000000", "2000-06-23T13:00:00", participant="0777"),
        actor=CLERK,
        now=BEFORE,
    )
    reject_exception(
        AtopException.objects.get(voi_number="VP-3").pk,
        reason="Resubmit in multiples of $1,000.",
        actor=CLERK,
        now=BEFORE,
    )


def _rows(page: str) -> dict[str, str]:
    table = page.split('id="atop-instructions"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>\s*<td>([^<]+)</td>(.*?)</tr>", table, re.S)
    return {
        voi: html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", rest)).strip())
        for voi, rest in rows
    }


def test_the_participant_sees_its_instructions_and_their_status(
    cast: Cast, during: dt.datetime
) -> None:
    _import(cast)
    page = cast.client(cast.bayside).get(reverse("portal:offer", args=[cast.seed.offer.slug]))
    assert page.status_code == 200
    text = page.content.decode()
    rows = _rows(text)
    assert set(rows) == {"VP-1", "VP-2", "VP-3", "VP-4"}  # not another participant's VO-1
    tender = AtopInstruction.objects.get(voi_number="VP-1").tender
    assert "Applied: tender (received)" in rows["VP-1"] and tender.reference in rows["VP-1"]
    assert reverse("portal:tender_status", args=[tender.reference]) in text
    assert "Applied: notice of withdrawal (effective)" in rows["VP-2"]
    assert "Rejected by the exchange agent: Resubmit in multiples of $1,000." in rows["VP-3"]
    assert "missing agent's message" in rows["VP-4"] and "reviewing it" in rows["VP-4"]
    # Read-only: the table offers no form and no action.
    table = text.split('id="atop-instructions"', 1)[1].split("</table>", 1)[0]
    assert "<form" not in table and "<button" not in table


def test_other_holders_see_no_atop_instructions(cast: Cast, during: dt.datetime) -> None:
    _import(cast)
    for user in (cast.ardsley, cast.empire):
        page = cast.client(user).get(reverse("portal:offer", args=[cast.seed.offer.slug]))
        assert page.status_code == 200
        assert "atop-instructions" not in page.content.decode()
        assert "VP-1" not in page.content.decode()
