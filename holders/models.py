"""Holders of original notes, their nominees and guarantors, and what they hold."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet


class HolderKind(models.TextChoices):
    REGISTERED_HOLDER = "registered_holder", "Registered holder"
    DTC_PARTICIPANT = "dtc_participant", "Nominee / DTC participant"
    ELIGIBLE_GUARANTOR = "eligible_guarantor", "Eligible guarantor institution"


class TinStatus(models.TextChoices):
    CERTIFIED = "certified", "TIN certified (Substitute Form W-9)"
    NOT_CERTIFIED = "not_certified", "Not certified: backup withholding applies"
    EXEMPT = "exempt", "Exempt payee"


class Holder(models.Model):
    kind = models.CharField(max_length=24, choices=HolderKind.choices)
    name = models.CharField(max_length=200)
    address = models.TextField()
    email = models.EmailField(blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="holder",
        help_text="The portal login acting for this holder.",
    )
    dtc_participant_number = models.CharField(max_length=10, blank=True)
    medallion_program = models.CharField(
        max_length=8,
        blank=True,
        choices=[("STAMP", "STAMP"), ("SEMP", "SEMP"), ("MSP", "NYSE MSP")],
        help_text="Eligible guarantor institutions: the medallion program they belong to.",
    )
    is_broker_dealer = models.BooleanField(default=False)
    is_affiliate = models.BooleanField(
        default=False, help_text="An affiliate of the issuer (Rule 405)."
    )
    tin_status = models.CharField(
        max_length=16, choices=TinStatus.choices, default=TinStatus.NOT_CERTIFIED
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="dtc_participant") | ~Q(dtc_participant_number=""),
                name="dtc_participant_has_number",
            ),
            models.CheckConstraint(
                condition=~Q(kind="eligible_guarantor") | ~Q(medallion_program=""),
                name="guarantor_has_medallion_program",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class HoldingForm(models.TextChoices):
    CERTIFICATE = "certificate", "Registered certificate"
    DTC_POSITION = "dtc_position", "DTC participant position"


class NotesKind(models.TextChoices):
    ORIGINAL = "original", "Original notes"
    NEW = "new", "New notes (issued in the exchange)"


class HoldingQuerySet(models.QuerySet["Holding"]):
    def original(self) -> QuerySet[Holding]:
        return self.filter(notes=NotesKind.ORIGINAL)

    def new(self) -> QuerySet[Holding]:
        return self.filter(notes=NotesKind.NEW)

    def of_record_on(self, day: dt.date) -> QuerySet[Holding]:
        """Holdings in force on `day`: effective_from <= day < effective_until."""
        return self.filter(effective_from__lte=day).filter(
            Q(effective_until__isnull=True) | Q(effective_until__gt=day)
        )


class Holding(models.Model):
    """What a holder has of a series, effective-dated so holders of record on any date are known.

    A certificate or a DTC position is one row; a transfer ends the row (effective_until)
    and starts another, never editing history.
    """

    holder = models.ForeignKey(Holder, on_delete=models.PROTECT, related_name="holdings")
    series = models.ForeignKey(
        "exchange.NoteSeries", on_delete=models.PROTECT, related_name="holdings"
    )
    form = models.CharField(max_length=16, choices=HoldingForm.choices)
    notes = models.CharField(
        max_length=8,
        choices=NotesKind.choices,
        default=NotesKind.ORIGINAL,
        help_text="Original notes, or the new notes of the series issued in the exchange "
        "(same terms, the series' new CUSIP).",
    )
    certificate_number = models.CharField(max_length=40, blank=True)
    amount = models.DecimalField(
        max_digits=17,
        decimal_places=2,
        help_text="Principal amount (principal amount at maturity for discount notes).",
    )
    beneficial_owner = models.CharField(
        max_length=200, blank=True, help_text="DTC positions: the beneficial owner it is held for."
    )
    effective_from = models.DateField()
    effective_until = models.DateField(null=True, blank=True, help_text="Exclusive.")
    registered_name = models.CharField(
        max_length=200,
        blank=True,
        help_text="New notes: the name they are registered in when the letter's special "
        "issuance instructions name someone other than the holder.",
    )
    issued_for = models.ForeignKey(
        "exchange.Tender",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="register_entries",
        help_text="The tender on whose exchange this row was entered (new notes, or the "
        "reissued remainder of a partly exchanged certificate or position).",
    )
    reissued_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reissues",
        help_text="The certificate (or position) cancelled on the exchange date whose "
        "untendered remainder this row carries.",
    )

    objects = HoldingQuerySet.as_manager()

    class Meta:
        ordering = ["series", "holder", "certificate_number"]
        indexes = [
            models.Index(fields=["series", "effective_from"]),
            models.Index(fields=["holder", "series", "notes"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="holding_amount_positive"),
            models.CheckConstraint(
                condition=~Q(form="certificate") | ~Q(certificate_number=""),
                name="certificate_holding_has_number",
            ),
            # A period is never empty, except for a remainder the exchange date entered and
            # a later chunk of the same day drew on again (same participant or certificate
            # in two chunks): that row is superseded the day it began, of record on no day,
            # and stays as the chain's link rather than being edited.
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True)
                | Q(effective_until__gt=models.F("effective_from"))
                | (Q(effective_until=models.F("effective_from")) & Q(reissued_from__isnull=False)),
                name="holding_period_not_empty_but_same_day_remainders",
            ),
            models.UniqueConstraint(
                fields=["series", "certificate_number"],
                condition=Q(form="certificate") & Q(effective_until__isnull=True),
                name="one_current_holding_per_certificate",
            ),
            # Only new notes are entered for a tender, one row per tender.
            models.UniqueConstraint(
                fields=["issued_for"],
                condition=Q(notes="new"),
                name="one_new_note_holding_per_tender",
            ),
        ]

    def __str__(self) -> str:
        what = self.certificate_number or f"DTC {self.holder.dtc_participant_number}"
        return f"{self.holder} — {self.series}: {what} {self.amount:,}"

    def is_of_record_on(self, day: dt.date) -> bool:
        return self.effective_from <= day and (
            self.effective_until is None or day < self.effective_until
        )


ZERO = Decimal("0")


class SignUpStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a clerk"
    APPROVED = "approved", "Approved: login created"
    DECLINED = "declined", "Declined"


class SignUpRequest(models.Model):
    """Someone asking for a portal login, until a clerk approves or declines it.

    No login exists until a clerk has matched the request to a Holder the desk already
    keeps (holdings come from the registrar and DTC, never from the applicant), so a
    stranger who signs up sees nothing. The password is kept only as Django's hash, and
    only until the decision: approval moves it to the new login, a decline erases it.
    """

    username = models.CharField(max_length=150)
    email = models.EmailField()
    contact_name = models.CharField(max_length=200, help_text="The person asking for access.")
    holder_name = models.CharField(
        max_length=200, help_text="The holder or institution, as registered."
    )
    kind = models.CharField(max_length=24, choices=HolderKind.choices)
    address = models.TextField()
    dtc_participant_number = models.CharField(max_length=10, blank=True)
    medallion_program = models.CharField(max_length=8, blank=True)
    note = models.TextField(
        blank=True, help_text="What the applicant says to help the desk identify it."
    )
    password = models.CharField(max_length=128, blank=True, help_text="Django's hash only.")
    requested_at = models.DateTimeField()
    status = models.CharField(
        max_length=8, choices=SignUpStatus.choices, default=SignUpStatus.PENDING, db_index=True
    )
    holder = models.ForeignKey(
        Holder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sign_up_requests",
        help_text="The desk's holder this login will act for (chosen by the clerk).",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The login created on approval.",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = "portal sign-up"
        constraints = [
            models.UniqueConstraint(
                fields=["username"],
                condition=Q(status="pending"),
                name="one_pending_sign_up_per_username",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.holder_name} ({self.username})"


class PortalSubmission(models.Model):
    """A portal form as submitted once: the page's one-time token and the receipt it got.

    Every form page carries a fresh token. A page sent again (a double click, the browser's
    resend, a retry after a timeout, the same page posted in parallel) finds its token here
    and answers with the first receipt; the unique constraint makes concurrent copies wait
    for the first and then find it, so exactly one document is recorded.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    token = models.UUIDField()
    form = models.CharField(max_length=40)
    receipt_url = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "token"], name="one_submission_per_page_token")
        ]

    def __str__(self) -> str:
        return f"{self.form} {self.token}"
