"""The ATOP activity import: every instruction type and every exception, through the
portal's services; re-import, overlapping files, deadlines one second before and at."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from exchange.models import (
    AtopException,
    AtopExceptionKind,
    AtopExceptionStatus,
    AtopImport,
    AtopInstruction,
    AtopOutcome,
    Channel,
    GuaranteedDeliveryState,
    StateChange,
    Tender,
    TenderState,
    WithdrawalState,
)
from exchange.services.atop import (
    escalate_exception,
    import_activity,
    match_exception,
    read_activity_file,
    reject_exception,
)
from exchange.services.base import DeskError
from exchange.services.offers import expire_offer
from holders.models import HolderKind
from tests.factories import CLERK, JOB, SUPERVISOR, SeedOffer, make_holder, ny

HEADER = (
    "participant_number,participant_name,voi_number,cusip,quantity,instruction_type,"
    "dtc_timestamp,agents_message,original_voi,beneficial_owners\n"
)
CUSIP_2008 = "527298AA1"
CUSIP_2010 = "527298AB9"
CUSIP_DISCOUNT = "527298AC7"
IMPORTED_AT = ny(2000, 7, 13, 8, 0)
EXPIRATION = ny(2000, 7, 12, 17, 0)
ONE_SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def atop_seed(seed: SeedOffer) -> SeedOffer:
    for series, cusip in (
        (seed.senior_2008, CUSIP_2008),
        (seed.senior_2010, CUSIP_2010),
        (seed.discount_2010, CUSIP_DISCOUNT),
    ):
        series.original_cusip = cusip
        series.save(update_fields=["original_cusip"])
    return seed


def row(
    voi: str,
    kind: str,
    quantity: str,
    at: str,
    *,
    cusip: str = CUSIP_2008,
    participant: str = "0901",
    message: str = "Y",
    original: str = "",
    owners: str = "BO-1",
) -> str:
    return f"{participant},Bayside Securities LLC,{voi},{cusip},{quantity},{kind},{at},{message},{original},{owners}\n"


def run(
    seed: SeedOffer,
    text: str,
    *,
    now: dt.datetime = IMPORTED_AT,
    name: str = "activity.csv",
    dry: bool = False,
):
    return import_activity(
        seed.offer.pk, file_name=name, text=HEADER + text, actor=CLERK, now=now, dry_run=dry
    )


EVERY_TYPE = (
    row("V-T1", "tender", "10000000", "2000-07-10T10:00:00")
    + row("V-T2", "tender", "4000000", "2000-07-10T10:05:00", cusip=CUSIP_DISCOUNT)
    + row("V-W1", "withdrawal", "3000000", "2000-07-11T09:00:00", original="V-T1")
    + row("V-P1", "protect", "2000000", "2000-07-11T11:00:00", cusip=CUSIP_2010)
    + row("V-C1", "cover", "2000000", "2000-07-12T15:00:00", cusip=CUSIP_2010, original="V-P1")
)


@pytest.mark.django_db
def test_every_instruction_type_goes_through_the_services(atop_seed: SeedOffer) -> None:
    summary = run(atop_seed, EVERY_TYPE)
    assert (summary.new_tenders, summary.withdrawals, summary.protects, summary.covers) == (
        2,
        1,
        1,
        1,
    )
    assert summary.exceptions == []
    t1 = AtopInstruction.objects.get(voi_number="V-T1").tender
    assert t1.channel == Channel.BOOK_ENTRY and t1.agents_message
    assert t1.book_entry_confirmation == "V-T1"
    assert t1.received_at == ny(2000, 7, 10, 10, 0)  # DTC's timestamp is the receipt time
    assert t1.live_amount == Decimal("7000000") and t1.state == TenderState.RECEIVED
    w1 = AtopInstruction.objects.get(voi_number="V-W1").withdrawal
    assert w1.state == WithdrawalState.EFFECTIVE and w1.received_at == ny(2000, 7, 11, 9, 0)
    gd = AtopInstruction.objects.get(voi_number="V-P1").guaranteed_delivery
    gd.refresh_from_db()
    assert gd.state == GuaranteedDeliveryState.FULFILLED
    assert gd.tender.state == TenderState.RECEIVED and gd.tender.channel == Channel.BOOK_ENTRY
    # Same history as the portal's, timed when the desk recorded it.
    actions = set(StateChange.objects.filter(at=IMPORTED_AT).values_list("action", flat=True))
    assert {
        "exchange.tender.received",
        "exchange.withdrawal.effective",
        "exchange.guaranteed_delivery.received",
        "exchange.guaranteed_delivery.fulfilled",
        "exchange.tender.notes_delivered",
        "exchange.atop_import.imported",
    } <= actions


@pytest.mark.django_db
def test_reimport_records_nothing_twice(atop_seed: SeedOffer) -> None:
    bad = row("V-X1", "tender", "1500", "2000-07-10T10:00:00")
    run(atop_seed, EVERY_TYPE + bad)
    counts = (
        Tender.objects.count(),
        StateChange.objects.exclude(action="exchange.atop_import.imported").count(),
        AtopException.objects.count(),
    )
    again = run(atop_seed, EVERY_TYPE + bad, now=IMPORTED_AT + dt.timedelta(hours=1))
    assert again.already_recorded == 6 and again.exceptions == []
    assert (
        Tender.objects.count(),
        StateChange.objects.exclude(action="exchange.atop_import.imported").count(),
        AtopException.objects.count(),
    ) == counts
    assert AtopImport.objects.count() == 2


@pytest.mark.django_db
def test_dry_run_records_nothing_and_previews_the_same(atop_seed: SeedOffer) -> None:
    preview = run(
        atop_seed, EVERY_TYPE + row("V-X1", "tender", "1500", "2000-07-10T10:00:00"), dry=True
    )
    assert (preview.new_tenders, preview.withdrawals, preview.protects, preview.covers) == (
        2,
        1,
        1,
        1,
    )
    assert [kind for _, kind, _ in preview.exceptions] == [AtopExceptionKind.DENOMINATION]
    assert not Tender.objects.exists() and not AtopImport.objects.exists()
    assert (
        not AtopException.objects.exists()
        and not StateChange.objects.filter(action__startswith="exchange.tender").exists()
    )


def _kinds() -> dict[str, str]:
    return dict(AtopException.objects.values_list("voi_number", "kind"))


@pytest.mark.django_db
def test_every_exception(atop_seed: SeedOffer) -> None:
    make_holder(HolderKind.DTC_PARTICIPANT, name="Not Registered Co", dtc_participant_number="0777")
    text = (
        row("E-CUSIP", "tender", "1000000", "2000-07-10T10:00:00", cusip="999999AA9")
        + row("E-PART", "tender", "1000000", "2000-07-10T10:00:00", participant="0555")
        + row("E-OVER", "tender", "121000000", "2000-07-10T10:00:00")
        + row("E-DENOM", "tender", "1500", "2000-07-10T10:00:00")
        + row("E-UNKNOWN", "withdrawal", "1000000", "2000-07-10T10:00:00", original="NOPE")
        + row("E-MSG", "tender", "1000000", "2000-07-10T10:00:00", message="N")
        + row("E-LATE", "tender", "1000000", "2000-07-12T17:00:01")
        + row("E-DUP", "tender", "1000000", "2000-07-10T10:00:00")
        + row("E-DUP", "tender", "2000000", "2000-07-10T10:00:00")
        + "0901,Bayside,E-BAD,527298AA1,lots,tender,yesterday,Y,,\n"
    )
    summary = run(atop_seed, text)
    assert summary.new_tenders == 1  # the first E-DUP
    kinds = [kind for _, kind, _ in summary.exceptions]
    assert kinds == [
        AtopExceptionKind.UNKNOWN_CUSIP,
        AtopExceptionKind.UNKNOWN_PARTICIPANT,
        AtopExceptionKind.OVER_POSITION,
        AtopExceptionKind.DENOMINATION,
        AtopExceptionKind.UNKNOWN_VOI,
        AtopExceptionKind.NO_AGENTS_MESSAGE,
        AtopExceptionKind.LATE,
        AtopExceptionKind.DUPLICATE_VOI,
        AtopExceptionKind.UNREADABLE,
    ]
    lines = dict(AtopException.objects.values_list("kind", "line_number"))
    assert lines[AtopExceptionKind.UNKNOWN_CUSIP] == 2 and lines[AtopExceptionKind.UNREADABLE] == 11
    assert "999999AA9" in AtopException.objects.get(kind=AtopExceptionKind.UNKNOWN_CUSIP).line
    assert Tender.objects.count() == 1
    assert StateChange.objects.filter(action="exchange.atop_exception.raised").count() == 9
    dup = AtopException.objects.get(kind=AtopExceptionKind.DUPLICATE_VOI)
    assert dup.instruction.outcome == AtopOutcome.APPLIED and dup.instruction.quantity == Decimal(
        "1000000"
    )


@pytest.mark.django_db
def test_discount_notes_in_thousands_at_maturity(atop_seed: SeedOffer) -> None:
    summary = run(
        atop_seed, row("D-1", "tender", "1000500", "2000-07-10T10:00:00", cusip=CUSIP_DISCOUNT)
    )
    assert [k for _, k, _ in summary.exceptions] == [AtopExceptionKind.DENOMINATION]
    assert "principal amount at maturity" in summary.exceptions[0][2]


@pytest.mark.django_db
def test_tender_on_the_expiration_instant_counts_after_the_offer_expired(
    atop_seed: SeedOffer,
) -> None:
    expire_offer(atop_seed.offer.pk, actor=JOB, now=EXPIRATION)
    summary = run(
        atop_seed,
        row("AT", "tender", "1000000", "2000-07-12T17:00:00")
        + row("AFTER", "tender", "1000000", "2000-07-12T17:00:01")
        + row("W-AT", "withdrawal", "1000000", "2000-07-12T17:00:00", original="AT")
        + row("W-BEFORE", "withdrawal", "1000000", "2000-07-12T16:59:59", original="AT"),
    )
    assert summary.new_tenders == 1
    assert summary.withdrawals == 1  # one second before the instant
    late = {voi for voi, kind in _kinds().items() if kind == AtopExceptionKind.LATE}
    assert late == {"AFTER", "W-AT"}


def _protect_and_cover(seed: SeedOffer, cover_at: dt.datetime) -> AtopInstruction:
    # Protect on Monday July 10, 2000: three NYSE trading days after is Thursday July 13,
    # so the cover is due by its end (midnight New York).
    run(seed, row("P", "protect", "2000000", "2000-07-10T10:00:00"))
    gd = AtopInstruction.objects.get(voi_number="P").guaranteed_delivery
    assert gd.deadline_at == ny(2000, 7, 14, 0, 0)
    stamp = cover_at.astimezone(dt.UTC).isoformat()
    run(seed, row("C", "cover", "2000000", stamp, original="P"), now=ny(2000, 7, 14, 9, 0))
    return AtopInstruction.objects.get(voi_number="C")


@pytest.mark.django_db
def test_cover_one_second_before_its_deadline_completes_the_protect(atop_seed: SeedOffer) -> None:
    cover = _protect_and_cover(atop_seed, ny(2000, 7, 14, 0, 0) - ONE_SECOND)
    assert cover.outcome == AtopOutcome.APPLIED
    assert cover.guaranteed_delivery.state == GuaranteedDeliveryState.FULFILLED
    assert cover.guaranteed_delivery.fulfilled_at == ny(2000, 7, 14, 0, 0) - ONE_SECOND


@pytest.mark.django_db
def test_cover_at_its_deadline_is_late(atop_seed: SeedOffer) -> None:
    cover = _protect_and_cover(atop_seed, ny(2000, 7, 14, 0, 0))
    assert cover.outcome == AtopOutcome.EXCEPTION
    assert cover.exceptions.get().kind == AtopExceptionKind.LATE
    gd = AtopInstruction.objects.get(voi_number="P").guaranteed_delivery
    gd.refresh_from_db()
    assert (
        gd.state == GuaranteedDeliveryState.RECEIVED
        and gd.tender.state == TenderState.PENDING_DELIVERY
    )


@pytest.mark.django_db
def test_a_file_without_the_columns_is_refused_whole(atop_seed: SeedOffer) -> None:
    with pytest.raises(DeskError, match=r"missing: .*voi_number"):
        import_activity(
            atop_seed.offer.pk,
            file_name="x.csv",
            text="participant,amount\n1,2\n",
            actor=CLERK,
            now=IMPORTED_AT,
        )
    assert not AtopImport.objects.exists()
    assert read_activity_file(HEADER) == []


# --- the exceptions queue -------------------------------------------------------------


@pytest.mark.django_db
def test_unknown_participant_matched_to_a_holder_is_applied_at_dtcs_time(
    atop_seed: SeedOffer,
) -> None:
    run(atop_seed, row("M-1", "tender", "1000000", "2000-07-10T10:00:00", participant="0555"))
    exception = AtopException.objects.get()
    done = match_exception(
        exception.pk,
        holder_id=atop_seed.participant.pk,
        note="Renumbered participant.",
        actor=CLERK,
        now=IMPORTED_AT,
    )
    assert (
        done.status == AtopExceptionStatus.MATCHED and done.matched_holder == atop_seed.participant
    )
    tender = AtopInstruction.objects.get(voi_number="M-1").tender
    assert tender.holder == atop_seed.participant and tender.received_at == ny(2000, 7, 10, 10, 0)
    assert StateChange.objects.filter(
        action="exchange.atop_exception.matched", object_id=exception.pk
    ).exists()
    with pytest.raises(DeskError, match="already resolved"):
        reject_exception(exception.pk, reason="x", actor=CLERK, now=IMPORTED_AT)


@pytest.mark.django_db
def test_match_refuses_a_non_participant_and_other_kinds(atop_seed: SeedOffer) -> None:
    run(
        atop_seed,
        row("M-1", "tender", "1000000", "2000-07-10T10:00:00", participant="0555")
        + row("M-2", "tender", "1500", "2000-07-10T10:00:00"),
    )
    unknown = AtopException.objects.get(voi_number="M-1")
    with pytest.raises(DeskError, match="not a DTC participant"):
        match_exception(
            unknown.pk, holder_id=atop_seed.registered.pk, note="", actor=CLERK, now=IMPORTED_AT
        )
    denomination = AtopException.objects.get(voi_number="M-2")
    with pytest.raises(DeskError, match="Only a participant unknown"):
        match_exception(
            denomination.pk,
            holder_id=atop_seed.participant.pk,
            note="",
            actor=CLERK,
            now=IMPORTED_AT,
        )
    assert not Tender.objects.exists()


@pytest.mark.django_db
def test_reject_and_escalate_are_recorded_and_escalated_needs_a_supervisor(
    atop_seed: SeedOffer,
) -> None:
    run(
        atop_seed,
        row("R-1", "tender", "1500", "2000-07-10T10:00:00")
        + row("R-2", "tender", "2500", "2000-07-10T10:00:00"),
    )
    first, second = AtopException.objects.order_by("line_number")
    with pytest.raises(DeskError, match="reason"):
        reject_exception(first.pk, reason="  ", actor=CLERK, now=IMPORTED_AT)
    reject_exception(
        first.pk, reason="Participant told to resubmit in $1,000s.", actor=CLERK, now=IMPORTED_AT
    )
    escalate_exception(second.pk, note="Participant disputes.", actor=CLERK, now=IMPORTED_AT)
    with pytest.raises(DeskError, match="supervisor"):
        reject_exception(second.pk, reason="No.", actor=CLERK, now=IMPORTED_AT)
    reject_exception(
        second.pk, reason="Issuer declines.", actor=SUPERVISOR, now=IMPORTED_AT, supervisor=True
    )
    actions = list(
        StateChange.objects.filter(action__startswith="exchange.atop_exception.")
        .exclude(action__endswith="raised")
        .values_list("action", "from_state", "to_state")
    )
    assert actions == [
        ("exchange.atop_exception.rejected", "open", "rejected"),
        ("exchange.atop_exception.escalated", "open", "escalated"),
        ("exchange.atop_exception.rejected", "escalated", "rejected"),
    ]


@pytest.mark.django_db
def test_a_dtc_timestamp_after_the_import_is_not_trusted(atop_seed: SeedOffer) -> None:
    summary = run(
        atop_seed,
        row("F-1", "tender", "1000000", "2000-06-26T10:00:01"),
        now=ny(2000, 6, 26, 10, 0),
    )
    assert [k for _, k, _ in summary.exceptions] == [AtopExceptionKind.REFUSED]
    assert "future" in summary.exceptions[0][2]
    assert not Tender.objects.exists()
