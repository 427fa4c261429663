"""Defects found by mutating real and synthetic backup files: each is now a clean refusal.

A damaged header must never produce a silently wrong LSN, date, position or GUID: either the
values read are those of the undamaged file, or the file is reported ``unreadable`` with the byte
offset where it stopped making sense.
"""

from __future__ import annotations

import json
import struct
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restoreplan.sources.bakfile import BytesSource, read_backup_file
from tests.bakfile.conftest import SAMPLES
from tests.bakfile.mtf_writer import (
    SetSpec,
    build_compressed,
    build_file,
    tape_block,
)

SCIN_FIELDS_IN_BOTH_COPIES = {
    0x20: "first_lsn",
    0x2A: "last_lsn",
    0x34: "checkpoint_lsn",
    0x3E: "database_backup_lsn",
    0x48: "database_creation_date",
    0x4D: "backup_start_date",
    0x9C: "last_recovery_fork_guid",
    0xE0: "family_guid",
    0x104: "differential_base_lsn",
}


def _final_scin(data: bytes) -> int:
    """File offset of the SCIN record in the last MSLS block."""
    msls = data.rfind(b"MSLS")
    return data.index(b"SCIN", msls)


def _sample(rel: str) -> bytes:
    path = SAMPLES / rel
    if not path.is_file():
        pytest.skip(f"sample backup {path} not found (the samples live beside the project)")
    return path.read_bytes()


# --- defect 1: only three fields of the two SCIN copies were compared ----------------------------


@pytest.mark.parametrize("rel", sorted(SCIN_FIELDS_IN_BOTH_COPIES))
def test_damaged_final_scin_copy_is_refused(rel: int) -> None:
    diff = SetSpec(
        backup_type="I",
        database_backup_lsn=34000000001000001,
        differential_base_lsn=34000000001000001,
        differential_base_guid=uuid.uuid4(),
    )
    data = bytearray(build_file([diff]))
    at = _final_scin(bytes(data)) + rel + 1
    data[at] ^= 0x04
    scan = read_backup_file(BytesSource(bytes(data)), "d.bak")
    assert scan.sets == ()
    assert scan.error is not None and "disagree" in scan.error and "offset" in scan.error


def test_damaged_final_copy_of_real_log_is_refused(samples: Path) -> None:
    data = bytearray(_sample("RestoreTimeClean/RestoreTimeClean_2.trn"))
    good = read_backup_file(BytesSource(bytes(data)), "l.trn").sets[0]
    at = _final_scin(bytes(data)) + 0x2A + 4  # LastLSN, block number
    data[at] ^= 0x01
    scan = read_backup_file(BytesSource(bytes(data)), "l.trn")
    assert good["type"] == "L"
    assert scan.sets == () and scan.error is not None and "last_lsn" in scan.error


# --- defect 2: the ESET's data set number was not checked against the SSET position -----------


def test_position_disagreeing_with_eset_is_refused() -> None:
    data = bytearray(build_file([SetSpec()]))
    sset = data.index(b"SSET")
    struct.pack_into("<H", data, sset + 62, 3)  # outside the checksummed 52-byte header
    scan = read_backup_file(BytesSource(bytes(data)), "p.bak")
    assert scan.sets == ()
    assert scan.error is not None and "position 3" in scan.error and "ESET" in scan.error


def test_position_of_real_full_is_checked(samples: Path) -> None:
    data = bytearray(_sample("DoubleDiffing/difftest-full.bak"))
    data[0x600 + 62] ^= 0x02
    scan = read_backup_file(BytesSource(bytes(data)), "f.bak")
    assert scan.sets == () and scan.error is not None and "ESET" in scan.error


# --- defect 3: a finish date before the start date was accepted ----------------------------------


def test_finish_before_start_is_refused() -> None:
    data = bytearray(build_file([SetSpec()]))
    at = _final_scin(bytes(data)) + 0x52
    v = int.from_bytes(data[at : at + 5], "big")
    data[at : at + 5] = (v & ~(0x1F << 12)).to_bytes(5, "big")  # hour 14 -> 0
    scan = read_backup_file(BytesSource(bytes(data)), "t.bak")
    assert scan.sets == ()
    assert scan.error is not None and "before" in scan.error and "offset" in scan.error


# --- defect 4: impossible stripe numbers in the RAID stream were reported ------------------------


@pytest.mark.parametrize(("count", "seq"), [(2, 3), (0, 1), (1, 0), (2, 0x4001)])
def test_impossible_family_numbers_are_refused(count: int, seq: int) -> None:
    data = bytearray(build_file([SetSpec()]))
    tape = tape_block(uuid.uuid4(), count, seq)
    data[: len(tape)] = tape
    scan = read_backup_file(BytesSource(bytes(data)), "s.bak")
    assert scan.sets == ()
    assert scan.error is not None and "family" in scan.error


# --- defect 5: a compressed file cut in its closing blocks, or with bytes appended, read "ok" ----


def test_compressed_cut_in_closing_sfmb_is_refused() -> None:
    data = build_compressed(SetSpec(data_len=3000))
    assert read_backup_file(BytesSource(data), "c.bak").error is None
    for cut in (len(data) - 1, len(data) - 100, len(data) - 511):
        scan = read_backup_file(BytesSource(data[:cut]), "c.bak")
        assert scan.sets == (), cut
        assert scan.error is not None and "SFMB" in scan.error and "offset" in scan.error


def test_compressed_with_appended_bytes_is_refused() -> None:
    data = build_compressed(SetSpec(data_len=3000))
    scan = read_backup_file(BytesSource(data + bytes(1000)), "c.bak")
    assert scan.sets == () and scan.error is not None and "SFMB" in scan.error


def test_real_compressed_cut_or_extended_is_refused(samples: Path) -> None:
    data = _sample("singlerestore/SharePoint_Config.bak")
    assert read_backup_file(BytesSource(data), "sp").error is None
    for bad in (data[:-512], data[:-1], data[:-1020], data + b"\0" * 512, data + b"\1" * 7):
        scan = read_backup_file(BytesSource(bad), "sp")
        assert scan.sets == () and scan.error is not None, len(bad)


# --- properties on the real files -------------------------------------------------------------

REAL = (
    "RestoreTimeClean/RestoreTimeClean2.bak",
    "RestoreTimeClean/RestoreTimeClean_1.trn",
    "RestoreTimeStripe2016/Stripe2/restoretime1.bak",
    "OlaMsFilter/complex/Log/test_LOG_20160629_142300.trn",
    "singlerestore/SharePoint_Config.bak",
)
_CACHE: dict[str, tuple[bytes, tuple[dict[str, object], ...]]] = {}


def _real(rel: str) -> tuple[bytes, tuple[dict[str, object], ...]]:
    if rel not in _CACHE:
        data = _sample(rel)
        scan = read_backup_file(BytesSource(data), rel)
        assert scan.error is None
        _CACHE[rel] = (data, scan.sets)
    return _CACHE[rel]


def _same_or_refused(data: bytes, rel: str, good: tuple[dict[str, object], ...]) -> None:
    scan = read_backup_file(BytesSource(data), rel)
    if scan.error is None:
        assert scan.sets == good
    else:
        assert scan.error.startswith("unreadable: "), scan.error
        assert "offset" in scan.error or "neither TAPE nor MSSQLBAK" in scan.error, scan.error
        assert scan.sets == good[: len(scan.sets)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(REAL), st.floats(0, 1))
def test_truncated_real_file_same_or_refused(samples: Path, rel: str, frac: float) -> None:
    data, good = _real(rel)
    cut = max(64, min(len(data) - 1, int(len(data) * frac)))
    scan = read_backup_file(BytesSource(data[:cut]), "t.bak")
    assert scan.error is not None, cut  # a truncated file is never "ok"
    _same_or_refused(data[:cut], rel, good)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(REAL[:4]),
    st.sampled_from(sorted(SCIN_FIELDS_IN_BOTH_COPIES)),
    st.integers(0, 9),
    st.integers(0, 7),
    st.booleans(),
)
def test_bit_flip_in_a_scin_copy_same_or_refused(
    samples: Path, rel: str, field: int, byte: int, bit: int, final: bool
) -> None:
    """A flipped bit in either metadata copy (outside the finish date and size) is caught."""
    data, good = _real(rel)
    if field in (0x48, 0x4D) and byte > 4:
        byte -= 5  # dates are 5 bytes long
    scin = _final_scin(data) if final else data.index(b"SCIN", data.index(b"MSCI"))
    m = bytearray(data)
    m[scin + field + byte] ^= 1 << bit
    _same_or_refused(bytes(m), rel, good)
    scan = read_backup_file(BytesSource(bytes(m)), rel)
    assert scan.error is not None and scan.sets == ()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(REAL), st.integers(0, 2**32), st.integers(1, 255))
def test_byte_change_in_metadata_never_crashes(
    samples: Path, rel: str, where: int, xor: int
) -> None:
    data, _good = _real(rel)
    m = bytearray(data)
    # the descriptor blocks are near the start and the end of a file
    at = where % 0x4000 if where % 2 else len(data) - 1 - where % 0x4000
    m[at] ^= xor
    # (no value check here: the SSET GUID, VOLB machine name, RAID media GUID, finish date and
    # backup size exist once in the file, outside any checksum; see docs/scan.md)
    scan = read_backup_file(BytesSource(bytes(m)), rel)
    if scan.error is not None:
        assert scan.error.startswith("unreadable: ")
        assert "malformed content" not in scan.error  # a named check, not the safety net


# --- defect 6: a source returning more or fewer bytes than asked was misread as damage ---------


class _Misbehaving:
    """A RangeReader like an S3 server that ignores Range (whole object) or a file that shrank."""

    def __init__(self, data: bytes, mode: str) -> None:
        self._data = data
        self.size = len(data)
        self._mode = mode

    def read_range(self, offset: int, length: int) -> bytes:
        if self._mode == "whole":
            return self._data
        if self._mode == "long":
            return self._data[offset : offset + length + 4096]
        return self._data[offset : offset + max(0, length - 100)]


@pytest.mark.parametrize("mode", ["whole", "long", "short"])
@pytest.mark.parametrize("compressed", [False, True])
def test_source_returning_wrong_length_is_an_io_error(mode: str, compressed: bool) -> None:
    spec = SetSpec(data_len=200_000)
    data = build_compressed(spec) if compressed else build_file([spec, SetSpec(backup_type="L")])
    scan = read_backup_file(_Misbehaving(data, mode), "s3://b/k.bak")
    assert scan.sets == ()
    assert scan.error is not None and scan.error.startswith("unreadable: I/O error: "), scan.error
    assert "ignored the range" in scan.error


def test_real_file_from_a_server_ignoring_ranges(samples: Path) -> None:
    data = _sample("RestoreTimeClean/RestoreTimeClean.bak")
    scan = read_backup_file(_Misbehaving(data, "whole"), "s3://b/RestoreTimeClean.bak")
    assert scan.error is not None and "I/O error" in scan.error and "truncated" not in scan.error


# --- defect 7: a compressed backup followed by another backup read as one clean set -------------


def test_compressed_followed_by_another_backup_is_refused() -> None:
    comp = build_compressed(SetSpec(data_len=3000))
    other = build_file([SetSpec(backup_type="L", data_len=60_000)])
    scan = read_backup_file(BytesSource(comp + other), "cat.bak")
    assert scan.sets == ()
    assert scan.error is not None and "closing SFMB" in scan.error


def test_real_compressed_followed_by_a_log_is_refused(samples: Path) -> None:
    comp = _sample("singlerestore/SharePoint_Config.bak")
    log = _sample("RestoreTimeClean/RestoreTimeClean_1.trn")
    scan = read_backup_file(BytesSource(comp + log), "cat.bak")
    assert scan.sets == () and scan.error is not None


def test_two_different_compressed_backups_concatenated_are_refused() -> None:
    one = build_compressed(SetSpec(data_len=3000))
    two = build_compressed(SetSpec(data_len=3000, first_lsn=34000000006000066))
    scan = read_backup_file(BytesSource(one + two), "cat.bak")
    assert scan.sets == () and scan.error is not None


# --- defect 8: an unreadable subfolder or a dangling link was silently left out of a scan -------


def test_unlistable_subfolder_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from restoreplan.sources import backup_files

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "full.bak").write_bytes(build_file([SetSpec()]))
    (tmp_path / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(backup_files.os, "scandir", scandir)
    scans = backup_files.scan_sources([str(tmp_path)])
    by_name = {Path(s.name).name: s for s in scans}
    assert by_name["full.bak"].error is None
    assert by_name["locked"].error is not None
    assert "cannot list folder" in by_name["locked"].error
    assert "Permission denied" in by_name["locked"].error


def test_dangling_link_is_reported(tmp_path: Path) -> None:
    from restoreplan.sources.backup_files import scan_sources

    (tmp_path / "log.trn").symlink_to(tmp_path / "gone" / "log.trn")
    (scan,) = scan_sources([str(tmp_path)])
    assert scan.error is not None and scan.error.startswith("unreadable: ")
    assert "No such file" in scan.error


def test_linked_folder_is_followed_once(tmp_path: Path) -> None:
    from restoreplan.sources.backup_files import scan_sources

    (tmp_path / "nas").mkdir()
    (tmp_path / "nas" / "full.bak").write_bytes(build_file([SetSpec()]))
    (tmp_path / "scan").mkdir()
    (tmp_path / "scan" / "server1").symlink_to(tmp_path / "nas")
    (tmp_path / "nas" / "loop").symlink_to(tmp_path / "nas")
    scans = scan_sources([str(tmp_path / "scan")])
    assert [(Path(s.name).name, s.error) for s in scans] == [("full.bak", None)]


# --- defect 9: two sets of one file could claim the same position -------------------------------


def test_repeated_position_in_one_file_is_refused() -> None:
    data = bytearray(build_file([SetSpec(), SetSpec(backup_type="L")]))
    second = data.rfind(b"SSET")
    struct.pack_into("<H", data, second + 62, 1)
    eset = data.index(b"ESET", second)
    struct.pack_into("<H", data, eset + 78, 1)
    scan = read_backup_file(BytesSource(bytes(data)), "dup.bak")
    assert len(scan.sets) == 1 and scan.sets[0]["position"] == 1
    assert scan.error is not None and "position 1" in scan.error and "offset" in scan.error


def test_scan_json_with_an_unreadable_file_reads_back_as_history(samples: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """`scan --format json` lists unreadable files as rows with an `error` and no backup set;
    read back with --history they are named on stderr as skipped (as with --backups), and the
    plan is made from the sets, instead of refusing the whole file for a row without a type."""
    import shutil

    from restoreplan.cli.main import main

    folder = tmp_path / "b"
    shutil.copytree(samples / "DoubleDiffing", folder)
    (folder / "junk.bak").write_bytes(b"junk\n")
    assert main(["scan", str(folder), "--format", "json"]) == 1
    scan_json = tmp_path / "scan.json"
    scan_json.write_text(capsys.readouterr().out, encoding="utf-8")
    code = main(["plan", "--history", str(scan_json), "-d", "doublediff", "--latest", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "skipped" in err and "junk.bak" in err
    steps = json.loads(out)["steps"]
    assert [s["action"] for s in steps] == ["restore_database", "restore_database", "recover"]


def test_a_file_name_that_is_not_utf8_is_an_unreadable_row_not_a_failed_save(tmp_path: Path) -> None:
    """A Latin-1 name made scan --save fail halfway, the good sets unsaved (robustness review)."""
    import os

    from restoreplan.sources.backup_files import scan_sources
    from tests.bakfile.mtf_writer import SetSpec, build_file

    folder = tmp_path / "b"
    folder.mkdir()
    (folder / "good.bak").write_bytes(build_file([SetSpec()]))
    with open(os.path.join(os.fsencode(folder), b"lat\xe9.trn"), "wb") as fh:
        fh.write(build_file([SetSpec(backup_type="L")]))
    scans = {s.name: s for s in scan_sources([str(folder)])}
    bad = scans[f"{folder}/lat\\xe9.trn"]
    assert bad.error is not None and "not valid UTF-8" in bad.error and not bad.sets
    assert scans[f"{folder}/good.bak"].error is None
    for name in scans:
        name.encode("utf-8")
