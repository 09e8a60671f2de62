"""The desk's page for the scheduled jobs: each job's schedule, last run, outcome, next due."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from exchange.admin.base import DeskAdmin, ny_text, ny_time
from exchange.models import (
    JobRun,
)
from exchange.selectors.jobs import job_overview

# --- operations -----------------------------------------------------------------------------


@admin.register(JobRun)
class JobRunAdmin(DeskAdmin):
    view_only = True  # the operator's record of what the scheduled jobs did
    list_display = (
        "job",
        "subject_label",
        "as_of_ny",
        "started_at_ny",
        "finished_at_ny",
        "outcome",
    )
    list_filter = ("job", "outcome")
    search_fields = ("subject_label", "detail")
    date_hierarchy = "started_at"
    ordering = ("-started_at", "-id")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "job",
                    "subject_id",
                    "subject_label",
                    "as_of_ny",
                    "started_at_ny",
                    "finished_at_ny",
                    "outcome",
                    "detail",
                )
            },
        ),
    )

    as_of_ny = ny_time("as_of", "As of")
    started_at_ny = ny_time("started_at", "Started")
    finished_at_ny = ny_time("finished_at", "Finished")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Above the runs: each job's schedule, last run, outcome and next due time."""
        now = timezone.now()
        rows = []
        for row in job_overview(now):
            last_run = row.last_run
            rows.append(
                {
                    "label": row.label,
                    "schedule": row.schedule,
                    "last_run": last_run,
                    "last_run_at": ny_text(last_run.started_at) if last_run else "",
                    "next_due": row.next_due,
                    "next_due_text": ny_text(row.next_due),
                    "next_due_past": row.next_due is not None and row.next_due <= now,
                    "next_due_subject": row.next_due_subject,
                    "pending": row.pending,
                    "waits_for": row.waits_for,
                }
            )
        context = {"job_overview": rows, "jobs_as_of": ny_text(now), **(extra_context or {})}
        return super().changelist_view(request, extra_context=context)
