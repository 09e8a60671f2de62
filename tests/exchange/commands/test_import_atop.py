"""`import_atop <offer> <file> [--dry-run]`."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from exchange.models import AtopImport, AtopInstruction, Tender
from tests.exchange.services.test_atop import EVERY_TYPE, HEADER, atop_seed, row
from tests.factories import SeedOffer

__all__ = ["atop_seed"]


def _call(*args: str) -> str:
    out = StringIO()
    call_command("import_atop", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_dry_run_then_import(atop_seed: SeedOffer, tmp_path: Path) -> None:
    path = tmp_path / "activity.csv"
    path.write_text(HEADER + EVERY_TYPE + row("X", "tender", "1500", "2000-06-16T10:00:00"))
    dry = _call("level3-2000", str(path), "--dry-run")
    assert "would record 2 tenders, 1 withdrawals, 1 protects, 1 covers; 1 exceptions" in dry
    assert "Dry run: nothing was recorded." in dry
    assert not Tender.objects.exists() and not AtopImport.objects.exists()
    done = _call("level3-2000", str(path))
    assert "recorded 2 tenders" in done and "line 7: denomination" in done
    assert AtopInstruction.objects.count() == 6
    again = _call("level3-2000", str(path))
    assert "recorded 0 tenders" in again and "6 already recorded" in again


@pytest.mark.django_db
def test_bad_files_get_a_message(atop_seed: SeedOffer, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Cannot read"):
        _call("level3-2000", str(tmp_path / "missing.csv"))
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(CommandError, match="not an ATOP activity file"):
        _call("level3-2000", str(path))
    assert not AtopImport.objects.exists()
