"""An operator's command prints its own output only: no library banner (django-axes used
to print "AXES: BEGIN ..." on every start) on stdout or stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
@pytest.mark.parametrize("command", [["check"], ["accreted_value", "--help"]])
def test_a_command_prints_no_banner(command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "DEBUG"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "AXES" not in done.stdout
    assert "AXES" not in done.stderr
    if command == ["check"]:
        assert done.stdout.startswith("System check identified no issues")
        assert done.stdout.count("\n") == 1
