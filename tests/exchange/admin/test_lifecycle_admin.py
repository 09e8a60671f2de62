"""The desk's side of the offer's lifecycle: the condition, termination, amendment, cure-time
and announcement forms call their services with the same rules; the announcement form opens
with the pending decision's drafted text; the dashboard shows what a condition holds back
and which announcements are due or late. Supervisors only."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from exchange.models import (
    ConditionAssertion,
    ConditionKind,
    ExchangeOffer,
    OfferEvent,
    OfferEventKind,
    OfferState,
)
from exchange.services.conditions import assert_condition
from exchange.services.offers import expire_offer, extend_offer
from tests.factories import JOB, SUPERVISOR, SeedOffer, ny, staff_user

DURING = ny(2000, 6, 26, 10, 0)
EXPIRATION = ny(2000, 7, 12, 17, 0)


def _base(seed: SeedOffer) -> str:
    return f"/admin/exchange/exchangeoffer/{seed.offer.pk}/transition/"


@pytest.mark.django_db
def test_a_clerk_cannot_assert_or_waive_a_condition(client: Client, seed: SeedOffer) -> None:
    client.force_login(staff_user("clerk-c", "Clerks"))
    with time_machine.travel(DURING, tick=False):
        for name in ("assert_condition", "waive_condition", "cure_period"):
            response = client.post(
                _base(seed) + f"{name}/",
                {"kind": "proceeding", "description": "x", "notice_on": "2000-06-26"},
            )
            assert response.status_code == 403, name
    assert not ConditionAssertion.objects.exists()


@pytest.mark.django_db
def test_a_supervisor_asserts_for_one_series_and_the_dashboard_says_so(
    client: Client, seed: SeedOffer
) -> None:
    client.force_login(staff_user("sup-c", "Supervisors"))
    with time_machine.travel(DURING, tick=False):
        page = client.get(_base(seed) + "assert_condition/").content.decode()
        assert "2010-senior (11 1/4% Senior Notes due 2010)" in page
        refused = client.post(
            _base(seed) + "assert_condition/",
            {"kind": "proceeding", "series": "2012-senior", "description": "Suit."},
            follow=True,
        ).content.decode()
        assert "No series 2012-senior in this offer" in refused
        client.post(
            _base(seed) + "assert_condition/",
            {"kind": "proceeding", "series": "2010-senior", "description": "Suit filed."},
        )
        assert list(ConditionAssertion.objects.values_list("series__slug", flat=True)) == [
            "2010-senior"
        ]
        index = client.get("/admin/").content.decode()
    assert "Held back by an asserted condition" in index
    assert "11 1/4% Senior Notes due 2010: (1) An action or proceeding" in index
    # Its announcement waits, with no deadline of its own.
    assert "Condition asserted of 10:00 a.m. New York City time, Monday, June 26, 2000" in index


@pytest.mark.django_db
def test_the_announcement_form_opens_with_the_drafted_text(client: Client, seed: SeedOffer) -> None:
    extension = extend_offer(
        seed.offer.pk, new_expiration=ny(2000, 7, 19, 17), actor=SUPERVISOR, now=ny(2000, 7, 12, 16)
    )
    client.force_login(staff_user("sup-a", "Supervisors"))
    with time_machine.travel(ny(2000, 7, 13, 8, 15), tick=False):
        page = client.get(_base(seed) + "announce/").content.decode()
        assert f'value="{extension.pk}"' in page
        assert "has extended its offer" in page
        index = client.get("/admin/").content.decode()
        assert "Due within the hour" in index
        client.post(
            _base(seed) + "announce/",
            {
                "decision": extension.pk,
                "made_at": "2000-07-13 08:10",
                "channel": "Dow Jones News Service release",
                "text": extension.announcement_draft,
            },
        )
    made = OfferEvent.objects.get(kind=OfferEventKind.ANNOUNCEMENT)
    assert made.announces_id == extension.pk
    assert made.occurred_at == ny(2000, 7, 13, 8, 10)
    with time_machine.travel(ny(2000, 7, 13, 9, 0), tick=False):
        index = client.get("/admin/").content.decode()
    assert "Announcements not yet recorded" not in index


@pytest.mark.django_db
def test_dashboard_marks_an_unrecorded_announcement_late_at_9am(
    client: Client, seed: SeedOffer
) -> None:
    extend_offer(
        seed.offer.pk, new_expiration=ny(2000, 7, 19, 17), actor=SUPERVISOR, now=ny(2000, 7, 12, 16)
    )
    client.force_login(staff_user("sup-l", "Supervisors"))
    with time_machine.travel(ny(2000, 7, 13, 8, 59, 59), tick=False):
        index = client.get("/admin/").content.decode()
    assert "Due within the hour" in index and "LATE" not in index
    with time_machine.travel(ny(2000, 7, 13, 9, 0), tick=False):
        index = client.get("/admin/").content.decode()
    assert "<strong>LATE</strong>" in index


@pytest.mark.django_db
def test_termination_form_after_expiration_needs_a_condition(
    client: Client, seed: SeedOffer
) -> None:
    expire_offer(seed.offer.pk, actor=JOB, now=EXPIRATION)
    supervisor = staff_user("sup-t", "Supervisors")
    client.force_login(supervisor)
    with time_machine.travel(ny(2000, 7, 13, 8), tick=False):
        page = client.get(_base(seed) + "terminate/").content.decode()
        assert "none is asserted and no stop order is in effect" in page
        refused = client.post(
            _base(seed) + "terminate/", {"reason": "Changed its mind."}, follow=True
        ).content.decode()
        assert "No condition is asserted" in refused
        assert ExchangeOffer.objects.get(pk=seed.offer.pk).state == OfferState.EXPIRED
    assert_condition(
        seed.offer.pk,
        kind=ConditionKind.ADVERSE_CHANGE,
        description="Material adverse change.",
        actor=SUPERVISOR,
        now=ny(2000, 7, 13, 8, 30),
    )
    with time_machine.travel(ny(2000, 7, 13, 9), tick=False):
        # An hour away from the desk ends a staff session: the supervisor signs in again.
        client.force_login(supervisor)
        client.post(
            _base(seed) + "terminate/",
            {"reason": "Material adverse change.", "ground": "adverse_change"},
        )
    assert ExchangeOffer.objects.get(pk=seed.offer.pk).state == OfferState.TERMINATED


@pytest.mark.django_db
def test_amendment_form_takes_the_notice_date(client: Client, seed: SeedOffer) -> None:
    client.force_login(staff_user("sup-m", "Supervisors"))
    with time_machine.travel(ny(2000, 7, 10, 9), tick=False):
        refused = client.post(
            _base(seed) + "amend/",
            {"description": "Material.", "material": "on", "notice_on": "2000-07-11"},
            follow=True,
        ).content.decode()
        assert "after today" in refused
        client.post(
            _base(seed) + "amend/",
            {"description": "Material.", "material": "on", "notice_on": "2000-07-07"},
        )
    assert ExchangeOffer.objects.get(pk=seed.offer.pk).expiration_at == ny(2000, 7, 13, 17)
    assert OfferEvent.objects.get(kind=OfferEventKind.MATERIAL_AMENDMENT).notice_on == dt.date(
        2000, 7, 7
    )


@pytest.mark.django_db
def test_a_supervisor_extends_one_holders_time_to_cure(client: Client, seed: SeedOffer) -> None:
    from exchange.models import DeficiencyKind, Tender
    from exchange.services.review import record_deficiencies
    from tests.factories import CLERK, paper_tender

    tender = paper_tender(seed, DURING)
    record_deficiencies(
        tender.pk,
        defects=[(DeficiencyKind.SIGNATURE, "Sign the letter.")],
        actor=CLERK,
        now=DURING,
    )
    url = f"/admin/exchange/tender/{tender.pk}/transition/extend_cure/"
    client.force_login(staff_user("clerk-x", "Clerks"))
    with time_machine.travel(DURING, tick=False):
        assert (
            client.post(url, {"until": "2000-07-17 17:00", "authorized_by": "T"}).status_code == 403
        )
    client.force_login(staff_user("sup-x", "Supervisors"))
    with time_machine.travel(DURING, tick=False):
        page = client.get(url).content.decode()
        assert "now until 5:00 p.m. New York City time, Wednesday, July 12, 2000" in page
        client.post(url, {"until": "2000-07-17 17:00", "authorized_by": "R. Officer"})
    assert Tender.objects.get(pk=tender.pk).cure_extended_to == ny(2000, 7, 17, 17)
