"""Benchmark: the clerks' admin pages of an offer with N tenders on PostgreSQL.

    .venv/bin/python bench/admin_pages.py --tenders 100000

Builds a throwaway database (test_<name> beside DATABASE_URL's, dropped afterwards) with
one open offer and N tenders in the states a live offer shows (about 65% valid, 20%
received and 2% in review, the review queue; 10% deficient with a deficiency each; 3%
withdrawn with an effective notice and a note return), half book-entry from one DTC
participant and half paper letters from a few thousand registered holders, received over
the 25 days since commencement, each with its history rows as the services write them.
Then, logged in as a superuser through django.test.Client, it requests each page once to
warm up and five times more, and prints per page the queries of one request and the
median wall time (the whole request: middleware, session, view, template). Not a test: it
asserts nothing about time; it prints figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "exchange.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tender_desk_bench_admin")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_databases,
    teardown_databases,
)
from django.utils import timezone  # noqa: E402

from exchange.demo.synthetic import synthetic_offer  # noqa: E402
from exchange.models import (  # noqa: E402
    ActorKind,
    Channel,
    Deficiency,
    DeficiencyKind,
    ExchangeOffer,
    NoteReturn,
    NoteSeries,
    ReturnReason,
    SignerCapacity,
    StateChange,
    Tender,
    TenderState,
    WithdrawalNotice,
    WithdrawalState,
)
from exchange.models.tenders import new_reference  # noqa: E402
from exchange.services.base import Actor, history_row  # noqa: E402
from holders.models import Holder, HolderKind, TinStatus  # noqa: E402

BATCH = 5000
RUNS = 5
CLERK = Actor(kind=ActorKind.CLERK, label="bench clerk")
HOLDER = Actor(kind=ActorKind.HOLDER, label="bench holder")
AN_HOUR = dt.timedelta(hours=1)


def state_of(i: int) -> str:
    """The mix: 65% valid, 20% received, 2% in review, 10% deficient, 3% withdrawn."""
    bucket = i % 100
    if bucket < 65:
        return TenderState.VALID
    if bucket < 85:
        return TenderState.RECEIVED
    if bucket < 87:
        return TenderState.IN_REVIEW
    if bucket < 97:
        return TenderState.DEFICIENT
    return TenderState.WITHDRAWN


def make_tender(
    i: int,
    offer: ExchangeOffer,
    series: NoteSeries,
    participant: Holder,
    registered: list[Holder],
    received_at: dt.datetime,
) -> Tender:
    state = state_of(i)
    amount = Decimal(1000 * (1 + i % 50))
    common = {
        "reference": new_reference("LT"),
        "offer": offer,
        "series": series,
        "state": state,
        "received_at": received_at,
        "amount": amount,
        "withdrawn_amount": amount if state == TenderState.WITHDRAWN else Decimal(0),
        "rep_full_authority": True,
        "rep_not_affiliate": True,
        "rep_not_broker_dealer_from_issuer": True,
        "rep_ordinary_course": True,
        "rep_no_distribution": True,
        "w9_certified": i % 9 != 0,
        "w9_tin_last4": f"{i % 10000:04d}" if i % 9 else "",
    }
    if i % 2:
        return Tender(
            holder=participant,
            channel=Channel.BOOK_ENTRY,
            registered_names="Cede & Co.",
            book_entry_confirmation=f"ATOP-{i:07d}",
            dtc_participant_number=participant.dtc_participant_number,
            agents_message=True,
            signer_capacity=SignerCapacity.DTC_PARTICIPANT,
            beneficial_owner=f"Beneficial owner {i}",
            **common,
        )
    holder = registered[i % len(registered)]
    return Tender(
        holder=holder,
        channel=Channel.PAPER_LETTER,
        registered_names=holder.name,
        signer_name=holder.name,
        signer_capacity=SignerCapacity.REGISTERED_HOLDER,
        signed=True,
        **common,
    )


def follow_ups(
    tenders: list[Tender], offer: ExchangeOffer, now: dt.datetime
) -> tuple[list[Deficiency], list[WithdrawalNotice], list[StateChange]]:
    """What the services would have written after receipt: deficiencies, notices of
    withdrawal, and every history row of the tenders (the notices' come later, once
    they have ids)."""
    deficiencies, notices, history = [], [], []
    for tender in tenders:
        at = tender.received_at
        history.append(
            history_row(
                tender,
                action="exchange.tender.received",
                from_state="",
                to_state=TenderState.RECEIVED,
                actor=HOLDER,
                now=at,
                reason=f"{tender.get_channel_display()}: ${tender.amount:,.2f}.",
                offer=offer,
            )
        )
        reviewed = min(at + AN_HOUR, now)
        if tender.state in (TenderState.VALID, TenderState.WITHDRAWN):
            history.append(
                history_row(
                    tender,
                    action="exchange.tender.valid",
                    from_state=TenderState.RECEIVED,
                    to_state=TenderState.VALID,
                    actor=CLERK,
                    now=reviewed,
                    offer=offer,
                )
            )
        elif tender.state == TenderState.IN_REVIEW:
            history.append(
                history_row(
                    tender,
                    action="exchange.tender.review_started",
                    from_state=TenderState.RECEIVED,
                    to_state=TenderState.IN_REVIEW,
                    actor=CLERK,
                    now=reviewed,
                    offer=offer,
                )
            )
        elif tender.state == TenderState.DEFICIENT:
            kind = DeficiencyKind.REPRESENTATIONS if tender.pk % 2 else DeficiencyKind.SIGNATURE
            deficiencies.append(
                Deficiency(
                    tender=tender,
                    kind=kind,
                    note="Bench: what is wrong and what the holder must do to cure it.",
                    opened_at=reviewed,
                    opened_by_label=CLERK.label,
                )
            )
            history.append(
                history_row(
                    tender,
                    action="exchange.tender.deficient",
                    from_state=TenderState.RECEIVED,
                    to_state=TenderState.DEFICIENT,
                    actor=CLERK,
                    now=reviewed,
                    reason=DeficiencyKind(kind).label,
                    offer=offer,
                )
            )
        if tender.state == TenderState.WITHDRAWN:
            withdrawn = min(at + dt.timedelta(days=1), now)
            notices.append(
                WithdrawalNotice(
                    reference=new_reference("WD"),
                    tender=tender,
                    received_at=withdrawn,
                    tendering_person_name=tender.registered_names,
                    amount=tender.amount,
                    states_withdrawal=True,
                    registered_holder_name=tender.registered_names,
                    signed_as_letter=True,
                    state=WithdrawalState.EFFECTIVE,
                    decided_at=withdrawn,
                )
            )
            history.append(
                history_row(
                    tender,
                    action="exchange.tender.withdrawn",
                    from_state=TenderState.VALID,
                    to_state=TenderState.WITHDRAWN,
                    actor=HOLDER,
                    now=withdrawn,
                    reason=f"${tender.amount:,.2f} withdrawn; $0.00 remains tendered.",
                    offer=offer,
                )
            )
    return deficiencies, notices, history


def build(n: int) -> tuple[ExchangeOffer, int, int]:
    """The offer, a deficient tender's id and a withdrawn one's."""
    now = timezone.now()
    expiration = now + dt.timedelta(days=10)
    commenced = expiration - dt.timedelta(days=35)
    offer, series = synthetic_offer("bench-admin", expiration=expiration, commenced=commenced)
    participant = Holder.objects.create(
        kind=HolderKind.DTC_PARTICIPANT,
        name="Bench Securities LLC (DTC participant 0777)",
        address="1 Bench Plaza\nNew York, NY 10004",
        dtc_participant_number="0777",
        tin_status=TinStatus.CERTIFIED,
    )
    registered = Holder.objects.bulk_create(
        Holder(
            kind=HolderKind.REGISTERED_HOLDER,
            name=f"Registered holder {k:05d}",
            address=f"{k} Bench Street\nNew York, NY 10004",
            tin_status=TinStatus.CERTIFIED if k % 3 else TinStatus.NOT_CERTIFIED,
        )
        for k in range(max(1, min(5000, n // 20)))
    )
    span = now - AN_HOUR - commenced
    for start in range(0, n, BATCH):
        tenders = Tender.objects.bulk_create(
            make_tender(
                i, offer, series, participant, registered, commenced + span * ((i + 1) / (n + 1))
            )
            for i in range(start, min(n, start + BATCH))
        )
        deficiencies, notices, history = follow_ups(tenders, offer, now)
        Deficiency.objects.bulk_create(deficiencies)
        notices = WithdrawalNotice.objects.bulk_create(notices)
        for notice in notices:
            for action, from_state in (
                ("exchange.withdrawal.received", ""),
                ("exchange.withdrawal.effective", WithdrawalState.RECEIVED),
            ):
                history.append(
                    history_row(
                        notice,
                        action=action,
                        from_state=from_state,
                        to_state=WithdrawalState.EFFECTIVE
                        if from_state
                        else WithdrawalState.RECEIVED,
                        actor=HOLDER if not from_state else CLERK,
                        now=notice.received_at,
                        reason=f"${notice.amount:,.2f} of {notice.tender.reference}",
                        offer=offer,
                    )
                )
        NoteReturn.objects.bulk_create(
            NoteReturn(
                tender=notice.tender,
                withdrawal=notice,
                reason=ReturnReason.WITHDRAWN,
                amount=notice.amount,
                by_book_entry=notice.tender.channel == Channel.BOOK_ENTRY,
                recorded_at=notice.decided_at,
            )
            for notice in notices
        )
        StateChange.objects.bulk_create(history)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    deficient = Tender.objects.filter(offer=offer, state=TenderState.DEFICIENT).earliest("id")
    withdrawn = Tender.objects.filter(offer=offer, state=TenderState.WITHDRAWN).earliest("id")
    return offer, deficient.pk, withdrawn.pk


def measure(client: Client, url: str) -> tuple[int, int, int, list[float], list[dict[str, str]]]:
    """(status, bytes, queries, seconds of each timed run, the queries of the last)."""
    response = client.get(url)  # warm-up
    seconds = []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            seconds.append(time.perf_counter() - started)
    return (
        response.status_code,
        len(response.content),
        len(queries),
        seconds,
        list(queries.captured_queries),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--tenders", type=int, default=100_000)
    parser.add_argument(
        "--slowest", type=int, default=2, help="Slowest queries to show per page (default 2)"
    )
    args = parser.parse_args()
    print(
        f"Admin pages benchmark: {args.tenders:,} tenders, PostgreSQL, {os.cpu_count()} cores, "
        f"DEBUG={settings.DEBUG}"
    )
    config = setup_databases(verbosity=0, interactive=False)
    try:
        started = time.perf_counter()
        offer, deficient_id, withdrawn_id = build(args.tenders)
        counts = {
            "tenders": Tender.objects.count(),
            "history rows": StateChange.objects.count(),
            "deficiencies": Deficiency.objects.count(),
            "withdrawal notices": WithdrawalNotice.objects.count(),
            "in the review queue": Tender.objects.filter(
                state__in=[TenderState.RECEIVED, TenderState.IN_REVIEW]
            ).count(),
        }
        print(
            f"  built in {time.perf_counter() - started:.1f} s: "
            + ", ".join(f"{v:,} {k}" for k, v in counts.items())
        )

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        user = get_user_model().objects.create_superuser("bench-admin", "bench@example.com", "x")
        client = Client()
        reference = Tender.objects.values_list("reference", flat=True).get(pk=withdrawn_id)
        client.force_login(user, backend="holders.auth.HolderAwareModelBackend")
        pages = [
            ("tender changelist", "/admin/exchange/tender/"),
            ("  filtered: valid", "/admin/exchange/tender/?state__exact=valid"),
            ("  search: LT- (every row)", "/admin/exchange/tender/?q=LT-"),
            ("  search: one reference", f"/admin/exchange/tender/?q={reference}"),
            ("review queue", "/admin/exchange/tenderawaitingreview/"),
            ("history changelist", "/admin/exchange/statechange/"),
            ("  the offer's history", f"/admin/exchange/statechange/?offer__id__exact={offer.pk}"),
            ("deficiency changelist", "/admin/exchange/deficiency/"),
            ("withdrawal changelist", "/admin/exchange/withdrawalnotice/"),
            ("admin index (dashboard)", "/admin/"),
            ("tender page (deficient)", f"/admin/exchange/tender/{deficient_id}/change/"),
            ("tender page (withdrawn)", f"/admin/exchange/tender/{withdrawn_id}/change/"),
        ]
        results = []
        header = f"  {'page':<28} {'status':>6} {'queries':>7} {'median ms':>9} {'min ms':>7} {'max ms':>7} {'KiB':>6}"
        print(header)
        print("  " + "-" * (len(header) - 2))
        for label, url in pages:
            status, size, queries, seconds, captured = measure(client, url)
            results.append((label, url, captured))
            print(
                f"  {label:<28} {status:>6} {queries:>7} {statistics.median(seconds) * 1000:>9.1f} "
                f"{min(seconds) * 1000:>7.1f} {max(seconds) * 1000:>7.1f} {size / 1024:>6.0f}"
            )
        print(f"  (median of {RUNS} requests after one warm-up; the queries of one request)")
        if args.slowest:
            print("  slowest queries of one request per page (ms, SQL shortened):")
            for label, url, captured in results:
                print(f"  {label.strip()} — {url}")
                ranked = sorted(captured, key=lambda q: float(q["time"]), reverse=True)
                for query in ranked[: args.slowest]:
                    sql = " ".join(query["sql"].split())
                    if len(sql) > 220:
                        sql = sql[:150] + " … " + sql[-65:]
                    print(f"    {float(query['time']) * 1000:7.1f}  {sql}")
    finally:
        teardown_databases(config, verbosity=0)


if __name__ == "__main__":
    main()
