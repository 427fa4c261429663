"""What validate, audit, the readers, strategy, rds-pitr and script say about small inputs built
so that one rule decides the answer: each case was the input on which a mutation review (its
second and third rounds) showed a mutant changing the output while every other test passed (tests/fixtures/mutation; the expected outputs beside
them were checked against the rules and the review's reading, then kept as they are). A
change to any of these outputs must be deliberate: ``UPDATE_GOLDEN=1`` rewrites them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from restoreplan.cli.main import main
from tests.golden import check_golden

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "mutation"
EXPECTED = HERE / "expected"
AS_OF = ["--as-of", "2026-01-05 12:00"]

# name: (command, history file, extra arguments); the rule each case holds is in its comment
CASES: dict[str, tuple[str, str, list[str]]] = {
    "v2": ("validate", "v2", AS_OF),  # LOG_GAP after the oldest data backup names its redo point
    "v3": ("validate", "v3", AS_OF),  # a fork's first log starting as its full ends: no chain reaches it
    "v5": ("validate", "v5", AS_OF),  # lost time starts at a log's last_valid_restore_time
    "v6": ("validate", "v6", AS_OF),  # CHAIN_RESTART's lost range skips data-backup points
    "v7": ("validate", "v7", ["--max-full-age", "1d", "--as-of", "2026-01-06 10:00"]),  # exactly 1d: not stale
    "v8": ("validate", "v8", ["--max-log-age", "15m", *AS_OF]),  # SIMPLE: no STALE_LOG
    "v10": ("validate", "v10", ["--nagios", *AS_OF]),  # bulk-logged data in a full is no BULK_LOGGED
    "v12": ("validate", "v12", AS_OF),  # a differential of exactly half its base is not too large
    "v13": ("validate", "v13", ["--as-of", "2026-01-05 13:00"]),  # DIFF_TOO_LARGE judges the latest
    "v14": ("validate", "v14", AS_OF),  # a fork a spanning log enters is recorded
    "v15": ("validate", "v15", AS_OF),  # ENCRYPTED names the latest set
    "v16": ("validate", "v16", ["--restores", str(HERE / "v16r.csv"), *AS_OF]),  # not on superseded lineages
    "v17": ("validate", "v17", AS_OF),  # ORPHAN_DIFFERENTIAL is an error
    "v18": ("validate", "v18", AS_OF),  # a log ending at a window's start is no extra gap
    "v20": ("validate", "v20", AS_OF),  # two servers meeting at one instant did not overlap
    "v21": ("validate", "v21", AS_OF),  # a rename whose new name starts as the old one ends
    "a3": ("audit", "a3", AS_OF),  # a log ending at the full's redo point is not_needed
    "a5": ("audit", "a5", AS_OF),  # the worst case keeps the earliest instant of a tie
    "a6": ("audit", "a6", AS_OF),  # an out-of-order end is a worst-case instant
    "a7": ("audit", "a7", AS_OF),  # bytes on disk are the compressed size
    "a8": ("audit", "a8", AS_OF),  # a backup without a size has no throughput
    "a9": ("audit", "a9", AS_OF),  # a gap's kind: SIMPLE before bulk-logged
    "a10": ("audit", "a10", AS_OF),  # a gap's kind: no log backup after the last full
    "a11": ("audit", "a11", AS_OF),  # an empty log is no last point
    "a12": ("audit", "a12", AS_OF),  # a copy-only log is limited
    "s1": ("validate", "s1", AS_OF),  # an offset with time_zone 127 is refused
    "s3": ("audit", "s3", AS_OF),  # 12:10 AM is 00:10
    "s4": ("validate", "s4", AS_OF),  # a size of 1000.0
    "s5": ("validate", "s5", AS_OF),  # time_zone 56 (UTC+14)
    "s6": ("validate", "s6", AS_OF),  # an LSN of 26 digits is refused
    "s10": ("validate", "s10", AS_OF),  # family_sequence_number 65 is refused
    "s11": ("validate", "s11", AS_OF),  # three unnumbered files of two families are refused
    "s13": ("audit", "s13", AS_OF),  # stripe rows fill a size one of them leaves empty
    "s16": ("validate", "s16", AS_OF),  # a ;-delimited file
    "s20": ("validate", "a11", AS_OF),  # an empty log (first_lsn = last_lsn) is no error
    "s21": ("validate", "s21", AS_OF),  # a row of empty fields is refused, not skipped
}


R3 = HERE / "r3"
# a third review round (readers of HEADERONLY and dbatools, strategy, rds-pitr, script edges):
# whole command lines, {F} standing for tests/fixtures/mutation/r3
COMMANDS: dict[str, list[str]] = {
    "r3_headeronly_partial": ["audit", "--history", "{F}/partial.csv", "--input-format", "headeronly-csv",
                              "--format", "json", "--as-of", "2026-12-01 00:00"],  # BackupType 6 is partial
    "r3_dbatools_negative_offset": ["plan", "--history", "{F}/neg_offset.json", "--input-format", "dbatools-json",
                                    "-d", "Sales", "--latest", "--format", "json"],  # /Date(ms-0500)/
    "r3_headeronly_half_hour_zone": ["script", "--history", "{F}/tz.csv", "--input-format", "headeronly-csv",
                                     "-d", "Sales", "--at", "2024-03-01T17:00:00Z", "--tail", "never"],  # +05:30
    "r3_dbatools_file_differential": ["plan", "--history", "{F}/difffile.json", "--input-format", "dbatools-json",
                                      "-d", "Sales", "--latest", "--tail", "never", "--format", "json"],
    "r3_schedule_hour_24": ["strategy", "--schedule", "full=daily 24:00; log=1h", "--retention", "7d"],
    "r3_strategy_rpo_without_logs": ["strategy", "--no-classics", "--schedule", "full=sun 18:00; diff=wed 18:00; log=none",
                                     "--retention", "7d", "-d", "Sales", "--format", "json"],
    "r3_pitr_at_latest_restorable": ["rds-pitr", "--describe-json", "{F}/inst.json", "--at", "2026-11-18T20:10:00Z",
                                     "--format", "json"],
    "r3_pitr_snapshot_at_latest": ["rds-pitr", "--describe-json", "{F}/inst.json", "--snapshots-json",
                                   "{F}/snap_at_latest.json", "--at", "2026-11-18T20:30:00Z", "--format", "json"],
    "r3_pitr_active_backup_first": ["rds-pitr", "--describe-json", "{F}/inst.json", "--automated-backups-json",
                                    "{F}/auto_two.json", "--at", "2026-11-16T00:00:00Z", "--format", "json"],
    "r3_pitr_snapshot_not_available": ["rds-pitr", "--describe-json", "{F}/inst.json", "--snapshots-json",
                                       "{F}/snap_creating.json", "--at", "2026-11-13T00:00:00Z", "--format", "json"],
    "r3_script_s3_credential": ["script", "--history", "{F}/s3.csv", "--database", "Sales", "--latest",
                                "--tail", "never"],
    "r3_script_tail_file": ["script", "--history", "{F}/small.csv", "--database", "Sales", "--latest", "--tail",
                            "always", "--tail-file", "X:\\tail\\t.trn"],  # and the NO_TRUNCATE comment
}


def _argv(name: str) -> list[str]:
    if name in COMMANDS:
        return [a.replace("{F}", str(R3)) for a in COMMANDS[name]]
    command, history, extra = CASES[name]
    fmt = [] if "--nagios" in extra else ["--format", "json"]
    return [command, "--history", str(HERE / f"{history}.csv"), *fmt, *extra]


def _run(capsys: pytest.CaptureFixture[str], name: str) -> dict[str, object]:
    code = main(_argv(name))
    out, err = capsys.readouterr()
    out, err = (text.replace(str(HERE), "<fixtures>") for text in (out, err))  # the same in any clone
    try:
        body: object = json.loads(out)
    except ValueError:
        body = out.splitlines()
    return {"exit": code, "stdout": body, "stderr": err.splitlines()}


@pytest.mark.parametrize("name", sorted([*CASES, *COMMANDS]))
def test_the_output_is_the_expected_one(capsys: pytest.CaptureFixture[str], name: str) -> None:
    check_golden(EXPECTED / f"{name}.json", _run(capsys, name))
