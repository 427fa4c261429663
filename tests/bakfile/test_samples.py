"""Real SQL Server 2008 R2 / 2014 / 2016 backups (../shared/backups): every file, chain facts."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from restoreplan.sources.backup_files import scan_sources
from restoreplan.sources.bakfile import FileScan, read_backup_file


def _scan(root: Path) -> dict[str, FileScan]:
    scans = scan_sources([str(root)])
    return {str(Path(s.name).relative_to(root)): s for s in scans}


def test_every_sample_reads(samples: Path) -> None:
    scans = _scan(samples)
    bad = {name: s.error for name, s in scans.items() if s.error and name != "README.md"}
    assert bad == {}
    assert scans["README.md"].error is not None  # not a backup: reported, not guessed
    assert sum(len(s.sets) for s in scans.values()) == 94
    for name, s in scans.items():
        if name.endswith((".bak", ".trn")):
            assert s.bytes_read <= 256 * 1024, name  # kilobytes, not whole files


def test_restore_time_clean_chain(samples: Path) -> None:
    scans = _scan(samples / "RestoreTimeClean")
    row = {name: s.sets[0] for name, s in scans.items()}
    full, diff = row["RestoreTimeClean.bak"], row["RestoreTimeClean2.bak"]
    assert full["type"] == "D" and diff["type"] == "I"
    assert full["backup_set_uuid"] == "5af3e50d-a4e0-4e9b-8aef-fe52898c6359"
    assert (full["first_lsn"], full["last_lsn"]) == (25000000006200170, 25000000013200001)
    assert full["database_backup_lsn"] == 0
    assert diff["differential_base_guid"] == full["backup_set_uuid"]
    assert diff["differential_base_lsn"] == full["checkpoint_lsn"] == 25000000006200170
    logs = ["RestoreTimeClean_1.trn", "RestoreTimeClean_2.trn", "RestoreTimeClean_3.trn",
            "RestoreTimeClean2_1.trn", "RestoreTimeClean2_2.trn", "RestoreTimeClean2_3.trn"]  # fmt: skip
    for a, b in zip(logs, logs[1:], strict=False):
        assert row[a]["type"] == "L"
        assert row[a]["last_lsn"] == row[b]["first_lsn"], (a, b)
    assert row["RestoreTimeClean_1.trn"]["first_lsn"] == 25000000006200170
    assert full["backup_start_date"] == datetime(2017, 6, 1, 12, 59, 12)
    assert row["RestoreTimeClean2_3.trn"]["backup_finish_date"] == datetime(2017, 6, 1, 13, 29, 13)
    assert full["server_name"] == "SQL2008" and full["machine_name"] == "SQL2008"
    assert full["software_major_version"] == 10
    assert {r["family_guid"] for r in row.values()} == {"e4b9b1b7-255c-4866-af1f-eb4a29e8c2c9"}


def test_stripes_2016(samples: Path) -> None:
    scans = _scan(samples / "RestoreTimeStripe2016")
    one, two = scans["Stripe1/restoretime.bak"].sets[0], scans["Stripe2/restoretime1.bak"].sets[0]
    assert one["backup_set_uuid"] == two["backup_set_uuid"]
    assert one["media_set_guid"] == two["media_set_guid"]
    assert (one["family_sequence_number"], two["family_sequence_number"]) == (1, 2)
    assert one["media_family_count"] == two["media_family_count"] == 2
    assert one["software_major_version"] == 13
    assert one["first_lsn"] == 34000000006000065
    assert (
        scans["Stripe1/restoretime_3.trn"].sets[0]["last_lsn"]
        == (scans["Stripe1/restoretime_21.trn"].sets[0]["first_lsn"])
    )


def test_double_diff_and_ola_complex(samples: Path) -> None:
    dd = _scan(samples / "DoubleDiffing")
    full = dd["difftest-full.bak"].sets[0]
    for name in ("difftest-diff1.bak", "difftest-diff2.bak"):
        assert dd[name].sets[0]["differential_base_guid"] == full["backup_set_uuid"]
    ola = _scan(samples / "OlaMsFilter" / "complex")
    fulls = {s.sets[0]["backup_set_uuid"] for n, s in ola.items() if n.startswith("Full/")}
    diffs = [s.sets[0] for n, s in ola.items() if n.startswith("Diff/")]
    assert len(fulls) == 2 and all(d["differential_base_guid"] in fulls for d in diffs)
    logs = sorted((s.sets[0] for n, s in ola.items() if n.startswith("Log/")),
                  key=lambda r: r["backup_start_date"])  # fmt: skip
    assert len(logs) == 12
    assert sum(1 for r in logs if r["first_lsn"] == r["last_lsn"]) == 6  # empty logs
    for a, b in zip(logs, logs[1:], strict=False):
        assert a["last_lsn"] == b["first_lsn"]


def test_checksums_and_compressed(samples: Path) -> None:
    ola = read_backup_file(
        samples / "sql2008-backups/db2/FULL/SQL2008_db2_FULL_20170518_041738.bak", "x"
    )
    assert ola.sets[0]["has_backup_checksums"] is True
    sp = read_backup_file(samples / "singlerestore/SharePoint_Config.bak", "sp")
    assert sp.error is None
    (row,) = sp.sets
    assert row["is_compressed"] is True and row["software_major_version"] == 12
    assert (row["first_lsn"], row["last_lsn"]) == (12863000000005200061, 12863000000007800001)
    assert row["backup_finish_date"] == datetime(2018, 10, 6, 20, 53, 23)
    assert row["compressed_backup_size"] == 1880064 and row["backup_size"] == 14759936
    assert sp.bytes_read < 100 * 1024


def test_password_and_no_extension(samples: Path) -> None:
    pw = read_backup_file(samples / "backuppassword/passwd.bak", "pw")
    assert pw.error is None and pw.sets[0]["database_name"] == "stripetest"
    ne = read_backup_file(samples / "sql2008-backups/Noextension.bak", "ne")
    assert ne.sets[0]["database_name"] == "NoExtension"
