from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from exchange.management.commands._common import add_as_of, as_of, get_offer
from exchange.reports.lists import csv_lines
from exchange.reports.results import tender_report, tender_report_csv_rows
from exchange.terms import calendars


class Command(BaseCommand):
    help = "The daily tender report to the issuer, per series, as of an instant (default now)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("offer", help="Offer slug")
        parser.add_argument("--format", choices=["table", "csv"], default="table")
        add_as_of(parser)

    def handle(self, *args: object, **options: object) -> None:
        offer = get_offer(str(options["offer"]))
        moment = as_of(options)
        rows = tender_report(offer, moment)
        if options["format"] == "csv":
            for line in csv_lines(tender_report_csv_rows(rows)):
                self.stdout.write(line, ending="")
            return
        self.stdout.write(f"Tender report — {offer.name}\nAs of {calendars.format_ny(moment)}\n")
        header = f"{'Series':<40}{'Tendered':>17}{'Withdrawn':>17}{'Pending GD':>17}{'In review':>17}{'Deficient':>17}{'Valid':>17}{'Accepted':>17}{'Exchanged':>17}{'Rejected':>17}{'% out':>8}"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for r in rows:
            self.stdout.write(
                f"{r.series.name:<40}{r.tendered:>17,.2f}{r.withdrawn:>17,.2f}"
                f"{r.pending_guaranteed_delivery:>17,.2f}{r.in_review:>17,.2f}{r.deficient:>17,.2f}"
                f"{r.valid:>17,.2f}{r.accepted:>17,.2f}{r.exchanged:>17,.2f}{r.rejected:>17,.2f}{r.outstanding_percent:>8}"
            )
