"""After commencement a term changes only as the issuer's amendment, recorded by a
supervisor with the old and new value; a material one keeps the offer open to the fifth
business day (through the amendment service)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from exchange.models import OfferEvent, RecordedRowChange, StateChange
from exchange.services.base import DeskError
from exchange.services.terms import amend_term
from exchange.terms.calendars import NEW_YORK
from tests.factories import CLERK, SUPERVISOR, SeedOffer, ny

pytestmark = pytest.mark.django_db

DURING = ny(2000, 6, 26, 10)


def test_a_supervisor_amends_a_term_with_old_and_new_values(seed: SeedOffer) -> None:
    amend_term(
        seed.offer.pk,
        term="backup_withholding_rate",
        value="0.28",
        description="The issuer corrects the backup withholding rate.",
        material=False,
        actor=SUPERVISOR,
        now=DURING,
        notice_on=DURING.astimezone(NEW_YORK).date(),
    )
    seed.offer.refresh_from_db()
    assert seed.offer.backup_withholding_rate == Decimal("0.28")
    row = StateChange.objects.get(action="exchange.offer.term_amended")
    assert (row.from_state, row.to_state) == ("0.3100", "0.2800")
    assert "backup_withholding_rate: 0.3100 → 0.2800" in row.reason
    assert OfferEvent.objects.filter(
        offer=seed.offer, description__contains="0.3100 → 0.2800"
    ).exists()
    assert RecordedRowChange.objects.filter(table_name="exchange_exchangeoffer").exists()


def test_a_material_amendment_of_a_series_applies_the_five_business_day_rule(
    seed: SeedOffer,
) -> None:
    late = ny(2000, 7, 11, 10)  # Tuesday: five business days from it run past July 12
    amend_term(
        seed.offer.pk,
        series_id=seed.senior_2008.pk,
        term="coupon_rate",
        value="0.1150",
        description="Coupon raised.",
        material=True,
        actor=SUPERVISOR,
        now=late,
        notice_on=dt.date(2000, 7, 11),
    )
    seed.offer.refresh_from_db()
    seed.senior_2008.refresh_from_db()
    assert seed.senior_2008.coupon_rate == Decimal("0.1150")
    assert seed.offer.expiration_at > ny(2000, 7, 12, 17)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"actor": CLERK}, "supervisor"),
        ({"term": "slug"}, "not a term"),
        ({"value": "not a number"}, "backup_withholding_rate"),
        ({"value": "0.31"}, "nothing to amend"),
    ],
)
def test_refusals_change_nothing(seed: SeedOffer, kwargs: dict[str, object], message: str) -> None:
    call: dict[str, object] = {
        "term": "backup_withholding_rate",
        "value": "0.28",
        "description": "x",
        "material": False,
        "actor": SUPERVISOR,
        "now": DURING,
        "notice_on": DURING.astimezone(NEW_YORK).date(),
        **kwargs,
    }
    history = StateChange.objects.count()
    with pytest.raises(DeskError, match=message):
        amend_term(seed.offer.pk, **call)  # type: ignore[arg-type]
    seed.offer.refresh_from_db()
    assert seed.offer.backup_withholding_rate == Decimal("0.31")
    assert StateChange.objects.count() == history
