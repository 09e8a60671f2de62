from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from exchange.management.commands._common import get_offer
from exchange.reports.lists import audit_history, csv_lines


class Command(BaseCommand):
    help = "CSV of every history row of an offer: who, when (New York and UTC), from, to, why."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("offer", help="Offer slug")

    def handle(self, *args: object, **options: object) -> None:
        offer = get_offer(str(options["offer"]))
        for line in csv_lines(audit_history(offer)):
            self.stdout.write(line, ending="")
