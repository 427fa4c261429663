"""The benchmark runner on tiny histories, so that it cannot rot (no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_runner_quick(tmp_path: Path) -> None:
    md = tmp_path / "bench.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--data-dir", str(tmp_path),
         "--scan-files", "0", "--odbc-rows", "0", "--markdown", str(md)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "csv.reader baseline" in out and "restoreplan plan" in out
    assert "plan_lineage" in out and "median ms" in out
    assert "peak RSS < 1.5 GiB" in out
    text = md.read_text()
    assert text.startswith("machine: ") and "× csv.reader" in text
    assert "shape (restoreplan audit)" in text and "many-small" in text


def test_generated_history_shape(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import generate
    finally:
        sys.path.remove(str(ROOT / "bench"))
    from restoreplan.core.model import BackupType
    from restoreplan.sources.load import LoadRequest, load

    path = generate.write_history(tmp_path / "h.csv", 10_000)
    logs = generate.write_log_heavy(tmp_path / "l.csv", 3_000)
    assert sum(1 for _ in path.open()) == 10_001
    history = load(LoadRequest(history=[str(path)])).history
    assert history.database_names == ["DB0000", "DB0001"]
    sets = history.all_sets()
    kinds = {t: sum(1 for s in sets if s.type is t) for t in BackupType}
    assert kinds[BackupType.LOG] > 90 * kinds[BackupType.DIFF] / 7  # a log every 15 minutes
    assert any(len(s.files) == 4 for s in sets if s.type is BackupType.FULL)  # striped fulls
    for lin in history.lineages.values():
        assert len(lin.runs) == 1  # one unbroken log chain per database
    heavy = load(LoadRequest(history=[str(logs)])).history
    (lin,) = heavy.lineages.values()
    assert len(lin.logs) == 3_000


def test_generated_shapes(tmp_path: Path) -> None:
    """The other shapes hold what they say: the time-ordered file is the standard history
    reordered (its audit is the same), every striped set has 4 files, many-small has 50 rows
    per database, copy-only logs lie beside an unbroken chain."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import generate
    finally:
        sys.path.remove(str(ROOT / "bench"))
    from restoreplan.core.audit import audit_history
    from restoreplan.report.audit_report import audit_json
    from restoreplan.sources.load import LoadRequest, load

    def audit(path: Path) -> object:
        return audit_json(audit_history(load(LoadRequest(history=[str(path)])).history))

    standard = generate.write_history(tmp_path / "h.csv", 10_000)
    by_time = generate.write_shape(tmp_path / "t.csv", "by-time", 10_000)
    assert by_time.read_text() != standard.read_text()
    assert audit(by_time) == audit(standard)
    striped = load(LoadRequest(history=[str(generate.write_shape(tmp_path / "s.csv", "striped", 4_000))]))
    assert {len(s.files) for s in striped.history.all_sets()} == {4}
    small = load(LoadRequest(history=[str(generate.write_shape(tmp_path / "m.csv", "many-small", 5_000))]))
    assert len(small.history.lineages) == 100
    copy = load(LoadRequest(history=[str(generate.write_shape(tmp_path / "c.csv", "copy-only", 5_000))]))
    [lin] = copy.history.lineages.values()
    copies = [s for s in lin.logs if s.is_copy_only]
    assert len(copies) > 30 and len(lin.runs) > len(copies)  # each a run of its own
    assert not audit_history(copy.history).lineages[0].gaps  # beside the chain, not instead of it
