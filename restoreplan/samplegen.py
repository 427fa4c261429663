"""Synthetic but realistic backup histories (canonical rows), for the bundled sample, tests and benchmarks.

Deterministic for a given seed. Pure: returns rows; writing them is the caller's business.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

VLF = 10**15
BLOCK = 10**5


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass
class DatabaseSim:
    """Simulates one database incarnation taking backups; emits canonical rows."""

    name: str
    server: str
    rng: random.Random
    time_zone: int = -20
    directory: str = r"\\backup01\sql"
    size: int = 40 * 2**30
    change_rate: float = 0.04  # fraction of the database changed per day
    log_rate: int = 300 * 2**20  # log bytes per hour
    compression: float = 0.35
    family_guid: str = ""
    fork: str = ""
    pos: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    last_full: dict[str, Any] | None = None  # the differential base (non-copy-only full)
    last_log_end: int | None = None
    recovery_model: str = "FULL"
    chain_begins: bool = True
    media_set_id: int = 1000
    backup_set_id: int = 1
    diff_changed: float = 0.0
    last_time: datetime | None = None

    def __post_init__(self) -> None:
        self.family_guid = self.family_guid or _guid(self.rng)
        self.fork = self.fork or _guid(self.rng)
        self.database_guid = _guid(self.rng)
        self.pos = self.pos or (self.rng.randint(20, 60) * VLF + self.rng.randint(100, 900) * BLOCK + 1)

    def _advance(self, blocks: int) -> int:
        self.pos += max(1, blocks) * BLOCK
        if self.rng.random() < 0.05:
            self.pos = (self.pos // VLF + 1) * VLF + 10 * BLOCK + 1
        return self.pos

    def _devices(self, stem: str, ext: str, stripes: int, mirrors: int) -> list[tuple[str, int, int]]:
        out = []
        for m in range(mirrors):
            for f in range(1, stripes + 1):
                suffix = f"_{f}" if stripes > 1 else ""
                root = self.directory if m == 0 else self.directory.replace("backup01", "backup02")
                out.append((f"{root}\\{self.name}\\{stem}{suffix}.{ext}", f, m))
        return out

    def _emit(self, kind: str, start: datetime, finish: datetime, first: int, last: int, ckpt: int,
              size: int, *, copy_only: bool = False, stripes: int = 1, mirrors: int = 1,
              spans: tuple[str, int] | None = None, bulk: bool = False, begins: bool = False,
              **extra: Any) -> dict[str, Any]:
        uid = _guid(self.rng)
        ext = {"D": "bak", "I": "dif", "L": "trn"}[kind]
        label = {"D": "FULL", "I": "DIFF", "L": "LOG"}[kind]
        stem = f"{self.server}_{self.name}_{label}{'_COPY_ONLY' if copy_only else ''}_{start:%Y%m%d_%H%M%S}"
        self.media_set_id += 1
        self.backup_set_id += 1
        base = self.last_full
        common: dict[str, Any] = {
            "database_name": self.name,
            "backup_set_uuid": uid,
            "type": kind,
            "first_lsn": first,
            "last_lsn": last,
            "checkpoint_lsn": ckpt,
            "database_backup_lsn": base["checkpoint_lsn"] if base else 0,
            "backup_start_date": start.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            "backup_finish_date": finish.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            "backup_set_id": self.backup_set_id,
            "media_set_id": self.media_set_id,
            "position": 1,
            "server_name": self.server,
            "machine_name": self.server.split("\\")[0],
            "family_guid": self.family_guid,
            "database_guid": self.database_guid,
            "differential_base_lsn": base["checkpoint_lsn"] if base and kind == "I" else None,
            "differential_base_guid": base["backup_set_uuid"] if base and kind == "I" else None,
            "first_recovery_fork_guid": spans[0] if spans else self.fork,
            "last_recovery_fork_guid": self.fork,
            "fork_point_lsn": spans[1] if spans else None,
            "time_zone": self.time_zone,
            "recovery_model": self.recovery_model,
            "is_copy_only": int(copy_only),
            "is_snapshot": 0,
            "is_damaged": 0,
            "has_bulk_logged_data": int(bulk),
            "begins_log_chain": int(begins),
            "has_incomplete_metadata": 0,
            "has_backup_checksums": 1,
            "is_password_protected": 0,
            "backup_size": size,
            "compressed_backup_size": int(size * self.compression),
            "software_major_version": 16,
            "device_type": 2,
            "media_family_count": stripes,
            "mirror_count": mirrors,
            "is_compressed": 1,
        }
        common.update(extra)
        for device, family, mirror in self._devices(stem, ext, stripes, mirrors):
            row = dict(common)
            row.update(physical_device_name=device, family_sequence_number=family, mirror=mirror)
            self.rows.append(row)
        self.last_time = finish
        return common

    def full(self, at: datetime, *, copy_only: bool = False, stripes: int = 1, mirrors: int = 1,
             minutes: int = 25) -> dict[str, Any]:
        first = self._advance(self.rng.randint(5, 40))
        ckpt = self._advance(self.rng.randint(1, 5))
        last = self._advance(self.rng.randint(20, 200))
        row = self._emit("D", at, at + timedelta(minutes=minutes), first, last, ckpt, self.size,
                         copy_only=copy_only, stripes=stripes, mirrors=mirrors)
        if not copy_only:
            self.last_full = row
            self.diff_changed = 0.0
        self.size = int(self.size * (1 + self.rng.uniform(0.0, 0.004)))
        return row

    def diff(self, at: datetime, *, days_since_full: float, mirrors: int = 1, minutes: int = 6) -> dict[str, Any]:
        first = self._advance(self.rng.randint(5, 40))
        ckpt = self._advance(self.rng.randint(1, 5))
        last = self._advance(self.rng.randint(10, 80))
        changed = 1 - (1 - self.change_rate) ** days_since_full
        return self._emit("I", at, at + timedelta(minutes=minutes), first, last, ckpt,
                          max(2**20, int(self.size * changed)), mirrors=mirrors)

    def log(self, at: datetime, *, seconds: int = 20, bulk: bool = False, empty: bool = False,
            copy_only: bool = False, spans: tuple[str, int] | None = None, first: int | None = None) -> dict[str, Any]:
        start_lsn = first if first is not None else (self.last_log_end if self.last_log_end is not None else self.pos)
        end = start_lsn if empty else self._advance(self.rng.randint(50, 400))
        begins = self.chain_begins
        row = self._emit("L", at, at + timedelta(seconds=seconds), start_lsn, end, start_lsn,
                         int(self.log_rate / 4 * self.rng.uniform(0.5, 1.5)) if not empty else 65536,
                         copy_only=copy_only, bulk=bulk, begins=begins, spans=spans)
        if not copy_only:
            self.last_log_end = end
            self.chain_begins = False
        return row

    def restore_point_in_time(self, lsn: int) -> str:
        """A RESTORE ... WITH RECOVERY to ``lsn``: a new recovery fork starts there."""
        old = self.fork
        self.fork = _guid(self.rng)
        self.pos = lsn + 1000
        return old

    def set_simple(self) -> None:
        self.recovery_model = "SIMPLE"
        self.last_log_end = None

    def set_full_recovery(self) -> None:
        self.recovery_model = "FULL"
        self.chain_begins = True


def busy_week(sim: DatabaseSim, start: datetime, days: int, *, log_minutes: int = 15,
              full_weekday: int = 6, stripes_every: int = 0) -> None:
    """Weekly full (Sunday 22:00), daily differential (22:00), logs every ``log_minutes``."""
    t = start
    end = start + timedelta(days=days)
    last_full_day: datetime | None = None
    week = 0
    while t < end:
        if t.hour == 22 and t.minute == 0:
            if t.weekday() == full_weekday or sim.last_full is None:
                week += 1
                stripes = 4 if stripes_every and week % stripes_every == 0 else 1
                sim.full(t, stripes=stripes)
                last_full_day = t
            else:
                assert last_full_day is not None
                sim.diff(t, days_since_full=(t - last_full_day).days)
        else:
            sim.log(t)
        t += timedelta(minutes=log_minutes)
