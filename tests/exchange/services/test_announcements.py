"""The extension announcement's deadline job: warns the supervisors (mail and dashboard)
an hour before 9:00 a.m., marks the decision late at 9:00 a.m.; idempotent; quiet once the
announcement is recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.test import TestCase

from exchange.jobs.runner import run_due_jobs
from exchange.models import JobName, JobOutcome, OfferEvent, StateChange
from exchange.services.announcements import (
    check_announcement_deadline,
    deadlines_due,
    record_announcement,
)
from exchange.services.offers import extend_offer
from tests.factories import JOB, SUPERVISOR, SeedOffer, deliver_outbox, ny, staff_user

DUE = ny(2000, 7, 13, 9, 0)  # the business day after Wednesday July 12
ONE_SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def extension(seed: SeedOffer) -> OfferEvent:
    supervisor = staff_user("sup-announce", "Supervisors")
    supervisor.email = "supervisor@agent.example"
    supervisor.save(update_fields=["email"])
    clerk = staff_user("clerk-announce", "Clerks")
    clerk.email = "clerk@agent.example"
    clerk.save(update_fields=["email"])
    event = extend_offer(
        seed.offer.pk, new_expiration=ny(2000, 7, 19, 17), actor=SUPERVISOR, now=ny(2000, 7, 12, 16)
    )
    assert event.announcement_due_at == DUE
    return event


def _announcement_jobs(now: dt.datetime) -> list[tuple[str, str]]:
    # Mail goes out after commit; the test's transaction never commits, so run the hooks.
    with TestCase.captureOnCommitCallbacks(execute=True):
        runs = run_due_jobs(now)
    return [(run.outcome, run.detail) for run in runs if run.job == JobName.ANNOUNCEMENT_DEADLINE]


@pytest.mark.django_db
def test_warns_an_hour_before_and_marks_late_at_the_deadline(extension: OfferEvent) -> None:
    warn_at = DUE - dt.timedelta(hours=1)
    assert deadlines_due(warn_at - ONE_SECOND) == []
    assert _announcement_jobs(warn_at - ONE_SECOND) == []

    runs = _announcement_jobs(warn_at)
    assert [outcome for outcome, _ in runs] == [JobOutcome.DONE]
    extension.refresh_from_db()
    assert extension.announcement_warned_at == warn_at
    assert extension.announcement_late_at is None
    # Supervisors only, by e-mail, with the draft.
    deliver_outbox()  # the notices go through the outbox
    assert [m.to for m in mail.outbox] == [["supervisor@agent.example"]]
    assert "due within the hour" in mail.outbox[0].subject
    assert extension.announcement_draft in mail.outbox[0].body

    # Run again until one second before the deadline: nothing more.
    assert _announcement_jobs(DUE - ONE_SECOND) == []
    deliver_outbox()  # the notices go through the outbox
    assert len(mail.outbox) == 1

    runs = _announcement_jobs(DUE)
    assert [outcome for outcome, _ in runs] == [JobOutcome.BLOCKED]
    extension.refresh_from_db()
    assert extension.announcement_late_at == DUE
    deliver_outbox()  # the notices go through the outbox
    assert "LATE" in mail.outbox[1].subject
    assert StateChange.objects.filter(action="exchange.offer.announcement_late").count() == 1
    # Idempotent: late once.
    assert _announcement_jobs(DUE + dt.timedelta(hours=1)) == []
    assert check_announcement_deadline(extension.pk, actor=JOB, now=DUE) == "nothing due"
    assert StateChange.objects.filter(action="exchange.offer.announcement_late").count() == 1


@pytest.mark.django_db
def test_nothing_happens_once_the_announcement_is_recorded(
    seed: SeedOffer, extension: OfferEvent
) -> None:
    record_announcement(
        seed.offer.pk,
        text=extension.announcement_draft,
        channel="Dow Jones News Service release",
        made_at=ny(2000, 7, 13, 7, 30),
        decision_id=extension.pk,
        actor=SUPERVISOR,
        now=ny(2000, 7, 13, 7, 40),
    )
    assert deadlines_due(DUE) == []
    assert check_announcement_deadline(extension.pk, actor=JOB, now=DUE) == "announced"
    extension.refresh_from_db()
    assert extension.announcement_late_at is None
    deliver_outbox()  # the notices go through the outbox
    assert mail.outbox == []


@pytest.mark.django_db
@pytest.mark.parametrize(("made_at", "late"), [(DUE, False), (DUE + ONE_SECOND, True)])
def test_an_announcement_made_after_the_deadline_is_recorded_as_late(
    seed: SeedOffer, extension: OfferEvent, made_at: dt.datetime, late: bool
) -> None:
    record_announcement(
        seed.offer.pk,
        text=extension.announcement_draft,
        channel="Press release",
        made_at=made_at,
        decision_id=extension.pk,
        actor=SUPERVISOR,
        now=DUE + dt.timedelta(minutes=5),
    )
    reason = StateChange.objects.get(action="exchange.offer.announcement").reason
    assert ("after its deadline" in reason) is late
