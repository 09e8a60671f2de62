"""The reconciliation of an offer's notes: tendered = delivered + returned + pending, per series."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from exchange.models import (
    ExchangeOffer,
    NewNoteDelivery,
    NoteSeries,
    Tender,
    WithdrawalNotice,
    WithdrawalState,
)
from exchange.terms.money import ZERO


@dataclass(frozen=True)
class SeriesReconciliation:
    """Original notes in the agent's hands = new notes delivered + notes returned + pending."""

    series: NoteSeries
    tendered: Decimal
    delivered: Decimal
    returned: Decimal
    pending: Decimal
    anomalies: tuple[str, ...]

    @property
    def balanced(self) -> bool:
        return self.tendered == self.delivered + self.returned + self.pending and not self.anomalies


def reconcile(offer: ExchangeOffer) -> list[SeriesReconciliation]:
    from django.db.models import Count, F, Q

    from exchange.models import GuaranteedDeliveryState, NoteReturn, TenderState
    from exchange.models.tenders import TENDER_OPEN_STATES

    results = []
    for series in offer.series.order_by("maturity_date", "name"):
        # Notes reached the agent unless the tender is a guaranteed delivery never fulfilled.
        in_hand = Tender.objects.filter(series=series).filter(
            Q(guaranteed_delivery__isnull=True)
            | Q(guaranteed_delivery__state=GuaranteedDeliveryState.FULFILLED)
        )
        # A withdrawal made while a guarantee still awaited the notes took back notes the
        # agent never held: they are not part of what reached its hands.
        never_held = (
            WithdrawalNotice.objects.filter(
                tender__in=in_hand, state=WithdrawalState.EFFECTIVE, note_return__isnull=True
            ).aggregate(t=Sum("amount"))["t"]
            or ZERO
        )
        tendered = (in_hand.aggregate(t=Sum("amount"))["t"] or ZERO) - never_held
        delivered = (
            NewNoteDelivery.objects.filter(series=series).aggregate(t=Sum("amount"))["t"] or ZERO
        )
        returned = (
            NoteReturn.objects.filter(tender__series=series).aggregate(t=Sum("amount"))["t"] or ZERO
        )
        pending = (
            in_hand.filter(state__in=TENDER_OPEN_STATES).aggregate(
                t=Sum(F("amount") - F("withdrawn_amount"))
            )["t"]
            or ZERO
        )
        anomalies = []
        undelivered = in_hand.filter(
            state__in=[TenderState.ACCEPTED, TenderState.EXCHANGED], new_note_delivery__isnull=True
        ).count()
        if undelivered:
            anomalies.append(f"{undelivered} accepted tender(s) without new notes recorded")
        mismatched = (
            NewNoteDelivery.objects.filter(series=series)
            .exclude(amount=F("tender__amount") - F("tender__withdrawn_amount"))
            .count()
        )
        if mismatched:
            anomalies.append(f"{mismatched} delivery(ies) not equal to the tender's live amount")
        doubled = (
            NoteReturn.objects.filter(tender__series=series, withdrawal__isnull=True)
            .values("tender")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
        if doubled:
            anomalies.append(f"{doubled} tender(s) returned twice")
        anomalies.extend(over_tendered(series))
        results.append(
            SeriesReconciliation(series, tendered, delivered, returned, pending, tuple(anomalies))
        )
    return results


def over_tendered(series: NoteSeries) -> list[str]:
    """Claims above what exists: a certificate whose live tendered amounts add up to more
    than the certificate, or a holder whose live tenders of the series add up to more than
    it held when it last tendered. The services refuse both under the holder's lock; this
    finds them whatever wrote them (another path, a bug, the shell).

    Live claims are tenders not withdrawn or rejected (the open states, accepted and
    exchanged), less what was withdrawn from them in part.
    """
    import datetime as dt

    from django.db.models import F, Max

    from exchange.models import TenderedCertificate, TenderState
    from exchange.models.tenders import TENDER_OPEN_STATES
    from exchange.terms import calendars
    from holders.models import Holding

    live = [*TENDER_OPEN_STATES, TenderState.ACCEPTED, TenderState.EXCHANGED]
    found: list[str] = []
    certificates = (
        TenderedCertificate.objects.filter(tender__series=series, tender__state__in=live)
        .values("holding_id", "certificate_number", "holding__amount")
        .annotate(claimed=Sum(F("amount") - F("withdrawn_amount")))
        .filter(claimed__gt=F("holding__amount"))
        .order_by("certificate_number")
    )
    for row in certificates:
        found.append(
            f"certificate {row['certificate_number']} tendered for ${row['claimed']:,.2f}, "
            f"more than its ${row['holding__amount']:,.2f}"
        )
    claims = (
        Tender.objects.filter(series=series, state__in=live)
        .values("holder_id", "holder__name")
        .annotate(claimed=Sum(F("amount") - F("withdrawn_amount")), last=Max("received_at"))
        .order_by("holder__name")
    )
    held: dict[int, list[tuple[dt.date, dt.date | None, Decimal]]] = {}
    for holder_id, start, end, amount in Holding.objects.filter(series=series).values_list(
        "holder_id", "effective_from", "effective_until", "amount"
    ):
        held.setdefault(holder_id, []).append((start, end, amount))
    for claim in claims:
        # What the holder held on the day of its last tender (holdings are effective-dated;
        # what the exchange itself later takes off the register does not count against it).
        day = calendars.ny_date(claim["last"])
        holding = sum(
            (
                amount
                for start, end, amount in held.get(claim["holder_id"], [])
                if start <= day and (end is None or day < end)
            ),
            ZERO,
        )
        if claim["claimed"] > holding:
            found.append(
                f"{claim['holder__name']} tendered ${claim['claimed']:,.2f}, more than the "
                f"${holding:,.2f} it held"
            )
    return found
