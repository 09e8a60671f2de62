from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from exchange.management.commands._common import get_offer
from exchange.reports.lists import csv_lines
from exchange.reports.results import final_results, preliminary_notice, press_release_text


class Command(BaseCommand):
    help = "The final results of an offer, per series, and the press-release paragraph."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("offer", help="Offer slug")
        parser.add_argument("--format", choices=["text", "csv"], default="text")

    def handle(self, *args: object, **options: object) -> None:
        offer = get_offer(str(options["offer"]))
        results = final_results(offer)
        if options["format"] == "csv":
            rows = [["series", "accepted", "percent_of_outstanding", "tenders", "holders"]] + [
                [r.series.slug, f"{r.accepted:.2f}", f"{r.percent}", str(r.tenders), str(r.holders)]
                for r in results
            ]
            for line in csv_lines(rows):
                self.stdout.write(line, ending="")
            return
        notice = preliminary_notice(offer)
        if notice:
            self.stdout.write(notice)
            self.stdout.write("")
        for r in results:
            self.stdout.write(
                f"{r.series.name:<40}{r.accepted:>20,.2f}  {r.percent:>6}% of outstanding, "
                f"{r.tenders} tender(s), {r.holders} holder(s)"
            )
        self.stdout.write("")
        self.stdout.write(press_release_text(offer, results))
