"""The registration agreement's milestones and the defaults they give rise to."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django_fsm import ConcurrentTransitionMixin, FSMField, transition


class RegistrationEventKind(models.TextChoices):
    EXCHANGE_FILED = "exchange_filed", "Exchange offer registration statement filed"
    EXCHANGE_EFFECTIVE = "exchange_effective", "Exchange offer registration statement effective"
    EXCHANGE_COMPLETED = "exchange_completed", "Exchange offer completed"
    SHELF_FILED = "shelf_filed", "Shelf registration statement filed"
    SHELF_EFFECTIVE = "shelf_effective", "Shelf registration statement effective"
    CEASED_USABLE = "ceased_usable", "Registration statement ceased to be effective or usable"
    USABLE_AGAIN = "usable_again", "Registration statement usable again"


class LiveRegistrationEvents(models.Manager["RegistrationEvent"]):
    """Milestones that stand: a voided one is kept, for the record, but counts for nothing
    (detection, the ledger, the desk's pages all read through this manager)."""

    def get_queryset(self) -> models.QuerySet[RegistrationEvent]:
        return super().get_queryset().filter(voided_at__isnull=True)


class RegistrationEvent(models.Model):
    """A milestone met or broken, as a clerk (or the exchange-date job) recorded it.

    Never deleted: one recorded wrongly is voided (when, by whom, why), and the milestones
    that stand are those not voided."""

    offer = models.ForeignKey(
        "exchange.ExchangeOffer", on_delete=models.PROTECT, related_name="registration_events"
    )
    kind = models.CharField(max_length=24, choices=RegistrationEventKind.choices)
    occurred_on = models.DateField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    recorded_by_label = models.CharField(max_length=150)
    note = models.TextField(blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by_label = models.CharField(max_length=150, blank=True)
    void_reason = models.TextField(blank=True)

    # Every milestone, voided or not (the --list and the void service); `objects`, the
    # default, only those that stand.
    all_objects = models.Manager()
    objects = LiveRegistrationEvents()

    class Meta:
        ordering = ["occurred_on", "id"]
        default_manager_name = "objects"

    def __str__(self) -> str:
        voided = " (voided)" if self.voided_at else ""
        return f"{self.get_kind_display()} on {self.occurred_on}{voided}"


class RegistrationDefaultTrigger(models.TextChoices):
    NOT_FILED = "not_filed", "Not filed by the filing deadline"
    NOT_EFFECTIVE = "not_effective", "Not effective by the effectiveness deadline"
    NOT_COMPLETED = "not_completed", "Exchange not completed nor shelf effective in time"
    CEASED_USABLE = "ceased_usable", "Effective statement ceased to be usable"


class RegistrationDefaultState(models.TextChoices):
    OCCURRED = "occurred", "Occurred"
    CURED = "cured", "Cured"


class RegistrationDefault(ConcurrentTransitionMixin, models.Model):
    offer = models.ForeignKey(
        "exchange.ExchangeOffer", on_delete=models.PROTECT, related_name="registration_defaults"
    )
    trigger = models.CharField(max_length=16, choices=RegistrationDefaultTrigger.choices)
    occurred_on = models.DateField(
        help_text="Special interest accrues from and including this day."
    )
    cured_on = models.DateField(null=True, blank=True, help_text="…to but excluding this day.")
    state = FSMField(
        default=RegistrationDefaultState.OCCURRED,
        choices=RegistrationDefaultState.choices,
        protected=True,
    )

    class Meta:
        ordering = ["occurred_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["offer", "trigger", "occurred_on"], name="one_default_per_trigger_and_day"
            ),
            models.CheckConstraint(
                condition=models.Q(cured_on__isnull=True)
                | models.Q(cured_on__gt=models.F("occurred_on")),
                name="default_cured_after_it_occurred",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} from {self.occurred_on}"

    @transition(
        field=state, source=RegistrationDefaultState.OCCURRED, target=RegistrationDefaultState.CURED
    )
    def cure(self) -> None:
        pass
