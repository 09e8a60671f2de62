"""Benchmark: the deadline rush. The production server (gunicorn, DEBUG off, PostgreSQL) on
loopback; 20 holders tendering and withdrawing at once for 60 seconds.

    .venv/bin/python bench/deadline_rush.py [--holders 20] [--seconds 60]

Each simulated holder signs in, then loops: open the letter of transmittal, submit a $1,000
tender of its certificate, and every other time withdraw the previous tender through the
notice of withdrawal. Bounded in time and in count (at most 10,000 requests a holder), and
only ever to 127.0.0.1. Prints throughput, p50 and p99 latency and errors, then checks that
every receipt a holder got has its row and every row had a receipt. Not a test: it
asserts nothing about time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "exchange.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tender_desk_rush")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from django.utils import timezone  # noqa: E402

from exchange.demo.synthetic import synthetic_offer  # noqa: E402
from exchange.models import Tender, WithdrawalNotice  # noqa: E402
from holders.models import Holder, HolderKind, Holding, HoldingForm, TinStatus  # noqa: E402

HOST, PORT = "127.0.0.1", 8765
PASSWORD = "rush-Passphrase-" + secrets.token_hex(4)
MAX_REQUESTS_PER_HOLDER = 10_000
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class HolderRun:
    username: str
    latencies: list[float] = field(default_factory=list)
    sign_in: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    tenders: list[str] = field(default_factory=list)  # references from receipts
    withdrawals: list[str] = field(default_factory=list)


class Browser:
    """One holder's connection: cookies kept by hand (the production cookies are Secure,
    which a client would not send over plain loopback HTTP)."""

    def __init__(self, run: HolderRun) -> None:
        self.run = run
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection(HOST, PORT, timeout=30)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        headers = {"Host": HOST, "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://{HOST}:{PORT}{path}"
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            text = response.read().decode()
        except (OSError, http.client.HTTPException) as exc:
            self.connection.close()
            self.connection = http.client.HTTPConnection(HOST, PORT, timeout=30)
            self.run.errors.append(f"{method} {path}: {exc!r}")
            return 0, "", ""
        self.run.latencies.append(time.perf_counter() - started)
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        if response.status >= 400:
            self.run.errors.append(f"{method} {path}: HTTP {response.status}")
        return response.status, response.getheader("Location") or "", text

    def form(self, path: str) -> str:
        status, _, text = self.request("GET", path)
        match = CSRF_INPUT.search(text)
        return match.group(1) if status == 200 and match else ""


@dataclass
class Clock:
    """When the rush ends, set once every holder has signed in."""

    until: float = 0.0
    cpu_at_start: float = 0.0


def server_cpu_seconds(master: int) -> float:
    """User and system CPU of the gunicorn master and its workers, from /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that ended meanwhile
        pid, ppid = int(entry), int(fields[1])
        if pid == master or ppid == master:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def holder_loop(
    run: HolderRun,
    offer_slug: str,
    certificate: str,
    name: str,
    clock: Clock,
    think: float,
    start: threading.Barrier,
) -> None:
    browser = Browser(run)
    token = browser.form("/accounts/login/")
    browser.request(
        "POST",
        "/accounts/login/",
        {"csrfmiddlewaretoken": token, "username": run.username, "password": PASSWORD},
    )
    # Signing in hashes the password (PBKDF2, slow on purpose): counted apart, its CPU too.
    run.sign_in, run.latencies = run.latencies, []
    start.wait()
    until = clock.until
    rng = random.Random(run.username)
    letter_path = f"/offers/{offer_slug}/series/senior/letter-of-transmittal/"
    for i in range(MAX_REQUESTS_PER_HOLDER):
        if time.monotonic() >= until:
            return
        if think:
            # A person reads the form before submitting it: 0.5x to 1.5x the think time.
            time.sleep(think * rng.uniform(0.5, 1.5))
        token = browser.form(letter_path)
        status, location, _ = browser.request(
            "POST",
            letter_path,
            {
                "csrfmiddlewaretoken": token,
                "amount": "1,000",
                "certificates": f"{certificate} 1,000",
                "registered_names": name,
                "signer_name": name,
                "signer_capacity": "registered_holder",
                "signed": "on",
                "rep_full_authority": "on",
                "rep_not_affiliate": "on",
                "rep_not_broker_dealer_from_issuer": "on",
                "rep_ordinary_course": "on",
                "rep_no_distribution": "on",
                "tin": "123-45-6789",
                "w9_certified": "on",
            },
        )
        if status == 302 and "/tenders/" in location:
            run.tenders.append(location.rstrip("/").split("/")[-2])
        if i % 2 == 1 and run.tenders and time.monotonic() < until:
            reference = run.tenders[-1]
            path = f"/tenders/{reference}/withdraw/"
            token = browser.form(path)
            status, location, _ = browser.request(
                "POST",
                path,
                {
                    "csrfmiddlewaretoken": token,
                    "tendering_person_name": name,
                    "certificate_numbers": certificate,
                    "amount": "1,000",
                    "states_withdrawal": "on",
                    "registered_holder_name": name,
                    "signed_as_letter": "on",
                },
            )
            if status == 302 and "/withdrawals/" in location:
                run.withdrawals.append(location.rstrip("/").split("/")[-1])


def build(holders: int) -> tuple[str, list[tuple[str, str, str]]]:
    now = timezone.now()
    offer, series = synthetic_offer(
        f"rush-{secrets.token_hex(3)}",
        expiration=now + dt.timedelta(days=2),
        commenced=now - dt.timedelta(days=30),
    )
    cast = []
    user_model = get_user_model()
    for i in range(holders):
        name = f"Rush Holder {i:02d}"
        user = user_model.objects.create_user(username=f"rush{i:02d}", password=PASSWORD)
        holder = Holder.objects.create(
            kind=HolderKind.REGISTERED_HOLDER,
            name=name,
            address="1 Wall Street",
            user=user,
            tin_status=TinStatus.CERTIFIED,
        )
        certificate = f"RUSH-{i:04d}"
        Holding.objects.create(
            holder=holder,
            series=series,
            form=HoldingForm.CERTIFICATE,
            certificate_number=certificate,
            amount=Decimal("1000000000"),
            effective_from=series.issue_date,
        )
        cast.append((user.username, certificate, name))
    return offer.slug, cast


def main() -> None:
    parser = argparse.ArgumentParser(description="The deadline rush against the production server.")
    parser.add_argument("--holders", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    # One worker per core and one spare: more sync workers than that only queue on the CPU.
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="Seconds a holder spends on a form before submitting (0: back to back, a stress test)",
    )
    args = parser.parse_args()
    print(
        f"Deadline rush: {args.holders} holders for {args.seconds:.0f} s against gunicorn "
        f"({args.workers} workers, production settings, PostgreSQL) on {HOST}; {os.cpu_count()} cores"
    )
    config = setup_databases(verbosity=0, interactive=False)
    server = None
    try:
        offer_slug, cast = build(args.holders)
        db = settings.DATABASES["default"]
        env = {
            **os.environ,
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "false",  # plain loopback HTTP; a real site sits behind TLS
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "LOG_LEVEL": "WARNING",
        }
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "exchange.wsgi:application",
                "--bind",
                f"{HOST}:{PORT}",
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                http.client.HTTPConnection(HOST, PORT, timeout=2).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.3)
        runs = [HolderRun(username) for username, _, _ in cast]
        clock = Clock()
        times: dict[str, float] = {}

        def begin() -> None:
            # Every holder has signed in: the rush (and its clock and CPU count) starts now.
            clock.cpu_at_start = server_cpu_seconds(server.pid)
            clock.until = time.monotonic() + args.seconds
            times["started"] = time.perf_counter()

        start = threading.Barrier(len(runs), action=begin)
        threads = [
            threading.Thread(
                target=holder_loop,
                args=(run, offer_slug, certificate, name, clock, args.think, start),
            )
            for run, (_, certificate, name) in zip(runs, cast, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(args.seconds + 120)
        elapsed = time.perf_counter() - times["started"]
        cpu = server_cpu_seconds(server.pid) - clock.cpu_at_start
        latencies = sorted(latency for run in runs for latency in run.latencies)
        errors = [error for run in runs for error in run.errors]
        p50 = statistics.median(latencies) * 1000 if latencies else 0.0
        p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0
        print(
            f"  requests (forms and submissions, think time {args.think:g} s): {len(latencies):,} in {elapsed:.1f} s — {len(latencies) / elapsed:,.1f} requests/s"
        )
        print(
            f"  latency: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {latencies[-1] * 1000 if latencies else 0:.1f} ms"
        )
        print(
            f"  server CPU (gunicorn master and workers, user + system): {cpu:.1f} s, "
            f"{cpu * 1000 / max(len(latencies), 1):.1f} ms a request"
        )
        sign_ins = sorted(latency for run in runs for latency in run.sign_in)
        print(
            f"  sign-in (2 requests each, not counted above): max {sign_ins[-1] * 1000 if sign_ins else 0:.0f} ms"
        )
        print(f"  errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
        receipts = {ref for run in runs for ref in run.tenders}
        notices = {ref for run in runs for ref in run.withdrawals}
        rows = set(
            Tender.objects.filter(offer__slug=offer_slug).values_list("reference", flat=True)
        )
        notice_rows = set(
            WithdrawalNotice.objects.filter(tender__offer__slug=offer_slug).values_list(
                "reference", flat=True
            )
        )
        print(
            f"  tenders: {len(receipts):,} receipts, {len(rows):,} rows; withdrawals: {len(notices):,} receipts, {len(notice_rows):,} rows"
        )
        print(f"  every receipt has its row: {receipts <= rows and notices <= notice_rows}")
        print(f"  every row had a receipt:   {rows <= receipts and notice_rows <= notices}")
        print("  targets (the issue): zero errors, p99 under 250 ms, both checks true")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        teardown_databases(config, verbosity=0)


if __name__ == "__main__":
    main()
