"""The reader on synthetic MTF and MSSQLBAK files written by tests/bakfile/mtf_writer.py."""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from restoreplan.cli.main import main
from restoreplan.sources.backup_files import rows_for_history, scan_sources
from restoreplan.sources.bakfile import BytesSource, read_backup_file
from restoreplan.sources.bakfile.scin import lsn_from
from restoreplan.sources.canonical import SetBuilder
from tests.bakfile.mtf_writer import SetSpec, build_compressed, build_file

FULL = SetSpec(backup_type="D", backup_set_guid=uuid.UUID("0a0a0a0a-0000-0000-0000-000000000001"))
DIFF = SetSpec(
    backup_type="I",
    first_lsn=34000000015500037,
    last_lsn=34000000017200001,
    checkpoint_lsn=34000000015500037,
    database_backup_lsn=34000000006000065,
    differential_base_lsn=34000000006000065,
    differential_base_guid=FULL.backup_set_guid,
    start=datetime(2024, 3, 10, 15, 0, 0),
    finish=datetime(2024, 3, 10, 15, 0, 2),
)
LOG = SetSpec(
    backup_type="L",
    first_lsn=34000000008800001,
    last_lsn=34000000017200001,
    start=datetime(2024, 3, 10, 16, 0, 0),
    finish=datetime(2024, 3, 10, 16, 0, 1),
    checksums=False,
)


def test_lsn_numeric_form() -> None:
    # the spec's example: VLF 19, block 215, slot 1
    assert lsn_from(bytes.fromhex("13000000d70000000100"), 0) == 19000000021500001


def test_full_fields() -> None:
    scan = read_backup_file(BytesSource(build_file([FULL])), "f.bak")
    assert scan.error is None
    (row,) = scan.sets
    assert row["backup_set_uuid"] == "0a0a0a0a-0000-0000-0000-000000000001"
    assert row["type"] == "D"
    assert (row["first_lsn"], row["last_lsn"]) == (34000000006000065, 34000000008800001)
    assert row["database_name"] == "SalesDB"
    assert row["server_name"] == "SRV01\\PROD"
    assert row["machine_name"] == "SRV01"
    assert row["backup_start_date"] == datetime(2024, 3, 10, 14, 0, 0)
    assert row["backup_finish_date"] == datetime(2024, 3, 10, 14, 0, 7)
    assert row["database_creation_date"] == datetime(2020, 1, 2, 3, 4, 5)
    assert row["position"] == 1
    assert (row["family_sequence_number"], row["media_family_count"], row["mirror"]) == (1, 1, 0)
    assert row["software_major_version"] == 13
    assert row["is_compressed"] is False and row["compressed_backup_size"] is None
    assert row["has_backup_checksums"] is True
    assert row["differential_base_guid"] is None and row["differential_base_lsn"] is None
    assert row["family_guid"] == "11111111-2222-3333-4444-555555555555"
    assert row["last_recovery_fork_guid"] == row["first_recovery_fork_guid"]
    assert row["recovery_model"] is None and row["is_copy_only"] is None
    assert row["physical_device_name"] == "f.bak"


def test_multi_set_file_positions() -> None:
    scan = read_backup_file(BytesSource(build_file([FULL, DIFF, LOG])), "multi.bak")
    assert scan.error is None
    assert [(r["position"], r["type"]) for r in scan.sets] == [(1, "D"), (2, "I"), (3, "L")]
    diff = scan.sets[1]
    assert diff["differential_base_guid"] == FULL.backup_set_guid.__str__()
    assert diff["differential_base_lsn"] == 34000000006000065
    assert scan.sets[2]["has_backup_checksums"] is False


def test_stripes_and_history_rows(tmp_path: Path) -> None:
    media = uuid.uuid4()
    for seq in (1, 2):
        (tmp_path / f"stripe{seq}.bak").write_bytes(
            build_file([FULL], media_set_guid=media, family_count=2, family_seq=seq)
        )
    scans = scan_sources([str(tmp_path)])
    rows = rows_for_history(scans)
    assert [(r["family_sequence_number"], r["media_family_count"]) for r in rows] == [
        (1, 2),
        (2, 2),
    ]
    assert {r["media_set_guid"] for r in rows} == {str(media)}
    builder = SetBuilder()
    builder.add_mappings(rows, "backup files")
    (bs,) = builder.build()
    assert len(bs.files) == 2


def test_compressed_synthetic() -> None:
    data = build_compressed(SetSpec(data_len=200_000))
    scan = read_backup_file(BytesSource(data), "c.bak")
    assert scan.error is None, scan.error
    (row,) = scan.sets
    assert row["is_compressed"] is True
    assert row["compressed_backup_size"] == len(data)
    assert row["backup_finish_date"] == datetime(2024, 3, 10, 14, 0, 7)
    assert row["family_sequence_number"] is None and row["media_set_guid"] is None
    assert scan.bytes_read < len(data)


def test_compressed_truncated_has_no_final_copy() -> None:
    data = build_compressed(SetSpec(data_len=200_000))
    scan = read_backup_file(BytesSource(data[: len(data) // 2]), "c.bak")
    assert scan.sets == () and scan.error and "MSLS" in scan.error


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "empty file"),
        (b"\x8f\x13" * 600, "encrypted or not a SQL Server backup"),
        (b"MSSQLBAK" + bytes([2, 0, 0, 0, 3, 0, 0, 0]) + bytes(0x700), "SFMB"),
        (b"TAPE", "file ends"),
    ],
)
def test_bad_files_are_data(content: bytes, needle: str) -> None:
    scan = read_backup_file(BytesSource(content), "x")
    assert scan.sets == () and scan.error is not None and needle in scan.error
    assert scan.error.startswith("unreadable: ")


def test_unknown_compression_record_kind() -> None:
    data = bytearray(build_compressed(SetSpec(data_len=100)))
    data[0x600] = 0x33  # not an MS_XPRESS record
    scan = read_backup_file(BytesSource(bytes(data)), "q.bak")
    assert scan.error and "unsupported compression" in scan.error


def test_truncated_names_the_offset() -> None:
    data = build_file([FULL, LOG])
    scan = read_backup_file(BytesSource(data[:-1500]), "t.bak")
    assert len(scan.sets) == 1  # the complete first set is still reported
    assert scan.error and "offset" in scan.error


def test_encrypted_stream_flag() -> None:
    data = bytearray(build_file([FULL]))
    at = data.find(b"MQCI")
    data[at + 16] = 1  # data encryption algorithm
    data[at + 20 : at + 22] = b"\0\0"
    acc = 0
    for i in range(0, 20, 2):
        acc ^= int.from_bytes(data[at + i : at + i + 2], "little")
    data[at + 20 : at + 22] = acc.to_bytes(2, "little")
    scan = read_backup_file(BytesSource(bytes(data)), "e.bak")
    assert scan.error and "encrypted" in scan.error


def test_folder_walk_skips_non_regular(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "noext").write_bytes(build_file([LOG]))
    (tmp_path / "full.bak").write_bytes(build_file([FULL]))
    os.mkfifo(tmp_path / "pipe")
    calls: list[tuple[int, int]] = []
    scans = scan_sources(
        [str(tmp_path), str(tmp_path / "missing")], progress=lambda d, t: calls.append((d, t))
    )
    names = [Path(s.name).name for s in scans]
    assert names == ["noext", "full.bak", "missing"]
    assert scans[2].error == "unreadable: no such file or folder"
    assert calls[-1] == (3, 3)


def test_cli_scan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_csv = tmp_path / "h.csv"
    tmp_path = tmp_path / "b"
    tmp_path.mkdir()
    (tmp_path / "multi.bak").write_bytes(build_file([FULL, DIFF]))
    assert main(["scan", str(tmp_path), "--save", str(out_csv)]) == 0
    text = capsys.readouterr().out
    assert "2 backup sets in 1 file, 0 unreadable" in text
    header, *lines = out_csv.read_text().splitlines()
    assert header.startswith("backup_set_uuid,type,first_lsn")
    assert ",2024-03-10 14:00:07," in lines[0] and len(lines) == 2
    (tmp_path / "junk.txt").write_text("hello")
    assert main(["scan", str(tmp_path), "--format", "json"]) == 1
    objs = json.loads(capsys.readouterr().out)
    good = [o for o in objs if o["error"] is None]
    assert good[0]["first_lsn"] == "34000000006000065"
    assert good[0]["backup_start_date"] == "2024-03-10 14:00:00"
    assert [o["physical_device_name"].endswith("junk.txt") for o in objs if o["error"]] == [True]
    assert main(["plan", "--history", str(out_csv), "--latest", "--format", "json"]) == 0


def test_cli_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["scan"])
    assert exc.value.code == 2
