"""Script details a mutation review found no test held (each test fails on its mutant):
NORECOVERY on every restore but the final RECOVERY, FILE = the set's own position, CHECKSUM
only where the backup has checksums (error 3187), MOVE and REPLACE on the first data backup
only (restore-rules C.1, C.6)."""

from __future__ import annotations

import re

from restoreplan.core.model import DatabaseFile
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from restoreplan.emit.tsql import ScriptOptions, render_tsql
from tests.builders import diff, full, history, log, when

FILES = (DatabaseFile("db_data", r"E:\Data\db.mdf", "D"), DatabaseFile("db_log", r"F:\Log\db_log.ldf", "L"))


def _statements(sql: str) -> list[str]:
    """The RESTORE statements, each on one line."""
    body = " ".join(line.strip() for line in sql.splitlines() if not line.startswith(("--", ":")))
    return [s.strip() for s in re.findall(r"(RESTORE [^;]*;)", body)]


def _script(at: str, opts: ScriptOptions | None = None, checksums: bool = False) -> list[str]:
    f = full("10:05", 100, 120, db_files=FILES, has_backup_checksums=checksums, files=("C:/b/db.bak",))
    d = diff("10:25", 155, 160, f, files=("C:/b/db_diff.bak",), has_backup_checksums=checksums)
    l1 = log("10:15:10", 90, 150, position=1, files=("C:/b/db.trn",), has_backup_checksums=checksums)
    l2 = log("10:30:10", 150, 180, position=2, files=("C:/b/db.trn",), has_backup_checksums=checksums)
    plan = plan_restore(history(f, d, l1, l2), "db", RecoveryTarget.at(when(at)), PlanOptions(tail="never"))
    return _statements(render_tsql(plan, opts or ScriptOptions()))


def test_every_restore_but_the_last_is_norecovery_and_reads_its_own_file_number() -> None:
    stmts = _script("10:30")
    assert len(stmts) == 4 and stmts[-1] == "RESTORE DATABASE [$(TargetDb)] WITH RECOVERY;"
    logs = [s for s in stmts if s.startswith("RESTORE LOG")]
    assert [re.search(r"FILE = (\d+)", s).group(1) for s in logs] == ["2"]  # type: ignore[union-attr]
    for s in stmts[:-1]:
        assert re.search(r"WITH FILE = \d+, NORECOVERY,", s), s
        assert " RECOVERY," not in s and "CHECKSUM" not in s  # no checksums recorded: 3187


def test_both_logs_of_one_file_by_their_positions() -> None:
    f = full("10:05", 100, 120, files=("C:/b/db.bak",))
    l1 = log("10:15:10", 90, 150, position=1, files=("C:/b/db.trn",))
    l2 = log("10:30:10", 150, 180, position=2, files=("C:/b/db.trn",))
    plan = plan_restore(history(f, l1, l2), "db", RecoveryTarget.at(when("10:20")), PlanOptions(tail="never"))
    logs = [s for s in _statements(render_tsql(plan, ScriptOptions())) if s.startswith("RESTORE LOG")]
    assert [re.search(r"FILE = (\d+)", s).group(1) for s in logs] == ["1", "2"]  # type: ignore[union-attr]
    assert all("NORECOVERY" in s for s in logs)


def test_checksum_only_where_the_backup_has_checksums() -> None:
    assert all("CHECKSUM" in s for s in _script("10:30", checksums=True)[:-1])


def test_move_and_replace_only_on_the_first_data_backup() -> None:
    stmts = _script("10:30", ScriptOptions(replace=True, data_dir=r"D:\R"))
    full_stmt, diff_stmt = (s for s in stmts if s.startswith("RESTORE DATABASE [$(TargetDb)] FROM"))
    assert "MOVE" in full_stmt and "REPLACE" in full_stmt
    assert "MOVE" not in diff_stmt and "REPLACE" not in diff_stmt
