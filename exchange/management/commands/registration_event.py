"""Record one registration-agreement milestone, with the same rules as the admin."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser

from exchange.management.commands._common import add_as_of, as_of, get_offer
from exchange.models import ActorKind, RegistrationEventKind
from exchange.services.base import Actor, DeskError
from exchange.services.registration import record_registration_event
from exchange.special_interest.accrual import detect_for_offer
from exchange.terms import calendars


class Command(BaseCommand):
    help = (
        "Record a registration milestone of an offer: OFFER KIND YYYY-MM-DD, KIND one of "
        + ", ".join(RegistrationEventKind.values)
        + "."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("offer", help="Offer slug")
        parser.add_argument("kind", choices=RegistrationEventKind.values, help="What happened")
        parser.add_argument("date", help="The day it happened, YYYY-MM-DD")
        parser.add_argument("--note", default="", help="Where the desk learned it")
        add_as_of(parser)

    def handle(self, *args: object, **options: object) -> None:
        offer = get_offer(str(options["offer"]))
        try:
            occurred_on = dt.date.fromisoformat(str(options["date"]))
        except ValueError:
            raise CommandError(
                f"{options['date']!r} is not a date of the form YYYY-MM-DD."
            ) from None
        now = as_of(options)
        actor = Actor(kind=ActorKind.CLERK, label="operator (manage.py registration_event)")
        try:
            event = record_registration_event(
                offer.pk,
                kind=RegistrationEventKind(str(options["kind"])),
                occurred_on=occurred_on,
                actor=actor,
                now=now,
                note=str(options["note"]),
            )
        except DeskError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Recorded for {offer.slug}: {event}.")
        # What the milestones now say, through the last whole day (as the daily job sees it).
        yesterday = calendars.ny_date(now) - dt.timedelta(days=1)
        detection = detect_for_offer(offer, yesterday)
        if not detection.defaults:
            self.stdout.write(f"No registration default as of {yesterday}.")
        for default in detection.defaults:
            self.stdout.write(f"  {default.describe()}")
        for note in detection.notes:
            self.stdout.write(f"  note: {note}")
