from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from exchange.management.commands._common import add_as_of, as_of, get_offer
from exchange.models import ActorKind
from exchange.services.base import Actor, DeskError
from exchange.services.offers import extend_offer
from exchange.terms import calendars


class Command(BaseCommand):
    help = "Record the issuer's extension of an offer, with the same rules as the admin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("offer", help="Offer slug")
        parser.add_argument(
            "--until",
            required=True,
            metavar='"YYYY-MM-DD HH:MM"',
            help="New expiration, New York time",
        )
        parser.add_argument("--reason", default="", help="The issuer's notice, as received")
        parser.add_argument(
            "--user", help="Username of the supervisor recording it (default: the operator)"
        )
        add_as_of(parser)

    def handle(self, *args: object, **options: object) -> None:
        offer = get_offer(str(options["offer"]))
        if ":" not in str(options["until"]):
            # A bare date would mean midnight at its start; the issuer's notice names a time.
            raise CommandError('Give the new expiration with its time: --until "YYYY-MM-DD HH:MM".')
        try:
            until = calendars.parse_ny(str(options["until"]))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        actor = Actor(kind=ActorKind.SUPERVISOR, label="operator (manage.py extend_offer)")
        if options.get("user"):
            try:
                user = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user {options['user']!r}.") from None
            if not user.has_perm("exchange.record_issuer_decision"):
                raise CommandError(f"{user} may not record the issuer's decisions.")
            actor = Actor.for_user(user, ActorKind.SUPERVISOR)
        try:
            event = extend_offer(
                offer.pk,
                new_expiration=until,
                actor=actor,
                now=as_of(options),
                reason=str(options["reason"]),
            )
        except DeskError as exc:
            raise CommandError(exc.message) from None
        assert event.previous_expiration_at is not None and event.announcement_due_at is not None
        self.stdout.write(
            f"Extended {offer.slug}: {calendars.format_ny(event.previous_expiration_at)} → "
            f"{calendars.format_ny(until)}.\n"
            f"Announce by {calendars.format_ny(event.announcement_due_at)} (Rule 14e-1(d)), with the "
            f"amount tendered to date.\nExchange date now "
            f"{get_offer(offer.slug).exchange_date:%A, %B %d, %Y}."
        )
