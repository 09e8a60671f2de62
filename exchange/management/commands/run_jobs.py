from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from exchange.jobs.runner import run_due_jobs
from exchange.management.commands._common import add_as_of, as_of
from exchange.models import JobOutcome
from exchange.terms import calendars


class Command(BaseCommand):
    help = (
        "Run every job due at an instant, as the beat tick does (replays the clock with --as-of)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_as_of(parser)

    def handle(self, *args: object, **options: object) -> None:
        moment = as_of(options)
        self.stdout.write(f"Jobs due as of {calendars.format_ny(moment)}:")
        runs = run_due_jobs(moment)
        if not runs:
            self.stdout.write("  nothing due")
        for run in runs:
            self.stdout.write(
                f"  {run.get_job_display()} — {run.subject_label}: {run.get_outcome_display()}. {run.detail}"
            )
        blocked = [r for r in runs if r.outcome in (JobOutcome.BLOCKED, JobOutcome.FAILED)]
        if blocked:
            raise CommandError(f"{len(blocked)} job(s) blocked or failed; see above.")
