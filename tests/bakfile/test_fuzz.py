"""Damaged files never raise: truncation and byte mutations give FileScan.error or valid sets."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restoreplan.sources.bakfile import BytesSource, read_backup_file
from tests.bakfile.mtf_writer import SetSpec, build_compressed, build_file

MTF = build_file([SetSpec(data_len=3000), SetSpec(backup_type="L", backup_set_guid=uuid.uuid4())])
# the second set is complete once its first ESET block is read (a second ESET copy follows it)
SECOND_SET_END = MTF.find(b"ESET", MTF.rfind(b"SSET")) + 512
COMPRESSED = build_compressed(SetSpec(data_len=3000))
_ESET_RECORD = COMPRESSED.rfind(b"SFMB", 0, COMPRESSED.rfind(b"SFMB")) + 512
ESET_RECORD_END = (
    _ESET_RECORD + 28 + int.from_bytes(COMPRESSED[_ESET_RECORD + 2 : _ESET_RECORD + 4], "little")
)


def _check(data: bytes) -> None:
    scan = read_backup_file(BytesSource(data), "fuzz.bak")
    assert scan.error is not None or scan.sets
    if scan.error:
        assert scan.error.startswith("unreadable: ")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=len(MTF) - 1))
def test_truncated_mtf(cut: int) -> None:
    scan = read_backup_file(BytesSource(MTF[:cut]), "t.bak")
    if cut < SECOND_SET_END:  # inside the second set: it must not be reported
        assert scan.error is not None and len(scan.sets) < 2
    else:
        assert len(scan.sets) == 2


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, len(MTF) - 1), st.integers(0, 255)), min_size=1, max_size=8)
)
def test_mutated_mtf(changes: list[tuple[int, int]]) -> None:
    data = bytearray(MTF)
    for at, value in changes:
        data[at] = value
    _check(bytes(data))


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=len(COMPRESSED) - 1))
def test_truncated_compressed(cut: int) -> None:
    scan = read_backup_file(BytesSource(COMPRESSED[:cut]), "t.bak")
    if cut < ESET_RECORD_END:
        assert scan.error is not None


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, len(COMPRESSED) - 1), st.integers(0, 255)), min_size=1, max_size=8
    )
)
def test_mutated_compressed(changes: list[tuple[int, int]]) -> None:
    data = bytearray(COMPRESSED)
    for at, value in changes:
        data[at] = value
    _check(bytes(data))
