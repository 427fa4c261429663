"""BackupSet and its shared BackupTraits: one value, read as one (issue 7 split them)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from restoreplan.core.model import TRAIT_FIELDS, BackupSet, BackupTraits
from restoreplan.sources.canonical import SetBuilder
from restoreplan.sources.columns import ALL
from tests.builders import FORK_A, FORK_B, full, log


def test_every_msdb_column_is_a_field_or_a_trait() -> None:
    own = {f.name for f in dataclasses.fields(BackupSet)} - {"traits", "files", "db_files"}
    assert own.isdisjoint(TRAIT_FIELDS)
    assert set(TRAIT_FIELDS) == {f.name for f in dataclasses.fields(BackupTraits) if f.init}
    media = {"physical_device_name", "device_type", "family_sequence_number", "mirror"}
    assert {c for c in ALL if c in own or c in TRAIT_FIELDS or c in media} == set(ALL) - {"is_compressed"}


def test_traits_read_as_the_sets_own_columns() -> None:
    bs = log("10:15", 100, 150, server_name="SQL01", is_copy_only=True, time_zone=-20)
    for name in TRAIT_FIELDS:
        assert getattr(bs, name) == getattr(bs.traits, name)
    assert bs.server_name == "SQL01" and bs.is_copy_only and bs.utc_offset == timedelta(hours=-5)
    assert bs.finish_utc == bs.backup_finish_date + timedelta(hours=5)


def test_sets_are_frozen_and_compare_by_value() -> None:
    a = full("10:00", 100, 120, uuid="00000000-0000-4000-8000-000000000001")
    b = full("10:00", 100, 120, uuid="00000000-0000-4000-8000-000000000001")
    assert a == b and hash(a) == hash(b) and a.traits is not b.traits
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.first_lsn = b.last_lsn  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.traits.database_name = "x"  # type: ignore[misc]


def test_evolve_changes_fields_and_traits_alike() -> None:
    a = log("10:15", 100, 150, fork=FORK_A)
    b = a.evolve(last_recovery_fork_guid=FORK_B, backup_size=7)
    assert b.spans_fork and not a.spans_fork  # derived facts follow the change
    assert (b.backup_size, b.first_lsn, b.database_name) == (7, a.first_lsn, a.database_name)
    assert a.evolve() == a


def test_the_builder_shares_one_traits_value_between_neighbours() -> None:
    row = {
        "database_name": "Sales", "type": "L", "database_backup_lsn": "0", "checkpoint_lsn": "1",
        "backup_start_date": "2026-11-08 22:00:00", "backup_finish_date": "2026-11-08 22:01:00",
        "family_guid": "47eaa099-2cb6-416d-86dc-283cf0480ff9", "time_zone": "127",
    }  # fmt: skip
    rows = [
        {**row, "backup_set_uuid": f"{i:08x}-1d8a-4eac-a693-ae2d9a1e40b4", "first_lsn": str(i),
         "last_lsn": str(i + 1), "physical_device_name": f"/b/{i}.trn"}
        for i in range(1, 4)
    ]  # fmt: skip
    b = SetBuilder()
    b.add_rows(ALL, [[r.get(c, "") for c in ALL] for r in rows], "h")
    sets = b.build()
    assert len({id(s.traits) for s in sets}) == 1
    assert sets[0].time_zone is None  # msdb's 127: unknown
