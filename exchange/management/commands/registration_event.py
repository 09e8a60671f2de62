"""Record, list or void a registration-agreement milestone, with the same rules as the admin."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser

from exchange.management.commands._common import add_as_of, as_of, get_offer
from exchange.models import (
    ActorKind,
    ExchangeOffer,
    RegistrationEvent,
    RegistrationEventKind,
)
from exchange.services.base import Actor, DeskError
from exchange.services.registration import record_registration_event, void_registration_event
from exchange.special_interest.accrual import accrue_special_interest, detect_for_offer
from exchange.terms import calendars


class Command(BaseCommand):
    help = (
        "Record a registration milestone of an offer: OFFER KIND YYYY-MM-DD, KIND one of "
        + ", ".join(RegistrationEventKind.values)
        + ". OFFER --list shows every milestone (voided ones marked); OFFER --void ID --reason "
        "TEXT voids one recorded wrongly (never deleted) and brings the ledger in line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("offer", help="Offer slug")
        parser.add_argument(
            "kind", nargs="?", choices=RegistrationEventKind.values, help="What happened"
        )
        parser.add_argument("date", nargs="?", help="The day it happened, YYYY-MM-DD")
        parser.add_argument("--note", default="", help="Where the desk learned it")
        parser.add_argument("--list", action="store_true", help="List the offer's milestones")
        parser.add_argument("--void", type=int, metavar="ID", help="Void milestone ID")
        parser.add_argument("--reason", default="", help="Why the milestone is voided")
        add_as_of(parser)

    def handle(self, *args: object, **options: object) -> None:
        offer = get_offer(str(options["offer"]))
        modes = [bool(options["list"]), options["void"] is not None, bool(options["kind"])]
        if sum(modes) != 1:
            raise CommandError(
                "Give either KIND DATE to record a milestone, --list, or --void ID --reason TEXT."
            )
        if options["list"]:
            self._list(offer.pk)
            return
        now = as_of(options)
        if options["void"] is not None:
            self._void(offer, int(str(options["void"])), str(options["reason"]), now)
            return
        if not options["date"]:
            raise CommandError("Give the day it happened, YYYY-MM-DD.")
        try:
            occurred_on = dt.date.fromisoformat(str(options["date"]))
        except ValueError:
            raise CommandError(
                f"{options['date']!r} is not a date of the form YYYY-MM-DD."
            ) from None
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
        self._detection(offer, now)

    def _list(self, offer_id: int) -> None:
        events = RegistrationEvent.all_objects.filter(offer_id=offer_id).order_by(
            "occurred_on", "id"
        )
        if not events:
            self.stdout.write("No milestone recorded.")
        for e in events:
            line = (
                f"{e.pk:>6}  {e.occurred_on}  {e.get_kind_display()}  "
                f"(recorded {calendars.format_ny(e.recorded_at)} by {e.recorded_by_label})"
            )
            if e.voided_at:
                line += (
                    f"  VOIDED {calendars.format_ny(e.voided_at)} by {e.voided_by_label}: "
                    f"{e.void_reason}"
                )
            self.stdout.write(line)

    def _void(self, offer: ExchangeOffer, event_id: int, reason: str, now: dt.datetime) -> None:
        if not RegistrationEvent.all_objects.filter(pk=event_id, offer=offer).exists():
            raise CommandError(
                f"No milestone {event_id} for {offer.slug}; see registration_event "
                f"{offer.slug} --list."
            )
        actor = Actor(kind=ActorKind.CLERK, label="operator (manage.py registration_event)")
        try:
            event = void_registration_event(event_id, reason=reason, actor=actor, now=now)
        except DeskError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Voided for {offer.slug}: {event}.")
        # The ledger follows the milestones that stand: re-accrue through the last whole day
        # (idempotent; days a voided milestone gave are corrected or removed).
        through = calendars.ny_date(now) - dt.timedelta(days=1)
        if through >= offer.original_issue_date:
            try:
                result = accrue_special_interest(offer.pk, through=through, actor=actor, now=now)
            except DeskError as exc:
                raise CommandError(exc.message) from None
            self.stdout.write(f"Ledger brought in line through {through}: {result.summary()}")
        self._detection(offer, now)

    def _detection(self, offer: ExchangeOffer, now: dt.datetime) -> None:
        # What the milestones now say, through the last whole day (as the daily job sees it).
        yesterday = calendars.ny_date(now) - dt.timedelta(days=1)
        detection = detect_for_offer(offer, yesterday)
        if not detection.defaults:
            self.stdout.write(f"No registration default as of {yesterday}.")
        for default in detection.defaults:
            self.stdout.write(f"  {default.describe()}")
        for note in detection.notes:
            self.stdout.write(f"  note: {note}")
