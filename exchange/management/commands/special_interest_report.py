"""Special interest payable on an interest payment date: one row per holder and series."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser

from exchange.management.commands._common import get_offer
from exchange.services.base import DeskError
from exchange.special_interest.payments import build_payment_report, report_csv, report_table


class Command(BaseCommand):
    help = (
        "Print the special interest payable on an interest payment date to the holders of "
        "record (gross, backup withholding, net), from the ledger."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("offer", help="Offer slug")
        parser.add_argument(
            "--payment-date", required=True, help="Interest payment date, YYYY-MM-DD"
        )
        parser.add_argument("--format", choices=["table", "csv"], default="table")

    def handle(self, *args: object, **options: object) -> None:
        offer = get_offer(str(options["offer"]))
        try:
            payment_date = dt.date.fromisoformat(str(options["payment_date"]))
        except ValueError:
            raise CommandError(
                f"{options['payment_date']!r} is not a date of the form YYYY-MM-DD."
            ) from None
        try:
            report = build_payment_report(offer, payment_date)
        except DeskError as exc:
            raise CommandError(exc.message) from None
        render = report_csv if options["format"] == "csv" else report_table
        self.stdout.write(render(report), ending="")
