"""The desk's admin: every page renders; the buttons are exactly the transitions allowed
now; a button goes through its service, with the user as the actor; a refusal is a
message and changes nothing; issuer decisions are the supervisors'; history is read-only.

The services run on `timezone.now()` in the admin, and the seed offer is of 2000, so
tests that post transitions travel to an instant of the offer (time_machine).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.contrib import admin
from django.contrib import messages as django_messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.messages import get_messages
from django.db import connection, models
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from exchange.admin.base import TransitionAdmin
from exchange.admin.transitions.tenders import TENDER_TRANSITIONS
from exchange.models import (
    ActorKind,
    ConditionKind,
    Deficiency,
    DeficiencyKind,
    DeficiencyStatus,
    DtcPositionSource,
    ExchangeOffer,
    GuaranteedDelivery,
    GuaranteedDeliveryState,
    Issuer,
    JobRun,
    NoteReturn,
    NoteSeries,
    OfferEvent,
    OfferState,
    RegistrationEventKind,
    StateChange,
    Tender,
    TenderState,
    WithdrawalNotice,
    WithdrawalState,
)
from exchange.services.atop import COLUMNS as ATOP_COLUMNS
from exchange.services.atop import import_activity
from exchange.services.atop.positions import record_positions
from exchange.services.conditions import assert_condition, waive_condition
from exchange.services.guaranteed_deliveries import (
    NoticeOfGuaranteedDelivery,
    receive_guaranteed_delivery,
)
from exchange.services.offers import accept_offer, expire_offer
from exchange.services.registration import record_registration_event
from exchange.services.review import record_deficiencies, validate_tender
from exchange.services.tenders import LETTER_FIELDS, accept_tender
from exchange.services.withdrawals import NoticeOfWithdrawal, receive_withdrawal
from exchange.special_interest.accrual import accrue_special_interest
from holders.models import Holder, Holding, PortalSubmission, SignUpRequest
from tests.factories import (
    CLERK,
    JOB,
    SUPERVISOR,
    SeedOffer,
    book_entry_tender,
    build_seed_offer,
    guarantee_letter,
    ny,
    paper_tender,
    staff_user,
)

pytestmark = pytest.mark.django_db

DURING = ny(2000, 6, 26, 10, 0)  # Monday; the seed offer is open
EXCHANGE_DAY = ny(2000, 7, 13, 10, 0)  # the first business day after the July 12 expiration
DESK_APPS = ("exchange", "holders")
# Configuration the desk keys in; every other record is made by a service.
ADDABLE = {Issuer, ExchangeOffer, NoteSeries, Holder, Holding}


# --- helpers --------------------------------------------------------------------------


@pytest.fixture
def superuser(db: None) -> AbstractBaseUser:
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw-for-tests")


@pytest.fixture
def clerk(db: None) -> AbstractBaseUser:
    return staff_user("clara", "Clerks")


@pytest.fixture
def supervisor(db: None) -> AbstractBaseUser:
    return staff_user("sam", "Supervisors")


@pytest.fixture
def at_during_offer() -> Any:
    with time_machine.travel(DURING, tick=False) as traveller:
        yield traveller


def url(obj: models.Model, view: str, *args: Any) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk, *args])


def transition_url(obj: models.Model, name: str) -> str:
    return url(obj, "transition", name)


def buttons(client: Client, obj: models.Model) -> set[str]:
    response = client.get(url(obj, "change"))
    assert response.status_code == 200
    return set(re.findall(r'data-transition="([a-z_]+)"', response.content.decode()))


def messages_of(response: Any) -> list[tuple[int, str]]:
    return [(m.level, m.message) for m in get_messages(response.wsgi_request)]


def history_count() -> int:
    return StateChange.objects.count()


# --- the graph: one row of every model ------------------------------------------------------


@dataclass
class Graph:
    seed: SeedOffer
    valid: Tender
    deficient: Tender
    withdrawn: Tender
    withdrawal: WithdrawalNotice
    gd: GuaranteedDelivery


def build_graph(seed: SeedOffer) -> Graph:
    """Every kind of record the desk holds, made the way the desk makes them (services)."""
    # A holder with an address, so the graph holds the notices of the outbox too.
    seed.registered.email = "custody@ardsley.example"
    seed.registered.save(update_fields=["email"])
    valid = paper_tender(seed, DURING)
    validate_tender(valid.pk, actor=CLERK, now=DURING)
    deficient = book_entry_tender(seed, DURING)
    record_deficiencies(
        deficient.pk,
        defects=[(DeficiencyKind.REPRESENTATIONS, "Make the representations of the letter.")],
        actor=CLERK,
        now=DURING,
    )
    withdrawn = paper_tender(
        seed,
        DURING,
        holder=seed.second_registered,
        certificates=(("R08-0003", "250000"),),
        registered_names="Margaret Chen",
    )
    withdrawal = receive_withdrawal(
        withdrawn.pk,
        notice=NoticeOfWithdrawal(
            tendering_person_name="Margaret Chen",
            certificate_numbers="R08-0003",
            amount=Decimal("250000"),
            states_withdrawal=True,
            registered_holder_name="Margaret Chen",
            signed_as_letter=True,
        ),
        actor=CLERK,
        now=DURING,
    )
    gd = receive_guaranteed_delivery(
        offer_id=seed.offer.pk,
        series_id=seed.discount_2010.pk,
        holder_id=seed.registered.pk,
        guarantor_id=seed.guarantor.pk,
        notice=NoticeOfGuaranteedDelivery(
            tendering_holder_name="Ardsley Pension Trust",
            tendering_holder_address="1 Wall Street, New York",
            registered_names="Ardsley Pension Trust",
            certificate_numbers="D10-0001",
            amount=Decimal("1000000"),
            executed_on=dt.date(2000, 6, 26),
        ),
        actor=CLERK,
        now=DURING,
    )
    record_registration_event(
        seed.offer.pk,
        kind=RegistrationEventKind.EXCHANGE_FILED,
        occurred_on=dt.date(2000, 4, 14),
        actor=CLERK,
        now=DURING,
    )
    # A statement that ceased to be usable: a default, and special interest accrued on it.
    record_registration_event(
        seed.offer.pk,
        kind=RegistrationEventKind.EXCHANGE_EFFECTIVE,
        occurred_on=dt.date(2000, 6, 9),
        actor=CLERK,
        now=DURING,
    )
    record_registration_event(
        seed.offer.pk,
        kind=RegistrationEventKind.CEASED_USABLE,
        occurred_on=dt.date(2000, 6, 20),
        actor=CLERK,
        now=DURING,
    )
    accrue_special_interest(seed.offer.pk, through=dt.date(2000, 6, 25), actor=JOB, now=DURING)
    # A condition asserted for one series and waived again (the rows stay, for the record).
    assert_condition(
        seed.offer.pk,
        kind=ConditionKind.PROCEEDING,
        series_slugs=[seed.senior_2008.slug],
        description="A holder's suit seeks to enjoin the offer.",
        actor=SUPERVISOR,
        now=DURING,
    )
    waive_condition(
        seed.offer.pk,
        kind=ConditionKind.PROCEEDING,
        notice_on=DURING.date(),
        actor=SUPERVISOR,
        now=DURING,
    )
    JobRun.objects.create(job="expire_offer", as_of=DURING, started_at=DURING)
    SignUpRequest.objects.create(
        username=f"applicant-{seed.offer.pk}",
        email="applicant@example.com",
        contact_name="A. Applicant",
        holder_name="Hudson Valley Mutual Insurance Company",
        kind="registered_holder",
        address="40 Market Street",
        requested_at=DURING,
    )
    PortalSubmission.objects.create(
        user=get_user_model().objects.create_user(f"portal-{seed.offer.pk}"),
        token=uuid.uuid4(),
        form="letter",
        receipt_url=f"/tenders/{valid.reference}/receipt/",
        received_at=DURING,
    )
    # DTC ATOP activity: a line from a participant unknown to the register (an instruction
    # and its exception, no tender), and the agent's DTC position.
    seed.senior_2008.original_cusip = "527298AA1"
    seed.senior_2008.save(update_fields=["original_cusip"])
    import_activity(
        seed.offer.pk,
        file_name="graph.csv",
        text=",".join(ATOP_COLUMNS)
        + "\n0555,Harbor Clearing,V-GRAPH-1,527298AA1,1000000,tender,2000-06-26T09:00:00,Y,,\n",
        actor=CLERK,
        now=DURING,
    )
    record_positions(
        seed.offer.pk,
        {"527298AA1": Decimal("10000000")},
        as_of=DURING,
        source=DtcPositionSource.CLERK,
        actor=CLERK,
        now=DURING,
    )
    # A change made past the services (as from a shell): the database captures it.
    Tender.objects.filter(pk=withdrawn.pk).update(beneficial_owner="Captured")
    # A letter with special delivery instructions, its signature guaranteed by the
    # guarantor from its own login.
    guaranteed = paper_tender(
        seed,
        DURING,
        certificates=(("R08-0002", "1000000"),),
        special_delivery_name="Custodian Bank",
        special_delivery_address="2 Main Street",
        medallion_guarantor=seed.guarantor,
    )
    guarantee_letter(seed, guaranteed, DURING)
    return Graph(seed, valid, deficient, withdrawn, withdrawal, gd)


def accept_graph(graph: Graph) -> None:
    """On to the exchange date: expired, accepted, the valid tender accepted (new notes owed)."""
    offer_id = graph.seed.offer.pk
    expire_offer(offer_id, actor=JOB, now=ny(2000, 7, 12, 17, 0))
    accept_offer(offer_id, actor=SUPERVISOR, now=EXCHANGE_DAY)
    accept_tender(graph.valid.pk, actor=JOB, now=EXCHANGE_DAY)


@pytest.fixture
def graph(seed: SeedOffer) -> Graph:
    return build_graph(seed)


def desk_admins() -> list[tuple[type[models.Model], admin.ModelAdmin]]:  # type: ignore[type-arg]
    return sorted(
        (
            (model, model_admin)
            for model, model_admin in admin.site._registry.items()
            if model._meta.app_label in DESK_APPS
        ),
        key=lambda pair: pair[0]._meta.label,
    )


# --- every model, every page ----------------------------------------------------------------


def test_every_model_of_the_desk_is_registered() -> None:
    models_of_the_desk = {
        model for app in DESK_APPS for model in apps.get_app_config(app).get_models()
    }
    assert {model for model, _ in desk_admins()} == models_of_the_desk


def test_every_changelist_change_and_add_page_renders(
    client: Client, superuser: AbstractBaseUser, graph: Graph
) -> None:
    accept_graph(graph)  # so that new-note deliveries exist too
    client.force_login(superuser)
    for model, _ in desk_admins():
        name = model._meta.label
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(changelist).status_code == 200, name
        # A search runs every search_fields lookup, which no system check validates.
        assert client.get(changelist, {"q": "a"}).status_code == 200, name
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"the graph has no {name}"
        assert client.get(url(obj, "change")).status_code == 200, name
        add = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
        expected = 200 if model in ADDABLE else 403
        assert client.get(add).status_code == expected, name


@pytest.mark.parametrize("phase", ["during the offer", "on the exchange date"])
def test_every_confirmation_page_renders(
    client: Client, superuser: AbstractBaseUser, graph: Graph, phase: str
) -> None:
    instant = DURING
    if phase == "on the exchange date":
        accept_graph(graph)
        instant = EXCHANGE_DAY
    client.force_login(superuser)
    shown = 0
    with time_machine.travel(instant, tick=False):
        for model, model_admin in desk_admins():
            if not isinstance(model_admin, TransitionAdmin):
                continue
            for obj in model._default_manager.all():
                for name in buttons(client, obj):
                    response = client.get(transition_url(obj, name))
                    assert response.status_code == 200, (model, name)
                    assert 'name="csrfmiddlewaretoken"' in response.content.decode()
                    shown += 1
    assert shown >= 9  # (registration defaults have none: milestones cure them)


def test_lists_show_new_york_time_and_dollars(
    client: Client, superuser: AbstractBaseUser, graph: Graph
) -> None:
    client.force_login(superuser)
    page = client.get(reverse("admin:exchange_tender_changelist")).content.decode()
    # The tender list shows each tender's age, its New York receipt time on hover.
    assert ">Age<" in page
    assert 'title="Received 2000-06-26 10:00:00 EDT"' in page
    assert "$5,000,000.00" in page
    offers = client.get(reverse("admin:exchange_exchangeoffer_changelist")).content.decode()
    assert "Expires (New York)" in offers
    assert "2000-07-12 17:00:00 EDT" in offers


@pytest.mark.parametrize(
    ("changelist", "add_rows"),
    [
        ("admin:exchange_tender_changelist", "tenders"),
        ("admin:exchange_statechange_changelist", "tenders"),
        ("admin:exchange_deficiency_changelist", "deficiencies"),
        ("admin:holders_holding_changelist", "holdings"),
    ],
)
def test_changelists_take_the_same_queries_for_more_rows(
    client: Client, superuser: AbstractBaseUser, seed: SeedOffer, changelist: str, add_rows: str
) -> None:
    def add() -> None:
        tender = book_entry_tender(seed, DURING, amount="1000000")
        if add_rows == "deficiencies":
            record_deficiencies(
                tender.pk, defects=[(DeficiencyKind.OTHER, "Call us.")], actor=CLERK, now=DURING
            )
        if add_rows == "holdings":
            holder = Holder.objects.create(kind="registered_holder", name="New", address="NY")
            Holding.objects.create(
                holder=holder,
                series=seed.senior_2010,
                form="certificate",
                certificate_number=f"N-{holder.pk}",
                amount=Decimal("1000"),
                effective_from=dt.date(2000, 3, 1),
            )

    client.force_login(superuser)
    add()
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse(changelist)).status_code == 200
    for _ in range(4):
        add()
    with CaptureQueriesContext(connection) as more:
        assert client.get(reverse(changelist)).status_code == 200
    assert len(more) == len(few), [q["sql"] for q in more.captured_queries]


# --- read-only fields -----------------------------------------------------------------------


def test_tender_form_edits_nothing_the_letter_is_kept_as_received(
    superuser: AbstractBaseUser, seed: SeedOffer
) -> None:
    # Rule changed on purpose: no box of a received letter is an input any more; a keying
    # slip is corrected by a recorded act (tests/exchange/admin/test_letter_corrections.py).
    tender = paper_tender(seed, DURING)
    request = RequestFactory().get("/")
    request.user = superuser
    tender_admin = admin.site._registry[Tender]
    assert not tender_admin.has_change_permission(request, tender)
    readonly = set(tender_admin.get_readonly_fields(request, tender))
    assert readonly >= LETTER_FIELDS
    assert {"state", "reference", "received_at_ny", "withdrawn_amount_display"} <= readonly


def test_offer_form_never_edits_state_or_what_the_services_set(
    superuser: AbstractBaseUser, seed: SeedOffer
) -> None:
    request = RequestFactory().get("/")
    request.user = superuser
    offer_admin = admin.site._registry[ExchangeOffer]
    editable = set(offer_admin.get_form(request, seed.offer).base_fields)
    decided = {
        "state",
        "expiration_at",
        "initial_expiration_at",
        "notice_mailed_on",
        "stop_order_in_effect",
        "commenced_at",
        "expired_at",
        "accepted_at",
        "completed_at",
        "terminated_at",
        "minimum_open_days",
    }
    # Rule changed on purpose: a commenced offer's form edits nothing (its terms are the
    # issuer's, changed by amendment); a draft's form edits its terms but none of these.
    assert not editable
    draft = build_seed_offer(commence=False, slug="draft-offer").offer
    editable = set(offer_admin.get_form(request, draft).base_fields)
    assert editable
    assert not editable & (decided - {"initial_expiration_at", "minimum_open_days"})
    assert "state" not in set(offer_admin.get_form(request, None).base_fields)


def test_state_is_not_an_input_on_the_change_form(
    client: Client, clerk: AbstractBaseUser, seed: SeedOffer
) -> None:
    tender = paper_tender(seed, DURING)
    client.force_login(clerk)
    page = client.get(url(tender, "change")).content.decode()
    # Rule changed on purpose: no letter box is an input either (corrections are recorded).
    assert 'name="signed"' not in page
    for decided in ("state", "received_at", "reference", "withdrawn_amount", "amount"):
        assert f'name="{decided}"' not in page


# --- buttons: exactly the transitions allowed now -------------------------------------------


def test_received_tender_shows_exactly_its_allowed_transitions(
    client: Client,
    superuser: AbstractBaseUser,
    clerk: AbstractBaseUser,
    seed: SeedOffer,
    at_during_offer: Any,
) -> None:
    tender = paper_tender(seed, DURING)
    allowed = {t.name for t in tender.get_available_state_transitions()}
    assert allowed == {"start_review", "find_deficient", "validate", "withdraw", "reject"}
    # Withdrawal is a holder's notice (its own page), not a button on the tender.
    mapped = {t.name for t in TENDER_TRANSITIONS if (t.fsm or t.name) in allowed}
    assert mapped == {"start_review", "find_deficient", "validate", "reject"}

    # And a keyed paper letter may get a recorded correction (no FSM move).
    client.force_login(superuser)
    assert buttons(client, tender) == mapped | {"correct_letter"}
    client.force_login(clerk)
    # The issuer rejects, not a clerk.
    assert buttons(client, tender) == (mapped | {"correct_letter"}) - {"reject"}


def test_buttons_follow_the_state_and_the_clock(
    client: Client,
    supervisor: AbstractBaseUser,
    clerk: AbstractBaseUser,
    graph: Graph,
    at_during_offer: Any,
) -> None:
    offer = graph.seed.offer
    client.force_login(supervisor)
    assert buttons(client, offer) == {
        "extend",
        "amend",
        "amend_term",  # the issuer's amendment of one term, with old and new value
        "stop_order_on",
        "terminate",
        "announce",
        # The issuer's conditions and the time to cure (issue 13).
        "assert_condition",
        "waive_condition",
        "cure_period",
    }
    # An open defect: not valid yet (validate's FSM condition), more defects may be added.
    # The issuer may give a deficient holder more time to cure (issue 13).
    assert buttons(client, graph.deficient) == {"find_deficient", "reject", "extend_cure"}
    assert buttons(client, graph.valid) == {"find_deficient", "reject"}
    assert buttons(client, graph.withdrawn) == set()
    assert buttons(client, graph.withdrawal) == set()  # already effective
    assert buttons(client, NoteReturn.objects.get(tender=graph.withdrawn)) == {"mark_returned"}
    assert buttons(client, graph.gd) == {"waive_late_delivery"}  # not due yet: no lapse
    client.force_login(clerk)
    assert buttons(client, offer) == set()  # nothing but issuer decisions before expiration
    assert buttons(client, graph.gd) == set()

    # After the deadline (midnight ending Thursday, June 29) the notice can lapse.
    at_during_offer.move_to(ny(2000, 6, 30, 9, 0))
    client.force_login(clerk)  # four days on, the idle desk session has ended
    assert buttons(client, GuaranteedDelivery.objects.get(pk=graph.gd.pk)) == {"lapse"}
    # After the expiration instant the clerk may expire the offer; extension is over.
    at_during_offer.move_to(ny(2000, 7, 12, 17, 0))
    client.force_login(clerk)  # the session of June 26 has expired by now
    assert buttons(client, offer) == {"expire"}
    client.force_login(supervisor)
    assert buttons(client, offer) == {
        "expire",
        "stop_order_on",
        "terminate",
        "announce",
        # Conditions may be asserted or waived until acceptance; the issuer sets the cure time.
        "assert_condition",
        "waive_condition",
        "cure_period",
    }


# --- posting a transition ---------------------------------------------------------------------


def test_clerk_starts_review_through_the_service(
    client: Client, clerk: AbstractBaseUser, seed: SeedOffer, at_during_offer: Any
) -> None:
    tender = paper_tender(seed, DURING)
    client.force_login(clerk)
    confirm = client.get(transition_url(tender, "start_review"))
    assert confirm.status_code == 200
    assert "moves to In review" in confirm.content.decode()
    tender.refresh_from_db()
    assert tender.state == TenderState.RECEIVED  # the confirmation page changes nothing

    response = client.post(transition_url(tender, "start_review"))
    assert response.status_code == 302
    assert response["Location"] == url(tender, "change")
    assert messages_of(response) == [
        (django_messages.SUCCESS, f"Tender {tender.reference} is in review.")
    ]
    tender.refresh_from_db()
    assert tender.state == TenderState.IN_REVIEW
    row = StateChange.objects.get(action="exchange.tender.review_started", object_id=tender.pk)
    assert row.actor_label == "clara"
    assert row.actor_user == clerk
    assert row.actor_kind == ActorKind.CLERK
    assert row.at == DURING
    assert (row.from_state, row.to_state) == (TenderState.RECEIVED, TenderState.IN_REVIEW)


def test_desk_error_becomes_a_message_and_changes_nothing(
    client: Client, clerk: AbstractBaseUser, seed: SeedOffer, at_during_offer: Any
) -> None:
    tender = paper_tender(seed, DURING)
    before = history_count()
    client.force_login(clerk)
    # A defect ticked without saying how to cure it: record_deficiencies refuses.
    response = client.post(
        transition_url(tender, "find_deficient"),
        {"defect_representations": "on", "note_representations": ""},
    )
    assert response.status_code == 302
    assert response["Location"] == url(tender, "change")
    assert messages_of(response) == [
        (
            django_messages.ERROR,
            "Say what the holder must do to cure “Representations incomplete”.",
        )
    ]
    tender.refresh_from_db()
    assert tender.state == TenderState.RECEIVED
    assert not Deficiency.objects.exists()
    assert history_count() == before


def test_transition_not_allowed_now_is_refused_with_a_message(
    client: Client, clerk: AbstractBaseUser, seed: SeedOffer, at_during_offer: Any
) -> None:
    tender = paper_tender(seed, DURING)
    client.force_login(clerk)
    client.post(transition_url(tender, "start_review"))
    before = history_count()
    # A stale page: the tender is already in review.
    response = client.post(transition_url(tender, "start_review"))
    assert response.status_code == 302
    level, text = messages_of(response)[-1]
    assert level == django_messages.ERROR
    assert "not possible now" in text
    # The offer has not reached its expiration instant: no expiring it by hand.
    response = client.post(transition_url(seed.offer, "expire"))
    assert response.status_code == 302
    seed.offer.refresh_from_db()
    assert seed.offer.state == OfferState.OPEN
    assert history_count() == before
    assert client.get(transition_url(tender, "no_such_thing")).status_code == 404


def test_invalid_form_shows_the_form_again(
    client: Client, supervisor: AbstractBaseUser, seed: SeedOffer, at_during_offer: Any
) -> None:
    client.force_login(supervisor)
    response = client.post(transition_url(seed.offer, "extend"), {"new_expiration": "2000-07-19"})
    assert response.status_code == 200
    assert "YYYY-MM-DD HH:MM" in response.content.decode()
    seed.offer.refresh_from_db()
    assert seed.offer.expiration_at == ny(2000, 7, 12, 17, 0)


def test_deficiency_checklist_then_cure_and_waiver(
    client: Client,
    clerk: AbstractBaseUser,
    supervisor: AbstractBaseUser,
    seed: SeedOffer,
    at_during_offer: Any,
) -> None:
    tender = paper_tender(seed, DURING)
    client.force_login(clerk)
    page = client.get(transition_url(tender, "find_deficient")).content.decode()
    # Every kind but the W-9, which is backup withholding and never a defect.
    assert page.count('type="checkbox"') == len(DeficiencyKind) - 1
    assert 'name="defect_w9"' not in page
    response = client.post(
        transition_url(tender, "find_deficient"),
        {
            "defect_signature": "on",
            "note_signature": "Sign the letter as the notes are registered.",
            "defect_representations": "on",
            "note_representations": "Make the representations of the letter.",
        },
    )
    assert messages_of(response)[0][0] == django_messages.SUCCESS
    tender.refresh_from_db()
    assert tender.state == TenderState.DEFICIENT
    signature = Deficiency.objects.get(tender=tender, kind=DeficiencyKind.SIGNATURE)
    reps = Deficiency.objects.get(tender=tender, kind=DeficiencyKind.REPRESENTATIONS)

    assert buttons(client, signature) == {"cure"}  # waiving is the issuer's
    client.post(transition_url(signature, "cure"), {"note": "Signed letter received."})
    signature.refresh_from_db()
    assert signature.status == DeficiencyStatus.CURED
    assert client.post(transition_url(reps, "waive"), {"authorized_by": "CFO"}).status_code == 403

    client.force_login(supervisor)
    assert buttons(client, reps) == {"cure", "waive"}
    response = client.post(
        transition_url(reps, "waive"), {"authorized_by": "J. Smith, Treasurer", "note": ""}
    )
    assert "now valid" in messages_of(response)[0][1]
    reps.refresh_from_db()
    tender.refresh_from_db()
    assert reps.status == DeficiencyStatus.WAIVED
    assert reps.waiver_authorized_by == "J. Smith, Treasurer"
    assert tender.state == TenderState.VALID


def test_clerk_processes_a_notice_and_marks_the_return(
    client: Client, clerk: AbstractBaseUser, seed: SeedOffer, at_during_offer: Any
) -> None:
    tender = paper_tender(seed, DURING)
    notice = receive_withdrawal(
        tender.pk,
        notice=NoticeOfWithdrawal(
            tendering_person_name="Ardsley Pension Trust",
            certificate_numbers="R08-0001",
            amount=Decimal("5000000"),
            states_withdrawal=True,
            registered_holder_name="Ardsley Pension Trust",
            signed_as_letter=True,
        ),
        actor=CLERK,
        now=DURING,
        process=False,
    )
    client.force_login(clerk)
    assert buttons(client, notice) == {"process"}
    client.post(transition_url(notice, "process"))
    notice.refresh_from_db()
    tender.refresh_from_db()
    assert notice.state == WithdrawalState.EFFECTIVE
    assert tender.state == TenderState.WITHDRAWN

    note_return = NoteReturn.objects.get(tender=tender)
    client.post(transition_url(note_return, "mark_returned"))
    note_return.refresh_from_db()
    tender.refresh_from_db()
    assert note_return.returned_at == DURING
    assert tender.state == TenderState.RETURNED
    assert buttons(client, note_return) == set()


def test_clerk_lapses_a_guarantee_after_its_deadline(
    client: Client, clerk: AbstractBaseUser, graph: Graph
) -> None:
    client.force_login(clerk)
    with time_machine.travel(ny(2000, 6, 30, 9, 0), tick=False):
        client.force_login(clerk)
        response = client.post(transition_url(graph.gd, "lapse"))
    assert messages_of(response)[0][0] == django_messages.SUCCESS
    graph.gd.refresh_from_db()
    assert graph.gd.state == GuaranteedDeliveryState.LAPSED
    assert Tender.objects.get(pk=graph.gd.tender_id).state == TenderState.REJECTED


# --- issuer decisions -------------------------------------------------------------------------


def test_clerk_cannot_post_an_issuer_decision(
    client: Client, clerk: AbstractBaseUser, seed: SeedOffer, at_during_offer: Any
) -> None:
    tender = paper_tender(seed, DURING)
    before = history_count()
    events = OfferEvent.objects.count()
    client.force_login(clerk)
    terminate = transition_url(seed.offer, "terminate")
    assert client.get(terminate).status_code == 403
    assert client.post(terminate, {"reason": "A material adverse change."}).status_code == 403
    extend = transition_url(seed.offer, "extend")
    assert client.post(extend, {"new_expiration": "2000-07-19 17:00"}).status_code == 403
    reject = transition_url(tender, "reject")
    assert client.post(reject, {"reason": "Not in proper form."}).status_code == 403
    seed.offer.refresh_from_db()
    tender.refresh_from_db()
    assert seed.offer.state == OfferState.OPEN
    assert seed.offer.expiration_at == ny(2000, 7, 12, 17, 0)
    assert tender.state == TenderState.RECEIVED
    assert history_count() == before
    assert OfferEvent.objects.count() == events


def test_supervisor_extends_the_offer(
    client: Client, supervisor: AbstractBaseUser, seed: SeedOffer, at_during_offer: Any
) -> None:
    client.force_login(supervisor)
    extend = transition_url(seed.offer, "extend")
    form = client.get(extend).content.decode()
    assert 'value="2000-07-12 17:00"' in form  # the current expiration, to edit
    response = client.post(
        extend, {"new_expiration": "2000-07-19 17:00", "reason": "Issuer's notice of June 26."}
    )
    assert response["Location"] == url(seed.offer, "change")
    [(level, text)] = messages_of(response)
    assert level == django_messages.SUCCESS
    assert "5:00 p.m. New York City time, Wednesday, July 19, 2000" in text
    assert "Announce it by 9:00 a.m. New York City time, Thursday, July 13, 2000" in text
    seed.offer.refresh_from_db()
    assert seed.offer.expiration_at == ny(2000, 7, 19, 17, 0)
    row = StateChange.objects.get(action="exchange.offer.extended")
    assert (row.actor_kind, row.actor_label, row.at) == (ActorKind.SUPERVISOR, "sam", DURING)


def test_supervisor_extension_refused_by_the_service_is_a_message(
    client: Client, supervisor: AbstractBaseUser, seed: SeedOffer, at_during_offer: Any
) -> None:
    before = history_count()
    client.force_login(supervisor)
    response = client.post(
        transition_url(seed.offer, "extend"), {"new_expiration": "2000-07-10 17:00"}
    )
    [(level, text)] = messages_of(response)
    assert level == django_messages.ERROR
    assert text.startswith("An extension must move the expiration later")
    seed.offer.refresh_from_db()
    assert seed.offer.expiration_at == ny(2000, 7, 12, 17, 0)
    assert history_count() == before


def test_transitions_need_the_csrf_token(
    clerk: AbstractBaseUser, seed: SeedOffer, at_during_offer: Any
) -> None:
    tender = paper_tender(seed, DURING)
    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk)
    assert client.post(transition_url(tender, "start_review")).status_code == 403
    tender.refresh_from_db()
    assert tender.state == TenderState.RECEIVED


# --- history --------------------------------------------------------------------------------


def test_history_cannot_be_added_changed_or_deleted(
    client: Client, superuser: AbstractBaseUser, seed: SeedOffer
) -> None:
    tender = paper_tender(seed, DURING)
    row = StateChange.objects.get(action="exchange.tender.received", object_id=tender.pk)
    client.force_login(superuser)
    assert client.get(reverse("admin:exchange_statechange_add")).status_code == 403
    assert client.post(reverse("admin:exchange_statechange_add"), {}).status_code == 403
    view = client.get(url(row, "change"))
    assert view.status_code == 200  # readable...
    assert 'name="_save"' not in view.content.decode()  # ...and nothing to save
    assert client.post(url(row, "change"), {"reason": "rewritten"}).status_code == 403
    assert client.get(url(row, "delete")).status_code == 403
    assert client.post(url(row, "delete"), {"post": "yes"}).status_code == 403
    changelist = client.get(reverse("admin:exchange_statechange_changelist"))
    assert "delete_selected" not in changelist.content.decode()
    stored = StateChange.objects.get(pk=row.pk)
    assert (stored.reason, stored.action) == (row.reason, row.action)


def test_history_inline_is_read_only(
    client: Client, clerk: AbstractBaseUser, seed: SeedOffer
) -> None:
    tender = paper_tender(seed, DURING)
    client.force_login(clerk)
    page = client.get(url(tender, "change")).content.decode()
    assert "exchange.tender.received" in page
    assert "At (New York)" in page
    assert "2000-06-26 10:00:00 EDT" in page
    prefix = "exchange-statechange-content_type-object_id"
    assert f'name="{prefix}-MAX_NUM_FORMS" value="0"' in page  # no row can be added
    assert not re.search(rf'<(input|textarea|select)[^>]*name="{prefix}-\d+-(?!id")', page)


def change_form_data(response: Any) -> dict[str, Any]:
    """What a browser would post back from an admin change form, as rendered."""
    data: dict[str, Any] = {}

    def put(form: Any) -> None:
        for name in form.fields:
            value = form[name].value()
            if isinstance(value, bool) or value is None:
                if value:
                    data[form.add_prefix(name)] = "on"
                continue
            data[form.add_prefix(name)] = value

    put(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        put(formset.management_form)
        for form in formset.forms:
            put(form)
    return data


def test_saving_the_letter_is_refused(
    client: Client, clerk: AbstractBaseUser, seed: SeedOffer
) -> None:
    tender = paper_tender(seed, DURING)
    client.force_login(clerk)
    # Rule changed on purpose: the letter is kept as received; saving it is refused.
    data = {"signer_name": "J. Q. Trustee, Trustee", "state": "valid", "amount": "1"}
    before = list(StateChange.objects.values_list("pk", "reason"))
    response = client.post(url(tender, "change"), data)
    assert response.status_code == 403
    tender.refresh_from_db()
    assert tender.signer_name == "Ardsley Pension Trust"
    assert tender.state == TenderState.RECEIVED
    assert tender.amount == Decimal("5000000")
    assert list(StateChange.objects.values_list("pk", "reason")) == before


# --- configuration: a new offer, then its commencement ---------------------------------------


def test_a_new_offer_is_a_draft_and_commencing_it_goes_through_the_service(
    client: Client, superuser: AbstractBaseUser, supervisor: AbstractBaseUser
) -> None:
    issuer = Issuer.objects.create(name="Level 3 Communications, Inc.")
    client.force_login(superuser)
    add = reverse("admin:exchange_exchangeoffer_add")
    data = change_form_data(client.get(add))
    data.update(
        {
            "issuer": issuer.pk,
            "slug": "level3-2000",
            "name": "Level 3 exchange offer",
            "exchange_agent": "The Bank of New York",
            "prospectus_date": "2000-06-09",
            "registration_agreement_date": "2000-02-24",
            "original_issue_date": "2000-02-29",
            "initial_expiration_at_0": "2000-07-12",
            "initial_expiration_at_1": "17:00",
        }
    )
    response = client.post(add, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    offer = ExchangeOffer.objects.get(slug="level3-2000")
    assert offer.state == OfferState.DRAFT
    # The form's time is New York time; before any extension it is the expiration too.
    assert offer.initial_expiration_at == offer.expiration_at == ny(2000, 7, 12, 17, 0)

    client.force_login(supervisor)
    with time_machine.travel(ny(2000, 6, 9, 9, 0), tick=False):
        client.force_login(supervisor)
        assert buttons(client, offer) == {"commence", "stop_order_on"}
        response = client.post(transition_url(offer, "commence"), {"mailed_on": ""})
    # No series yet: commence_offer refuses, and says what to do.
    assert messages_of(response)[-1] == (
        django_messages.ERROR,
        "Add the note series before commencing the offer.",
    )
    offer.refresh_from_db()
    assert offer.state == OfferState.DRAFT
    assert not StateChange.objects.filter(object_id=offer.pk).exists()


def test_read_only_fields_show_a_dash_not_none(
    client: Client, superuser: AbstractBaseUser, seed: SeedOffer
) -> None:
    client.force_login(superuser)
    page = client.get(url(seed.offer, "change")).content.decode()
    assert "2000-06-09 09:00:00 EDT" in page  # commenced
    assert not re.search(r'<div class="readonly">\s*None\s*</div>', page)
