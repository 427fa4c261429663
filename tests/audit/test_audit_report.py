"""Audit outputs: JSON shape, CSV, Markdown, and the HTML report in a real headless browser."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess

import pytest

from restoreplan.cli.main import main
from restoreplan.core.audit import audit_history
from restoreplan.report.html_report import render_html
from tests.builders import full, history, log

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
HOSTILE = '<script>alert("x")</script>&"Sales\''


def run(capsys, *argv):
    code = main(["audit", "--as-of", "2026-11-21 18:00", *argv])
    return code, capsys.readouterr().out


def test_json_has_windows_local_and_utc(capsys):
    code, out = run(capsys, "--format", "json", "-d", "Inventory")
    assert code == 0
    db = json.loads(out)["databases"][0]
    assert db["recoverable_windows"][0] == ["2026-11-08 22:25:00", "2026-11-11 10:00:20"]
    assert db["recoverable_windows_utc"][0][0].endswith("Z")
    assert db["gaps"][0]["kind"] == "recovery_fork"
    assert {"rpo_seconds", "worst_case_steps", "worst_case_bytes", "by_type", "findings"} <= set(db)


def test_csv_and_markdown(capsys):
    _, out = run(capsys, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 5 and rows[0]["database_name"] == "HR"
    _, out = run(capsys, "--format", "markdown")
    assert out.startswith("# Recoverability audit") and "| database" in out


def test_summary_rows_count_the_findings(capsys):
    """The errors and warnings columns once compared severities by identity with a string: 0."""
    _, out = run(capsys, "--format", "json")
    doc = json.loads(out)
    _, out = run(capsys, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [int(r["warnings"]) for r in rows] == [db["warnings"] for db in doc["databases"]]
    assert [int(r["errors"]) for r in rows] == [db["errors"] for db in doc["databases"]]
    assert sum(int(r["warnings"]) for r in rows) == doc["summary"]["warnings"] > 0


def test_all_backups_lists_every_verdict(capsys):
    _, out = run(capsys, "--format", "json", "-d", "Legacy", "--all-backups")
    db = json.loads(out)["databases"][0]
    assert len(db["backups"]) == sum(db["verdict_counts"].values())


def test_large_json_is_a_database_per_line_and_the_same_document(capsys, monkeypatch):
    from restoreplan.cli import audit_cmd

    _, indented = run(capsys, "--format", "json", "--all-backups")
    monkeypatch.setattr(audit_cmd, "LARGE_JSON", 0)
    _, large = run(capsys, "--format", "json", "--all-backups")
    assert json.loads(large) == json.loads(indented)
    doc = json.loads(indented)
    lines = large.splitlines()
    assert len(lines) == len(doc["databases"]) + 3 + len(doc)  # {, "databases": [, ], a line per other key, }
    assert json.loads(lines[2].rstrip(",")) == doc["databases"][0]


def test_text_details_beyond_the_limit_only_where_attention_is_needed(capsys, monkeypatch):
    from restoreplan.report import audit_report

    _, every = run(capsys)
    monkeypatch.setattr(audit_report, "DETAIL_LIMIT", 1)
    _, few = run(capsys)
    sections = [line for line in every.splitlines() if "(family_guid " in line]
    kept = [line for line in few.splitlines() if "(family_guid " in line]
    assert len(sections) == 5 and 0 < len(kept) < 5
    assert f"{5 - len(kept)} of 5 lineages have no error, warning or gap" in few
    assert few.splitlines()[-1] == every.splitlines()[-1]  # the same verdict
    monkeypatch.setattr(audit_report, "DETAIL_LIMIT", 5)
    _, every = run(capsys, "--format", "html")  # the HTML report details the same lineages
    assert every.count('<section class="database"') == 5
    monkeypatch.setattr(audit_report, "DETAIL_LIMIT", 1)
    _, few = run(capsys, "--format", "html")
    assert few.count('<section class="database"') == len(kept) and few.count("<svg") == len(kept)
    assert f"{5 - len(kept)} of 5 lineages have no error, warning or gap" in few


def hostile_history():
    return history(full("10:00", 100, 120, name=HOSTILE), log("10:15", 90, 150, name=HOSTILE),
                   log("10:45", 160, 200, name=HOSTILE), full("11:00", 205, 220, name=HOSTILE),
                   log("11:15", 200, 260, name=HOSTILE))  # a log gap at LSN 150


def test_html_escapes_hostile_names_and_is_self_contained():
    html = render_html(audit_history(hostile_history()), extra_sections=["<section id='extra'>x</section>"])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
    assert "<section id='extra'>x</section>" in html
    assert html.count("<svg") == 1 and 'class="gap"' in html


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_html_renders_in_headless_chromium(tmp_path):
    from datetime import datetime

    page = tmp_path / "audit.html"
    page.write_text(render_html(audit_history(hostile_history()), target=datetime(2026, 1, 5, 10, 30)),
                    encoding="utf-8")
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,2000"]
    dom = subprocess.run(flags + ["--dump-dom", "--enable-logging=stderr", "--v=0", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert "<svg" in dom.stdout and 'class="window"' in dom.stdout and 'class="target"' in dom.stdout
    assert "alert(" not in dom.stdout.replace("&lt;script&gt;alert(", "")
    assert "CONSOLE" not in dom.stderr and "Uncaught" not in dom.stderr
    shot = tmp_path / "shot.png"
    subprocess.run(flags + [f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000
