"""--database builds only the lineages that carried the name, and changes no answer (issue 7)."""

from __future__ import annotations

import csv
import json
import os
import threading
from datetime import datetime
from pathlib import Path

import pytest

from restoreplan.core.audit import AuditOptions, audit_history
from restoreplan.core.errors import InputError
from restoreplan.core.planner import plan_restore
from restoreplan.core.target import RecoveryTarget
from restoreplan.core.validate import validate_history
from restoreplan.report.audit_report import audit_json
from restoreplan.report.plan_report import plan_json
from restoreplan.sources.canonical import SetBuilder
from restoreplan.sources.columns import ALL
from restoreplan.sources.load import LoadRequest, load, sample_history_path
from restoreplan.sources.tabular import read_history_file

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


# -- skimming: rows of other lineages are set aside before their own columns are parsed ------
def _write(path: Path, rows: list[dict[str, str]]) -> str:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(ALL)
        w.writerows([[r.get(c, "") for c in ALL] for r in rows])
    return str(path)


_BASE = {"type": "L", "database_backup_lsn": "0", "checkpoint_lsn": "1", "time_zone": "0",
         "backup_start_date": "2026-11-08 22:00:00", "backup_finish_date": "2026-11-08 22:01:00"}  # fmt: skip


def _row(i: int, name: str, family: int, **extra: str) -> dict[str, str]:
    return {**_BASE, "database_name": name, "family_guid": f"{family:0>8}-0000-4000-8000-000000000000",
            "backup_set_uuid": f"{i:08x}-1d8a-4eac-a693-ae2d9a1e40b4", "first_lsn": str(10 * i),
            "last_lsn": str(10 * i + 10), "physical_device_name": f"/b/{i}.trn", **extra}  # fmt: skip


def test_skimming_sets_other_lineages_aside() -> None:
    b = SetBuilder(skim_for="sales")
    read_history_file(sample_history_path(), b, None, None)
    plain = SetBuilder()
    read_history_file(sample_history_path(), plain, None, None)
    assert b.rows_read == plain.rows_read
    assert not b.skimmed_too_much
    assert b.build("sales") == plain.build("sales")


def test_rows_under_an_old_name_before_the_new_one_are_read_again(tmp_path: Path) -> None:
    """The lineage showed the name only after rows of it had been set aside: read again."""
    path = _write(tmp_path / "h.csv", [_row(1, "Old", 1), _row(2, "Other", 2), _row(3, "New", 1)])
    b = SetBuilder(skim_for="New")
    read_history_file(path, b, None, None)
    assert b.skimmed_too_much
    history = load(LoadRequest(history=[path], only_named="New")).history
    assert sorted(s.database_name for s in history.all_sets()) == ["New", "Old"]


def test_a_guid_in_a_kept_row_and_a_set_aside_row_is_still_a_conflict(tmp_path: Path) -> None:
    path = _write(tmp_path / "h.csv", [_row(1, "Sales", 1), _row(1, "HR", 2)])
    with pytest.raises(InputError, match="conflicting rows for backup set"):
        load(LoadRequest(history=[path], only_named="Sales"))


def test_an_unknown_name_reads_everything_again(tmp_path: Path) -> None:
    path = _write(tmp_path / "h.csv", [_row(1, "Sales", 1), _row(2, "HR", 2)])
    history = load(LoadRequest(history=[path], only_named="nope")).history
    assert sorted(history.database_names) == ["HR", "Sales"]


def test_only_the_shared_columns_of_a_set_aside_row_are_checked(tmp_path: Path) -> None:
    """A bad date in another database's row does not stop a plan for this one; without
    --database it is reported as always."""
    path = _write(tmp_path / "h.csv", [_row(1, "Sales", 1), _row(2, "HR", 2, backup_finish_date="someday")])
    history = load(LoadRequest(history=[path], only_named="Sales")).history
    assert history.database_names == ["Sales"]
    with pytest.raises(InputError, match="row 3, column backup_finish_date"):
        load(LoadRequest(history=[path]))
    bad_type = _write(tmp_path / "t.csv", [_row(1, "Sales", 1), _row(2, "HR", 2, type="X")])
    with pytest.raises(InputError, match="row 3, column type"):
        load(LoadRequest(history=[bad_type], only_named="Sales"))


def test_a_pipe_is_read_once(tmp_path: Path) -> None:
    """A history read from a pipe cannot be read again, so it is not skimmed."""
    text = Path(_write(tmp_path / "h.csv", [_row(1, "Old", 1), _row(2, "New", 1)])).read_bytes()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("wb") as fh:
            fh.write(text)

    writer = threading.Thread(target=feed)
    writer.start()
    history = load(LoadRequest(history=[str(fifo)], only_named="New")).history
    writer.join()
    assert sorted(s.database_name for s in history.all_sets()) == ["New", "Old"]


def test_a_bad_cell_in_a_kept_row_is_named_when_skimming(tmp_path: Path) -> None:
    rows = [_row(1, "HR", 2), _row(2, "Sales", 1, last_lsn="x"), _row(3, "HR", 2, backup_start_date="never")]
    path = _write(tmp_path / "h.csv", rows)
    with pytest.raises(InputError, match="row 3, column last_lsn"):
        load(LoadRequest(history=[path], only_named="Sales"))


def test_a_json_history_from_a_pipe(tmp_path: Path) -> None:
    """JSON is parsed from the text already read, not from the path again (a pipe is empty)."""
    rows = list(csv.DictReader(open(sample_history_path(), encoding="utf-8")))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("w", encoding="utf-8") as fh:
            json.dump(rows, fh)

    writer = threading.Thread(target=feed)
    writer.start()
    history = load(LoadRequest(history=[str(fifo)], only_named="Sales")).history
    writer.join()
    assert history.database_names == ["Sales"]
