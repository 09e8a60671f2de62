"""What a clerk checks on a letter of transmittal, read off the letter itself.

The review queue shows these as suggestions and pre-ticks them on the defect checklist,
each with the cure the holder is told; the clerk decides, and validate_tender refuses a
tender while any defect they find is not recorded and then cured or waived. Nothing here
writes.
"""

from __future__ import annotations

from exchange.models import Channel, DeficiencyKind, SignerCapacity, Tender
from exchange.terms import calendars


def has_signature_guarantee(tender: Tender) -> bool:
    """A guarantee recorded for the letter's signature as it now reads (annotated by the
    desk's lists, else one query): a guarantee of an earlier signer does not count."""
    annotated = getattr(tender, "has_recorded_guarantee", None)
    if annotated is not None:
        return bool(annotated)
    return tender.signature_guarantees.filter(signer_name=tender.signer_name).exists()


def suggested_defects(tender: Tender, *, check_certificates: bool = True) -> list[tuple[str, str]]:
    """(kind, what the holder must do) for each defect the letter shows on its face.

    `check_certificates` reads the holder's holdings (one query); the changelist leaves it
    off so that a page of the queue costs the same whatever its length.
    """
    found: list[tuple[str, str]] = []
    offer = tender.offer
    by = calendars.format_ny(offer.expiration_at)
    on_paper = tender.channel != Channel.BOOK_ENTRY
    if on_paper and not (tender.signed and tender.signer_name.strip()):
        found.append(
            (
                DeficiencyKind.SIGNATURE,
                f"Sign the letter of transmittal as the notes are registered, and print the "
                f"signer's name and capacity, before {by}.",
            )
        )
    elif on_paper and not tender.signer_capacity:
        found.append(
            (
                DeficiencyKind.SIGNATURE,
                "State the capacity in which the letter is signed (the registered holder, or "
                "the representative capacity, such as attorney-in-fact or trustee).",
            )
        )
    elif (
        on_paper
        and tender.signed_in_representative_capacity
        and not tender.authority_evidence.strip()
    ):
        found.append(
            (
                DeficiencyKind.AUTHORITY_EVIDENCE,
                f"The letter is signed as {tender.get_signer_capacity_display().lower()}: "
                f"deliver evidence of the signer's authority to act for "
                f"{tender.holder.name} (e.g. the power of attorney, letters testamentary "
                f"or a board resolution) before {by}.",
            )
        )
    elif (
        on_paper
        and not tender.signed_in_representative_capacity
        and tender.signer_capacity != SignerCapacity.DTC_PARTICIPANT
        and not tender.signed_by_registered_holder
        and not tender.endorsed_or_instrument_of_transfer
    ):
        # Someone other than the registered holder signs in no representative capacity:
        # the registered holder must transfer the notes (endorsement or an instrument of
        # transfer), with its signature guaranteed (prospectus, "How to Tender").
        found.append(
            (
                DeficiencyKind.ENDORSEMENT,
                f"The letter is signed by {tender.signer_name.strip()}, not by the "
                f"registered holder {tender.holder.name}: deliver the notes endorsed, or "
                f"with a written instrument of transfer, executed by the registered "
                f"holder, with its signature guaranteed by an eligible guarantor "
                f"institution; or sign in a representative capacity with evidence of "
                f"authority.",
            )
        )
    if tender.requires_medallion_guarantee and not has_signature_guarantee(tender):
        named = (
            f" {tender.medallion_guarantor.name} has not confirmed it yet."
            if tender.medallion_guarantor_id is not None
            else ""
        )
        found.append(
            (
                DeficiencyKind.MEDALLION_GUARANTEE,
                "Your letter is signed by someone other than the registered holder or asks for "
                "special issuance or delivery: have the signature guaranteed by an eligible "
                "guarantor institution (a member of STAMP, SEMP or the NYSE MSP), which "
                "confirms it to the exchange agent, or deliver the letter with its medallion "
                "stamp." + named,
            )
        )
    if tender.amount % tender.series.denomination:
        found.append(
            (
                DeficiencyKind.DENOMINATION,
                f"Tender an amount in ${tender.series.denomination:,.0f} multiples.",
            )
        )
    if tender.channel == Channel.BOOK_ENTRY and not (
        tender.book_entry_confirmation.strip() and tender.agents_message
    ):
        found.append(
            (
                DeficiencyKind.BOOK_ENTRY_CONFIRMATION,
                "Have your DTC participant transmit the Agent's Message through ATOP for "
                f"book-entry confirmation {tender.book_entry_confirmation.strip()}."
                if tender.book_entry_confirmation.strip()
                else "Have your DTC participant transmit the book-entry confirmation with an "
                "Agent's Message through ATOP.",
            )
        )
    if not tender.representations_complete:
        found.append(
            (
                DeficiencyKind.REPRESENTATIONS,
                "Make the representations of the letter (full authority; not an affiliate, "
                "ordinary course, no distribution, not a broker-dealer that bought from the "
                "issuer; or, as an affiliate, that you will comply with registration).",
            )
        )
    if tender.is_broker_dealer and not tender.broker_dealer_prospectus_acknowledged:
        found.append(
            (
                DeficiencyKind.BROKER_DEALER_ACKNOWLEDGMENT,
                "As a broker-dealer receiving new notes for your own account, acknowledge that "
                "you will deliver a prospectus in connection with any resale.",
            )
        )
    # A missing or uncertified Substitute Form W-9 is not a defect of the tender: the
    # agent withholds at the offer's rate (prospectus, "How to Tender"). Not suggested.
    if tender.received_at > offer.expiration_at:
        found.append(
            (
                DeficiencyKind.LATE_RECEIPT,
                f"Received {calendars.format_ny(tender.received_at)}, after the expiration "
                f"{by}; only the issuer can accept it.",
            )
        )
    if check_certificates and tender.channel == Channel.PAPER_LETTER:
        on = calendars.ny_date(tender.received_at)
        stale = [
            c.certificate_number
            for c in tender.certificates.select_related("holding")
            if c.holding.holder_id != tender.holder_id or not c.holding.is_of_record_on(on)
        ]
        total = sum((c.amount for c in tender.certificates.all()), tender.amount * 0)
        if stale or total != tender.amount:
            found.append(
                (
                    DeficiencyKind.CERTIFICATES,
                    "The certificates delivered do not match the notes registered to you"
                    + (f" ({', '.join(stale)})" if stale else "")
                    + ": deliver the certificates listed on the letter, endorsed if required.",
                )
            )
    return found
