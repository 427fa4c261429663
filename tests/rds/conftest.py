"""Shared fixtures for the RDS tests: plans built from the bundled sample with S3 names."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from restoreplan.core.model import BackupSet
from restoreplan.core.plan import Plan
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from restoreplan.sources.load import LoadRequest, load, sample_history_path

BUCKET = "prod-backups"
GOLDEN = Path(__file__).parent / "golden"


def s3_name(path: str, style: str = "arn") -> str:
    base = path.replace("/", "\\").rsplit("\\", 1)[-1]
    return f"arn:aws:s3:::{BUCKET}/Sales/{base}" if style == "arn" else f"s3://{BUCKET}/Sales/{base}"


def to_s3(bs: BackupSet | None, style: str = "arn") -> BackupSet | None:
    if bs is None:
        return None
    return replace(bs, files=tuple(replace(f, physical_device_name=s3_name(f.physical_device_name, style)) for f in bs.files))


def s3_plan(plan: Plan, style: str = "arn") -> Plan:
    return replace(plan, steps=tuple(replace(s, backup=to_s3(s.backup, style)) for s in plan.steps))


@pytest.fixture(scope="session")
def sample_history():  # type: ignore[no-untyped-def]
    return load(LoadRequest()).history


@pytest.fixture(scope="session")
def sales_plan(sample_history) -> Plan:  # type: ignore[no-untyped-def]
    plan = plan_restore(sample_history, "Sales", RecoveryTarget.at(datetime(2026, 11, 18, 14, 37)),
                        PlanOptions(tail="never"))
    return s3_plan(plan)


@pytest.fixture()
def s3_history_csv(tmp_path: Path) -> Path:
    """The bundled sample history with every file renamed to s3://prod-backups/Sales/<name>."""
    out = tmp_path / "history_s3.csv"
    with open(sample_history_path(), newline="", encoding="utf-8") as src, open(out, "w", newline="", encoding="utf-8") as dst:
        r = csv.DictReader(src)
        w = csv.DictWriter(dst, fieldnames=r.fieldnames or [])
        w.writeheader()
        for row in r:
            row["physical_device_name"] = s3_name(row["physical_device_name"], "s3")
            w.writerow(row)
    return out
