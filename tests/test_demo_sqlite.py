"""The embedded demo path on its own database, SQLite: migrate, seed, replay the clock to a
payment date, and print the special-interest report (exact to the cent on SQLite too)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def test_demo_runs_end_to_end_on_sqlite(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}"}

    def manage(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    manage("migrate", "--verbosity", "0")
    assert "Demo tenders: 10" in manage("seed_offer")
    manage("run_jobs", "--as-of", "2000-09-15 09:00")
    report = manage(
        "special_interest_report", "level3-2000", "--payment-date", "2000-09-15", "--format", "csv"
    )
    rows = list(csv.DictReader(io.StringIO(report)))
    # The demo's clerks never decided two tenders, so the offer did not complete by the
    # 180th day (August 27): a default from August 28; 17 days (30/360) to September 14 at
    # 0.50%: Margaret Chen's $250,000 of the 2008 notes earn 250 x 1,000 x 0.005 x 17 / 360
    # = $59.03, less 31% backup withholding ($18.30): $40.73.
    chen = next(r for r in rows if r["holder"] == "Margaret Chen" and r["series"] == "2008-senior")
    assert (chen["gross"], chen["withholding"], chen["net"]) == ("59.03", "18.30", "40.73")
