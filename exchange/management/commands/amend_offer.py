"""Record the issuer's amendment of an offer, with the same rules as the admin."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser

from exchange.management.commands._common import (
    add_as_of,
    add_user,
    as_of,
    get_offer,
    issuer_decision_actor,
)
from exchange.services.base import DeskError
from exchange.services.offers import amend_offer
from exchange.terms import calendars


class Command(BaseCommand):
    help = (
        "Record the issuer's amendment of an offer. --notice-date is the day notice was first "
        "published, sent or given: the five-business-day rule counts from it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("offer", help="Offer slug")
        parser.add_argument("--notice-date", required=True, metavar="YYYY-MM-DD")
        parser.add_argument(
            "--material", action="store_true", help="A material change (five-business-day rule)"
        )
        parser.add_argument(
            "--description", default="", help="The amendment, as the issuer's notice states it"
        )
        add_user(parser)
        add_as_of(parser)

    def handle(self, *args: object, **options: object) -> None:
        offer = get_offer(str(options["offer"]))
        try:
            notice_on = dt.date.fromisoformat(str(options["notice_date"]))
        except ValueError:
            raise CommandError(
                f"{options['notice_date']!r} is not a date of the form YYYY-MM-DD."
            ) from None
        actor = issuer_decision_actor(options, "amend_offer")
        try:
            event = amend_offer(
                offer.pk,
                description=str(options["description"]),
                material=bool(options["material"]),
                notice_on=notice_on,
                actor=actor,
                now=as_of(options),
            )
        except DeskError as exc:
            raise CommandError(exc.message) from None
        assert event.new_expiration_at is not None
        moved = event.new_expiration_at != event.previous_expiration_at
        self.stdout.write(
            f"Recorded for {offer.slug}: {event.get_kind_display()} (notice {notice_on})."
            + (
                f"\nExpiration extended to {calendars.format_ny(event.new_expiration_at)} "
                f"(fifth business day from, and including, the notice)."
                if moved
                else f"\nExpiration unchanged: {calendars.format_ny(event.new_expiration_at)}."
            )
            + f"\nAnnouncement drafted:\n{event.announcement_draft}"
        )
