"""The reconciliation of an offer's notes: tendered = delivered + returned + pending, per
series; and of its books: the register of original and new notes against the exchange."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Sum

from exchange.models import (
    Channel,
    ExchangeOffer,
    NewNoteDelivery,
    NoteSeries,
    Tender,
    TenderedCertificate,
    TenderState,
    WithdrawalNotice,
    WithdrawalState,
)
from exchange.models.tenders import TENDER_OPEN_STATES
from exchange.terms import calendars
from exchange.terms.money import ZERO
from holders.models import Holder, Holding, HoldingForm


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


# --- the books: the register of original and new notes -------------------------------------


@dataclass(frozen=True)
class HolderBooks:
    """One holder in one series: what the register says before and after the exchange."""

    holder_id: int
    holder_name: str
    original_before: Decimal
    original_after: Decimal
    exchanged: Decimal
    new_issued: Decimal

    @property
    def balanced(self) -> bool:
        return (
            self.original_before == self.original_after + self.exchanged
            and self.new_issued == self.exchanged
        )


@dataclass(frozen=True)
class SeriesBooks:
    """Per series: original outstanding before = original outstanding after + exchanged,
    and new notes issued = exchanged; with every holder's own line."""

    series: NoteSeries
    before: dt.date
    after: dt.date
    outstanding_before: Decimal
    original_before: Decimal
    original_after: Decimal
    exchanged: Decimal
    new_issued: Decimal
    holders: tuple[HolderBooks, ...]
    anomalies: tuple[str, ...]

    @property
    def outstanding_after(self) -> Decimal:
        """Original notes outstanding after the exchange (the new notes are the rest)."""
        return self.outstanding_before - self.exchanged

    @property
    def balanced(self) -> bool:
        return (
            self.original_before == self.original_after + self.exchanged
            and self.new_issued == self.exchanged
            and not self.anomalies
            and all(h.balanced for h in self.holders)
        )


def _by_holder(rows: Iterable[tuple[int, Decimal]]) -> dict[int, Decimal]:
    return {holder_id: total or ZERO for holder_id, total in rows}


def reconcile_books(offer: ExchangeOffer, now: dt.datetime) -> list[SeriesBooks]:
    """The register against what was exchanged, per series and per holder.

    `before` is the day before the exchange date (nothing exchanged yet), `after` today
    (or the exchange date, when asked earlier): every original note of record before is
    either still of record after or was exchanged (a new-note delivery made), and the new
    notes entered equal what was exchanged. Plus: no row at or below zero, no certificate
    tendered (live, in a tender not returned) above its amount.
    """
    before = offer.exchange_date - dt.timedelta(days=1)
    after = max(offer.exchange_date, calendars.ny_date(now))
    results = []
    for series in offer.series.order_by("maturity_date", "name"):
        holdings = Holding.objects.filter(series=series)
        original_before = _by_holder(
            holdings.original()
            .of_record_on(before)
            .values("holder_id")
            .annotate(t=Sum("amount"))
            .values_list("holder_id", "t")
        )
        original_after = _by_holder(
            holdings.original()
            .of_record_on(after)
            .values("holder_id")
            .annotate(t=Sum("amount"))
            .values_list("holder_id", "t")
        )
        new_issued = _by_holder(
            holdings.new()
            .of_record_on(after)
            .values("holder_id")
            .annotate(t=Sum("amount"))
            .values_list("holder_id", "t")
        )
        exchanged = _by_holder(
            NewNoteDelivery.objects.filter(series=series, delivered_at__isnull=False)
            .values("tender__holder_id")
            .annotate(t=Sum("amount"))
            .values_list("tender__holder_id", "t")
        )
        ids = set(original_before) | set(original_after) | set(new_issued) | set(exchanged)
        names = dict(Holder.objects.filter(pk__in=ids).values_list("pk", "name"))
        lines = tuple(
            HolderBooks(
                holder_id=pk,
                holder_name=names.get(pk, f"#{pk}"),
                original_before=original_before.get(pk, ZERO),
                original_after=original_after.get(pk, ZERO),
                exchanged=exchanged.get(pk, ZERO),
                new_issued=new_issued.get(pk, ZERO),
            )
            for pk in sorted(ids, key=lambda pk: (names.get(pk, ""), pk))
        )
        anomalies = [
            f"{line.holder_name}: original {line.original_before:,.2f} before ≠ "
            f"{line.original_after:,.2f} after + {line.exchanged:,.2f} exchanged, or new notes "
            f"{line.new_issued:,.2f} ≠ exchanged"
            for line in lines
            if not line.balanced
        ]
        not_positive = holdings.filter(amount__lte=0).count()
        if not_positive:
            anomalies.append(f"{not_positive} register row(s) at or below zero")
        over = list(
            TenderedCertificate.objects.filter(holding__series=series)
            .exclude(tender__state__in=[TenderState.RETURNED, TenderState.WITHDRAWN])
            .exclude(tender__state=TenderState.REJECTED)
            .values("holding_id", "holding__certificate_number", "holding__amount")
            .annotate(live=Sum(F("amount") - F("withdrawn_amount")))
            .filter(live__gt=F("holding__amount"))
            .values_list("holding__certificate_number", "live", "holding__amount")
        )
        anomalies += [
            f"certificate {number} tendered {live:,.2f}, above its {amount:,.2f}"
            for number, live, amount in over
        ]
        # Book-entry tenders still subject to the offer, against the participant's position.
        positions = _by_holder(
            holdings.original()
            .of_record_on(after)
            .filter(form=HoldingForm.DTC_POSITION)
            .values("holder_id")
            .annotate(t=Sum("amount"))
            .values_list("holder_id", "t")
        )
        for holder_id, live in (
            Tender.objects.filter(
                series=series,
                channel=Channel.BOOK_ENTRY,
                state__in=[*TENDER_OPEN_STATES, TenderState.ACCEPTED],
            )
            .values("holder_id")
            .annotate(live=Sum(F("amount") - F("withdrawn_amount")))
            .values_list("holder_id", "live")
        ):
            if live > positions.get(holder_id, ZERO):
                name = Holder.objects.filter(pk=holder_id).values_list("name", flat=True).first()
                anomalies.append(
                    f"{name}: DTC position {positions.get(holder_id, ZERO):,.2f} tendered "
                    f"{live:,.2f} by book entry, above its amount"
                )
        results.append(
            SeriesBooks(
                series=series,
                before=before,
                after=after,
                outstanding_before=series.amount_outstanding,
                original_before=sum(original_before.values(), ZERO),
                original_after=sum(original_after.values(), ZERO),
                exchanged=sum(exchanged.values(), ZERO),
                new_issued=sum(new_issued.values(), ZERO),
                holders=lines,
                anomalies=tuple(anomalies),
            )
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
