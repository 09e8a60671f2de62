"""The register after the exchange date, replayed on the seed offer and its demo cast
(`seed_offer` then `run_jobs --as-of`): original positions reduced effective-dated, the
untendered remainder of a certificate reissued, new notes entered for each exchange."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from exchange.models import ActorKind, Channel, ExchangeOffer, StateChange, Tender, TenderState
from exchange.services.base import Actor
from exchange.services.register import RegisterOutOfBalance, enter_exchange_on_register
from holders.models import Holder, Holding, HoldingForm, NotesKind

BEFORE = dt.date(2000, 7, 12)
EXCHANGE_DAY = dt.date(2000, 7, 13)
M = Decimal("1000000")


def replay() -> ExchangeOffer:
    call_command("seed_offer")
    call_command("run_jobs", "--as-of", "2000-07-12 17:00")
    call_command("run_jobs", "--as-of", "2000-07-13 09:00")
    return ExchangeOffer.objects.get(slug="level3-2000")


def positions(username: str, day: dt.date) -> dict[tuple[str, str, str, str], Decimal]:
    """(series, notes, form, certificate) → amount of record on `day`."""
    holder = Holder.objects.get(user__username=username)
    return {
        (h.series.slug, h.notes, h.form, h.certificate_number): h.amount
        for h in Holding.objects.of_record_on(day).filter(holder=holder).select_related("series")
    }


C, D = HoldingForm.CERTIFICATE, HoldingForm.DTC_POSITION
ORIG, N = NotesKind.ORIGINAL, NotesKind.NEW


def nn(username: str, series: str) -> str:
    tender = Tender.objects.get(
        holder__user__username=username, series__slug=series, state=TenderState.EXCHANGED
    )
    return f"NN-{tender.pk}"


@pytest.mark.django_db(transaction=False)
def test_every_holders_original_and_new_positions_after_the_replay() -> None:
    replay()
    # The day before the exchange date reads exactly as the seed loaded it.
    assert positions("ardsley", BEFORE) == {
        ("2008-senior", ORIG, C, "R08-0001"): 5 * M,
        ("2008-senior", ORIG, C, "R08-0002"): 1 * M,
        ("2010-senior", ORIG, C, "R10-0001"): 2 * M,
        ("2010-senior-discount", ORIG, C, "D10-0001"): 3 * M,
    }
    # Ardsley exchanged all of R08-0001: cancelled, no remainder, $5,000,000 new notes in its name.
    assert positions("ardsley", EXCHANGE_DAY) == {
        ("2008-senior", ORIG, C, "R08-0002"): 1 * M,
        ("2008-senior", N, C, nn("ardsley", "2008-senior")): 5 * M,
        ("2010-senior", ORIG, C, "R10-0001"): 2 * M,  # still received: untouched
        ("2010-senior-discount", ORIG, C, "D10-0001"): 3 * M,
    }
    # Margaret Chen: $40,000 of R10-0002 exchanged, $60,000 reissued; her rejected notes
    # (R08-0003, D10-0002) went back as they came.
    cancelled = Holding.objects.get(certificate_number="R10-0002")
    assert cancelled.effective_until == EXCHANGE_DAY
    reissue = Holding.objects.get(reissued_from=cancelled)
    assert reissue.certificate_number == f"RI-{cancelled.pk:07d}"
    assert positions("mchen", EXCHANGE_DAY) == {
        ("2008-senior", ORIG, C, "R08-0003"): Decimal("250000"),
        ("2010-senior", ORIG, C, reissue.certificate_number): Decimal("60000"),
        ("2010-senior", N, C, nn("mchen", "2010-senior")): Decimal("40000"),
        ("2010-senior-discount", ORIG, C, "D10-0002"): Decimal("150000"),
    }
    assert positions("mchen", BEFORE)[("2010-senior", ORIG, C, "R10-0002")] == Decimal("100000")
    # Hudson: in review, withdrawn, lapsed guaranteed delivery: nothing changes.
    assert positions("hudson", EXCHANGE_DAY) == positions("hudson", BEFORE)
    # Bayside: $20,000,000 (25 less 5 withdrawn) and $10,000,000 leave its DTC positions and
    # come back as new notes credited to its participant account.
    bayside = Holder.objects.get(user__username="bayside")
    after = Holding.objects.of_record_on(EXCHANGE_DAY).filter(holder=bayside)

    def total(series: str, notes: str) -> Decimal:
        rows = after.filter(series__slug=series, notes=notes)
        return sum((h.amount for h in rows), Decimal("0"))

    before = Holding.objects.of_record_on(BEFORE).filter(holder=bayside)
    held_before = {
        s: sum((h.amount for h in before.filter(series__slug=s)), Decimal("0"))
        for s in ("2008-senior", "2010-senior", "2010-senior-discount")
    }
    assert held_before == {
        "2008-senior": 135 * M,  # two positions: 120 + 15
        "2010-senior": 40 * M,
        "2010-senior-discount": 95 * M,
    }
    assert total("2008-senior", ORIG) == held_before["2008-senior"] - 20 * M
    assert total("2008-senior", N) == 20 * M
    assert total("2010-senior-discount", ORIG) == held_before["2010-senior-discount"] - 10 * M
    assert total("2010-senior-discount", N) == 10 * M
    assert total("2010-senior", ORIG) == held_before["2010-senior"]
    assert not after.filter(notes=N, form=C).exists()  # book-entry: credited at DTC
    # Every register entry is in the history.
    actions = set(
        StateChange.objects.filter(action__startswith="exchange.holding.").values_list(
            "action", flat=True
        )
    )
    assert actions == {
        "exchange.holding.cancelled",
        "exchange.holding.reissued",
        "exchange.holding.new_notes_issued",
    }
    assert StateChange.objects.filter(
        action="exchange.holding.reissued", object_id=reissue.pk
    ).exists()


@pytest.mark.django_db
def test_rerunning_the_exchange_date_enters_nothing_twice() -> None:
    replay()
    rows = Holding.objects.count()
    entries = StateChange.objects.filter(action__startswith="exchange.holding.").count()
    call_command("run_jobs", "--as-of", "2000-07-13 10:00")
    call_command("run_jobs", "--as-of", "2000-07-14 09:00")
    assert Holding.objects.count() == rows
    assert StateChange.objects.filter(action__startswith="exchange.holding.").count() == entries
    assert Holding.objects.new().count() == 4


@pytest.mark.django_db
def test_new_notes_are_registered_as_the_special_issuance_instructions_say(seed) -> None:
    """And a tender of two certificates, one in part: the part is reissued, the whole one
    cancelled; the letter's special issuance name is the new certificate's registered name."""
    from exchange.services.exchange_date import run_exchange_date
    from exchange.services.offers import accept_offer
    from exchange.services.review import validate_tender
    from tests.factories import CLERK, JOB, give_certificate, guarantee_letter, ny, paper_tender

    give_certificate(seed.registered, seed.senior_2008, "R08-0009", "100000")
    tender = paper_tender(
        seed,
        ny(2000, 6, 26, 10),
        certificates=(("R08-0002", "1000000"), ("R08-0009", "40000")),
        special_issuance_name="Ardsley Pension Trust FBO Retirees",
        special_issuance_address="2 Ardsley Plaza",
        # Special issuance needs the signature guaranteed: validity is a determination.
        medallion_guarantor=seed.guarantor,
    )
    guarantee_letter(seed, tender, ny(2000, 6, 26, 10, 30))
    validate_tender(tender.pk, actor=CLERK, now=ny(2000, 6, 26, 11))
    from exchange.services.offers import expire_offer

    expire_offer(seed.offer.pk, actor=JOB, now=ny(2000, 7, 12, 17))
    accept_offer(seed.offer.pk, actor=JOB, now=ny(2000, 7, 13, 9), reason="Notice received.")
    run_exchange_date(seed.offer.pk, actor=JOB, now=ny(2000, 7, 13, 9))
    new = Holding.objects.new().get(issued_for=tender)
    assert (new.registered_name, new.amount, new.form) == (
        "Ardsley Pension Trust FBO Retirees",
        Decimal("1040000"),
        C,
    )
    assert new.holder == seed.registered
    whole = Holding.objects.get(certificate_number="R08-0002")
    part = Holding.objects.get(certificate_number="R08-0009")
    assert whole.effective_until == part.effective_until == EXCHANGE_DAY
    assert not whole.reissues.exists()
    (reissue,) = part.reissues.all()
    assert (reissue.amount, reissue.holder, reissue.effective_until) == (
        Decimal("60000"),
        seed.registered,
        None,
    )
    assert reissue.registered_name == ""  # the holder's own name, as before


@pytest.mark.django_db
def test_a_certificate_cannot_give_up_more_than_it_holds() -> None:
    replay()
    tender = Tender.objects.get(holder__user__username="ardsley", state=TenderState.EXCHANGED)
    with pytest.raises(RegisterOutOfBalance, match="R08-0001"):
        enter_exchange_on_register(
            tender.offer,
            [tender.pk],
            actor=Actor(kind=ActorKind.JOB, label="test"),
            now=tender.received_at,
        )
    assert tender.channel == Channel.PAPER_LETTER
    # Nothing of the failed attempt stays: the certificate is still cancelled once.
    assert Holding.objects.filter(certificate_number="R08-0001").count() == 1


@pytest.mark.django_db
def test_one_position_or_certificate_drawn_on_in_several_chunks(seed) -> None:
    """Chunks of one row: the participant's position and a certificate split over two
    letters are each drawn on twice the same day; the chain of remainders ends right."""
    from django.test import override_settings

    from exchange.selectors.reconciliation import reconcile_books
    from exchange.services.exchange_date import run_exchange_date
    from exchange.services.offers import expire_offer
    from exchange.services.review import validate_tender
    from tests.factories import CLERK, JOB, book_entry_tender, ny, paper_tender

    letters = [
        book_entry_tender(seed, ny(2000, 6, 26, 10), amount="10000000"),
        book_entry_tender(seed, ny(2000, 6, 26, 11), amount="5000000"),
        paper_tender(seed, ny(2000, 6, 26, 12), certificates=(("R08-0001", "1000000"),)),
        paper_tender(seed, ny(2000, 6, 26, 13), certificates=(("R08-0001", "2000000"),)),
    ]
    for letter in letters:
        validate_tender(letter.pk, actor=CLERK, now=ny(2000, 6, 27, 10))
    seed.offer.acceptance_automatic = True
    seed.offer.save(update_fields=["acceptance_automatic"])
    expire_offer(seed.offer.pk, actor=JOB, now=ny(2000, 7, 12, 17))
    with override_settings(EXCHANGE_DATE_CHUNK_SIZE=1):
        result = run_exchange_date(seed.offer.pk, actor=JOB, now=ny(2000, 7, 13, 9))
    assert result.completed
    positions = Holding.objects.original().of_record_on(EXCHANGE_DAY)
    (position,) = positions.filter(holder=seed.participant, series=seed.senior_2008)
    assert position.amount == 105 * M  # 120 less 10 and 5
    (certificate,) = positions.filter(holder=seed.registered, certificate_number__startswith="RI-")
    assert certificate.amount == 2 * M  # 5 less 1 and 2
    # The intermediate remainders are of record on no day and still in the chain.
    superseded = Holding.objects.filter(effective_from=EXCHANGE_DAY, effective_until=EXCHANGE_DAY)
    assert superseded.count() == 2
    assert all(h.reissues.exists() for h in superseded)
    assert all(b.balanced for b in reconcile_books(seed.offer, ny(2000, 7, 13, 12)))
