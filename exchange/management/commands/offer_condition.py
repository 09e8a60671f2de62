"""Assert or waive a condition of an offer, for the whole offer or named series, with the
same rules as the admin."""

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
from exchange.models import ConditionKind
from exchange.services.base import DeskError
from exchange.services.conditions import assert_condition, open_assertions, waive_condition
from exchange.terms import calendars


class Command(BaseCommand):
    help = (
        "Assert or waive a condition of an offer (CONDITION one of "
        + ", ".join(ConditionKind.values)
        + "); --series names a portion of the offer (repeatable), none: the whole offer."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("offer", help="Offer slug")
        parser.add_argument("action", choices=["assert", "waive"])
        parser.add_argument("condition", choices=ConditionKind.values)
        parser.add_argument("--series", action="append", default=[], metavar="SLUG")
        parser.add_argument(
            "--description", default="", help="The issuer's notice, as it states it"
        )
        parser.add_argument(
            "--notice-date",
            metavar="YYYY-MM-DD",
            help="Waivers: the day notice was first given (default: the --as-of day)",
        )
        add_user(parser)
        add_as_of(parser)

    def handle(self, *args: object, **options: object) -> None:
        offer = get_offer(str(options["offer"]))
        now = as_of(options)
        actor = issuer_decision_actor(options, "offer_condition")
        kind = ConditionKind(str(options["condition"]))
        series = [str(slug) for slug in options["series"]]  # type: ignore[attr-defined]
        try:
            if options["action"] == "assert":
                if options.get("notice_date"):
                    raise CommandError("--notice-date applies to a waiver only.")
                event = assert_condition(
                    offer.pk,
                    kind=kind,
                    series_slugs=series,
                    description=str(options["description"]),
                    actor=actor,
                    now=now,
                )
            else:
                notice = options.get("notice_date")
                try:
                    notice_on = (
                        dt.date.fromisoformat(str(notice)) if notice else calendars.ny_date(now)
                    )
                except ValueError:
                    raise CommandError(
                        f"{notice!r} is not a date of the form YYYY-MM-DD."
                    ) from None
                event = waive_condition(
                    offer.pk,
                    kind=kind,
                    series_slugs=series,
                    description=str(options["description"]),
                    notice_on=notice_on,
                    actor=actor,
                    now=now,
                )
        except DeskError as exc:
            raise CommandError(exc.message) from None
        held = open_assertions(offer)
        self.stdout.write(
            f"Recorded for {offer.slug}: {event.description}\n"
            + (
                "Held back now: "
                + "; ".join(f"{a.series.slug} ({a.get_kind_display()})" for a in held)
                if held
                else "No condition holds anything back."
            )
            + f"\nAnnouncement drafted:\n{event.announcement_draft}"
        )
