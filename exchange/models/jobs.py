"""A row per run of a scheduled job: what it acted on, as of when, and how it ended.

The jobs keep their due times in the domain rows themselves (an offer's expiration,
a guarantee's deadline); these rows are the operator's record of what ran.
"""

from __future__ import annotations

from django.db import models


class JobName(models.TextChoices):
    EXPIRE_OFFER = "expire_offer", "Expiration"
    LAPSE_GUARANTEED_DELIVERY = "lapse_guaranteed_delivery", "Guaranteed-delivery deadline"
    EXCHANGE_DATE = "exchange_date", "Exchange date (acceptance, deliveries, returns)"
    SETTLE_RETURNS = "settle_returns", "Return of withdrawn and rejected notes"
    ACCRUE_SPECIAL_INTEREST = "accrue_special_interest", "Special interest accrual"
    RECONCILE = "reconcile", "Daily reconciliation of notes"
    ANNOUNCEMENT_DEADLINE = "announcement_deadline", "Announcement deadline (warn, then late)"


class JobOutcome(models.TextChoices):
    DONE = "done", "Done"
    NOTHING_DUE = "nothing_due", "Nothing due"
    WAITING = "waiting", "Waiting (for the issuer or the clerks)"
    BLOCKED = "blocked", "Blocked"
    FAILED = "failed", "Failed"


class JobRun(models.Model):
    job = models.CharField(max_length=32, choices=JobName.choices, db_index=True)
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject_label = models.CharField(max_length=200, blank=True)
    as_of = models.DateTimeField(help_text="The instant the job acted as of (New York shown).")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=JobOutcome.choices, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["job", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.get_job_display()} {self.subject_label} — {self.get_outcome_display() or 'running'}"
