"""Every validation rule of the portal's forms, without a browser or a request: what a
person may type, and the message next to the box when it is wrong. Hostile values
(negative, fractional, huge, exponents, other digits, control characters) get a clear
message, never an exception."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from exchange.models import Channel, DeficiencyKind, GuaranteedDelivery, SignerCapacity
from exchange.services.guaranteed_deliveries import (
    NoticeOfGuaranteedDelivery,
    receive_guaranteed_delivery,
)
from exchange.services.tenders import CertificateTendered
from holders import selectors
from holders.forms.accounts import SignUpForm
from holders.forms.cures import CureForm
from holders.forms.fields import CertificateLinesField, TextField, parse_amount
from holders.forms.guaranteed_delivery import DeliveryForm, GuaranteedDeliveryForm
from holders.forms.letter import LetterOfTransmittalForm
from holders.forms.withdrawal import WithdrawalForm
from holders.models import Holder, HolderKind
from holders.selectors import certificate_lines
from tests.factories import CLERK, SeedOffer, ny, paper_tender
from tests.holders.conftest import DURING, book_entry_data, letter_data

pytestmark = pytest.mark.django_db

THOUSAND = Decimal("1000.00")


def letter_form(
    seed: SeedOffer, data: dict[str, str], holder: Holder | None = None
) -> LetterOfTransmittalForm:
    holder = holder or seed.registered
    series = seed.senior_2008
    lines = selectors.certificate_lines(holder, series, DURING.date())
    return LetterOfTransmittalForm(data, holder=holder, series=series, certificate_lines=lines)


def errors_of(form: Any) -> dict[str, list[str]]:
    assert not form.is_valid()
    return {name: list(errs) for name, errs in form.errors.items()}


# --- amounts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1000", Decimal("1000.00")),
        ("1,000", Decimal("1000.00")),
        ("$250,000", Decimal("250000.00")),
        ("$ 1,000,000.00", Decimal("1000000.00")),
        ("5000000.0", Decimal("5000000.00")),
        ("  2,000 ", Decimal("2000.00")),
        ("0001000", Decimal("1000.00")),
    ],
)
def test_amounts_as_people_type_them(text: str, amount: Decimal) -> None:
    assert parse_amount(text) == amount


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-1000", "more than zero"),
        ("−1,000", "more than zero"),  # U+2212 minus sign
        ("(1,000)", "more than zero"),  # accountants' negative
        ("0", "more than zero"),
        ("0.00", "more than zero"),
        ("1e6", "digits 0-9 only"),
        ("1E3", "digits 0-9 only"),
        ("0x3E8", "digits 0-9 only"),
        ("1_000", "digits 0-9 only"),
        ("1 000", "digits 0-9 only"),
        ("1,00,000", "digits 0-9 only"),  # not thousands grouping
        ("1.000,00", "digits 0-9 only"),  # continental notation
        ("１０００", "digits 0-9 only"),  # full-width digits
        ("١٠٠٠", "digits 0-9 only"),  # Arabic-Indic digits
        ("१०००", "digits 0-9 only"),  # Devanagari digits
        ("1000\x00", "digits 0-9 only"),
        ("10\u202e00", "digits 0-9 only"),
        ("NaN", "digits 0-9 only"),
        ("Infinity", "digits 0-9 only"),
        ("one thousand", "digits 0-9 only"),
        ("1000.001", "digits 0-9 only"),
        ("USD 1000", "digits 0-9 only"),
        ("9" * 16, "larger than any series"),
        ("9" * 400, "larger than any series"),
    ],
)
def test_hostile_amounts_get_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_amount(text)
    assert message in " ".join(caught.value.messages)


@given(st.text(max_size=30))
def test_any_text_either_parses_to_a_positive_cent_amount_or_is_refused(text: str) -> None:
    try:
        amount = parse_amount(text)
    except ValidationError as exc:
        assert exc.messages  # a message, never another exception
    else:
        assert amount > 0
        assert amount == amount.quantize(Decimal("0.01"))
        assert set(text.strip()) <= set("0123456789,.$ ")


@given(st.integers(min_value=1, max_value=10**14))
def test_thousands_grouping_reads_back_the_same_amount(n: int) -> None:
    assert parse_amount(f"{n:,}") == Decimal(n)
    assert parse_amount(f"${n:,}.00") == Decimal(n)


def test_amount_not_in_denominations(seed: SeedOffer) -> None:
    form = letter_form(seed, letter_data(amount="1,500", certificates="R08-0002 1,500"))
    errors = errors_of(form)
    assert "authorized denominations" in errors["amount"][0]
    assert "$1,500.00 is not" in errors["amount"][0]


@pytest.mark.parametrize("text", ["1000.50", "999", "1,000.01"])
def test_fractional_amounts_are_not_denominations(seed: SeedOffer, text: str) -> None:
    errors = errors_of(letter_form(seed, letter_data(amount=text)))
    assert "authorized denominations" in errors["amount"][0]


def test_amount_required(seed: SeedOffer) -> None:
    errors = errors_of(letter_form(seed, letter_data(amount="")))
    assert errors["amount"] == ["Give the principal amount, e.g. 250,000."]


def test_discount_notes_speak_of_principal_amount_at_maturity(seed: SeedOffer) -> None:
    lines = selectors.certificate_lines(seed.registered, seed.discount_2010, DURING.date())
    form = LetterOfTransmittalForm(
        letter_data(amount="", certificates="D10-0001"),
        holder=seed.registered,
        series=seed.discount_2010,
        certificate_lines=lines,
    )
    assert "principal amount at maturity" in errors_of(form)["amount"][0]


# --- certificates -------------------------------------------------------------------------------


def test_a_valid_letter_builds_the_services_submission(seed: SeedOffer) -> None:
    form = letter_form(seed, letter_data(tin="123456789"))
    assert form.is_valid(), form.errors
    submission = form.submission()
    assert submission.amount == Decimal("1000000.00")
    assert submission.channel == Channel.PAPER_LETTER
    assert [(c.certificate_number, c.amount) for c in submission.certificates] == [
        ("R08-0002", Decimal("1000000.00"))
    ]
    assert submission.letter["w9_tin_last4"] == "6789"
    assert "tin" not in submission.letter
    assert "123456789" not in repr(submission)
    assert submission.letter["signer_capacity"] == SignerCapacity.REGISTERED_HOLDER
    assert submission.letter["medallion_guarantor"] is None


@pytest.mark.parametrize(
    "lines",
    [
        "R08-0002 1,000,000",
        "r08-0002: 1000000",
        "R08-0002;$1,000,000.00",
        "R08-0002",
        "\nR08-0002\n\n",
    ],
)
def test_certificate_lines_in_several_notations(seed: SeedOffer, lines: str) -> None:
    form = letter_form(seed, letter_data(certificates=lines))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["resolved_certificates"][0].certificate_number == "R08-0002"


def test_a_number_alone_tenders_what_is_free_of_the_certificate(seed: SeedOffer) -> None:
    paper_tender(seed, ny(2000, 6, 20, 10), certificates=(("R08-0001", "2000000"),))
    lines = selectors.certificate_lines(seed.registered, seed.senior_2008, DURING.date())
    form = LetterOfTransmittalForm(
        letter_data(amount="3,000,000", certificates="R08-0001"),
        holder=seed.registered,
        series=seed.senior_2008,
        certificate_lines=lines,
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["resolved_certificates"][0].amount == Decimal("3000000")


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("", "List the certificate numbers"),
        ("R08-0002 1,000,000\nR08-0002 1,000,000", "listed twice"),
        ("R08–0002 1,000,000", "a certificate number is letters, digits and dashes"),  # en dash
        ("R08-0002 -1,000,000", "more than zero"),
        ("R08-0002 1e6", "digits 0-9 only"),
        ("R08-0002 1,500", "authorized denominations"),
        ("X99-9999", "is not registered to Ardsley Pension Trust"),
        ("R08-0002 500,000", "come to $500,000.00, not the $1,000,000.00 tendered"),
        ("R08-0002\x07 1,000,000", "control characters"),
        ("\n".join(f"R08-{n:04d} 1,000" for n in range(60)), "at most 50 certificates"),
    ],
)
def test_certificate_lines_refused(seed: SeedOffer, lines: str, message: str) -> None:
    errors = errors_of(letter_form(seed, letter_data(certificates=lines)))
    assert message in " ".join(errors["certificates"])


def test_certificate_field_with_amounts_required() -> None:
    field = CertificateLinesField(denomination=THOUSAND, amounts_required=True)
    with pytest.raises(ValidationError, match="give the principal amount delivered"):
        field.clean("R08-0001")


# --- book-entry ----------------------------------------------------------------------------------


def test_a_dtc_participant_tenders_by_book_entry(seed: SeedOffer) -> None:
    form = letter_form(seed, book_entry_data(), holder=seed.participant)
    assert form.is_valid(), form.errors
    assert form.channel == Channel.BOOK_ENTRY
    assert "certificates" not in form.fields
    assert form.submission().letter["book_entry_confirmation"] == "ATOP-000123"


@pytest.mark.parametrize(
    ("confirmation", "message"),
    [
        ("", "received only with DTC's book-entry confirmation"),
        ("ATOP 000123", "letters, digits and dashes"),
        ("ATOP-０１", "letters, digits and dashes"),
        ("A" * 41, "at most 40 characters"),
    ],
)
def test_book_entry_confirmation(seed: SeedOffer, confirmation: str, message: str) -> None:
    data = book_entry_data(book_entry_confirmation=confirmation)
    errors = errors_of(letter_form(seed, data, holder=seed.participant))
    assert message in errors["book_entry_confirmation"][0]


def test_a_participant_signs_as_participant_only(seed: SeedOffer) -> None:
    data = book_entry_data(signer_capacity="registered_holder")
    errors = errors_of(letter_form(seed, data, holder=seed.participant))
    assert "Select a valid choice" in errors["signer_capacity"][0]


# --- special instructions and the medallion guarantee ---------------------------------------------


def test_special_instructions_need_name_and_address(seed: SeedOffer) -> None:
    errors = errors_of(
        letter_form(
            seed,
            letter_data(
                special_issuance_name="Ardsley Nominees", special_delivery_address="PO Box 1"
            ),
        )
    )
    assert "Give the address for the special issuance" in errors["special_issuance_address"][0]
    assert "Give the name for the special delivery" in errors["special_delivery_name"][0]


def test_special_instructions_require_a_medallion_guarantee(seed: SeedOffer) -> None:
    data = letter_data(
        special_delivery_name="Custodian Bank", special_delivery_address="1 Custody Plaza"
    )
    errors = errors_of(letter_form(seed, data))
    assert "need a medallion signature guarantee" in errors["medallion_guarantor"][0]
    assert "Choose its medallion program" in errors["medallion_program"][0]
    data.update(medallion_guarantor=str(seed.guarantor.pk), medallion_program="STAMP")
    form = letter_form(seed, data)
    assert form.is_valid(), form.errors
    assert form.submission().letter["medallion_guarantor"] == seed.guarantor


@pytest.mark.parametrize("capacity", ["attorney_in_fact", "trustee", "corporate_officer"])
def test_another_signer_requires_a_medallion_guarantee(seed: SeedOffer, capacity: str) -> None:
    errors = errors_of(letter_form(seed, letter_data(signer_capacity=capacity)))
    assert "medallion signature guarantee" in errors["medallion_guarantor"][0]


def test_medallion_program_must_be_the_guarantors(seed: SeedOffer) -> None:
    data = letter_data(
        signer_capacity="trustee",
        medallion_guarantor=str(seed.guarantor.pk),
        medallion_program="SEMP",
    )
    errors = errors_of(letter_form(seed, data))
    assert "is a member of STAMP, not SEMP" in errors["medallion_program"][0]


def test_medallion_guarantor_must_be_an_eligible_guarantor(seed: SeedOffer) -> None:
    data = letter_data(
        signer_capacity="trustee",
        medallion_guarantor=str(seed.second_registered.pk),
        medallion_program="STAMP",
    )
    errors = errors_of(letter_form(seed, data))
    assert "Select a valid choice" in errors["medallion_guarantor"][0]


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("signer_name", "Give the name of the person signing"),
        ("signer_capacity", "in which capacity"),
        ("signed", "Sign the letter: tick the box."),
        ("registered_names", "Give the name(s) in which the notes are registered"),
    ],
)
def test_signature_boxes_required(seed: SeedOffer, missing: str, message: str) -> None:
    errors = errors_of(letter_form(seed, letter_data(**{missing: None})))
    assert len(errors[missing]) == 1
    assert message in errors[missing][0]


# --- representations and broker-dealers --------------------------------------------------------------


def test_full_authority_is_required(seed: SeedOffer) -> None:
    errors = errors_of(letter_form(seed, letter_data(rep_full_authority=None)))
    assert "Every tendering holder makes this representation" in errors["rep_full_authority"][0]


@pytest.mark.parametrize(
    "missing",
    [
        "rep_not_affiliate",
        "rep_not_broker_dealer_from_issuer",
        "rep_ordinary_course",
        "rep_no_distribution",
    ],
)
def test_certification_one_needs_all_four(seed: SeedOffer, missing: str) -> None:
    errors = errors_of(letter_form(seed, letter_data(**{missing: None})))
    assert "Certify all four statements of (1)" in errors[missing][0]


def test_an_affiliate_certifies_two_instead(seed: SeedOffer) -> None:
    form = letter_form(
        seed,
        letter_data(
            rep_not_affiliate=None,
            rep_not_broker_dealer_from_issuer=None,
            rep_ordinary_course=None,
            rep_no_distribution=None,
            rep_affiliate_will_comply="on",
        ),
    )
    assert form.is_valid(), form.errors


def test_both_certifications_contradict(seed: SeedOffer) -> None:
    errors = errors_of(letter_form(seed, letter_data(rep_affiliate_will_comply="on")))
    assert "cannot certify both" in errors["rep_affiliate_will_comply"][0]


def test_a_broker_dealer_must_acknowledge_prospectus_delivery(seed: SeedOffer) -> None:
    errors = errors_of(letter_form(seed, letter_data(is_broker_dealer="on")))
    assert "must acknowledge" in errors["broker_dealer_prospectus_acknowledged"][0]


@pytest.mark.parametrize("copies", ["-1", "100", "1.5", "２", "1e1", "ten"])
def test_prospectus_copies_are_a_small_whole_number(seed: SeedOffer, copies: str) -> None:
    errors = errors_of(letter_form(seed, letter_data(prospectus_copies_requested=copies)))
    assert "whole number from 0 to 99" in errors["prospectus_copies_requested"][0]


def test_prospectus_copies_recorded(seed: SeedOffer) -> None:
    form = letter_form(seed, letter_data(prospectus_copies_requested="3"))
    assert form.is_valid(), form.errors
    assert form.submission().letter["prospectus_copies_requested"] == 3


# --- Substitute Form W-9 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("tin", ["123-45-6789", "12-3456789", "123456789"])
def test_tin_notations_keep_the_last_four_digits(seed: SeedOffer, tin: str) -> None:
    form = letter_form(seed, letter_data(tin=tin))
    assert form.is_valid(), form.errors
    assert form.submission().letter["w9_tin_last4"] == "6789"


@pytest.mark.parametrize(
    "tin",
    [
        "12345678",
        "1234567890",
        "123-456-789",
        "000-00-0000",
        "１２３４５６７８９",
        "12345678a",
        "123 45 6789",
    ],
)
def test_bad_tins(seed: SeedOffer, tin: str) -> None:
    errors = errors_of(letter_form(seed, letter_data(tin=tin)))
    assert "9-digit TIN" in errors["tin"][0]


def test_a_tin_without_certification(seed: SeedOffer) -> None:
    errors = errors_of(letter_form(seed, letter_data(w9_certified=None)))
    assert "Tick the certification" in errors["w9_certified"][0]


def test_certification_without_a_tin(seed: SeedOffer) -> None:
    errors = errors_of(letter_form(seed, letter_data(tin="")))
    assert "Give the taxpayer identification number" in errors["tin"][0]


def test_no_w9_means_backup_withholding_not_an_error(seed: SeedOffer) -> None:
    form = letter_form(seed, letter_data(tin="", w9_certified=None))
    assert form.is_valid(), form.errors
    assert form.submission().letter["w9_tin_last4"] == ""
    assert form.backup_withholding_rate == "31%"


def test_the_tin_is_never_rendered_back(seed: SeedOffer) -> None:
    form = letter_form(seed, letter_data(tin="987-65-4321", signed=None))
    assert not form.is_valid()
    html = str(form["tin"])
    assert "4321" not in html and "987" not in html
    assert 'type="password"' in html


# --- text boxes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "J. Q. Trustee\x00",
        "J. Q.\x1b[31m Trustee",
        "Trustee\u202egnp.exe",
        "A\u2066B",
        "line\nbreak",
    ],
)
def test_control_characters_refused_in_names(seed: SeedOffer, name: str) -> None:
    errors = errors_of(letter_form(seed, letter_data(signer_name=name)))
    assert errors["signer_name"]


@pytest.mark.parametrize(
    "name", ["Zoë Müller-Łukasiewicz", "陳美玲", "José Ñúñez", "O'Brien & Co."]
)
def test_names_in_any_script_are_accepted(seed: SeedOffer, name: str) -> None:
    # The registered holder signs in its own name, whatever its script.
    seed.registered.name = name
    seed.registered.save(update_fields=["name"])
    form = letter_form(seed, letter_data(signer_name=name))
    assert form.is_valid(), form.errors
    assert form.submission().letter["signer_name"] == name


def test_text_is_normalised_to_nfc() -> None:
    assert TextField().clean("Zoe\u0308") == "Zo\u00eb"


def test_long_text_refused(seed: SeedOffer) -> None:
    errors = errors_of(letter_form(seed, letter_data(signer_name="x" * 201)))
    assert "at most 200 characters" in errors["signer_name"][0]


def test_addresses_keep_their_lines(seed: SeedOffer) -> None:
    form = letter_form(
        seed,
        letter_data(
            special_issuance_name="Ardsley Nominees",
            special_issuance_address="1 Plaza\r\nArdsley, NY",
            medallion_guarantor=str(seed.guarantor.pk),
            medallion_program="STAMP",
        ),
    )
    assert form.is_valid(), form.errors
    assert form.submission().letter["special_issuance_address"] == "1 Plaza\nArdsley, NY"


# --- guaranteed delivery ------------------------------------------------------------------------------------


def gd_data(seed: SeedOffer, **overrides: Any) -> dict[str, str]:
    data = {
        "tendering_holder": "Ardsley Pension Trust",
        "tendering_holder_address": "1 Ardsley Plaza\nArdsley, NY",
        "registered_names": "Ardsley Pension Trust",
        "amount": "1,000,000",
        "certificate_numbers": "R08-0002",
        "executed_on": "2000-06-26",
        "states_tender": "on",
        "guarantee": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def gd_form(
    seed: SeedOffer, data: dict[str, str], now: dt.datetime = DURING
) -> GuaranteedDeliveryForm:
    return GuaranteedDeliveryForm(data, series=seed.senior_2008, now=now)


def test_notice_of_guaranteed_delivery(seed: SeedOffer) -> None:
    form = gd_form(seed, gd_data(seed, certificate_numbers="r08-0002,\nR08-0001"))
    assert form.is_valid(), form.errors
    notice = form.notice()
    assert notice.tendering_holder_name == "Ardsley Pension Trust"
    assert notice.certificate_numbers == "R08-0002, R08-0001"
    assert notice.executed_on == dt.date(2000, 6, 26)


def test_executed_on_defaults_to_today_in_new_york(seed: SeedOffer) -> None:
    late_evening = ny(2000, 6, 26, 23, 30)  # already June 27 in UTC
    form = GuaranteedDeliveryForm(series=seed.senior_2008, now=late_evening)
    assert form["executed_on"].value() == dt.date(2000, 6, 26)


@pytest.mark.parametrize(
    ("executed_on", "message"),
    [
        ("2000-06-27", "cannot be executed after today"),
        ("2000-06-01", "before the offer commenced"),
        ("2000-06-20", "would already have been due"),  # Tue: due by the end of Fri 06-23
        ("26/06/2000", "YYYY-MM-DD"),
        ("２０００-06-26", "YYYY-MM-DD"),
        ("", "This field is required."),
    ],
)
def test_executed_on_rules(seed: SeedOffer, executed_on: str, message: str) -> None:
    errors = errors_of(gd_form(seed, gd_data(seed, executed_on=executed_on)))
    assert message in errors["executed_on"][0]


def test_a_notice_executed_three_trading_days_ago_is_still_in_time(seed: SeedOffer) -> None:
    # Executed Wed 06-21: due by the end of Mon 06-26, and it is Monday 10:00.
    assert gd_form(seed, gd_data(seed, executed_on="2000-06-21")).is_valid()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tendering_holder", "", "Give the name of the registered holder"),
        ("tendering_holder_address", "", "tendering holder's address"),
        ("registered_names", "", "names in which the notes are registered"),
        ("amount", "1e6", "digits 0-9 only"),
        ("amount", "2,500", "authorized denominations"),
        ("certificate_numbers", "R08 0002", "is not a certificate number"),
        ("states_tender", None, "state that the tender is made"),
        ("guarantee", None, "tick the box to give it"),
    ],
)
def test_notice_rules(seed: SeedOffer, field: str, value: str | None, message: str) -> None:
    errors = errors_of(gd_form(seed, gd_data(seed, **{field: value})))
    assert message in errors[field][0]


def test_the_tendering_holder_is_typed_as_on_the_paper_notice(seed: SeedOffer) -> None:
    # Rule changed on purpose: the form no longer lists the register for the guarantor to
    # choose from; the name is typed and the desk matches it (see test_gd_views).
    form = gd_form(seed, gd_data(seed))
    assert "<select" not in str(form["tendering_holder"])
    assert "Margaret Chen" not in str(form)


# --- delivery, cure, withdrawal ------------------------------------------------------------------------------


def guaranteed(seed: SeedOffer, certificate_numbers: str = "R08-0002") -> GuaranteedDelivery:
    """A notice of guaranteed delivery for $1,000,000 of Ardsley's 2008 notes."""
    return receive_guaranteed_delivery(
        offer_id=seed.offer.pk,
        series_id=seed.senior_2008.pk,
        holder_id=seed.registered.pk,
        guarantor_id=seed.guarantor.pk,
        notice=NoticeOfGuaranteedDelivery(
            tendering_holder_name="Ardsley Pension Trust",
            tendering_holder_address="1 Main Street, Ardsley, NY",
            registered_names="Ardsley Pension Trust, as registered",
            certificate_numbers=certificate_numbers,
            amount=Decimal("1000000"),
            executed_on=dt.date(2000, 6, 20),
        ),
        actor=CLERK,
        now=ny(2000, 6, 20, 10),
    )


def delivery_form(
    seed: SeedOffer, gd: GuaranteedDelivery, data: dict[str, Any] | None, **kwargs: Any
) -> DeliveryForm:
    lines = certificate_lines(seed.registered, seed.senior_2008, dt.date(2000, 6, 21))
    return DeliveryForm(data, tender=gd.tender, certificate_lines=lines, notice=gd, **kwargs)


# The completion form once refused a bare certificate number that the letter's form takes;
# it now reads the letter's notation everywhere (the rule changed on purpose).
@pytest.mark.parametrize("reveal_amounts", [True, False])
def test_delivery_takes_a_bare_certificate_number_as_the_letter_does(
    seed: SeedOffer, reveal_amounts: bool
) -> None:
    gd = guaranteed(seed)
    form = delivery_form(
        seed, gd, letter_data(certificates="r08-0002"), reveal_amounts=reveal_amounts
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["resolved_certificates"] == [
        CertificateTendered("R08-0002", Decimal("1000000.00"))
    ]


def test_delivery_is_prefilled_from_its_notice(seed: SeedOffer) -> None:
    gd = guaranteed(seed, certificate_numbers="R08-0002, R08-0001")
    form = delivery_form(seed, gd, None)
    assert form["registered_names"].value() == "Ardsley Pension Trust, as registered"
    assert form["signer_name"].value() == "Ardsley Pension Trust"
    assert form["certificates"].value() == "R08-0002\nR08-0001"


def test_delivery_must_come_to_the_amount_guaranteed(seed: SeedOffer) -> None:
    gd = guaranteed(seed)
    form = delivery_form(seed, gd, letter_data(certificates="R08-0001 2,000,000"))
    assert "not the $1,000,000.00 guaranteed" in errors_of(form)["certificates"][0]


def test_a_guarantor_is_not_told_the_holders_amounts(seed: SeedOffer) -> None:
    gd = guaranteed(seed)
    form = delivery_form(
        seed, gd, letter_data(certificates="R08-0002 3,000,000"), reveal_amounts=False
    )
    (message,) = errors_of(form)["certificates"]
    assert "does not have the amount given free to tender" in message
    assert "$" not in message


def test_every_wrong_certificate_line_is_reported_at_once(seed: SeedOffer) -> None:
    gd = guaranteed(seed)
    form = delivery_form(
        seed, gd, letter_data(certificates="R08-0002 3,000,000\nR99-0001\nR08-0003")
    )
    errors = errors_of(form)["certificates"]
    assert len(errors) == 3
    assert "R08-0002: $1,000,000.00 of it is not already tendered" in errors[0]
    assert "R99-0001 is not registered" in errors[1]


def test_cure_of_the_w9_requires_a_certified_tin_or_exemption(seed: SeedOffer) -> None:
    tender = paper_tender(seed, ny(2000, 6, 20, 10), w9_tin_last4="", w9_certified=False)
    form = CureForm({}, tender=tender, kind=DeficiencyKind.W9)
    assert set(form.fields) == {"tin", "w9_certified", "w9_exempt_payee", "note"}
    assert (
        "Certify your TIN, or state that you are an exempt payee"
        in errors_of(form)["w9_certified"][0]
    )
    form = CureForm(
        {"tin": "123-45-6789", "w9_certified": "on"}, tender=tender, kind=DeficiencyKind.W9
    )
    assert form.is_valid(), form.errors
    assert form.letter() == {"w9_tin_last4": "6789", "w9_certified": True, "w9_exempt_payee": False}


def test_cure_keeps_a_tin_already_given(seed: SeedOffer) -> None:
    tender = paper_tender(seed, ny(2000, 6, 20, 10))  # TIN ending 6789, certified
    form = CureForm({"w9_certified": "on"}, tender=tender, kind=DeficiencyKind.W9)
    assert form.is_valid(), form.errors
    assert "w9_tin_last4" not in form.letter()


def test_a_medallion_guarantee_is_not_cured_by_the_holder_naming_a_guarantor() -> None:
    # The guarantee is the guarantor's act: the holder has no boxes to fill for it, and
    # is told how the institution gives it.
    from holders.forms.cures import CURABLE, NOT_CURABLE_HERE

    assert DeficiencyKind.MEDALLION_GUARANTEE not in CURABLE
    assert "from its own login" in NOT_CURABLE_HERE[DeficiencyKind.MEDALLION_GUARANTEE]


def test_cure_of_the_signature_checks_the_letters_instructions(seed: SeedOffer) -> None:
    tender = paper_tender(
        seed,
        ny(2000, 6, 20, 10),
        special_delivery_name="Custodian",
        special_delivery_address="1 Plaza",
    )
    data = {
        "signer_name": "Ardsley Pension Trust",
        "signer_capacity": "registered_holder",
        "signed": "on",
    }
    form = CureForm(data, tender=tender, kind=DeficiencyKind.SIGNATURE)
    assert set(form.fields) == {"signer_name", "signer_capacity", "signed", "note"}
    assert "special issuance or delivery" in errors_of(form)["signer_capacity"][0]


def withdrawal_form(tender: Any, **overrides: Any) -> WithdrawalForm:
    data = {
        "tendering_person_name": "Ardsley Pension Trust",
        "certificate_numbers": "R08-0001",
        "amount": "5,000,000",
        "states_withdrawal": "on",
        "registered_holder_name": "Ardsley Pension Trust",
        "signed_as_letter": "on",
    }
    data.update(overrides)
    return WithdrawalForm({k: v for k, v in data.items() if v is not None}, tender=tender)


def test_a_complete_notice_of_withdrawal(seed: SeedOffer) -> None:
    tender = paper_tender(seed, ny(2000, 6, 20, 10))
    form = withdrawal_form(tender)
    assert form.is_valid(), form.errors
    assert form.notice().amount == Decimal("5000000.00")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tendering_person_name", "", "Name the person who tendered"),
        ("certificate_numbers", "", "Give the certificate numbers"),
        ("certificate_numbers", "R08-0002", "Not tendered under"),
        ("amount", "6,000,000", "At most $5,000,000.00 is still tendered"),
        ("amount", "1,500", "authorized denominations"),
        ("amount", "-5,000,000", "more than zero"),
        ("amount", "5e6", "digits 0-9 only"),
        ("states_withdrawal", None, "must state that you withdraw"),
        ("registered_holder_name", "", "Name the registered holder"),
        ("signed_as_letter", None, "evidence that you succeeded"),
    ],
)
def test_the_six_elements(seed: SeedOffer, field: str, value: str | None, message: str) -> None:
    tender = paper_tender(seed, ny(2000, 6, 20, 10))
    errors = errors_of(withdrawal_form(tender, **{field: value}))
    assert message in errors[field][0]


def test_evidence_of_succession_instead_of_the_signature(seed: SeedOffer) -> None:
    tender = paper_tender(seed, ny(2000, 6, 20, 10))
    form = withdrawal_form(
        tender, signed_as_letter=None, succession_evidence="Letters testamentary"
    )
    assert form.is_valid(), form.errors


def test_named_certificates_must_cover_the_amount(seed: SeedOffer) -> None:
    tender = paper_tender(
        seed, ny(2000, 6, 20, 10), certificates=(("R08-0001", "5000000"), ("R08-0002", "1000000"))
    )
    errors = errors_of(withdrawal_form(tender, certificate_numbers="R08-0002", amount="2,000,000"))
    assert "have $1,000,000.00 still tendered" in errors["certificate_numbers"][0]


# --- sign-up -------------------------------------------------------------------------------------------


def sign_up_data(**overrides: Any) -> dict[str, str]:
    data = {
        "username": "hudson",
        "email": "treasury@hudson.example",
        "contact_name": "Pat Treasurer",
        "holder_name": "Hudson Valley Mutual",
        "kind": HolderKind.REGISTERED_HOLDER,
        "address": "40 Market Street",
        "password1": "Correct-horse-battery-9",
        "password2": "Correct-horse-battery-9",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("field", "overrides", "message"),
    [
        ("username", {"username": "a b"}, "Use 3 to 40 letters"),
        ("username", {"username": "ｈｕｄｓｏｎ"}, "Use 3 to 40 letters"),
        ("password2", {"password2": "other-Password-1"}, "The two passwords differ"),
        ("password1", {"password1": "12345678", "password2": "12345678"}, "too common"),
        ("dtc_participant_number", {"kind": "dtc_participant"}, "Give your DTC participant number"),
        (
            "dtc_participant_number",
            {"kind": "dtc_participant", "dtc_participant_number": "09O1"},
            "digits only",
        ),
        ("medallion_program", {"kind": "eligible_guarantor"}, "medallion program"),
        ("email", {"email": "not-an-address"}, "valid email"),
    ],
)
def test_sign_up_rules(field: str, overrides: dict[str, str], message: str) -> None:
    errors = errors_of(SignUpForm(sign_up_data(**overrides)))
    assert message in " ".join(errors[field])


@pytest.mark.parametrize("value", ["<script>alert(1)</script>", "registered_holder\x00", "9" * 500])
def test_a_hostile_choice_is_one_clear_message(seed: SeedOffer, value: str) -> None:
    errors = errors_of(letter_form(seed, letter_data(signer_capacity=value)))
    assert set(errors) == {"signer_capacity"}
    assert (
        "Select a valid choice" in errors["signer_capacity"][0]
        or "Null characters" in errors["signer_capacity"][0]
    )


def test_a_hostile_guarantor_id(seed: SeedOffer) -> None:
    data = letter_data(
        signer_capacity="trustee", medallion_guarantor="1 OR 1=1", medallion_program="STAMP"
    )
    errors = errors_of(letter_form(seed, data))
    assert set(errors) == {"medallion_guarantor"}


def test_certificates_separated_by_commas_as_on_the_notices(seed: SeedOffer) -> None:
    # The notices take "R08-0001, R08-0002"; the letter's box reads the same list.
    field = CertificateLinesField(denomination=Decimal("1000"), amounts_required=False)
    entries = field.clean("r08-0001, R08-0002\nR08-0003 1,000,000")
    assert [(e.number, e.amount) for e in entries] == [
        ("R08-0001", None),
        ("R08-0002", None),
        ("R08-0003", Decimal("1000000")),
    ]
    # An amount's thousands separators are never taken for a list.
    (only,) = field.clean("R08-0001 1,000,000")
    assert only.amount == Decimal("1000000")
