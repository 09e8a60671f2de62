from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from exchange.management.commands._common import get_offer
from exchange.reports.lists import csv_lines, delivery_list, return_list


class Command(BaseCommand):
    help = "CSV of new notes to deliver (per holder or DTC participant), or of notes to return."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("offer", help="Offer slug")
        parser.add_argument("--returns", action="store_true", help="The list of notes to return")

    def handle(self, *args: object, **options: object) -> None:
        offer = get_offer(str(options["offer"]))
        rows = return_list(offer) if options["returns"] else delivery_list(offer)
        for line in csv_lines(rows):
            self.stdout.write(line, ending="")
