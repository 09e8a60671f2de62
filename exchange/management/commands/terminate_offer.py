"""Record the issuer's termination of an offer, with the same rules as the admin."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from exchange.management.commands._common import (
    add_as_of,
    add_user,
    as_of,
    get_offer,
    issuer_decision_actor,
)
from exchange.models import ConditionKind, NoteReturn, OfferEvent, OfferEventKind
from exchange.services.base import DeskError
from exchange.services.offers import terminate_offer


class Command(BaseCommand):
    help = (
        "Terminate an offer: for any reason before the expiration instant; after it only on "
        "a condition in effect (--condition); never after acceptance."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("offer", help="Offer slug")
        parser.add_argument("--reason", required=True, help="The issuer's reason, as given")
        parser.add_argument(
            "--condition",
            choices=ConditionKind.values,
            default="",
            help="The condition relied on (required after the expiration instant)",
        )
        add_user(parser)
        add_as_of(parser)

    def handle(self, *args: object, **options: object) -> None:
        offer = get_offer(str(options["offer"]))
        actor = issuer_decision_actor(options, "terminate_offer")
        try:
            terminate_offer(
                offer.pk,
                actor=actor,
                now=as_of(options),
                reason=str(options["reason"]),
                ground=str(options["condition"] or ""),
            )
        except DeskError as exc:
            raise CommandError(exc.message) from None
        returns = NoteReturn.objects.filter(tender__offer=offer, returned_at__isnull=True).count()
        event = OfferEvent.objects.filter(offer=offer, kind=OfferEventKind.TERMINATED).last()
        self.stdout.write(
            f"Terminated {offer.slug}. Open tenders rejected; {returns} return(s) of original "
            f"notes waiting to be sent."
            + (f"\nAnnouncement drafted:\n{event.announcement_draft}" if event else "")
        )
