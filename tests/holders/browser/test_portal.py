"""The holder portal in a real browser, on an offer open now (the server's real clock):
a holder tenders, withdraws and tenders again; a clerk flags a defect in the admin and the
holder cures it; a guaranteed delivery is completed and another lapses; one holder cannot
reach another's documents; a form submitted after expiration records nothing."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from exchange.jobs.runner import run_due_jobs
from exchange.models import (
    Channel,
    DeficiencyStatus,
    ExchangeOffer,
    GuaranteedDelivery,
    GuaranteedDeliveryState,
    StateChange,
    Tender,
    TenderState,
    WithdrawalNotice,
)
from exchange.services.tenders import CertificateTendered, LetterOfTransmittal, receive_tender
from exchange.terms import calendars
from tests.factories import CLERK, complete_letter, staff_user
from tests.holders.browser.conftest import (
    PASSWORD,
    Browse,
    LiveOffer,
    fill_letter,
    fill_letter_boxes,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

REFERENCE = re.compile(r"(LT|WD|GD)-[A-Z2-9]{4}-[A-Z2-9]{4}")


def test_a_holder_tenders_sees_the_receipt_withdraws_and_tenders_again(
    browse: Browse, live_offer: LiveOffer
) -> None:
    page = browse.signed_in("ardsley")
    expect(page.get_by_role("heading", name="Expiration")).to_be_visible()
    # The countdown, rendered by the server and then counted down second by second.
    expect(page.get_by_role("timer")).to_contain_text(re.compile(r"1[34] days, .* seconds"))
    page.get_by_role("link", name=re.compile("Tender 11% Senior Notes due 2008")).click()

    fill_letter(page, amount="5,000,000", certificates="R08-0001")
    page.get_by_role("button", name="Sign and submit the letter of transmittal").click()

    expect(page.get_by_role("heading", name="Receipt: letter of transmittal")).to_be_visible()
    first = Tender.objects.get()
    expect(page.locator(".reference")).to_have_text(first.reference)
    expect(page.get_by_text("(New York City time)")).to_be_visible()
    expect(
        page.get_by_role("button", name="Print this copy")
    ).to_be_visible()  # the script shows it
    assert first.holder == live_offer.ardsley
    assert abs(first.received_at - timezone.now()) < dt.timedelta(minutes=1)

    page.get_by_role("link", name=f"Tender {first.reference}").click()
    page.get_by_role("link", name="Withdraw these notes").click()
    expect(page.get_by_label("(2) Certificate numbers")).to_have_value("R08-0001")
    page.get_by_label("(4) I withdraw my election").check()
    page.get_by_label("(6) I sign this notice").check()
    page.get_by_role("button", name="Sign and submit the notice of withdrawal").click()
    expect(page.get_by_role("heading", name="Receipt: notice of withdrawal")).to_be_visible()
    expect(page.get_by_text("The withdrawal took effect")).to_be_visible()
    first.refresh_from_db()
    assert first.state == TenderState.WITHDRAWN

    page.get_by_role("navigation", name="Portal").get_by_role("link", name="The offer").click()
    page.get_by_role("link", name=re.compile("Tender 11% Senior Notes due 2008")).click()
    fill_letter(page, amount="5,000,000", certificates="R08-0001 5,000,000")
    page.get_by_role("button", name="Sign and submit the letter of transmittal").click()
    expect(page.get_by_role("heading", name="Receipt: letter of transmittal")).to_be_visible()
    second = Tender.objects.exclude(pk=first.pk).get()
    assert second.state == TenderState.RECEIVED
    assert second.amount == first.amount


def test_a_defect_flagged_in_the_admin_is_cured_in_the_portal(
    browse: Browse, live_offer: LiveOffer
) -> None:
    tender = receive_tender(
        offer_id=live_offer.offer.pk,
        series_id=live_offer.series.pk,
        holder_id=live_offer.ardsley.pk,
        submission=LetterOfTransmittal(
            amount=Decimal("1000000"),
            channel=Channel.PAPER_LETTER,
            certificates=[CertificateTendered("R08-0002", Decimal("1000000"))],
            letter=complete_letter(signed=False, signer_name=""),
        ),
        actor=CLERK,
        now=timezone.now(),
    )
    clerk = staff_user("clara", "Clerks")
    clerk.set_password(PASSWORD)
    clerk.save()
    desk = browse.signed_in("clara", path="/admin/login/")
    desk.goto(f"/admin/exchange/tender/{tender.pk}/change/")
    desk.get_by_role("link", name="Record deficiencies").click()
    desk.get_by_label("Signature missing or not as registered", exact=True).check()
    desk.locator("#id_note_signature").fill("Sign the letter as the notes are registered.")
    desk.get_by_role("button", name="Record deficiencies").click()
    expect(desk.get_by_text(re.compile("Recorded 1 deficiency"))).to_be_visible()

    page = browse.signed_in("ardsley")
    page.get_by_role("link", name=tender.reference).click()
    expect(page.get_by_text("Not yet in proper form")).to_be_visible()
    expect(page.get_by_text("Sign the letter as the notes are registered")).to_be_visible()
    page.get_by_role("link", name="Cure: Signature missing or not as registered").click()
    page.get_by_label("Name of the person signing").fill("Ardsley Pension Trust")
    page.locator("#id_signed").check()
    page.get_by_role("button", name="Send the correction").click()
    # A holder's cure goes back to the desk; a clerk's check makes the tender valid.
    expect(page.get_by_text("checks the cure before the tender is valid")).to_be_visible()
    expect(page.locator(".state").first).to_have_text("In review")
    tender.refresh_from_db()
    assert tender.state == TenderState.IN_REVIEW
    assert tender.signed and tender.signer_name == "Ardsley Pension Trust"
    assert tender.deficiencies.get().status == DeficiencyStatus.CURED


def test_a_guaranteed_delivery_completed_in_time_and_another_that_lapses(
    browse: Browse, live_offer: LiveOffer
) -> None:
    page = browse.signed_in("empire")

    def execute_notice(amount: str, certificates: str) -> GuaranteedDelivery:
        page.get_by_role("navigation", name="Portal").get_by_role("link", name="The offer").click()
        page.get_by_role("link", name=re.compile("Execute a notice of guaranteed delivery")).click()
        # The date of execution defaults to today in New York, by the server's clock.
        expect(page.locator("#id_executed_on")).to_have_value(
            calendars.ny_date(timezone.now()).isoformat()
        )
        # Typed as on the paper notice: the guarantor is shown no list of the register.
        page.get_by_label("Name of the tendering registered holder").fill("Ardsley Pension Trust")
        page.get_by_label("Address of the tendering holder").fill(
            "1 Ardsley Plaza\nArdsley, NY 10502"
        )
        page.get_by_label("Name(s) in which the notes are registered").fill("Ardsley Pension Trust")
        page.get_by_label("Principal amount tendered").fill(amount)
        page.get_by_label("Certificate numbers (if available)").fill(certificates)
        page.get_by_label("The undersigned tenders").check()
        page.get_by_label("The undersigned, an eligible guarantor institution").check()
        page.get_by_role("button", name="Execute and submit the notice").click()
        expect(
            page.get_by_role("heading", name="Receipt: notice of guaranteed delivery")
        ).to_be_visible()
        reference = page.locator(".reference").inner_text()
        return GuaranteedDelivery.objects.get(reference=reference)

    first = execute_notice("1,000,000", "R08-0002")
    expect(page.get_by_text("Notes and letter due by")).to_be_visible()
    expect(page.get_by_role("timer")).to_be_visible()
    page.get_by_role("link", name="Deliver the notes and the letter of transmittal").click()
    page.get_by_label("Certificates delivered").fill("R08-0002 1,000,000")
    fill_letter_boxes(page)
    page.get_by_role("button", name="Sign and deliver").click()
    expect(page.get_by_text("completed in time")).to_be_visible()
    first.refresh_from_db()
    assert first.state == GuaranteedDeliveryState.FULFILLED
    assert first.tender.state == TenderState.RECEIVED

    second = execute_notice("2,000,000", "R08-0001")
    assert second.deadline_at > timezone.now()
    run_due_jobs(second.deadline_at)  # the desk's schedule, at the deadline
    page.reload()
    expect(page.locator(".receipt__key .state")).to_have_text("Lapsed")
    expect(
        page.get_by_text(re.compile("did not arrive within three NYSE trading days"))
    ).to_be_visible()
    second.refresh_from_db()
    assert second.tender.state == TenderState.REJECTED
    expect(
        page.get_by_role("link", name="Deliver the notes and the letter of transmittal")
    ).to_have_count(0)


def test_one_holder_cannot_reach_anothers_documents(browse: Browse, live_offer: LiveOffer) -> None:
    page = browse.signed_in("ardsley")
    page.get_by_role("link", name=re.compile("Tender 11% Senior Notes due 2008")).click()
    fill_letter(page, amount="1,000,000", certificates="R08-0002")
    page.get_by_role("button", name="Sign and submit the letter of transmittal").click()
    receipt_url = page.url
    tender = Tender.objects.get()

    other = browse.signed_in("mchen")
    for url in (
        receipt_url,
        f"/tenders/{tender.reference}/",
        f"/tenders/{tender.reference}/withdraw/",
    ):
        response = other.goto(url)
        assert response is not None and response.status == 404, url
        expect(other.get_by_role("heading", name="Not found")).to_be_visible()
    expect(other.get_by_text(tender.reference)).to_have_count(0)
    other.get_by_role("navigation", name="Portal").get_by_role("link", name="The offer").click()
    expect(other.get_by_text(tender.reference)).to_have_count(0)


def test_a_letter_submitted_after_expiration_records_nothing(
    browse: Browse, live_offer: LiveOffer
) -> None:
    page = browse.signed_in("ardsley")
    page.get_by_role("link", name=re.compile("Tender 11% Senior Notes due 2008")).click()
    fill_letter(page, amount="1,000,000", certificates="R08-0002")
    # The expiration instant passes while the holder is still on the form.
    ExchangeOffer.objects.filter(pk=live_offer.offer.pk).update(
        expiration_at=timezone.now() - dt.timedelta(seconds=1)
    )
    before = (Tender.objects.count(), WithdrawalNotice.objects.count(), StateChange.objects.count())
    page.get_by_role("button", name="Sign and submit the letter of transmittal").click()
    expect(page.get_by_role("alert")).to_contain_text("The exchange offer expired at")
    expect(page.get_by_text("Nothing was recorded.")).to_be_visible()
    assert (
        Tender.objects.count(),
        WithdrawalNotice.objects.count(),
        StateChange.objects.count(),
    ) == before
    # And the form itself now says so instead of showing its boxes.
    page.goto(
        f"/offers/{live_offer.offer.slug}/series/{live_offer.series.slug}/letter-of-transmittal/"
    )
    expect(page.get_by_text("nothing can be tendered now")).to_be_visible()
    expect(page.get_by_label("Principal amount tendered")).to_have_count(0)
