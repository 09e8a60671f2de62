"""The set-based path for plain tenders leaves the same records as the per-line path:
the same tenders, instructions, exceptions and history, and the same mails."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.db import transaction

from exchange.models import (
    AtopException,
    AtopInstruction,
    Channel,
    ExchangeOffer,
    StateChange,
    Tender,
)
from exchange.services.atop import bulk, import_activity
from exchange.services.offers import expire_offer, terminate_offer
from holders.models import HolderKind
from tests.exchange.services.test_atop import (
    CUSIP_2010,
    CUSIP_DISCOUNT,
    HEADER,
    IMPORTED_AT,
    atop_seed,
    row,
)
from tests.factories import CLERK, JOB, SUPERVISOR, SeedOffer, deliver_outbox, make_holder, ny

__all__ = ["atop_seed"]

REFERENCE = re.compile(r"\b[A-Z]{2}-[A-Z0-9]{4}-[A-Z0-9]{4}\b")

MIXED = (
    # Tenders that together run over the participant's $40,000,000 of the 2010 notes.
    "".join(
        row(f"B-{n}", "tender", "9000000", f"2000-07-10T10:0{n}:00", cusip=CUSIP_2010)
        for n in range(6)
    )
    + row("B-CUSIP", "tender", "1000000", "2000-07-10T11:00:00", cusip="999999AA9")
    + row("B-PART", "tender", "1000000", "2000-07-10T11:00:00", participant="0555")
    + row("B-DENOM", "tender", "1000500", "2000-07-10T11:00:00", cusip=CUSIP_DISCOUNT)
    + row("B-MSG", "tender", "1000000", "2000-07-10T11:00:00", message="N")
    + row("B-LATE", "tender", "1000000", "2000-07-12T17:00:01")
    + row("B-FUTURE", "tender", "1000000", "2000-07-13T09:00:00")
    + row("B-AT", "tender", "1000000", "2000-07-12T17:00:00")
    + row("B-DUP", "tender", "1000000", "2000-07-10T11:00:00")
    + row("B-DUP", "tender", "1000000", "2000-07-10T11:00:00")
    + row("B-DUP", "tender", "3000000", "2000-07-10T11:00:00")
    + row("B-W", "withdrawal", "9000000", "2000-07-11T09:00:00", cusip=CUSIP_2010, original="B-0")
    + row("B-AFTER-W", "tender", "9000000", "2000-07-11T10:00:00", cusip=CUSIP_2010)
    + row("B-P", "protect", "2000000", "2000-07-11T11:00:00")
    + row("B-AFTER-P", "tender", "1000000", "2000-07-11T12:00:00")
    + "0901,Bayside,B-BAD,527298AA1,lots,tender,yesterday,Y,,\n"
)


def _snapshot(offer: ExchangeOffer) -> dict[str, Any]:
    # Every column but the ids and the randomly drawn reference.
    tender_columns = [
        f.attname for f in Tender._meta.concrete_fields if f.attname not in ("id", "reference")
    ]
    tenders = {
        t.book_entry_confirmation: tuple(getattr(t, name) for name in tender_columns)
        for t in Tender.objects.filter(offer=offer)
    }
    instruction_columns = [
        f.attname
        for f in AtopInstruction._meta.concrete_fields
        if f.attname
        not in ("id", "first_import_id", "tender_id", "guaranteed_delivery_id", "withdrawal_id")
    ]
    instructions = sorted(
        (
            *(getattr(i, name) for name in instruction_columns),
            i.tender_id is not None,
            i.guaranteed_delivery_id is not None,
            i.withdrawal_id is not None,
        )
        for i in AtopInstruction.objects.filter(offer=offer).select_related("tender")
    )
    exceptions = sorted(
        AtopException.objects.filter(offer=offer).values_list(
            "line_number", "voi_number", "kind", "message", "instruction__voi_number", "line"
        )
    )
    # References are drawn at random: compare the history with them blanked.
    history = sorted(
        (action, before, after, REFERENCE.sub("<ref>", reason), at, label)
        for action, before, after, reason, at, label in StateChange.objects.filter(offer=offer)
        .exclude(action="exchange.atop_import.imported")
        .values_list("action", "from_state", "to_state", "reason", "at", "actor_label")
    )
    mails = sorted(m.subject.split(":", 1)[1] for m in mail.outbox)
    return {
        "tenders": tenders,
        "instructions": instructions,
        "exceptions": exceptions,
        "history": history,
        "mails": mails,
    }


def _import_and_undo(
    seed: SeedOffer, text: str, *, use_bulk: bool, chunk: int = 2000
) -> tuple[Any, dict[str, Any]]:
    class Undo(Exception):
        pass

    seed.participant.email = "reorg@bayside.example"
    seed.participant.save(update_fields=["email"])
    deliver_outbox()  # what the seed left due, so the mailbox then holds only the import's
    mail.outbox.clear()
    captured: dict[str, Any] = {}
    old_chunk = bulk.CHUNK_SIZE
    bulk.CHUNK_SIZE = chunk
    try:
        with transaction.atomic():
            summary = import_activity(
                seed.offer.pk,
                file_name="same.csv",
                text=HEADER + text,
                actor=CLERK,
                now=IMPORTED_AT,
                bulk=use_bulk,
            )
            # Mails leave after commit; inside the test's transaction, run them now.
            for callback in list(transaction.get_connection().run_on_commit):
                callback[1]()
            deliver_outbox()  # every notice goes through the outbox: send what is due
            captured = _snapshot(seed.offer)
            raise Undo
    except Undo:
        pass
    finally:
        bulk.CHUNK_SIZE = old_chunk
    return summary, captured


@pytest.mark.django_db
@pytest.mark.parametrize("chunk", [2000, 3])
def test_set_based_tenders_leave_what_the_per_line_path_leaves(
    atop_seed: SeedOffer, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_by_one, expected = _import_and_undo(atop_seed, MIXED, use_bulk=False)
    decided: list[int] = []
    real_chunk = bulk.import_tender_chunk

    def spy(*args: Any) -> Any:
        outcomes, left = real_chunk(*args)
        decided.extend(outcomes)
        return outcomes, left

    monkeypatch.setattr(bulk, "import_tender_chunk", spy)
    in_bulk, got = _import_and_undo(atop_seed, MIXED, use_bulk=True, chunk=chunk)
    assert len(decided) >= 12  # the set-based path decided the plain tenders itself
    assert in_bulk == one_by_one
    assert got == expected
    assert one_by_one.new_tenders >= 6 and one_by_one.exception_count >= 9
    assert expected["mails"]  # receipts were sent on both paths


@pytest.mark.django_db
def test_set_based_tenders_to_a_closed_offer_are_refused_alike(atop_seed: SeedOffer) -> None:
    terminate_offer(
        atop_seed.offer.pk,
        actor=SUPERVISOR,
        now=ny(2000, 7, 1, 9, 0),
        reason="Issuer withdraws the offer.",
    )
    text = row("C-1", "tender", "1000000", "2000-06-30T10:00:00") + row(
        "C-2", "tender", "1000000", "2000-07-05T10:00:00"
    )
    one_by_one, expected = _import_and_undo(atop_seed, text, use_bulk=False)
    in_bulk, got = _import_and_undo(atop_seed, text, use_bulk=True)
    assert in_bulk == one_by_one and got == expected
    assert {kind for _, kind, _ in one_by_one.exceptions} == {"refused"}


@pytest.mark.django_db
def test_set_based_tenders_after_the_expiration_job_alike(atop_seed: SeedOffer) -> None:
    expire_offer(atop_seed.offer.pk, actor=JOB, now=ny(2000, 7, 12, 17, 0))
    make_holder(
        HolderKind.DTC_PARTICIPANT, name="Second Participant", dtc_participant_number="0902"
    )
    text = (
        row("E-1", "tender", "1000000", "2000-07-12T16:00:00")
        + row("E-2", "tender", "1000000", "2000-07-12T17:00:01")
        + row("E-3", "tender", "1000000", "2000-07-12T16:00:00", participant="0902")
    )
    one_by_one, expected = _import_and_undo(atop_seed, text, use_bulk=False)
    in_bulk, got = _import_and_undo(atop_seed, text, use_bulk=True)
    assert in_bulk == one_by_one and got == expected
    assert one_by_one.new_tenders == 1


@pytest.mark.django_db
def test_chunk_positions_equal_available_to_tender(atop_seed: SeedOffer) -> None:
    from exchange.services.atop.bulk import _Positions
    from exchange.services.tenders import available_to_tender
    from holders.models import Holding, HoldingForm
    from tests.factories import book_entry_tender, give_certificate, paper_tender

    participant = atop_seed.participant
    # A participant with certificates too, a position that ends and one that starts.
    give_certificate(participant, atop_seed.senior_2008, "P-1", "3000000")
    Holding.objects.create(
        holder=participant,
        series=atop_seed.senior_2008,
        form=HoldingForm.DTC_POSITION,
        amount=Decimal("7000000"),
        effective_from=dt.date(2000, 7, 1),
    )
    Holding.objects.filter(holder=participant, series=atop_seed.senior_2010).update(
        effective_until=dt.date(2000, 7, 5)
    )
    book_entry_tender(atop_seed, ny(2000, 6, 26, 10), "10000000")
    paper_tender(atop_seed, ny(2000, 6, 26, 11))
    holders = [participant, atop_seed.registered, atop_seed.second_registered]
    positions = _Positions([h.pk for h in holders], [s.pk for s in atop_seed.all_series])
    for holder in holders:
        for series in atop_seed.all_series:
            for day in (dt.date(2000, 6, 30), dt.date(2000, 7, 1), dt.date(2000, 7, 5)):
                assert positions.free(holder.pk, series.pk, day) == available_to_tender(
                    holder, series, day, Channel.BOOK_ENTRY
                ), (holder, series, day)


def test_bulk_references_look_like_tender_references() -> None:
    from exchange.models.tenders import _REFERENCE_ALPHABET
    from exchange.services.atop.bulk import new_references

    references = new_references("LT", 5000)
    assert len(set(references)) == 5000
    pattern = re.compile(rf"^LT-[{_REFERENCE_ALPHABET}]{{4}}-[{_REFERENCE_ALPHABET}]{{4}}$")
    assert all(pattern.match(r) for r in references)
    # Every letter of the alphabet is drawn (none lost to the rejection of bytes).
    assert set("".join(r[3:].replace("-", "") for r in references)) == set(_REFERENCE_ALPHABET)
