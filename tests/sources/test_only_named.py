"""--database builds only the lineages that carried the name, and changes no answer (issue 7)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from restoreplan.core.audit import AuditOptions, audit_history
from restoreplan.core.planner import plan_restore
from restoreplan.core.target import RecoveryTarget
from restoreplan.core.validate import validate_history
from restoreplan.report.audit_report import audit_json
from restoreplan.report.plan_report import plan_json
from restoreplan.sources.canonical import SetBuilder
from restoreplan.sources.columns import ALL
from restoreplan.sources.load import LoadRequest, load, sample_history_path

AS_OF = AuditOptions(as_of=datetime(2026, 11, 21))


def _both(name: str) -> tuple[LoadRequest, LoadRequest]:
    return LoadRequest(history=[sample_history_path()]), LoadRequest(
        history=[sample_history_path()], only_named=name
    )


@pytest.mark.parametrize("name", ["Sales", "hr", "Inventory", "Legacy"])
def test_the_named_lineages_are_built_whole_and_answer_alike(name: str) -> None:
    full, only = (load(r).history for r in _both(name))
    assert {k for k, lin in full.lineages.items() if name.casefold() in lin.folded_names} == set(
        only.lineages
    )
    for key, lin in only.lineages.items():
        assert lin.sets == full.lineages[key].sets
    a = audit_json(audit_history(full, AS_OF, name), all_backups=True)
    b = audit_json(audit_history(only, AS_OF, name), all_backups=True)
    assert a == b
    assert validate_history(full, database=name) == validate_history(only, database=name)


def test_a_plan_is_the_same() -> None:
    full, only = (load(r).history for r in _both("Sales"))
    target = RecoveryTarget.at(datetime(2026, 11, 19, 9, 20))
    assert plan_json(plan_restore(full, "Sales", target)) == plan_json(plan_restore(only, "Sales", target))


def test_an_unknown_name_builds_everything() -> None:
    full, only = (load(r).history for r in _both("nope"))
    assert set(full.lineages) == set(only.lineages)


def test_a_renamed_database_keeps_its_whole_lineage(tmp_path: Path) -> None:
    """A lineage is its family_guid: the sets under its old name come along (restore-rules B.7.3)."""
    base = {"type": "L", "database_backup_lsn": "0", "checkpoint_lsn": "1", "time_zone": "0",
            "backup_start_date": "2026-11-08 22:00:00", "backup_finish_date": "2026-11-08 22:01:00"}  # fmt: skip
    rows = []
    for i, (name, family) in enumerate([("Old", "f1"), ("New", "f1"), ("Other", "f2")], start=1):
        rows.append({**base, "database_name": name, "family_guid": f"{family[1]:0>8}-0000-4000-8000-000000000000",
                     "backup_set_uuid": f"{i:08x}-1d8a-4eac-a693-ae2d9a1e40b4", "first_lsn": str(i),
                     "last_lsn": str(i + 1), "physical_device_name": f"/b/{i}.trn"})  # fmt: skip
    b = SetBuilder()
    b.add_rows(ALL, [[r.get(c, "") for c in ALL] for r in rows], "h")
    assert sorted(s.database_name for s in b.build("new")) == ["New", "Old"]
