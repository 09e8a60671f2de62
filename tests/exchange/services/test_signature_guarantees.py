"""Who may sign a letter, and the medallion signature guarantee as the guarantor's act.

The signer must be the registered holder (the register's name, not the letter's own Box
1), or sign in a representative capacity with evidence of authority; anyone else needs
the notes endorsed or an instrument of transfer, with a medallion guarantee. A guarantee
exists only when the institution confirms it from its own login or a clerk records the
stamp and its number from the paper; a withdrawal of a guaranteed letter needs the same.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from exchange.models import (
    DeficiencyKind,
    DeficiencyStatus,
    GuaranteeSource,
    RecordedRowChange,
    SignatureGuarantee,
    StateChange,
    TenderState,
    WithdrawalState,
)
from exchange.services.base import DeskError
from exchange.services.checks import suggested_defects
from exchange.services.guarantees import confirm_guarantee, record_stamp
from exchange.services.review import cure_deficiency, record_deficiencies, validate_tender
from exchange.services.withdrawals import (
    NoticeOfWithdrawal,
    process_withdrawal,
    receive_withdrawal,
)
from holders.models import Holder, HolderKind, TinStatus
from tests.factories import (
    CLERK,
    SeedOffer,
    guarantee_letter,
    guarantor_actor,
    make_holder,
    ny,
    paper_tender,
)

pytestmark = pytest.mark.django_db

DURING = ny(2000, 6, 26, 10)
CHEN_2008 = (("R08-0003", "250000"),)


def kinds(tender: object) -> set[str]:
    return {kind for kind, _ in suggested_defects(tender)}  # type: ignore[arg-type]


# --- who signs ---------------------------------------------------------------------------


def test_a_stranger_signing_as_the_registered_holder_needs_endorsement_and_guarantee(
    seed: SeedOffer,
) -> None:
    """The case seen: notes registered to Margaret Chen, a letter signed by "John Q.
    Stranger" in the capacity "registered holder" (and Box 1 filled in to match him)."""
    tender = paper_tender(
        seed,
        DURING,
        holder=seed.second_registered,
        certificates=CHEN_2008,
        signer_name="John Q. Stranger",
        registered_names="John Q. Stranger",
    )
    assert tender.requires_medallion_guarantee
    assert kinds(tender) == {DeficiencyKind.ENDORSEMENT, DeficiencyKind.MEDALLION_GUARANTEE}
    with pytest.raises(DeskError, match="not recorded and then cured or waived"):
        validate_tender(tender.pk, actor=CLERK, now=DURING)
    assert tender.state == TenderState.RECEIVED


def test_the_registered_name_in_another_order_or_case_is_the_registered_holder(
    seed: SeedOffer,
) -> None:
    tender = paper_tender(
        seed,
        DURING,
        holder=seed.second_registered,
        certificates=CHEN_2008,
        signer_name="CHEN, margaret",
    )
    assert not tender.requires_medallion_guarantee
    assert kinds(tender) == set()


def test_a_representative_needs_evidence_of_authority_and_a_guarantee(seed: SeedOffer) -> None:
    without = paper_tender(seed, DURING, signer_name="J. Q. Trustee", signer_capacity="trustee")
    assert kinds(without) == {
        DeficiencyKind.AUTHORITY_EVIDENCE,
        DeficiencyKind.MEDALLION_GUARANTEE,
    }
    with_evidence = paper_tender(
        seed,
        DURING,
        certificates=(("R08-0002", "1000000"),),
        signer_name="J. Q. Trustee",
        signer_capacity="trustee",
        authority_evidence="Trust agreement of 1 March 1990, certified copy",
    )
    assert kinds(with_evidence) == {DeficiencyKind.MEDALLION_GUARANTEE}


def test_an_endorsed_transfer_still_needs_the_guarantee(seed: SeedOffer) -> None:
    tender = paper_tender(
        seed,
        DURING,
        signer_name="John Q. Stranger",
        endorsed_or_instrument_of_transfer=True,
    )
    assert kinds(tender) == {DeficiencyKind.MEDALLION_GUARANTEE}


# --- the guarantee is the guarantor's act -------------------------------------------------


def _needs_guarantee(seed: SeedOffer, **letter: object):  # type: ignore[no-untyped-def]
    return paper_tender(
        seed,
        DURING,
        special_delivery_name="Custodian Bank",
        special_delivery_address="2 Main Street",
        medallion_guarantor=seed.guarantor,
        **letter,
    )


def test_naming_a_guarantor_guarantees_nothing(seed: SeedOffer) -> None:
    tender = _needs_guarantee(seed)
    assert kinds(tender) == {DeficiencyKind.MEDALLION_GUARANTEE}
    with pytest.raises(DeskError, match="Medallion signature guarantee required"):
        validate_tender(tender.pk, actor=CLERK, now=DURING)


def test_the_guarantor_confirms_from_its_own_login_then_the_clerk_validates(
    seed: SeedOffer,
) -> None:
    tender = _needs_guarantee(seed)
    guarantee_letter(seed, tender, DURING)
    guarantee = SignatureGuarantee.objects.get(tender=tender)
    assert guarantee.source == GuaranteeSource.GUARANTOR_LOGIN
    assert guarantee.guarantor == seed.guarantor
    assert guarantee.recorded_by == seed.guarantor.user
    assert StateChange.objects.filter(
        object_id=tender.pk, action="exchange.signature.guaranteed"
    ).exists()
    assert kinds(tender) == set()
    validate_tender(tender.pk, actor=CLERK, now=DURING)
    tender.refresh_from_db()
    assert tender.state == TenderState.VALID


@pytest.mark.parametrize(
    ("reference", "signer", "registered"),
    [
        ("LT-0000-0000", "Ardsley Pension Trust", "Ardsley Pension Trust"),
        (None, "Someone Else", "Ardsley Pension Trust"),
        (None, "Ardsley Pension Trust", "Margaret Chen"),
    ],
    ids=["no-such-reference", "other-signer", "other-registered-holder"],
)
def test_a_guarantor_naming_the_wrong_document_learns_nothing(
    seed: SeedOffer, reference: str | None, signer: str, registered: str
) -> None:
    tender = _needs_guarantee(seed)
    ref = reference or tender.reference
    with pytest.raises(DeskError) as refused:
        confirm_guarantee(
            guarantor=seed.guarantor,
            reference=ref,
            signer_name=signer,
            registered_holder_name=registered,
            actor=guarantor_actor(seed),
            now=DURING,
        )
    # The same words whether the reference exists or not: nothing about the register.
    assert refused.value.message.startswith(
        f"No letter of transmittal or notice of withdrawal with reference {ref}"
    )
    assert not SignatureGuarantee.objects.exists()


def test_only_the_institution_the_letter_names_may_confirm_it(seed: SeedOffer) -> None:
    tender = _needs_guarantee(seed)
    other = make_holder(HolderKind.ELIGIBLE_GUARANTOR, "Other Trust Company")
    with pytest.raises(DeskError, match="No letter of transmittal"):
        confirm_guarantee(
            guarantor=other,
            reference=tender.reference,
            signer_name=tender.signer_name,
            registered_holder_name=tender.holder.name,
            actor=guarantor_actor(seed),
            now=DURING,
        )
    assert not SignatureGuarantee.objects.exists()


def test_a_clerk_records_the_stamp_from_the_paper_with_its_number(seed: SeedOffer) -> None:
    tender = _needs_guarantee(seed)
    (deficiency,) = record_deficiencies(
        tender.pk,
        defects=[(DeficiencyKind.MEDALLION_GUARANTEE, "Have the signature guaranteed.")],
        actor=CLERK,
        now=DURING,
    )
    # A clerk cannot simply call it cured: the guarantee must be recorded.
    with pytest.raises(DeskError, match="is not cured yet"):
        cure_deficiency(deficiency.pk, actor=CLERK, now=DURING, note="Guaranteed, trust me.")
    with pytest.raises(DeskError, match="serial number"):
        record_stamp(
            tender_id=tender.pk,
            institution_name="First Example Bank",
            program="STAMP",
            stamp_number=" ",
            actor=CLERK,
            now=DURING,
        )
    record_stamp(
        tender_id=tender.pk,
        institution_name="First Example Bank",
        program="STAMP",
        stamp_number="s1234567",
        actor=CLERK,
        now=DURING,
    )
    guarantee = SignatureGuarantee.objects.get(tender=tender)
    assert (guarantee.source, guarantee.stamp_number) == (GuaranteeSource.PAPER_STAMP, "S1234567")
    deficiency.refresh_from_db()
    tender.refresh_from_db()
    assert deficiency.status == DeficiencyStatus.CURED
    # The clerk's recorded stamp is the desk's own check: the tender is valid.
    assert tender.state == TenderState.VALID


def test_a_guarantors_confirmation_sends_a_deficient_tender_back_to_review(
    seed: SeedOffer,
) -> None:
    tender = _needs_guarantee(seed)
    record_deficiencies(
        tender.pk,
        defects=[(DeficiencyKind.MEDALLION_GUARANTEE, "Have the signature guaranteed.")],
        actor=CLERK,
        now=DURING,
    )
    guarantee_letter(seed, tender, DURING)
    tender.refresh_from_db()
    assert tender.state == TenderState.IN_REVIEW  # a clerk's check makes it valid


def test_a_holders_cure_must_leave_the_letter_without_the_defect(seed: SeedOffer) -> None:
    tender = paper_tender(seed, DURING, signed=False)
    (deficiency,) = record_deficiencies(
        tender.pk,
        defects=[(DeficiencyKind.SIGNATURE, "Sign the letter.")],
        actor=CLERK,
        now=DURING,
    )
    from exchange.models import ActorKind
    from exchange.services.base import Actor

    holder = Actor(kind=ActorKind.HOLDER, label="ardsley")
    with pytest.raises(DeskError, match="is not cured yet"):
        cure_deficiency(
            deficiency.pk, actor=holder, now=DURING, letter_updates={"signer_name": "Ardsley"}
        )
    deficiency.refresh_from_db()
    assert deficiency.status == DeficiencyStatus.OPEN
    cure_deficiency(deficiency.pk, actor=holder, now=DURING, letter_updates={"signed": True})
    deficiency.refresh_from_db()
    assert deficiency.status == DeficiencyStatus.CURED


# --- a withdrawal of a guaranteed letter ---------------------------------------------------


def _notice(tender: object, **overrides: object) -> NoticeOfWithdrawal:
    values: dict[str, object] = {
        "tendering_person_name": "Ardsley Pension Trust",
        "certificate_numbers": "R08-0001",
        "amount": Decimal("5000000"),
        "states_withdrawal": True,
        "registered_holder_name": "Ardsley Pension Trust",
        "signed_as_letter": True,
    }
    values.update(overrides)
    return NoticeOfWithdrawal(**values)  # type: ignore[arg-type]


def test_a_withdrawal_of_a_guaranteed_letter_waits_for_the_same_guarantee(
    seed: SeedOffer,
) -> None:
    tender = _needs_guarantee(seed)
    guarantee_letter(seed, tender, DURING)
    notice = receive_withdrawal(
        tender.pk, notice=_notice(tender), actor=CLERK, now=ny(2000, 7, 5, 10)
    )
    assert notice.state == WithdrawalState.RECEIVED  # held, in time, for its guarantee
    tender.refresh_from_db()
    assert tender.live_amount == Decimal("5000000")
    confirm_guarantee(
        guarantor=seed.guarantor,
        reference=notice.reference,
        signer_name="Ardsley Pension Trust",
        registered_holder_name="Ardsley Pension Trust",
        actor=guarantor_actor(seed),
        now=ny(2000, 7, 6, 10),
    )
    notice.refresh_from_db()
    tender.refresh_from_db()
    assert notice.state == WithdrawalState.EFFECTIVE
    assert tender.state == TenderState.WITHDRAWN


def test_a_clerk_deciding_it_without_the_guarantee_rejects_it_naming_element_6(
    seed: SeedOffer,
) -> None:
    tender = _needs_guarantee(seed)
    guarantee_letter(seed, tender, DURING)
    notice = receive_withdrawal(
        tender.pk, notice=_notice(tender), actor=CLERK, now=ny(2000, 7, 5, 10)
    )
    process_withdrawal(notice.pk, actor=CLERK, now=ny(2000, 7, 5, 11))
    notice.refresh_from_db()
    assert notice.state == WithdrawalState.REJECTED
    assert "(6) the medallion signature guarantee" in notice.rejection_reason


def test_an_unguaranteed_letter_is_withdrawn_at_once(seed: SeedOffer) -> None:
    tender = paper_tender(seed, DURING)
    notice = receive_withdrawal(
        tender.pk, notice=_notice(tender), actor=CLERK, now=ny(2000, 7, 5, 10)
    )
    assert notice.state == WithdrawalState.EFFECTIVE


# --- the record ---------------------------------------------------------------------------


def test_a_recorded_guarantee_cannot_be_changed_or_deleted(seed: SeedOffer) -> None:
    tender = _needs_guarantee(seed)
    guarantee_letter(seed, tender, DURING)
    for statement in (
        "UPDATE exchange_signatureguarantee SET stamp_number = 'FORGED'",
        "DELETE FROM exchange_signatureguarantee",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert SignatureGuarantee.objects.count() == 1


def test_recorded_guarantees_cannot_be_truncated(seed: SeedOffer) -> None:
    tender = _needs_guarantee(seed)
    guarantee_letter(seed, tender, DURING)
    with connection.cursor() as cursor:
        # The rows' deferred foreign-key checks run now, as they would have at a commit:
        # TRUNCATE then meets only the trigger (see test_history_append_only).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE exchange_signatureguarantee CASCADE")
    assert SignatureGuarantee.objects.count() == 1


def test_a_holders_register_details_changed_anywhere_leave_old_and_new(seed: SeedOffer) -> None:
    Holder.objects.filter(pk=seed.registered.pk).update(
        tin_status=TinStatus.NOT_CERTIFIED, email="new@example.com"
    )
    change = RecordedRowChange.objects.get(table_name="holders_holder", row_id=seed.registered.pk)
    assert change.changes["tin_status"] == [TinStatus.CERTIFIED, TinStatus.NOT_CERTIFIED]
    assert change.changes["email"][1] == "new@example.com"


def test_a_guarantee_stands_for_the_signature_it_guaranteed_not_a_later_one(
    seed: SeedOffer,
) -> None:
    """The path around the rule: a letter's signature is guaranteed, then its signer is
    changed by a cure; the new signature is not guaranteed until the guarantor gives it."""
    from exchange.models import ActorKind
    from exchange.services.base import Actor

    tender = _needs_guarantee(seed)
    guarantee_letter(seed, tender, DURING)
    (signature,) = record_deficiencies(
        tender.pk,
        defects=[(DeficiencyKind.SIGNATURE, "Sign as the notes are registered.")],
        actor=CLERK,
        now=DURING,
    )
    cure_deficiency(
        signature.pk,
        actor=Actor(kind=ActorKind.HOLDER, label="ardsley"),
        now=DURING,
        letter_updates={
            "signer_name": "J. Q. Trustee",
            "signer_capacity": "trustee",
        },
    )
    tender.refresh_from_db()
    assert tender.guarantee_of_signature() is None
    assert DeficiencyKind.MEDALLION_GUARANTEE in kinds(tender)
    guarantee_letter(seed, tender, DURING)  # the guarantor now guarantees the new signer
    tender.refresh_from_db()
    assert tender.guarantee_of_signature().signer_name == "J. Q. Trustee"  # type: ignore[union-attr]
    assert DeficiencyKind.MEDALLION_GUARANTEE not in kinds(tender)
    assert SignatureGuarantee.objects.filter(tender=tender).count() == 2
