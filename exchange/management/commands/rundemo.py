"""Run the demo: the web server, a Celery worker and beat, until Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from types import FrameType

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from exchange.management.commands.seed_offer import DEMO_PASSWORD, HOLDERS, STAFF


class Command(BaseCommand):
    help = "Run web, Celery worker and beat together for the demo; Ctrl-C stops all three."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: object, **options: object) -> None:
        port = int(options["port"])  # type: ignore[arg-type]
        python = sys.executable
        commands = {
            "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "exchange",
                "worker",
                "-l",
                "info",
                "--concurrency",
                "1",
            ],
            "beat": [python, "-m", "celery", "-A", "exchange", "beat", "-l", "info"],
        }
        processes = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        base = f"http://127.0.0.1:{port}"
        lines = [
            "",
            "Tender desk demo is running (Ctrl-C stops web, worker and beat).",
            f"  Holder portal:       {base}/",
            f"  Clerk desk (admin):  {base}/admin/",
            f"  Broker (Celery):     {settings.CELERY_BROKER_URL}",
            f"Demo logins, password {DEMO_PASSWORD!r}:",
            *(f"  {username:<11} {role} — {base}/admin/" for username, _, role in STAFF),
            *(f"  {username:<11} {fields['name']} — {base}/" for username, fields, _ in HOLDERS),
            "",
        ]
        self.stdout.write("\n".join(lines))
        failed = None
        while not stopping and failed is None:
            time.sleep(0.5)
            failed = next((n for n, p in processes.items() if p.poll() is not None), None)
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if failed is not None and not stopping:
            raise CommandError(
                f"The {failed} process stopped (exit {processes[failed].returncode}); see its output "
                "above. Is Redis running on REDIS_URL?"
            )
