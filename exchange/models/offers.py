"""The issuer, the exchange offer, its note series and the issuer's decisions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from exchange.terms import calendars
from exchange.terms.money import PER_THOUSAND

MONTH_DAY_LIST = RegexValidator(
    r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(,(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]))*$",
    "Give month-day pairs separated by commas, e.g. 03-15,09-15.",
)


def parse_month_days(text: str) -> list[tuple[int, int]]:
    return [(int(part[:2]), int(part[3:])) for part in text.split(",") if part]


class Issuer(models.Model):
    name = models.CharField(max_length=200, unique=True)

    def __str__(self) -> str:
        return self.name


class OfferState(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    EXPIRED = "expired", "Expired"
    ACCEPTED = "accepted", "Accepted"
    COMPLETED = "completed", "Completed"
    TERMINATED = "terminated", "Terminated"


class ExchangeOffer(ConcurrentTransitionMixin, models.Model):
    """An A/B exchange offer: original notes of each series for new, $1,000 for $1,000."""

    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="offers")
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    exchange_agent = models.CharField(max_length=200)
    dtc_account = models.CharField(
        max_length=40, blank=True, help_text="The exchange agent's DTC account for this offer."
    )
    prospectus_date = models.DateField()
    registration_agreement_date = models.DateField()
    original_issue_date = models.DateField(
        help_text="Issue date of the original notes; registration deadlines count from it."
    )
    notice_mailed_on = models.DateField(
        null=True, blank=True, help_text="The day notice of the offer was first mailed."
    )
    commenced_at = models.DateTimeField(null=True, blank=True)
    initial_expiration_at = models.DateTimeField()
    expiration_at = models.DateTimeField(
        db_index=True, help_text="The current expiration instant, as extended."
    )
    expired_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    terminated_at = models.DateTimeField(null=True, blank=True)
    cure_period_ends_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The issuer's time by which defects must be cured; blank: the expiration "
        "instant (a guaranteed-delivery tender: its delivery deadline, if later).",
    )
    stop_order_in_effect = models.BooleanField(
        default=False,
        help_text="A stop order threatened or in effect on the registration statement or the "
        "indentures' qualification: nothing may be accepted while it stands.",
    )
    acceptance_automatic = models.BooleanField(
        default=False,
        help_text="Accept on the exchange date without waiting for the issuer's written "
        "notice of acceptance (demo and tests).",
    )
    minimum_open_days = models.PositiveSmallIntegerField(
        default=30, help_text="Calendar days the offer stays open after notice is mailed."
    )
    minimum_open_business_days = models.PositiveSmallIntegerField(
        default=20, help_text="Business days the offer stays open (Rule 14e-1(a))."
    )
    backup_withholding_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=settings.DEFAULT_BACKUP_WITHHOLDING_RATE,
        validators=[MinValueValidator(Decimal("0"))],
    )
    filing_deadline_days = models.PositiveSmallIntegerField(default=90)
    effectiveness_deadline_days = models.PositiveSmallIntegerField(default=150)
    completion_deadline_days = models.PositiveSmallIntegerField(default=180)
    state = FSMField(
        default=OfferState.DRAFT, choices=OfferState.choices, protected=True, db_index=True
    )

    class Meta:
        ordering = ["-expiration_at"]
        permissions = [
            ("record_issuer_decision", "Can record the issuer's decisions (supervisor)"),
        ]

    def __str__(self) -> str:
        return self.name

    # --- derived dates -------------------------------------------------------
    @property
    def expiration_date(self) -> dt.date:
        """The New York day the offer expires on. An expiration at "12:00 midnight" at the
        end of a day is stored as the next day's first instant; it belongs to the day it ends."""
        return calendars.ny_date(self.expiration_at - dt.timedelta(microseconds=1))

    @property
    def exchange_date(self) -> dt.date:
        """The first business day following the (latest) expiration date."""
        return calendars.next_business_day(self.expiration_date)

    def accepts_tenders_at(self, moment: dt.datetime) -> bool:
        """Tenders count when received *on or before* the expiration instant."""
        return (
            self.state == OfferState.OPEN
            and self.commenced_at is not None
            and self.commenced_at <= moment <= self.expiration_at
        )

    def accepts_withdrawals_at(self, moment: dt.datetime) -> bool:
        """Withdrawal is allowed strictly *before* the expiration instant."""
        return self.state == OfferState.OPEN and moment < self.expiration_at

    # --- transitions: state only; the services lock, check and record ---------
    @transition(field=state, source=OfferState.DRAFT, target=OfferState.OPEN)
    def commence(self) -> None:
        pass

    @transition(field=state, source=OfferState.OPEN, target=OfferState.OPEN)
    def extend(self) -> None:
        pass

    @transition(field=state, source=OfferState.OPEN, target=OfferState.OPEN)
    def amend(self) -> None:
        pass

    @transition(field=state, source=OfferState.OPEN, target=OfferState.EXPIRED)
    def expire(self) -> None:
        pass

    @transition(
        field=state,
        source=OfferState.EXPIRED,
        target=OfferState.ACCEPTED,
        conditions=[lambda offer: not offer.stop_order_in_effect],
    )
    def accept(self) -> None:
        pass

    @transition(field=state, source=OfferState.ACCEPTED, target=OfferState.COMPLETED)
    def complete(self) -> None:
        pass

    @transition(
        field=state, source=[OfferState.OPEN, OfferState.EXPIRED], target=OfferState.TERMINATED
    )
    def terminate(self) -> None:
        pass


class DayCount(models.TextChoices):
    THIRTY_360 = "30/360", "30/360 (bond basis)"


class NoteSeries(models.Model):
    """One series of original notes and the new notes offered for it."""

    offer = models.ForeignKey(ExchangeOffer, on_delete=models.PROTECT, related_name="series")
    slug = models.SlugField()
    name = models.CharField(max_length=200)
    original_cusip = models.CharField(max_length=9, blank=True)
    new_cusip = models.CharField(max_length=9, blank=True)
    coupon_rate = models.DecimalField(
        max_digits=7, decimal_places=5, help_text="Annual rate, 0.11 for 11%."
    )
    issue_date = models.DateField()
    maturity_date = models.DateField()
    interest_payment_dates = models.CharField(
        max_length=60, validators=[MONTH_DAY_LIST], help_text="Month-day pairs, e.g. 03-15,09-15."
    )
    record_dates = models.CharField(
        max_length=60, validators=[MONTH_DAY_LIST], help_text="Month-day pairs, e.g. 03-01,09-01."
    )
    first_interest_payment_date = models.DateField()
    day_count = models.CharField(
        max_length=10, choices=DayCount.choices, default=DayCount.THIRTY_360
    )
    denomination = models.DecimalField(
        max_digits=9,
        decimal_places=2,
        default=Decimal("1000.00"),
        help_text="Authorized denomination: amounts are integral multiples of it "
        "(principal amount at maturity for discount notes).",
    )
    amount_outstanding = models.DecimalField(
        max_digits=17,
        decimal_places=2,
        help_text="Aggregate principal (principal amount at maturity for discount notes).",
    )
    is_discount = models.BooleanField(default=False)
    issue_price_per_1000 = models.DecimalField(
        max_digits=9, decimal_places=2, null=True, blank=True
    )
    accretion_rate = models.DecimalField(max_digits=7, decimal_places=5, null=True, blank=True)
    full_accretion_date = models.DateField(null=True, blank=True)
    cash_interest_from = models.DateField(
        null=True, blank=True, help_text="Discount notes: cash interest accrues from this date."
    )

    class Meta:
        ordering = ["offer", "maturity_date", "name"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "slug"], name="series_slug_unique_per_offer"),
            models.CheckConstraint(
                condition=models.Q(denomination__gt=0), name="series_denomination_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(is_discount=False)
                | (
                    models.Q(issue_price_per_1000__isnull=False)
                    & models.Q(accretion_rate__isnull=False)
                    & models.Q(full_accretion_date__isnull=False)
                ),
                name="discount_series_has_accretion_terms",
            ),
        ]
        verbose_name_plural = "note series"

    def __str__(self) -> str:
        return self.name

    @property
    def amount_label(self) -> str:
        return "principal amount at maturity" if self.is_discount else "principal amount"

    @property
    def interest_dates(self) -> list[tuple[int, int]]:
        return parse_month_days(self.interest_payment_dates)

    @property
    def record_month_days(self) -> list[tuple[int, int]]:
        return parse_month_days(self.record_dates)

    def accreted_value_per_1000(self, on: dt.date) -> Decimal:
        """Unrounded accreted value per $1,000 principal amount at maturity on `on`
        (the indenture's definition); for notes issued at par, the $1,000 itself."""
        from exchange.terms.accretion import accreted_value_per_1000

        if not self.is_discount:
            return PER_THOUSAND
        assert self.issue_price_per_1000 is not None and self.accretion_rate is not None
        assert self.full_accretion_date is not None
        return accreted_value_per_1000(
            on,
            issue_date=self.issue_date,
            issue_price=self.issue_price_per_1000,
            annual_rate=self.accretion_rate,
            compounding_dates=self.interest_dates,
            full_accretion_date=self.full_accretion_date,
        )


class OfferEventKind(models.TextChoices):
    COMMENCED = "commenced", "Commenced (notice mailed)"
    EXTENDED = "extended", "Extended"
    AMENDED = "amended", "Amended"
    MATERIAL_AMENDMENT = "material_amendment", "Amended in a material respect"
    CONDITION_ASSERTED = "condition_asserted", "Condition asserted"
    CONDITION_WAIVED = "condition_waived", "Material condition waived"
    CURE_PERIOD = "cure_period", "Time to cure defects set"
    TERMINATED = "terminated", "Terminated"
    STOP_ORDER_ON = "stop_order_on", "Stop order threatened or in effect"
    STOP_ORDER_OFF = "stop_order_off", "Stop order lifted"
    ANNOUNCEMENT = "announcement", "Public announcement"
    ACCEPTANCE_NOTICE = "acceptance_notice", "Written notice of acceptance"


class OfferEvent(models.Model):
    """An issuer's decision or announcement, as the agent received or made it."""

    offer = models.ForeignKey(ExchangeOffer, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=24, choices=OfferEventKind.choices)
    occurred_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    actor_label = models.CharField(max_length=150)
    previous_expiration_at = models.DateTimeField(null=True, blank=True)
    new_expiration_at = models.DateTimeField(null=True, blank=True)
    announcement_due_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Extension: announce by 9:00 a.m. New York time on the business day after "
        "the previously scheduled expiration (Rule 14e-1(d)).",
    )
    description = models.TextField()
    notice_on = models.DateField(
        null=True,
        blank=True,
        help_text="Amendments and waivers: the day notice was first published, sent or given; "
        "the five-business-day rule counts from it.",
    )
    announcement_draft = models.TextField(
        blank=True, help_text="The announcement drafted for the issuer with this decision."
    )
    announcement_channel = models.CharField(
        max_length=120,
        blank=True,
        help_text="Announcements: how it was made (e.g. Dow Jones News Service release).",
    )
    announces = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="announcements",
        help_text="Announcements: the decision this one announces.",
    )
    announcement_warned_at = models.DateTimeField(null=True, blank=True)
    announcement_late_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.offer}"
