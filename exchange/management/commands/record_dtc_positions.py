"""Record the agent's DTC account position per CUSIP from DTC's position report."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from exchange.management.commands._common import add_as_of, as_of, get_offer
from exchange.models import ActorKind, DtcPositionSource
from exchange.services.atop.positions import read_position_report, record_positions
from exchange.services.base import Actor, DeskError
from exchange.terms import calendars

MAX_FILE_BYTES = 1024 * 1024


class Command(BaseCommand):
    help = (
        "Record the agent's DTC position per CUSIP from a position report (CSV: cusip,quantity), "
        "as of --as-of (New York time; default now). `reconcile` then compares it with the "
        "book-entry tenders."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("offer", help="Offer slug")
        parser.add_argument("file", help="Path of the position report")
        add_as_of(parser)

    def handle(self, *args: object, **options: object) -> None:
        offer = get_offer(str(options["offer"]))
        path = Path(str(options["file"]))
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise CommandError(f"{path} is larger than 1 MiB; a position report is small.")
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
        moment = as_of(options)
        try:
            rows = record_positions(
                offer.pk,
                read_position_report(text),
                as_of=moment,
                source=DtcPositionSource.POSITION_REPORT,
                actor=Actor(kind=ActorKind.CLERK, label="record_dtc_positions (operator command)"),
                now=timezone.now(),
            )
        except DeskError as error:
            raise CommandError(error.message) from None
        for row in rows:
            self.stdout.write(f"{row.cusip}: {row.quantity:,.2f}")
        self.stdout.write(f"Recorded as of {calendars.format_ny(moment)}.")
