"""Letters of transmittal (tenders), their defects, guaranteed deliveries, withdrawals,
signature guarantees, and what becomes of tendered notes: new notes delivered or
originals returned.

Kept whole because these are the documents of one tender and their rules refer to each
other (who signed the letter decides whether its withdrawal needs a guarantee; a
guaranteed delivery's tender is the same row the letter completes); split, each reader
would need the others open beside it."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

_REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: read aloud safely


def new_reference(prefix: str) -> str:
    """An unguessable reference a holder can read over the telephone: LT-7K3Q-9X2M."""
    body = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"{prefix}-{body[:4]}-{body[4:]}"


class Channel(models.TextChoices):
    PAPER_LETTER = "paper_letter", "Letter of transmittal with certificates"
    BOOK_ENTRY = "book_entry", "DTC book-entry (ATOP, Agent's Message)"
    GUARANTEED_DELIVERY = "guaranteed_delivery", "Guaranteed delivery"


class SignerCapacity(models.TextChoices):
    REGISTERED_HOLDER = "registered_holder", "Registered holder"
    DTC_PARTICIPANT = "dtc_participant", "DTC participant (on the security position listing)"
    ATTORNEY_IN_FACT = "attorney_in_fact", "Attorney-in-fact"
    TRUSTEE = "trustee", "Trustee"
    EXECUTOR = "executor", "Executor or administrator"
    GUARDIAN = "guardian", "Guardian"
    CORPORATE_OFFICER = "corporate_officer", "Officer of a corporation"
    OTHER_FIDUCIARY = "other_fiduciary", "Other fiduciary or representative"


# Capacities in which a person signs for the registered holder: evidence of authority
# must come with the letter.
REPRESENTATIVE_CAPACITIES = frozenset(
    {
        SignerCapacity.ATTORNEY_IN_FACT,
        SignerCapacity.TRUSTEE,
        SignerCapacity.EXECUTOR,
        SignerCapacity.GUARDIAN,
        SignerCapacity.CORPORATE_OFFICER,
        SignerCapacity.OTHER_FIDUCIARY,
    }
)


def _name_words(name: str) -> list[str]:
    return sorted("".join(c if c.isalnum() else " " for c in name).casefold().split())


def same_name(given: str, registered: str) -> bool:
    """The same name, whatever the case, spacing, punctuation or word order
    ("CHEN, Margaret" is "Margaret Chen"); a word more or less is another name."""
    words = _name_words(given)
    return bool(words) and words == _name_words(registered)


class MedallionProgram(models.TextChoices):
    STAMP = "STAMP", "Securities Transfer Agents Medallion Program (STAMP)"
    SEMP = "SEMP", "Stock Exchanges Medallion Program (SEMP)"
    MSP = "MSP", "New York Stock Exchange Medallion Signature Program (MSP)"


class TenderState(models.TextChoices):
    RECEIVED = "received", "Received"
    PENDING_DELIVERY = "pending_delivery", "Pending delivery (guaranteed delivery)"
    IN_REVIEW = "in_review", "In review"
    DEFICIENT = "deficient", "Deficient"
    VALID = "valid", "Valid"
    ACCEPTED = "accepted", "Accepted"
    EXCHANGED = "exchanged", "Exchanged"
    WITHDRAWN = "withdrawn", "Withdrawn"
    REJECTED = "rejected", "Rejected"
    RETURNED = "returned", "Returned"


# Tendered notes in these states are still in the agent's hands and subject to the offer.
TENDER_OPEN_STATES = [
    TenderState.RECEIVED,
    TenderState.PENDING_DELIVERY,
    TenderState.IN_REVIEW,
    TenderState.DEFICIENT,
    TenderState.VALID,
]


def _no_open_deficiency(tender: Tender) -> bool:
    return not tender.deficiencies.filter(status=DeficiencyStatus.OPEN).exists()


class Tender(ConcurrentTransitionMixin, models.Model):
    """A letter of transmittal for one series (the prospectus has one letter per series)."""

    # Every index of this table is paid for on each state change: a change of `state` is
    # never a HOT update while an index covers it, so each non-partial index gets a new
    # entry per tender on the exchange date. Only the indexes a query needs are kept (named
    # in Meta); the foreign keys below rely on the composite indexes that lead with them.
    reference = models.CharField(max_length=16, editable=False)
    offer = models.ForeignKey(
        "exchange.ExchangeOffer", on_delete=models.PROTECT, related_name="tenders", db_index=False
    )
    series = models.ForeignKey(
        "exchange.NoteSeries", on_delete=models.PROTECT, related_name="tenders", db_index=False
    )
    holder = models.ForeignKey(
        "holders.Holder",
        on_delete=models.PROTECT,
        related_name="tenders",
        help_text="The tendering party: the registered holder or the DTC participant.",
        db_index=False,
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    channel = models.CharField(max_length=24, choices=Channel.choices)
    state = FSMField(default=TenderState.RECEIVED, choices=TenderState.choices, protected=True)
    cure_extended_to = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The issuer extended the time to cure this holder's defects to this instant "
        "(recorded; see exchange.services.cure_periods).",
    )
    received_at = models.DateTimeField(
        db_index=True, help_text="Server time the complete submission was committed."
    )
    amount = models.DecimalField(
        max_digits=17,
        decimal_places=2,
        help_text="Principal amount (principal amount at maturity for discount notes) tendered.",
    )
    withdrawn_amount = models.DecimalField(max_digits=17, decimal_places=2, default=Decimal("0"))

    # Box 1: description of the notes tendered.
    registered_names = models.TextField(
        help_text="Name(s) in which the original notes are registered."
    )
    book_entry_confirmation = models.CharField(max_length=40, blank=True)
    dtc_participant_number = models.CharField(max_length=10, blank=True)
    agents_message = models.BooleanField(
        default=False,
        help_text="DTC's Agent's Message: the participant agrees to be bound by the letter.",
    )
    beneficial_owner = models.CharField(max_length=200, blank=True)

    # Special issuance and delivery instructions.
    special_issuance_name = models.CharField(max_length=200, blank=True)
    special_issuance_address = models.TextField(blank=True)
    special_delivery_name = models.CharField(max_length=200, blank=True)
    special_delivery_address = models.TextField(blank=True)

    # Signature.
    signer_name = models.CharField(max_length=200, blank=True)
    signer_capacity = models.CharField(max_length=24, choices=SignerCapacity.choices, blank=True)
    signed = models.BooleanField(default=False)
    medallion_guarantor = models.ForeignKey(
        "holders.Holder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="guaranteed_tenders",
        limit_choices_to={"kind": "eligible_guarantor"},
        db_index=False,  # a partial index in Meta
    )
    medallion_program = models.CharField(max_length=8, choices=MedallionProgram.choices, blank=True)
    # Who may sign for the registered holder (prospectus, "How to Tender"): the registered
    # holder itself; a representative (attorney-in-fact, trustee, officer...) with evidence
    # of authority; anyone else only with the notes endorsed, or an instrument of transfer,
    # executed by the registered holder, and a medallion guarantee.
    authority_evidence = models.TextField(
        blank=True,
        help_text="The evidence of a representative's authority delivered with the letter "
        "(e.g. a power of attorney, letters testamentary, a board resolution).",
    )
    endorsed_or_instrument_of_transfer = models.BooleanField(
        default=False,
        help_text="The notes are endorsed, or accompanied by a written instrument of transfer, "
        "executed by the registered holder.",
    )

    # Representations of the transferor.
    rep_full_authority = models.BooleanField(
        default=False, help_text="Full power to tender; good title free of liens."
    )
    rep_not_affiliate = models.BooleanField(default=False)
    rep_not_broker_dealer_from_issuer = models.BooleanField(default=False)
    rep_ordinary_course = models.BooleanField(default=False)
    rep_no_distribution = models.BooleanField(default=False)
    rep_affiliate_will_comply = models.BooleanField(
        default=False, help_text="Alternatively: an affiliate that will comply with registration."
    )
    is_broker_dealer = models.BooleanField(default=False)
    broker_dealer_prospectus_acknowledged = models.BooleanField(default=False)
    prospectus_copies_requested = models.PositiveSmallIntegerField(default=0)

    # Substitute Form W-9. Only the last four digits of the TIN are kept: the desk
    # needs to know a TIN was certified, not to hold a store of full TINs.
    w9_tin_last4 = models.CharField(max_length=4, blank=True)
    w9_certified = models.BooleanField(default=False)
    w9_exempt_payee = models.BooleanField(default=False)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [
            # The exchange date's chunks, the tally per state, reconciliation: an offer's
            # tenders in a state.
            models.Index(fields=["offer", "state"]),
            # What a holder has tendered of a series (the positions, every claim's check).
            models.Index(fields=["holder", "series"]),
            # The review queue, oldest receipt first: partial, so a tender leaving review
            # (and every state change after) adds no entry to it.
            models.Index(
                fields=["received_at", "id"],
                condition=Q(state__in=["received", "in_review"]),
                name="tender_review_queue",
            ),
            # The letters a guarantor guaranteed: few tenders carry one.
            models.Index(
                fields=["medallion_guarantor"],
                condition=Q(medallion_guarantor__isnull=False),
                name="tender_medallion_guarantor",
            ),
        ]
        constraints = [
            # A reference is found by equality only (the desk's search and the portal's
            # URLs); a constraint, unlike unique=True, adds no LIKE-pattern index beside it.
            models.UniqueConstraint(fields=["reference"], name="tender_reference_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="tender_amount_positive"),
            models.CheckConstraint(
                condition=Q(withdrawn_amount__gte=0) & Q(withdrawn_amount__lte=models.F("amount")),
                name="tender_withdrawn_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.reference:
            self.reference = new_reference("LT")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def live_amount(self) -> Decimal:
        """What is still tendered: the amount less effective partial withdrawals."""
        return self.amount - self.withdrawn_amount

    @property
    def has_special_instructions(self) -> bool:
        return bool(
            self.special_issuance_name
            or self.special_issuance_address
            or self.special_delivery_name
            or self.special_delivery_address
        )

    @property
    def signed_by_registered_holder(self) -> bool:
        """The signer says it is the registered holder and its name is the register's.

        The register's name is the holder's (what the agent's register says), never the
        letter's own Box 1, which the signer fills in. A letter with no signer's name yet
        is judged by its capacity alone: the missing signature is its own defect, and a
        guarantee for a signer nobody named would be noise on the checklist."""
        return self.signer_capacity == SignerCapacity.REGISTERED_HOLDER and (
            not self.signer_name.strip() or same_name(self.signer_name, self.holder.name)
        )

    def guarantee_of_signature(self) -> SignatureGuarantee | None:
        """The medallion guarantee recorded for the letter's signature as it now reads."""
        return self.signature_guarantees.filter(signer_name=self.signer_name).first()

    @property
    def signed_in_representative_capacity(self) -> bool:
        return self.signer_capacity in REPRESENTATIVE_CAPACITIES

    @property
    def requires_medallion_guarantee(self) -> bool:
        """No guarantee when the registered holder signs and everything goes back to it."""
        return (
            not self.signed_by_registered_holder or self.has_special_instructions
        ) and self.channel != Channel.BOOK_ENTRY

    @property
    def backup_withholding_applies(self) -> bool:
        return not (self.w9_certified or self.w9_exempt_payee)

    @property
    def representations_complete(self) -> bool:
        ordinary = (
            self.rep_not_affiliate
            and self.rep_not_broker_dealer_from_issuer
            and self.rep_ordinary_course
            and self.rep_no_distribution
        )
        return self.rep_full_authority and (ordinary or self.rep_affiliate_will_comply)

    # --- transitions: state only --------------------------------------------------
    @transition(field=state, source=TenderState.RECEIVED, target=TenderState.IN_REVIEW)
    def start_review(self) -> None:
        pass

    @transition(
        field=state,
        source=[TenderState.RECEIVED, TenderState.IN_REVIEW, TenderState.VALID],
        target=TenderState.DEFICIENT,
    )
    def find_deficient(self) -> None:
        pass

    @transition(
        field=state,
        source=[TenderState.RECEIVED, TenderState.IN_REVIEW, TenderState.DEFICIENT],
        target=TenderState.VALID,
        conditions=[_no_open_deficiency],
    )
    def validate(self) -> None:
        pass

    # A holder's cure of the last open deficiency sends the tender back to the desk: only
    # a clerk's check (validate) makes it valid.
    @transition(field=state, source=TenderState.DEFICIENT, target=TenderState.IN_REVIEW)
    def return_to_review(self) -> None:
        pass

    @transition(field=state, source=TenderState.PENDING_DELIVERY, target=TenderState.RECEIVED)
    def deliver_notes(self) -> None:
        pass

    @transition(field=state, source=TENDER_OPEN_STATES, target=TenderState.WITHDRAWN)
    def withdraw(self) -> None:
        pass

    @transition(field=state, source=TENDER_OPEN_STATES, target=TenderState.REJECTED)
    def reject(self) -> None:
        pass

    @transition(field=state, source=TenderState.VALID, target=TenderState.ACCEPTED)
    def accept(self) -> None:
        pass

    @transition(field=state, source=TenderState.ACCEPTED, target=TenderState.EXCHANGED)
    def exchange(self) -> None:
        pass

    @transition(
        field=state,
        source=[TenderState.WITHDRAWN, TenderState.REJECTED],
        target=TenderState.RETURNED,
    )
    def return_notes(self) -> None:
        pass


class TenderAwaitingReview(Tender):
    """The review queue: tenders received and not yet found valid or deficient."""

    class Meta:
        proxy = True
        ordering = ["received_at", "id"]
        verbose_name = "tender awaiting review"
        verbose_name_plural = "review queue"


class TenderedCertificate(models.Model):
    """A certificate delivered with a letter of transmittal (paper tenders)."""

    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="certificates")
    holding = models.ForeignKey("holders.Holding", on_delete=models.PROTECT, related_name="+")
    certificate_number = models.CharField(max_length=40)
    amount = models.DecimalField(max_digits=17, decimal_places=2)
    # A withdrawal may take part of a certificate; the rest stays tendered.
    withdrawn_amount = models.DecimalField(max_digits=17, decimal_places=2, default=Decimal("0"))

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="tendered_certificate_positive"),
            models.CheckConstraint(
                condition=Q(withdrawn_amount__gte=0) & Q(withdrawn_amount__lte=models.F("amount")),
                name="certificate_withdrawn_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.certificate_number

    @property
    def live_amount(self) -> Decimal:
        return self.amount - self.withdrawn_amount


class DeficiencyKind(models.TextChoices):
    SIGNATURE = "signature", "Signature missing or not as registered"
    MEDALLION_GUARANTEE = "medallion_guarantee", "Medallion signature guarantee required"
    AUTHORITY_EVIDENCE = "authority_evidence", "Evidence of the signer's authority missing"
    ENDORSEMENT = (
        "endorsement",
        "Notes not endorsed and no instrument of transfer from the registered holder",
    )
    DENOMINATION = "denomination", "Amount not in an authorized denomination"
    CERTIFICATES = "certificates", "Certificates do not match the holding"
    BOOK_ENTRY_CONFIRMATION = (
        "book_entry_confirmation",
        "Book-entry confirmation or Agent's Message missing",
    )
    REPRESENTATIONS = "representations", "Representations incomplete"
    BROKER_DEALER_ACKNOWLEDGMENT = "broker_dealer_ack", "Broker-dealer acknowledgment missing"
    W9 = "w9", "Substitute Form W-9 incomplete"
    LATE_RECEIPT = "late_receipt", "Received after the expiration instant"
    OTHER = "other", "Other irregularity"


# Kinds a clerk may record on a tender. A missing or uncertified Substitute Form W-9 is kept
# as a kind only for rows recorded before it stopped being one: it is no defect of the
# tender; the agent withholds backup withholding from payments instead (prospectus,
# "How to Tender").
RECORDABLE_DEFICIENCY_KINDS = tuple(k for k in DeficiencyKind if k != DeficiencyKind.W9)


class DeficiencyStatus(models.TextChoices):
    OPEN = "open", "Open"
    CURED = "cured", "Cured by the holder"
    WAIVED = "waived", "Waived by the issuer"


class Deficiency(models.Model):
    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="deficiencies")
    kind = models.CharField(max_length=32, choices=DeficiencyKind.choices)
    note = models.TextField(help_text="What is wrong and what the holder must do to cure it.")
    status = models.CharField(
        max_length=8, choices=DeficiencyStatus.choices, default=DeficiencyStatus.OPEN
    )
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_by_label = models.CharField(max_length=150)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_by_label = models.CharField(max_length=150, blank=True)
    waiver_authorized_by = models.CharField(
        max_length=200, blank=True, help_text="The issuer's officer who authorised the waiver."
    )
    resolution_note = models.TextField(blank=True)

    class Meta:
        ordering = ["opened_at", "id"]
        verbose_name_plural = "deficiencies"
        indexes = [models.Index(fields=["-opened_at", "-id"], name="deficiency_newest_first")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="waived") | ~Q(waiver_authorized_by=""),
                name="waiver_names_who_authorised_it",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"


class GuaranteedDeliveryState(models.TextChoices):
    RECEIVED = "received", "Received"
    FULFILLED = "fulfilled", "Fulfilled"
    LAPSED = "lapsed", "Lapsed"


class GuaranteedDelivery(ConcurrentTransitionMixin, models.Model):
    """A notice of guaranteed delivery from an eligible guarantor institution."""

    reference = models.CharField(max_length=16, unique=True, editable=False)
    tender = models.OneToOneField(
        Tender, on_delete=models.PROTECT, related_name="guaranteed_delivery"
    )
    guarantor = models.ForeignKey(
        "holders.Holder",
        on_delete=models.PROTECT,
        related_name="guaranteed_deliveries",
        limit_choices_to={"kind": "eligible_guarantor"},
    )
    tendering_holder_name = models.CharField(max_length=200)
    tendering_holder_address = models.TextField()
    registered_names = models.TextField()
    certificate_numbers = models.TextField(blank=True, help_text="If possible.")
    executed_on = models.DateField(help_text="The guarantor's date of execution of the notice.")
    received_at = models.DateTimeField()
    deadline_at = models.DateTimeField(
        db_index=True,
        help_text="End of the third NYSE trading day after the date of execution.",
    )
    state = FSMField(
        default=GuaranteedDeliveryState.RECEIVED,
        choices=GuaranteedDeliveryState.choices,
        protected=True,
        db_index=True,
    )
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    lapsed_at = models.DateTimeField(null=True, blank=True)
    lapse_waived_by = models.CharField(
        max_length=200, blank=True, help_text="The issuer's officer who waived a late delivery."
    )

    class Meta:
        ordering = ["deadline_at", "id"]
        verbose_name_plural = "guaranteed deliveries"

    def __str__(self) -> str:
        return self.reference

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.reference:
            self.reference = new_reference("GD")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @transition(
        field=state,
        source=GuaranteedDeliveryState.RECEIVED,
        target=GuaranteedDeliveryState.FULFILLED,
    )
    def fulfil(self) -> None:
        pass

    @transition(
        field=state, source=GuaranteedDeliveryState.RECEIVED, target=GuaranteedDeliveryState.LAPSED
    )
    def lapse(self) -> None:
        pass


class WithdrawalState(models.TextChoices):
    RECEIVED = "received", "Received"
    EFFECTIVE = "effective", "Effective"
    REJECTED = "rejected", "Rejected"


class WithdrawalNotice(ConcurrentTransitionMixin, models.Model):
    """A notice of withdrawal, with the six elements the prospectus requires."""

    reference = models.CharField(max_length=16, unique=True, editable=False)
    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="withdrawals")
    received_at = models.DateTimeField(db_index=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # (1) the person named in the letter as having tendered
    tendering_person_name = models.CharField(max_length=200)
    # (2) the certificate numbers (blank for book-entry tenders)
    certificate_numbers = models.TextField(blank=True)
    # (3) the principal amount, in an authorized denomination
    amount = models.DecimalField(max_digits=17, decimal_places=2)
    # (4) a statement that the holder withdraws its election
    states_withdrawal = models.BooleanField(default=False)
    # (5) the registered holder
    registered_holder_name = models.CharField(max_length=200)
    # (6) signed as the letter was, with guarantees, or evidence of succession
    signed_as_letter = models.BooleanField(default=False)
    succession_evidence = models.TextField(blank=True)
    state = FSMField(
        default=WithdrawalState.RECEIVED, choices=WithdrawalState.choices, protected=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="withdrawal_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.reference:
            self.reference = new_reference("WD")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @transition(field=state, source=WithdrawalState.RECEIVED, target=WithdrawalState.EFFECTIVE)
    def make_effective(self) -> None:
        pass

    @transition(field=state, source=WithdrawalState.RECEIVED, target=WithdrawalState.REJECTED)
    def reject(self) -> None:
        pass


class GuaranteeSource(models.TextChoices):
    GUARANTOR_LOGIN = "guarantor_login", "Confirmed by the guarantor from its own login"
    PAPER_STAMP = "paper_stamp", "Medallion stamp recorded from the paper by the desk"


class SignatureGuarantee(models.Model):
    """A medallion signature guarantee: the eligible guarantor institution's own act.

    Naming a guarantor on a letter guarantees nothing. A guarantee exists when the
    institution confirms it from its own login, or when a clerk records the medallion stamp
    and its number from the paper delivered. It guarantees one signature: a letter's, or a
    notice of withdrawal's. Append-only (a database trigger refuses UPDATE, DELETE and
    TRUNCATE on PostgreSQL).
    """

    tender = models.ForeignKey(
        Tender,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="signature_guarantees",
    )
    withdrawal = models.ForeignKey(
        WithdrawalNotice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="signature_guarantees",
    )
    source = models.CharField(max_length=16, choices=GuaranteeSource.choices)
    guarantor = models.ForeignKey(
        "holders.Holder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="signature_guarantees_given",
        limit_choices_to={"kind": "eligible_guarantor"},
        help_text="The institution whose login confirmed the guarantee.",
    )
    institution_name = models.CharField(max_length=200)
    # The signature guaranteed, as the document read when it was given: a guarantee
    # stands for that signer only, so a letter whose signer is later corrected or cured
    # needs a guarantee of the new signature.
    signer_name = models.CharField(max_length=200, blank=True)
    program = models.CharField(max_length=8, choices=MedallionProgram.choices)
    stamp_number = models.CharField(
        max_length=40, blank=True, help_text="The medallion stamp's serial number."
    )
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by_label = models.CharField(max_length=150)

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tender__isnull=False, withdrawal__isnull=True)
                | Q(tender__isnull=True, withdrawal__isnull=False),
                name="guarantee_of_one_signature",
            ),
            models.CheckConstraint(
                condition=Q(source="guarantor_login", guarantor__isnull=False)
                | (Q(source="paper_stamp") & ~Q(stamp_number="")),
                name="guarantee_from_guarantor_or_stamp",
            ),
            models.UniqueConstraint(
                fields=["tender", "signer_name"],
                condition=Q(tender__isnull=False),
                name="one_guarantee_per_letter_signature",
            ),
            models.UniqueConstraint(
                fields=["withdrawal"],
                condition=Q(withdrawal__isnull=False),
                name="one_guarantee_per_withdrawal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution_name} ({self.program}) for {self.tender or self.withdrawal}"


class NewNoteDelivery(models.Model):
    """New notes owed for an accepted tender: exactly one per tender."""

    tender = models.OneToOneField(
        Tender, on_delete=models.PROTECT, related_name="new_note_delivery"
    )
    # Read through its tender (the delivery list is an offer's); no index of its own.
    series = models.ForeignKey(
        "exchange.NoteSeries", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    amount = models.DecimalField(max_digits=17, decimal_places=2)
    recipient_name = models.CharField(max_length=200)
    delivery_instructions = models.TextField(blank=True)
    by_book_entry = models.BooleanField(default=False)
    recorded_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "new note deliveries"
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="delivery_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} new {self.series} for {self.tender}"


class ReturnReason(models.TextChoices):
    WITHDRAWN = "withdrawn", "Withdrawn"
    REJECTED = "rejected", "Rejected"
    NOT_ACCEPTED = "not_accepted", "Not accepted on the exchange date"
    TERMINATED = "terminated", "Offer terminated"


class NoteReturn(models.Model):
    """Original notes going back to the tendering holder (or credited back at DTC)."""

    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="returns")
    # A partial withdrawal returns its part; every other return is the tender's whole
    # remainder, so at most one such row per tender (the constraint below).
    withdrawal = models.OneToOneField(
        WithdrawalNotice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="note_return",
    )
    reason = models.CharField(max_length=16, choices=ReturnReason.choices)
    amount = models.DecimalField(max_digits=17, decimal_places=2)
    by_book_entry = models.BooleanField(default=False)
    recorded_at = models.DateTimeField()
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="return_amount_positive"),
            models.UniqueConstraint(
                fields=["tender"],
                condition=Q(withdrawal__isnull=True),
                name="one_final_return_per_tender",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} returned ({self.get_reason_display()}) for {self.tender}"
