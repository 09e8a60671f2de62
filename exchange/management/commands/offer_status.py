from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from exchange.management.commands._common import add_as_of, as_of, get_offer
from exchange.models import OfferState
from exchange.selectors.figures import offer_tally
from exchange.selectors.offers import expiration_as_of, offer_state_as_of
from exchange.terms import calendars


class Command(BaseCommand):
    help = "Print an offer's state, expiration, exchange date and per-series figures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("offer", help="Offer slug, e.g. level3-2000")
        add_as_of(parser)

    def handle(self, *args: object, **options: object) -> None:
        offer = get_offer(str(options["offer"]))
        moment = as_of(options)
        state = offer_state_as_of(offer, moment)
        expiration = expiration_as_of(offer, moment)
        out = self.stdout
        out.write(f"{offer.name} ({offer.slug})")
        out.write(f"As of:          {calendars.format_ny(moment)}")
        out.write(f"State:          {OfferState(state).label}")
        if offer.stop_order_in_effect:
            out.write("Stop order:     THREATENED OR IN EFFECT — nothing may be accepted")
        out.write(f"Expiration:     {calendars.format_ny(expiration)}")
        exchange_date = calendars.next_business_day(calendars.ny_date(expiration))
        out.write(f"Exchange date:  {exchange_date:%A, %B %d, %Y}")
        if state == OfferState.OPEN:
            if moment <= expiration:
                left = expiration - moment
                hours, seconds = divmod(left.seconds, 3600)
                out.write(
                    f"Open:           {left.days} days {hours} h {seconds // 60} min until expiration"
                )
            else:
                out.write("Open:           expiration instant passed; the expiration job closes it")
        out.write("")
        # The same tally as the dashboard, the tender report and the final results:
        # tendered = withdrawn + rejected + not withdrawn.
        header = (
            f"{'Series':<42}{'Tendered':>18}{'Withdrawn':>18}{'Rejected':>18}"
            f"{'Not withdrawn':>18}{'Accepted':>18}{'Outstanding':>20}"
        )
        out.write(header)
        out.write("-" * len(header))
        for row in offer_tally(offer, moment):
            out.write(
                f"{row.series.name:<42}{row.tendered:>18,.2f}{row.withdrawn:>18,.2f}"
                f"{row.rejected:>18,.2f}{row.not_withdrawn:>18,.2f}"
                f"{row.accepted_for_exchange:>18,.2f}{row.outstanding:>20,.2f}"
            )
        out.write("(principal amount; principal amount at maturity for discount notes)")
