"""Plans built from real backup files' headers (../shared/backups) match what the files say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from restoreplan.cli.main import main

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "backups"


@pytest.fixture(scope="module")
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"sample backups not found at {SAMPLES} (they live beside the project, not in it)")
    return SAMPLES


def _plan(capsys, *args: str) -> list[str]:
    assert main(["plan", *args, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    return [Path(s["files"][0]).name for s in doc["steps"] if s["files"]]


def test_restore_time_clean_plans_follow_the_file_names(samples, capsys):
    folder = str(samples / "RestoreTimeClean")
    assert _plan(capsys, "--backups", folder, "--latest") == [
        "RestoreTimeClean.bak", "RestoreTimeClean2.bak", "RestoreTimeClean2_1.trn", "RestoreTimeClean2_2.trn",
        "RestoreTimeClean2_3.trn"]
    assert _plan(capsys, "--backups", folder, "--at", "2017-06-01 13:10:00") == [
        "RestoreTimeClean.bak", "RestoreTimeClean_1.trn", "RestoreTimeClean_2.trn", "RestoreTimeClean_3.trn"]
    assert _plan(capsys, "--backups", folder, "--at", "2017-06-01 13:20:00") == [
        "RestoreTimeClean.bak", "RestoreTimeClean2.bak", "RestoreTimeClean2_1.trn", "RestoreTimeClean2_2.trn"]


def test_striped_2016_sets_restore_from_both_stripes(samples, capsys):
    assert main(["plan", "--backups", str(samples / "RestoreTimeStripe2016"), "--latest", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    data = [s for s in doc["steps"] if s["action"] == "restore_database"]
    assert len(data) == 1 and len(data[0]["files"]) == 2
    assert {Path(f).parent.name for f in data[0]["files"]} == {"Stripe1", "Stripe2"}


def test_simple_recovery_backups_reach_only_their_end_points(samples, capsys):
    folder = str(samples / "sql2008-backups" / "SimpleRecovery")
    files = _plan(capsys, "--backups", folder, "--latest")
    assert files[0].lower() == "simplebacktest.bak" and len(files) == 2
