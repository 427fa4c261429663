"""The strategy command end to end on the bundled sample: text, JSON schema, HTML."""

from __future__ import annotations

import json
import re

import pytest

from restoreplan.cli.main import main
from restoreplan.core.strategy.analysis import CLASSIC_NAMES, StrategyOptions, analyse
from restoreplan.core.strategy.schedule import parse_schedule
from restoreplan.report.strategy_report import (
    strategy_html_page,
    strategy_html_section,
    strategy_json,
)
from tests.strategy.helpers import busy_lineage


def test_text_on_the_sample(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["strategy", "--database", "Sales"]) == 0
    out = capsys.readouterr().out
    assert "Backup strategy for Sales" in out
    assert "current *" in out and all(name in out for name in CLASSIC_NAMES)
    assert "worst restore steps" in out and "peak storage" in out
    assert out.count("VERDICT Sales (at RPO <= 15m):") == 1
    assert "Next full:" in out


def test_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["strategy", "-d", "Sales", "--format", "json", "--retention", "7d",
                 "--schedule", "nightly: full=daily 02:00; log=1h", "--restore-rate", "100MB/s"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "restoreplan.strategy/1"
    assert doc["options"]["retention_seconds"] == 7 * 86400
    (lin,) = doc["lineages"]
    assert lin["database"] == "Sales"
    assert lin["current_schedule"] == "full=sun 22:00; diff=daily 22:00; log=15m"
    names = [s["name"] for s in lin["schedules"]]
    assert names == ["current", *CLASSIC_NAMES, "nightly"]
    assert [s["origin"] for s in lin["schedules"]] == ["current", "classic", "classic", "classic", "given"]
    keys = {"name", "origin", "spec", "retention_seconds", "peak_storage_bytes", "average_storage_bytes",
            "written_per_week_bytes", "backups_per_week", "worst_restore_steps", "average_restore_steps",
            "worst_restore_bytes", "worst_restore_seconds", "average_restore_seconds", "rpo_seconds"}
    assert all(set(s) == keys for s in lin["schedules"])
    nightly = lin["schedules"][-1]
    assert nightly["rpo_seconds"] == 3600 and nightly["worst_restore_steps"] == 25
    assert lin["simulated"]["restore_bytes_per_second"] == 100e6
    m = lin["measures"]
    assert m["change_model"].startswith("changed_fraction")
    assert 0.03 < m["change_rate_per_day"] < 0.05
    assert len(m["log_bytes_per_hour_by_hour"]) == 24 and len(m["log_bytes_per_hour_by_weekday"]) == 7
    assert set(lin["advice"]) >= {"threshold", "crossed", "crossing_time", "message"}
    assert lin["verdict"].startswith("VERDICT Sales (at RPO <= 15m):")


def test_every_sample_lineage_and_html(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["strategy", "--format", "html"]) == 0
    page = capsys.readouterr().out
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count("<svg") == 5  # HR twice (two lineages), Inventory, Legacy, Sales
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # self-contained
    assert "<script" not in page


def test_html_section_escapes_every_text() -> None:
    lin = busy_lineage(9, name='<img src=x onerror="1">&Co')
    hostile = parse_schedule('<b>evil</b> & "x": full=daily 01:00; log=1h')
    result = analyse([lin], StrategyOptions(schedules=(hostile,)))
    section = strategy_html_section(result)
    assert section.startswith('<section class="restoreplan-strategy">') and section.endswith("</section>")
    assert "<img" not in section and "<b>" not in section
    assert "&lt;img src=x onerror=&quot;1&quot;&gt;&amp;Co" in section
    assert "&lt;b&gt;evil&lt;/b&gt; &amp; &quot;x&quot;" in section
    tags = set(re.findall(r"<([a-zA-Z0-9]+)", section))
    assert tags <= {"section", "style", "h2", "h3", "small", "div", "ul", "li", "svg", "line", "text", "circle",
                    "title", "rect", "table", "thead", "tbody", "tr", "th", "td", "p", "strong"}
    assert strategy_html_page(result).count("<section") == 1
    json.dumps(strategy_json(result))  # serialisable as is
