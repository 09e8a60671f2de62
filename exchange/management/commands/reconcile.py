from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from exchange.management.commands._common import get_offer
from exchange.selectors.atop import reconcile_positions
from exchange.selectors.reconciliation import reconcile, reconcile_books
from exchange.terms import calendars


class Command(BaseCommand):
    help = (
        "Prove, per series, original notes tendered = new notes delivered + notes returned "
        "+ notes still pending; and the books: per series and per holder, original notes "
        "before the exchange date = original notes after + exchanged, new notes issued = "
        "exchanged, no certificate or position below zero or tendered above its amount. "
        "Exits non-zero when any of it does not hold."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("offer", help="Offer slug")

    def handle(self, *args: object, **options: object) -> None:
        offer = get_offer(str(options["offer"]))
        rows = reconcile(offer)
        header = f"{'Series':<42}{'Tendered':>18}{'Delivered':>18}{'Returned':>18}{'Pending':>18}  Result"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        failures = []
        for row in rows:
            verdict = "balanced" if row.balanced else "MISMATCH"
            self.stdout.write(
                f"{row.series.name:<42}{row.tendered:>18,.2f}{row.delivered:>18,.2f}"
                f"{row.returned:>18,.2f}{row.pending:>18,.2f}  {verdict}"
            )
            for anomaly in row.anomalies:
                self.stdout.write(f"    ! {anomaly}")
            if not row.balanced:
                difference = row.tendered - row.delivered - row.returned - row.pending
                failures.append(f"{row.series.slug} (difference {difference:,.2f})")
        self.stdout.write("")
        books_header = (
            f"{'Books':<42}{'Original before':>18}{'Original after':>18}{'Exchanged':>18}"
            f"{'New issued':>18}  Result"
        )
        self.stdout.write(books_header)
        self.stdout.write("-" * len(books_header))
        for books in reconcile_books(offer, timezone.now()):
            verdict = "balanced" if books.balanced else "MISMATCH"
            self.stdout.write(
                f"{books.series.name:<42}{books.original_before:>18,.2f}"
                f"{books.original_after:>18,.2f}{books.exchanged:>18,.2f}"
                f"{books.new_issued:>18,.2f}  {verdict}"
            )
            for line in books.holders:
                self.stdout.write(
                    f"  {line.holder_name[:40]:<40}{line.original_before:>18,.2f}"
                    f"{line.original_after:>18,.2f}{line.exchanged:>18,.2f}"
                    f"{line.new_issued:>18,.2f}  {'balanced' if line.balanced else 'MISMATCH'}"
                )
            for anomaly in books.anomalies:
                self.stdout.write(f"    ! {anomaly}")
            if not books.balanced:
                failures.append(f"the books of {books.series.slug}")
        positions = reconcile_positions(offer)
        if positions:
            self.stdout.write("")
            header = (
                f"{'CUSIP':<11}{'Pending':>18}{'Accepted':>18}{'To return':>18}{'Expected':>18}"
                f"{'DTC position':>18}  Result"
            )
            self.stdout.write("Agent's DTC account against book-entry tenders")
            self.stdout.write(header)
            self.stdout.write("-" * len(header))
            for p in positions:
                as_of = calendars.format_ny(p.position.as_of) if p.position else "none on record"
                self.stdout.write(
                    f"{p.series.original_cusip:<11}{p.pending:>18,.2f}{p.accepted:>18,.2f}"
                    f"{p.awaiting_return:>18,.2f}{p.expected:>18,.2f}{p.held:>18,.2f}  "
                    f"{'balanced' if p.balanced else 'MISMATCH'} (DTC as of {as_of})"
                )
                if not p.balanced:
                    failures.append(
                        f"DTC position {p.series.original_cusip} (difference {p.difference:,.2f})"
                    )
        if failures:
            raise CommandError("Reconciliation failed for " + ", ".join(failures))
