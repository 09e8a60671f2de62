"""Import the exchange agent's DTC ATOP activity file for an offer."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from exchange.management.commands._common import get_offer
from exchange.models import ActorKind
from exchange.services.atop import ImportSummary, import_activity
from exchange.services.base import Actor, DeskError

MAX_FILE_BYTES = 64 * 1024 * 1024


class Command(BaseCommand):
    help = (
        "Import an ATOP activity file (CSV; columns in the README): tenders, withdrawals, "
        "protects and covers through the desk's services, once per VOI number; what cannot "
        "be applied goes to the exceptions queue. --dry-run shows what it would do."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("offer", help="Offer slug")
        parser.add_argument("file", help="Path of the activity file")
        parser.add_argument("--dry-run", action="store_true", help="Record nothing; report only.")

    def handle(self, *args: object, **options: object) -> None:
        offer = get_offer(str(options["offer"]))
        path = Path(str(options["file"]))
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise CommandError(f"{path} is larger than {MAX_FILE_BYTES // 2**20} MiB.")
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
        dry = bool(options["dry_run"])
        try:
            summary = import_activity(
                offer.pk,
                file_name=path.name,
                text=text,
                actor=Actor(kind=ActorKind.CLERK, label="import_atop (operator command)"),
                now=timezone.now(),
                dry_run=dry,
            )
        except DeskError as error:
            raise CommandError(error.message) from None
        self.stdout.write(describe(summary, dry=dry))


def describe(summary: ImportSummary, *, dry: bool) -> str:
    verb = "would record" if dry else "recorded"
    lines = [
        f"{summary.lines} lines: {verb} {summary.new_tenders} tenders, {summary.withdrawals} "
        f"withdrawals, {summary.protects} protects, {summary.covers} covers; "
        f"{summary.exception_count} exceptions; {summary.already_recorded} already recorded.",
    ]
    lines += [f"  line {n}: {kind}: {message}" for n, kind, message in summary.exceptions]
    if dry:
        lines.append("Dry run: nothing was recorded.")
    return "\n".join(lines)
