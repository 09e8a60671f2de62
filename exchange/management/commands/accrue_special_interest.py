"""Bring an offer's registration defaults and special-interest ledger up to a day."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser

from exchange.management.commands._common import add_as_of, as_of, get_offer
from exchange.models import SpecialInterestAccrual
from exchange.services.base import Actor, DeskError
from exchange.special_interest.accrual import accrue_special_interest
from exchange.special_interest.payments import format_rate_steps


class Command(BaseCommand):
    help = (
        "Detect an offer's registration defaults from its milestones and accrue special "
        "interest through a day (inclusive), as the daily job does. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("offer", help="Offer slug")
        parser.add_argument(
            "--through", required=True, help="Last day to accrue, YYYY-MM-DD (a day that has ended)"
        )
        add_as_of(parser)

    def handle(self, *args: object, **options: object) -> None:
        offer = get_offer(str(options["offer"]))
        try:
            through = dt.date.fromisoformat(str(options["through"]))
        except ValueError:
            raise CommandError(
                f"{options['through']!r} is not a date of the form YYYY-MM-DD."
            ) from None
        actor = Actor.job("operator (manage.py accrue_special_interest)")
        try:
            result = accrue_special_interest(
                offer.pk, through=through, actor=actor, now=as_of(options)
            )
        except DeskError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{offer.slug}: {result.summary()}")
        for stream in result.detection.streams:
            end = f"to {stream.end} (excluded)" if stream.end else "still open"
            self.stdout.write(f"  stream from {stream.start} {end}")
            for default in stream.defaults:
                self.stdout.write(f"    {default.describe()}")
        for note in result.detection.notes:
            self.stdout.write(f"  note: {note}")
        for series in offer.series.order_by("maturity_date", "name"):
            rows = SpecialInterestAccrual.objects.filter(series=series, day__lte=through)
            rates = []
            days = 0
            for rate, count in rows.order_by("day").values_list("rate", "days_30_360"):
                days += count
                if not rates or rates[-1] != rate:
                    rates.append(rate)
            self.stdout.write(
                f"  {series.name}: {rows.count()} day(s) in the ledger, {days} days (30/360)"
                + (f" at {format_rate_steps(rates)}" if rates else "")
            )
        if result.defaults.discrepancies:
            for line in result.defaults.discrepancies:
                self.stderr.write(f"CHECK: {line}")
