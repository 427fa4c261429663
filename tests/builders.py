"""A small builder so each test shows the history it is about.

    h = history(full("10:00", 100, 120), log("10:15", 90, 150), log("10:30", 150, 180))

Times are "HH:MM[:SS]" on 2026-01-05 (or "D HH:MM" for day offsets, or a datetime); LSNs are
small integers; GUIDs are deterministic.
"""

from __future__ import annotations

import itertools
import uuid as uuidlib
from datetime import datetime, timedelta
from typing import Any

from restoreplan.core.history import History
from restoreplan.core.lsn import LSN
from restoreplan.core.model import BackupSet, BackupType, LogMark, MediaFile

DAY = datetime(2026, 1, 5)
FAMILY = "11111111-1111-4111-8111-111111111111"
FORK_A = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
FORK_B = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
_ids = itertools.count(1)


def when(t: str | datetime) -> datetime:
    if isinstance(t, datetime):
        return t
    day = 0
    if " " in t:
        d, t = t.split(" ", 1)
        day = int(d)
    parts = [int(p) for p in t.split(":")]
    while len(parts) < 3:
        parts.append(0)
    return DAY + timedelta(days=day, hours=parts[0], minutes=parts[1], seconds=parts[2])


def guid(n: int | None = None) -> str:
    return str(uuidlib.UUID(int=n if n is not None else next(_ids), version=4))


def _set(kind: BackupType, finish: str | datetime, first: int, last: int, *, ckpt: int | None = None,
         start: str | datetime | None = None, name: str = "db", uuid: str | None = None,
         files: tuple[str, ...] | None = None, size: int = 100, fork: str = FORK_A, **kw: Any) -> BackupSet:
    f = when(finish)
    uid = uuid or guid()
    devs = files or (f"/backups/{name}/{uid}.{kind.value}",)
    media = tuple(MediaFile(p, i + 1) for i, p in enumerate(devs))
    fields: dict[str, Any] = dict(
        backup_set_uuid=uid, type=kind, database_name=name,
        first_lsn=LSN(first), last_lsn=LSN(last), checkpoint_lsn=LSN(ckpt if ckpt is not None else first),
        database_backup_lsn=LSN(0),
        backup_start_date=when(start) if start is not None else f - timedelta(seconds=30),
        backup_finish_date=f, files=media, family_guid=FAMILY,
        first_recovery_fork_guid=fork, last_recovery_fork_guid=fork, time_zone=0,
        recovery_model="FULL", backup_size=size, media_family_count=len(media),
    )
    fields.update(kw)
    return BackupSet.of(**fields)


def full(finish: str | datetime, first: int, last: int, **kw: Any) -> BackupSet:
    return _set(BackupType.FULL, finish, first, last, **kw)


def diff(finish: str | datetime, first: int, last: int, base: BackupSet, **kw: Any) -> BackupSet:
    kw.setdefault("differential_base_guid", base.backup_set_uuid)
    kw.setdefault("differential_base_lsn", base.checkpoint_lsn)
    return _set(BackupType.DIFF, finish, first, last, **kw)


def log(finish: str | datetime, first: int, last: int, **kw: Any) -> BackupSet:
    return _set(BackupType.LOG, finish, first, last, **kw)


def history(*sets: BackupSet, marks: tuple[LogMark, ...] = (), unavailable: dict[str, str] | None = None) -> History:
    return History.from_sets(list(sets), marks=marks, unavailable=unavailable)


def with_(bs: BackupSet, **kw: Any) -> BackupSet:
    return bs.evolve(**kw)
