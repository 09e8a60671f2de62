"""The project's own hygiene: migrations match models, ruff is clean, production settings
pass `check --deploy`, bad settings fail loudly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_migrations_match_models() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts_are_kept() -> None:
    """The rooms of pyproject.toml's [tool.importlinter]: a crossing import fails here."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# The project package's root holds the Django project's plumbing only; the domain, the
# desk, the jobs and the demo each live in a room of their own.
PROJECT_PLUMBING = {
    "__init__.py",
    "apps.py",
    "celery.py",
    "env.py",
    "health.py",
    "middleware.py",
    "settings.py",
    "urls.py",
    "wsgi.py",
}


def test_project_package_root_holds_only_plumbing() -> None:
    modules = {p.name for p in (ROOT / "exchange").glob("*.py")}
    assert modules == PROJECT_PLUMBING


LONG_MODULE = 600


def test_long_modules_say_why_in_their_opening_comment() -> None:
    """A module over about 600 lines reads in one sitting only if it says why it is whole."""
    too_long = []
    for path in [*(ROOT / "exchange").rglob("*.py"), *(ROOT / "holders").rglob("*.py")]:
        if "migrations" in path.parts:
            continue
        text = path.read_text()
        if text.count("\n") > LONG_MODULE and "Kept whole because" not in text[:2000]:
            too_long.append(f"{path.relative_to(ROOT)} ({text.count(chr(10))} lines)")
    assert not too_long, too_long


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x9" * 30 + "-a-long-random-production-secret",
    "ALLOWED_HOSTS": "desk.example.com",
}


@pytest.mark.slow
def test_check_deploy_is_clean_with_production_settings() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({**PRODUCTION, "SECRET_KEY": "short"}, "SECRET_KEY must be a random value"),
        ({**PRODUCTION, "ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://localhost"}, "REDIS_URL"),
        ({"EMAIL_PORT": "twenty-five"}, "EMAIL_PORT='twenty-five' is not a whole number"),
    ],
)
def test_bad_settings_fail_loudly(env: dict[str, str], message: str) -> None:
    result = _manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "bench").glob("[a-z]*.py")))
def test_every_benchmark_still_imports_what_it_measures(script: str) -> None:
    """Benchmarks are not run by the suite; this keeps a move of the code from breaking them."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "usage:" in result.stdout
