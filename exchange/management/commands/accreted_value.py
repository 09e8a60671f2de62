from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser

from exchange.management.commands._common import get_series
from exchange.terms.money import to_cents


class Command(BaseCommand):
    help = "Print the accreted value per $1,000 principal amount at maturity of a series on a date."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("series", help="Series slug, e.g. 2010-senior-discount")
        parser.add_argument("date", help="YYYY-MM-DD")
        parser.add_argument("--offer", help="Offer slug, when the series slug is in several offers")

    def handle(self, *args: object, **options: object) -> None:
        series = get_series(str(options["series"]), options.get("offer"))  # type: ignore[arg-type]
        try:
            on = dt.date.fromisoformat(str(options["date"]))
        except ValueError:
            raise CommandError(
                f"{options['date']!r} is not a date of the form YYYY-MM-DD."
            ) from None
        try:
            value = series.accreted_value_per_1000(on)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{to_cents(value)}")
        note = (
            "principal amount at maturity (fully accreted)"
            if not series.is_discount
            or (series.full_accretion_date and on >= series.full_accretion_date)
            else f"accreting at {series.accretion_rate * 100:.3f}% from {series.issue_price_per_1000} at issue"
        )
        self.stderr.write(
            f"{series.name}, {on:%B %d, %Y}: ${to_cents(value):,} per $1,000 — {note}"
        )
