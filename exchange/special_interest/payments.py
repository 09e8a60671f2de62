"""Paying special interest: what accrued since the previous interest payment date, paid
on the next one to the holders of record on its record date, pro rata, less backup
withholding for holders without a certified TIN.

Per holder and series:

    gross       = to_cents(sum over the period of basis x rate x days  x  held / 360,000)
                = accrued per $1,000 for the period x held / 1,000, rounded once to cents
    withholding = to_cents(gross x backup withholding rate)  (not-certified TIN only)
    net         = gross - withholding

The period's sum comes from the ledger (exact, undivided by 360) and the division by
360 and by 1,000 happens in one step before the one rounding, so no per-day or
per-$1,000 rounding can move a cent.

After an exchange date (README, "Special interest after the exchange"): the registration
agreement's obligation runs on the series' notes whichever form they take, so while a
default runs it is owed on the original notes and on the new notes alike, each paid to
its own holders of record on the record date: one row per holder, series and kind of
notes (original or new, each under its CUSIP), each rounded once.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from django.db.models import Sum

from exchange.models import ExchangeOffer, NoteSeries, SpecialInterestAccrual
from exchange.services.base import DeskError
from exchange.special_interest.accrual import (
    EXACT_PRECISION,
    ledger_differences,
    series_of,
)
from exchange.special_interest.detection import ONE_DAY
from exchange.terms.daycount import DAYS_IN_YEAR_30_360
from exchange.terms.money import PER_THOUSAND, WORKING_PRECISION, ZERO, to_cents
from exchange.terms.spreadsheet import safe_row
from holders.models import Holder, Holding, NotesKind, TinStatus

CSV_COLUMNS = (
    "holder",
    "series",
    "basis",
    "days",
    "rate_steps",
    "gross",
    "withholding",
    "net",
    "notes",
    "cusip",
)


class LedgerNotCurrent(DeskError):
    """The ledger for a payment period is not what the milestones give: accrue first."""


def _dates_with_month_days(
    month_days: Iterable[tuple[int, int]], years: Iterable[int]
) -> list[dt.date]:
    found = []
    for year in years:
        for month, day in month_days:
            try:
                found.append(dt.date(year, month, day))
            except ValueError:  # February 29 in a common year
                continue
    return sorted(found)


def is_interest_payment_date(series: NoteSeries, day: dt.date) -> bool:
    return (day.month, day.day) in series.interest_dates and day > series.issue_date


@dataclass(frozen=True)
class PaymentPeriod:
    """Days [start, payment_date) accrue to `payment_date`; paid to holders of record on
    `record_date`."""

    series: NoteSeries
    payment_date: dt.date
    record_date: dt.date
    start: dt.date

    @property
    def last_day(self) -> dt.date:
        return self.payment_date - ONE_DAY


def payment_period(series: NoteSeries, payment_date: dt.date) -> PaymentPeriod:
    """The accrual period and record date of an interest payment date of `series`.

    Special interest is paid on the series' semiannual dates (March 15 and September 15
    in the seed), also for the discount notes before their cash interest begins
    (2005-09-15): the registration agreement pays it in arrears on those dates.
    """
    if not is_interest_payment_date(series, payment_date):
        dates = ", ".join(f"{m:02d}-{d:02d}" for m, d in series.interest_dates)
        raise DeskError(
            f"{payment_date} is not an interest payment date of {series.name} ({dates}, "
            f"after issue on {series.issue_date})."
        )
    years = (payment_date.year - 1, payment_date.year)
    previous = [d for d in _dates_with_month_days(series.interest_dates, years) if d < payment_date]
    start = max(previous[-1], series.issue_date) if previous else series.issue_date
    # "Holders of record on the March 1 or September 1 immediately preceding" the date.
    records = [
        d for d in _dates_with_month_days(series.record_month_days, years) if d < payment_date
    ]
    if not records:
        raise DeskError(f"{series.name} has no record date before {payment_date}.")
    return PaymentPeriod(series, payment_date, records[-1], start)


@dataclass(frozen=True)
class PeriodAccrual:
    """A series' special interest for one payment period, per $1,000, from the ledger."""

    period: PaymentPeriod
    days: int
    rate_steps: tuple[Decimal, ...]
    accrual_360ths_per_1000: Decimal
    first_day: dt.date | None
    last_day: dt.date | None

    @property
    def per_1000(self) -> Decimal:
        """For reading: the period's accrual per $1,000, unrounded to 34 digits."""
        with localcontext() as ctx:
            ctx.prec = WORKING_PRECISION
            return self.accrual_360ths_per_1000 / DAYS_IN_YEAR_30_360

    def gross_for(self, held: Decimal) -> Decimal:
        """What `held` (principal, or principal amount at maturity) is paid, in cents."""
        with localcontext() as ctx:
            ctx.prec = EXACT_PRECISION
            exact = self.accrual_360ths_per_1000 * held / (DAYS_IN_YEAR_30_360 * PER_THOUSAND)
        return to_cents(exact)

    @property
    def rate_steps_text(self) -> str:
        return format_rate_steps(self.rate_steps)


def format_rate(rate: Decimal) -> str:
    return f"{rate * 100:.2f}%"


def format_rate_steps(rates: Iterable[Decimal]) -> str:
    return ";".join(format_rate(r) for r in rates)


def period_accrual(offer: ExchangeOffer, period: PaymentPeriod) -> PeriodAccrual:
    """The ledger's days of the period; refuses if the ledger is not current for it."""
    problems = ledger_differences(offer, period.series, period.start, period.payment_date)
    if problems:
        shown = "; ".join(problems[:5]) + ("; ..." if len(problems) > 5 else "")
        raise LedgerNotCurrent(
            f"The special interest ledger of {period.series.name} for the period "
            f"{period.start} to {period.last_day} is not what the milestones recorded give "
            f"({len(problems)} day(s): {shown}). Run `manage.py accrue_special_interest "
            f"{offer.slug} --through {period.last_day}` first."
        )
    rows = list(
        SpecialInterestAccrual.objects.filter(
            series=period.series, day__gte=period.start, day__lt=period.payment_date
        )
        .order_by("day")
        .values_list("day", "rate", "days_30_360", "accrual_360ths_per_1000")
    )
    # Rates in the order they applied; a new stream after a cure shows its 0.50% again.
    steps: list[Decimal] = []
    for _, rate, _, _ in rows:
        if not steps or steps[-1] != rate:
            steps.append(rate)
    with localcontext() as ctx:
        ctx.prec = EXACT_PRECISION
        total = sum((amount for *_, amount in rows), ZERO)
    return PeriodAccrual(
        period=period,
        days=sum(days for _, _, days, _ in rows),
        rate_steps=tuple(steps),
        accrual_360ths_per_1000=total,
        first_day=rows[0][0] if rows else None,
        last_day=rows[-1][0] if rows else None,
    )


@dataclass(frozen=True)
class HolderPayment:
    holder: Holder
    series: NoteSeries
    basis: Decimal  # held on the record date
    days: int
    rate_steps: str
    gross: Decimal
    withholding: Decimal
    net: Decimal
    notes: str = NotesKind.ORIGINAL  # original notes, or the new notes issued in exchange

    @property
    def cusip(self) -> str:
        return self.series.new_cusip if self.notes == NotesKind.NEW else self.series.original_cusip


@dataclass(frozen=True)
class SeriesPayments:
    accrual: PeriodAccrual
    payments: tuple[HolderPayment, ...]

    @property
    def series(self) -> NoteSeries:
        return self.accrual.period.series

    @property
    def total_basis(self) -> Decimal:
        return sum((p.basis for p in self.payments), ZERO)

    @property
    def total_gross(self) -> Decimal:
        return sum((p.gross for p in self.payments), ZERO)

    @property
    def total_withholding(self) -> Decimal:
        return sum((p.withholding for p in self.payments), ZERO)

    @property
    def total_net(self) -> Decimal:
        return sum((p.net for p in self.payments), ZERO)


@dataclass(frozen=True)
class PaymentReport:
    offer: ExchangeOffer
    payment_date: dt.date
    sections: tuple[SeriesPayments, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def payments(self) -> list[HolderPayment]:
        return [p for s in self.sections for p in s.payments]


def withholding_rate(offer: ExchangeOffer, holder: Holder) -> Decimal:
    """Backup withholding for a holder without a certified TIN; exempt payees none."""
    if holder.tin_status == TinStatus.NOT_CERTIFIED:
        return offer.backup_withholding_rate
    return ZERO


def holders_of_record(
    series: NoteSeries, record_date: dt.date
) -> list[tuple[Holder, str, Decimal]]:
    """(holder, kind of notes, amount held) on the record date, every position of a holder
    in that kind summed: original notes, and after an exchange date the new notes too."""
    held = {
        (holder_id, notes): total
        for holder_id, notes, total in Holding.objects.of_record_on(record_date)
        .filter(series=series)
        .values("holder_id", "notes")
        .annotate(total=Sum("amount"))
        .values_list("holder_id", "notes", "total")
    }
    # A subquery, not an IN list of every id (at 100,000 holders the list alone cost
    # seconds to build and parse); only the fields a payment uses.
    holders = (
        Holder.objects.filter(
            pk__in=Holding.objects.of_record_on(record_date)
            .filter(series=series)
            .values("holder_id")
        )
        .only("pk", "name", "tin_status")
        .order_by("name", "pk")
    )
    return [
        (holder, notes, held[holder.pk, notes])
        for holder in holders
        for notes in (NotesKind.ORIGINAL, NotesKind.NEW)
        if (holder.pk, notes) in held
    ]


def build_payment_report(offer: ExchangeOffer, payment_date: dt.date) -> PaymentReport:
    """Every holder of record's special interest payable on `payment_date`, per series."""
    sections = []
    notes = []
    for series in series_of(offer):
        if not is_interest_payment_date(series, payment_date):
            notes.append(f"{payment_date} is not an interest payment date of {series.name}.")
            continue
        accrual = period_accrual(offer, payment_period(series, payment_date))
        payments = []
        if accrual.first_day is not None:  # something accrued in the period
            for holder, notes, held in holders_of_record(series, accrual.period.record_date):
                gross = accrual.gross_for(held)
                withholding = to_cents(gross * withholding_rate(offer, holder))
                payments.append(
                    HolderPayment(
                        holder=holder,
                        series=series,
                        basis=held,
                        days=accrual.days,
                        rate_steps=accrual.rate_steps_text,
                        gross=gross,
                        withholding=withholding,
                        net=gross - withholding,
                        notes=notes,
                    )
                )
        sections.append(SeriesPayments(accrual, tuple(payments)))
    if not sections:
        raise DeskError(f"{payment_date} is not an interest payment date of any series of {offer}.")
    return PaymentReport(offer, payment_date, tuple(sections), tuple(notes))


# --- output -------------------------------------------------------------------------------


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def report_csv(report: PaymentReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in report.payments:
        writer.writerow(
            safe_row(
                [
                    p.holder.name,
                    p.series.slug,
                    _amount(p.basis),
                    p.days,
                    p.rate_steps,
                    _amount(p.gross),
                    _amount(p.withholding),
                    _amount(p.net),
                    p.notes,
                    p.cusip,
                ]
            )
        )
    return out.getvalue()


def report_table(report: PaymentReport) -> str:
    """The same figures for people: a block per series with its period and a total."""
    lines = [
        f"Special interest payable {report.payment_date:%B %d, %Y} — {report.offer.name}",
        "",
    ]
    header = ("Holder", "Basis", "Days", "Rates", "Gross", "Withholding", "Net")
    for section in report.sections:
        accrual = section.accrual
        period = accrual.period
        lines.append(
            f"{section.series.name}: accrual {period.start} to {period.last_day}, holders of "
            f"record on {period.record_date}"
        )
        if not section.payments:
            lines += ["  nothing accrued in the period", ""]
            continue
        lines.append(
            f"  {accrual.days} days (30/360) at {accrual.rate_steps_text}: "
            f"{accrual.per_1000:.10f} per $1,000 {section.series.amount_label}"
        )
        table = [header] + [
            (
                p.holder.name + (" (new notes)" if p.notes == NotesKind.NEW else ""),
                f"{p.basis:,.2f}",
                str(p.days),
                p.rate_steps,
                f"{p.gross:,.2f}",
                f"{p.withholding:,.2f}",
                f"{p.net:,.2f}",
            )
            for p in section.payments
        ]
        table.append(
            (
                "Total",
                f"{section.total_basis:,.2f}",
                "",
                "",
                f"{section.total_gross:,.2f}",
                f"{section.total_withholding:,.2f}",
                f"{section.total_net:,.2f}",
            )
        )
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        for n, row in enumerate(table):
            if n == len(table) - 1:
                lines.append("  " + "  ".join("-" * w for w in widths))
            cells = [row[0].ljust(widths[0])] + [
                cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
            ]
            lines.append("  " + "  ".join(cells).rstrip())
        lines.append("")
    lines += report.notes
    return "\n".join(lines).rstrip() + "\n"
