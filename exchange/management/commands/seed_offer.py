"""Load the Level 3 exchange offer of June 9, 2000 and a demo cast. Idempotent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from exchange.demo.atop import load_demo_atop
from exchange.demo.cast import load_demo_tenders
from exchange.models import (
    ActorKind,
    ExchangeOffer,
    Issuer,
    NoteSeries,
    OfferState,
    RegistrationEventKind,
)
from exchange.services.base import Actor
from exchange.services.offers import commence_offer
from exchange.services.registration import record_registration_event
from exchange.terms import calendars
from holders.models import Holder, HolderKind, Holding, HoldingForm, TinStatus

OFFER_SLUG = "level3-2000"

# The offer's own dates, from the prospectus of June 9, 2000.
PROSPECTUS_DATE = dt.date(2000, 6, 9)
FILING_DEADLINE_DAY = dt.date(2000, 5, 29)  # 90th day after February 29, 2000
MILESTONE_NOTE = "Seed: as the prospectus of June 9, 2000 attests (Registration No. 333-37362)."
REGISTRATION_AGREEMENT_DATE = dt.date(2000, 2, 24)
ORIGINAL_ISSUE_DATE = dt.date(2000, 2, 29)
NOTICE_MAILED_ON = dt.date(2000, 6, 9)
COMMENCED_AT = (dt.date(2000, 6, 9), dt.time(9, 0))
EXPIRATION_AT = (dt.date(2000, 7, 12), dt.time(17, 0))  # 5:00 p.m. New York City time

# "Description of Notes — Principal, Maturity and Interest" and "Definitions". The
# prospectus gives no CUSIPs: the demo's are illustrative (the issuer's prefix, valid
# check digits), one for the original notes and one for the new notes of each series.
SERIES = [
    {
        "slug": "2008-senior",
        "original_cusip": "52729NAA8",
        "new_cusip": "52729NAD2",
        "name": "11% Senior Notes due 2008",
        "coupon_rate": Decimal("0.11000"),
        "maturity_date": dt.date(2008, 3, 15),
        "amount_outstanding": Decimal("800000000.00"),
        "first_interest_payment_date": dt.date(2000, 9, 15),
    },
    {
        "slug": "2010-senior",
        "original_cusip": "52729NAB6",
        "new_cusip": "52729NAE0",
        "name": "11 1/4% Senior Notes due 2010",
        "coupon_rate": Decimal("0.11250"),
        "maturity_date": dt.date(2010, 3, 15),
        "amount_outstanding": Decimal("250000000.00"),
        "first_interest_payment_date": dt.date(2000, 9, 15),
    },
    {
        "slug": "2010-senior-discount",
        "original_cusip": "52729NAC4",
        "new_cusip": "52729NAF7",
        "name": "12 7/8% Senior Discount Notes due 2010",
        "coupon_rate": Decimal("0.12875"),
        "maturity_date": dt.date(2010, 3, 15),
        "amount_outstanding": Decimal("675000000.00"),
        "first_interest_payment_date": dt.date(2005, 9, 15),
        "is_discount": True,
        "issue_price_per_1000": Decimal("533.08"),
        "accretion_rate": Decimal("0.12875"),
        "full_accretion_date": dt.date(2005, 3, 15),
        "cash_interest_from": dt.date(2005, 3, 15),
    },
]

# The demo cast: (username, holder fields, holdings as (series slug, certificate or None, amount, beneficial owner)).
DEMO_PASSWORD = "tender-desk-demo"
HOLDERS = [
    (
        "ardsley",
        {
            "kind": HolderKind.REGISTERED_HOLDER,
            "name": "Ardsley Pension Trust",
            "address": "1 Ardsley Plaza\nArdsley, NY 10502",
            "email": "custody@ardsley.example",
            "tin_status": TinStatus.CERTIFIED,
        },
        [
            ("2008-senior", "R08-0001", Decimal("5000000"), ""),
            ("2008-senior", "R08-0002", Decimal("1000000"), ""),
            ("2010-senior", "R10-0001", Decimal("2000000"), ""),
            ("2010-senior-discount", "D10-0001", Decimal("3000000"), ""),
        ],
    ),
    (
        "mchen",
        {
            "kind": HolderKind.REGISTERED_HOLDER,
            "name": "Margaret Chen",
            "address": "225 West 86th Street, Apt. 12B\nNew York, NY 10024",
            "email": "m.chen@example.com",
            "tin_status": TinStatus.NOT_CERTIFIED,
        },
        [
            ("2008-senior", "R08-0003", Decimal("250000"), ""),
            ("2010-senior", "R10-0002", Decimal("100000"), ""),
            ("2010-senior-discount", "D10-0002", Decimal("150000"), ""),
        ],
    ),
    (
        "hudson",
        {
            "kind": HolderKind.REGISTERED_HOLDER,
            "name": "Hudson Valley Mutual Insurance Company",
            "address": "40 Market Street\nPoughkeepsie, NY 12601",
            "email": "treasury@hudsonvalley.example",
            "tin_status": TinStatus.CERTIFIED,
            "is_affiliate": False,
        },
        [
            ("2008-senior", "R08-0004", Decimal("750000"), ""),
            ("2010-senior", "R10-0003", Decimal("1500000"), ""),
            ("2010-senior-discount", "D10-0003", Decimal("500000"), ""),
        ],
    ),
    (
        "bayside",
        {
            "kind": HolderKind.DTC_PARTICIPANT,
            "name": "Bayside Securities LLC (DTC participant 0901)",
            "address": "55 Water Street\nNew York, NY 10041",
            "email": "reorg@bayside.example",
            "dtc_participant_number": "0901",
            "is_broker_dealer": True,
            "tin_status": TinStatus.CERTIFIED,
        },
        [
            ("2008-senior", None, Decimal("120000000"), "Beneficial owners (omnibus account)"),
            ("2008-senior", None, Decimal("15000000"), "Greenwich Capital Partners LP"),
            ("2010-senior", None, Decimal("40000000"), "Beneficial owners (omnibus account)"),
            (
                "2010-senior-discount",
                None,
                Decimal("95000000"),
                "Beneficial owners (omnibus account)",
            ),
        ],
    ),
    (
        "empire",
        {
            "kind": HolderKind.ELIGIBLE_GUARANTOR,
            "name": "Empire Trust Company (STAMP)",
            "address": "120 Broadway\nNew York, NY 10271",
            "email": "medallion@empiretrust.example",
            "medallion_program": "STAMP",
            "tin_status": TinStatus.EXEMPT,
        },
        [],
    ),
]

STAFF = [("clerk", "Clerks", "Clerk"), ("supervisor", "Supervisors", "Supervisor")]


def live_shift_days(today: dt.date) -> int:
    """Whole weeks that put `today` about two weeks into the 33-day offer period.

    Weeks, so every date keeps its weekday: the 5:00 p.m. Wednesday expiration stays a
    Wednesday and the business-day rules see the same shape of calendar.
    """
    target = today - (PROSPECTUS_DATE + dt.timedelta(days=14))
    return 7 * round(target.days / 7)


class Command(BaseCommand):
    help = (
        "Load the Level 3 offer of 2000 (level3-2000) and the demo cast. Safe to run again: "
        "what is already loaded (and anything a clerk changed since) is left as it is."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--live",
            action="store_true",
            help="Shift every date of the offer (not the notes' own terms) by one whole number "
            "of days so that it is open now.",
        )
        parser.add_argument(
            "--skip-if-loaded",
            action="store_true",
            help="If the offer is already loaded, say how it stands and change nothing "
            "(for containers and the demo, which start it again and again).",
        )

    def _keep_or_refuse(
        self, offer: ExchangeOffer, wanted: dt.timedelta, now: dt.datetime
    ) -> dt.timedelta:
        """Loaded before: keep its dates when they are the ones asked for, or when a --live
        run finds an earlier live load still open; otherwise say how to start afresh,
        rather than rewriting dates that history and tenders already refer to."""
        loaded = offer.prospectus_date - PROSPECTUS_DATE
        if loaded == wanted:
            return loaded
        still_live = wanted.days != 0 and loaded.days != 0 and offer.accepts_tenders_at(now)
        if still_live:
            return loaded
        raise CommandError(
            f"{offer.slug} is already loaded with its dates shifted {loaded.days:+d} days "
            f"({offer.get_state_display().lower()}, expiration "
            f"{calendars.format_ny(offer.expiration_at)}); this run would shift them "
            f"{wanted.days:+d}. Start from an empty database to load it again "
            f"(for the demo: delete db.sqlite3)."
        )

    def _milestones(
        self, offer: ExchangeOffer, day: Callable[[dt.date], dt.date], now: dt.datetime
    ) -> None:
        """The registration agreement's milestones the prospectus attests. It is a final
        prospectus dated June 9, 2000, so the exchange offer registration statement (No.
        333-37362) was effective by then. Its filing date is not stated; the prospectus says
        no special interest is payable if the offer completes on time, so it was filed by the
        90th day: the seed records it on that day, May 29, 2000, the latest it can have been."""
        actor = Actor(kind=ActorKind.CLERK, label="seed_offer")
        for kind, on in (
            (RegistrationEventKind.EXCHANGE_FILED, FILING_DEADLINE_DAY),
            (RegistrationEventKind.EXCHANGE_EFFECTIVE, PROSPECTUS_DATE),
        ):
            record_registration_event(
                offer.pk, kind=kind, occurred_on=day(on), actor=actor, now=now, note=MILESTONE_NOTE
            )

    def handle(self, *args: object, **options: object) -> None:
        # The demo cast's receipts would only flood the console (mail goes out after the
        # commit, so the whole load runs under the dummy backend).
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            self._load(**options)

    @transaction.atomic
    def _load(self, **options: object) -> None:
        now = timezone.now()
        shift = dt.timedelta(days=live_shift_days(calendars.ny_date(now)) if options["live"] else 0)

        def day(d: dt.date) -> dt.date:
            return d + shift

        def instant(parts: tuple[dt.date, dt.time]) -> dt.datetime:
            return calendars.ny_instant(parts[0] + shift, parts[1])

        issuer, _ = Issuer.objects.get_or_create(name="Level 3 Communications, Inc.")
        offer = ExchangeOffer.objects.filter(slug=OFFER_SLUG).first()
        if offer is not None and options["skip_if_loaded"]:
            self.stdout.write(
                f"{offer.slug} is already loaded: {offer.get_state_display()}, expiration "
                f"{calendars.format_ny(offer.expiration_at)}. Nothing changed."
                + (
                    ""
                    if offer.accepts_tenders_at(now)
                    else " To start the demo afresh, delete db.sqlite3."
                )
            )
            return
        if offer is not None:
            shift = self._keep_or_refuse(offer, shift, now)
        if offer is None:
            offer = ExchangeOffer.objects.create(
                issuer=issuer,
                slug=OFFER_SLUG,
                name="Level 3 Communications — exchange offer of June 9, 2000",
                exchange_agent="The Bank of New York",
                dtc_account="BNY-EXCH-L3-2000",
                prospectus_date=day(PROSPECTUS_DATE),
                registration_agreement_date=day(REGISTRATION_AGREEMENT_DATE),
                original_issue_date=day(ORIGINAL_ISSUE_DATE),
                initial_expiration_at=instant(EXPIRATION_AT),
                expiration_at=instant(EXPIRATION_AT),
                acceptance_automatic=True,  # the demo runs end to end without a notice
            )
        for spec in SERIES:
            values = dict(spec)
            slug = str(values.pop("slug"))
            NoteSeries.objects.get_or_create(
                offer=offer,
                slug=slug,
                defaults={
                    **values,
                    # The notes' own terms (issue date, maturity, accretion) are the
                    # indenture's and stay historical even in a --live demo.
                    "issue_date": ORIGINAL_ISSUE_DATE,
                    "interest_payment_dates": "03-15,09-15",
                    "record_dates": "03-01,09-01",
                    "denomination": Decimal("1000.00"),
                },
            )
        User = get_user_model()
        logins: list[tuple[str, str]] = []
        for username, group_name, role in STAFF:
            user, created = User.objects.get_or_create(
                username=username, defaults={"is_staff": True}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.first_name = f"Demo {role.lower()}"
                user.save()
            user.groups.add(Group.objects.get(name=group_name))
            logins.append((username, f"{role} (admin)"))
        series_by_slug = {s.slug: s for s in offer.series.all()}
        for username, fields, holdings in HOLDERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": fields["email"]}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            holder, _ = Holder.objects.get_or_create(user=user, defaults=fields)
            for series_slug, certificate, amount, owner in holdings:
                series = series_by_slug[series_slug]
                Holding.objects.get_or_create(
                    holder=holder,
                    series=series,
                    certificate_number=certificate or "",
                    beneficial_owner=owner,
                    effective_until=None,
                    defaults={
                        "form": HoldingForm.CERTIFICATE
                        if certificate
                        else HoldingForm.DTC_POSITION,
                        "amount": amount,
                        "effective_from": day(ORIGINAL_ISSUE_DATE),
                    },
                )
            logins.append((username, f"{HolderKind(fields['kind']).label}: {fields['name']}"))
        if offer.state == OfferState.DRAFT:
            commence_at = instant(COMMENCED_AT)
            commence_offer(
                offer.pk,
                actor=Actor(kind=ActorKind.SUPERVISOR, label="seed_offer"),
                now=commence_at,
                mailed_on=day(NOTICE_MAILED_ON),
            )
        offer.refresh_from_db()
        if not offer.registration_events.exists():
            self._milestones(offer, day, now)
        if offer.state == OfferState.OPEN:
            # Tenders received over the days before now (live) or before June 21, 2000.
            anchor = now if shift else calendars.ny_instant(dt.date(2000, 6, 21), dt.time(12, 0))
            made = load_demo_tenders(
                offer, min(anchor, offer.expiration_at - dt.timedelta(hours=1))
            )
            if made:
                self.stdout.write(f"Demo tenders: {made}, in every state an open offer can show.")
                # Imported as of the same instant as the demo tenders: on a historical
                # seed, a withdrawal decided today would be missing from every figure
                # read back from the history as of the offer's own dates.
                atop = load_demo_atop(offer, shift=shift, now=anchor)
                self.stdout.write(
                    f"Demo ATOP activity: {atop.new_tenders} tenders, {atop.withdrawals} "
                    f"withdrawals, {atop.protects} protects, {atop.covers} covers, "
                    f"{atop.exception_count} exceptions in the queue."
                )
        self.stdout.write(
            f"Seeded {offer.slug}: {offer.get_state_display()}, expires "
            f"{calendars.format_ny(offer.expiration_at)}; exchange date "
            f"{offer.exchange_date:%A, %B %d, %Y}"
            + (f" (dates shifted {shift.days:+d} days)" if shift else " (historical dates)")
        )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role in logins:
            self.stdout.write(f"  {username:<11} {role}")
