"""scan on backup files built so that one header rule decides the answer: each was the input on
which a mutation review showed a surviving mutant change scan's output (a set at the fork LSN,
an end-of-set number, a compressed file of odd size, the checksum flag, the version, a block
off its 512-byte boundary). Built with the test writer, never real files; the expected outputs
are kept beside the other mutation goldens (``UPDATE_GOLDEN=1`` rewrites them)."""

from __future__ import annotations

import json
import struct
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from restoreplan.cli.main import main
from tests.bakfile import mtf_writer as w
from tests.bakfile.mtf_writer import SetSpec, build_compressed, build_file
from tests.golden import check_golden

EXPECTED = Path(__file__).resolve().parents[1] / "fixtures" / "mutation" / "expected"


def _media(n: int) -> uuid.UUID:
    return uuid.UUID(f"bbbbbbbb-0000-4000-8000-{n:012d}")


def _set(n: int, **kw: object) -> SetSpec:
    return SetSpec(backup_set_guid=uuid.UUID(f"aaaaaaaa-0000-4000-8000-{n:012d}"), **kw)  # type: ignore[arg-type]


def log_at_fork() -> bytes:
    """A log set whose first LSN is its fork's start LSN, a previous fork recorded."""
    s = _set(1, backup_type="L", first_lsn=34000000008800001, last_lsn=34000000009900001,
             checkpoint_lsn=34000000006000065, database_backup_lsn=34000000006000065)
    data = bytearray(build_file([s], media_set_guid=_media(1)))
    prev = uuid.UUID("12121212-3434-5656-7878-909090909090").bytes_le
    i = data.find(b"SCIN")
    while i != -1:
        data[i + 0xB8 : i + 0xC8] = prev
        data[i + 0xAC : i + 0xB6] = w.lsn_parts(30000000001000001)
        i = data.find(b"SCIN", i + 4)
    return bytes(data)


def eset_says_2() -> bytes:
    """An end-of-set block numbering set 2 after a set at position 1."""
    data = bytearray(build_file([_set(2)], media_set_guid=_media(2)))
    j = data.find(b"ESET")
    struct.pack_into("<H", data, j + 78, 2)
    data[j + 50 : j + 52] = b"\0\0"
    struct.pack_into("<H", data, j + 50, w._xor16(data[j : j + 50] + b"\0\0"))
    return bytes(data)


def flag_0x20() -> bytes:
    """SCIN flags with 0x20 and without 0x10: no checksums."""
    data = bytearray(build_file([_set(3, checksums=False)], media_set_guid=_media(3)))
    i = data.find(b"SCIN")
    while i != -1:
        (f,) = struct.unpack_from("<I", data, i + 8)
        struct.pack_into("<I", data, i + 8, f | 0x20)
        i = data.find(b"SCIN", i + 4)
    return bytes(data)


def compressed_unaligned() -> bytes:
    """A compressed file with 100 bytes before its closing SFMB (size not a multiple of 512)."""
    data = build_compressed(_set(4))
    return data[:-512] + bytes(100) + data[-512:]


def sset_major_12() -> bytes:
    """The SSET says major version 12 where both SCIN copies say 13: SCIN's word is taken."""
    data = bytearray(build_file([_set(5)], media_set_guid=_media(5)))
    j = data.find(b"SSET")
    data[j + 93] = 12
    return bytes(data)


def misaligned_last_sfmb() -> bytes:
    """The last SPAD 4 bytes short: the closing SFMB starts off its 512-byte boundary."""
    data = bytearray(build_file([_set(6)], media_set_guid=_media(6)))
    j = data.rfind(b"ESET")
    k = data.find(b"SPAD", j)
    (ln,) = struct.unpack_from("<Q", data, k + 8)
    struct.pack_into("<Q", data, k + 8, ln - 4)
    data[k + 20 : k + 22] = b"\0\0"
    struct.pack_into("<H", data, k + 20, w._xor16(data[k : k + 20]))
    del data[k + 22 : k + 26]
    return bytes(data)


FILES: dict[str, Callable[[], bytes]] = {
    "scan_log_at_fork": log_at_fork, "scan_eset_says_2": eset_says_2, "scan_flag_0x20": flag_0x20,
    "scan_compressed_unaligned": compressed_unaligned, "scan_sset_major_12": sset_major_12,
    "scan_misaligned_last_sfmb": misaligned_last_sfmb,
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_scan_output_is_the_expected_one(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    path = tmp_path / f"{name}.bak"
    path.write_bytes(FILES[name]())
    code = main(["scan", str(path), "--format", "json"])
    out, err = (text.replace(str(tmp_path), "<tmp>") for text in capsys.readouterr())
    check_golden(EXPECTED / f"{name}.json", {"exit": code, "stdout": json.loads(out), "stderr": err.splitlines()})
