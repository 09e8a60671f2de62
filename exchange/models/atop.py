"""DTC ATOP activity as the exchange agent receives it: the files, each instruction once
(by VOI number), the lines the desk could not apply, and the agent's DTC position.

An instruction is the participant's act; what the desk did with it is a tender, a
guaranteed delivery (a *protect*), its fulfilment (a *cover*) or a notice of withdrawal,
recorded through the same services as the portal's. Nothing here is edited after it is
written except an exception's resolution, which is itself recorded in the history.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models


class AtopInstructionKind(models.TextChoices):
    TENDER = "tender", "Tender"
    WITHDRAWAL = "withdrawal", "Withdrawal"
    PROTECT = "protect", "Protect (guaranteed delivery)"
    COVER = "cover", "Cover (delivery of protected notes)"


class AtopOutcome(models.TextChoices):
    APPLIED = "applied", "Applied"
    EXCEPTION = "exception", "Exception"


class AtopImportState(models.TextChoices):
    PREVIEWING = "previewing", "Preview being prepared"
    PREVIEWED = "previewed", "Previewed: awaiting a clerk's confirmation"
    IMPORTING = "importing", "Importing"
    IMPORTED = "imported", "Imported"
    FAILED = "failed", "Failed"


class AtopImport(models.Model):
    """One activity file as received: uploaded and previewed in the admin, then imported
    once a clerk confirms (the operator command imports at once). The file's text is
    kept as received. A dry run of the command records nothing, not even this."""

    offer = models.ForeignKey(
        "exchange.ExchangeOffer", on_delete=models.PROTECT, related_name="atop_imports"
    )
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    imported_at = models.DateTimeField()
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    lines = models.PositiveIntegerField(default=0)
    new_tenders = models.PositiveIntegerField(default=0)
    withdrawals = models.PositiveIntegerField(default=0)
    protects = models.PositiveIntegerField(default=0)
    covers = models.PositiveIntegerField(default=0)
    exceptions = models.PositiveIntegerField(default=0)
    already_recorded = models.PositiveIntegerField(
        default=0, help_text="Lines whose VOI was recorded before with the same content."
    )
    state = models.CharField(
        max_length=16, choices=AtopImportState.choices, default=AtopImportState.IMPORTED
    )
    content = models.TextField(blank=True, help_text="The file as received.")
    preview = models.JSONField(null=True, blank=True)
    lines_done = models.PositiveIntegerField(default=0)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_by_label = models.CharField(max_length=150, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-imported_at", "-id"]
        verbose_name = "ATOP activity import"

    def __str__(self) -> str:
        return f"{self.file_name} ({self.imported_at:%Y-%m-%d %H:%M})"


class AtopInstruction(models.Model):
    """One voluntary offering instruction, recorded once per offer by its VOI number."""

    offer = models.ForeignKey(
        "exchange.ExchangeOffer", on_delete=models.PROTECT, related_name="atop_instructions"
    )
    voi_number = models.CharField("VOI number", max_length=40)
    kind = models.CharField(max_length=16, choices=AtopInstructionKind.choices)
    participant_number = models.CharField(max_length=10, db_index=True)
    participant_name = models.CharField(max_length=200)
    cusip = models.CharField("CUSIP", max_length=9)
    quantity = models.DecimalField(
        max_digits=17, decimal_places=2, help_text="Principal amount (at maturity, discount notes)."
    )
    dtc_timestamp = models.DateTimeField("DTC timestamp", help_text="The receipt time.")
    agents_message = models.BooleanField("Agent's Message")
    related_voi = models.CharField(
        "original VOI",
        max_length=40,
        blank=True,
        help_text="For a withdrawal, the VOI withdrawn; for a cover, the protect it covers.",
    )
    beneficial_owners = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64)
    first_import = models.ForeignKey(
        AtopImport, on_delete=models.PROTECT, related_name="instructions"
    )
    line_number = models.PositiveIntegerField()
    outcome = models.CharField(max_length=16, choices=AtopOutcome.choices)
    tender = models.ForeignKey(
        "exchange.Tender",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="atop_instructions",
    )
    guaranteed_delivery = models.ForeignKey(
        "exchange.GuaranteedDelivery",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="atop_instructions",
    )
    withdrawal = models.ForeignKey(
        "exchange.WithdrawalNotice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="atop_instructions",
    )

    class Meta:
        ordering = ["dtc_timestamp", "id"]
        constraints = [
            # The idempotency key: two files (or two processes) carrying one VOI record it once.
            models.UniqueConstraint(fields=["offer", "voi_number"], name="atop_voi_once_per_offer")
        ]
        verbose_name = "ATOP instruction"

    def __str__(self) -> str:
        return f"VOI {self.voi_number} ({self.get_kind_display().lower()})"


class AtopExceptionKind(models.TextChoices):
    UNREADABLE = "unreadable", "Unreadable line"
    UNKNOWN_CUSIP = "unknown_cusip", "Unknown CUSIP"
    UNKNOWN_PARTICIPANT = "unknown_participant", "Participant unknown to the register"
    OVER_POSITION = "over_position", "Quantity above the participant's position"
    DENOMINATION = "denomination", "Quantity not a multiple of $1,000"
    UNKNOWN_VOI = "unknown_voi", "Withdrawal or cover of an unknown VOI"
    NO_AGENTS_MESSAGE = "no_agents_message", "Missing Agent's Message"
    LATE = "late", "Late instruction"
    DUPLICATE_VOI = "duplicate_voi", "Duplicate VOI with other content"
    REFUSED = "refused", "Refused by the desk's rules"


class AtopExceptionStatus(models.TextChoices):
    OPEN = "open", "Open"
    ESCALATED = "escalated", "Escalated to a supervisor"
    MATCHED = "matched", "Matched to a holder"
    REJECTED = "rejected", "Rejected"


UNRESOLVED_EXCEPTION_STATES = (AtopExceptionStatus.OPEN, AtopExceptionStatus.ESCALATED)


class AtopException(models.Model):
    """A line of an activity file the desk could not apply, until a clerk resolves it."""

    offer = models.ForeignKey(
        "exchange.ExchangeOffer", on_delete=models.PROTECT, related_name="atop_exceptions"
    )
    atop_import = models.ForeignKey(AtopImport, on_delete=models.PROTECT, related_name="+")
    line_number = models.PositiveIntegerField()
    line = models.TextField(help_text="The line of the file, as received.")
    voi_number = models.CharField("VOI number", max_length=40, blank=True)
    content_hash = models.CharField(max_length=64)
    instruction = models.ForeignKey(
        AtopInstruction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exceptions",
        help_text="The instruction the VOI was first recorded as.",
    )
    kind = models.CharField(max_length=24, choices=AtopExceptionKind.choices, db_index=True)
    message = models.TextField()
    status = models.CharField(
        max_length=16,
        choices=AtopExceptionStatus.choices,
        default=AtopExceptionStatus.OPEN,
        db_index=True,
    )
    raised_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_by_label = models.CharField(max_length=150, blank=True)
    resolution_note = models.TextField(blank=True)
    matched_holder = models.ForeignKey(
        "holders.Holder", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["raised_at", "line_number", "id"]
        constraints = [
            # One exception per distinct content: re-importing a file raises nothing twice.
            models.UniqueConstraint(
                fields=["offer", "content_hash"], name="atop_exception_once_per_content"
            )
        ]
        verbose_name = "ATOP exception"

    def __str__(self) -> str:
        return f"Line {self.line_number}: {self.get_kind_display()}"


class DtcPositionSource(models.TextChoices):
    POSITION_REPORT = "report", "DTC position report"
    CLERK = "clerk", "Entered by a clerk"


class DtcPosition(models.Model):
    """The agent's DTC account position in one CUSIP at an instant, as DTC reports it."""

    offer = models.ForeignKey(
        "exchange.ExchangeOffer", on_delete=models.PROTECT, related_name="dtc_positions"
    )
    cusip = models.CharField("CUSIP", max_length=9)
    as_of = models.DateTimeField()
    quantity = models.DecimalField(max_digits=17, decimal_places=2, default=Decimal("0"))
    source = models.CharField(max_length=8, choices=DtcPositionSource.choices)
    recorded_at = models.DateTimeField()
    recorded_by_label = models.CharField(max_length=150)

    class Meta:
        ordering = ["-as_of", "cusip", "-id"]
        verbose_name = "DTC position"

    def __str__(self) -> str:
        return f"{self.cusip} {self.quantity:,.2f} at {self.as_of:%Y-%m-%d %H:%M}"
