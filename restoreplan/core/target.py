"""Recovery targets: one value, checked once at the edge, resolved against a lineage's clock."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from restoreplan.core.errors import UsageError
from restoreplan.core.history import Lineage
from restoreplan.core.lsn import LSN


class TargetKind(StrEnum):
    TIME = "time"
    LATEST = "latest"
    LSN = "lsn"
    MARK = "mark"
    BEFORE_MARK = "before_mark"


@dataclass(frozen=True, slots=True)
class RecoveryTarget:
    """What the DBA asked for. ``time`` is naive (server-local) or aware (an explicit offset)."""

    kind: TargetKind
    time: datetime | None = None
    lsn: LSN | None = None
    mark: str | None = None
    after: datetime | None = None

    @classmethod
    def at(cls, when: datetime) -> RecoveryTarget:
        return cls(TargetKind.TIME, time=when)

    @classmethod
    def latest(cls) -> RecoveryTarget:
        return cls(TargetKind.LATEST)

    @classmethod
    def at_lsn(cls, lsn: LSN) -> RecoveryTarget:
        return cls(TargetKind.LSN, lsn=lsn)

    @classmethod
    def at_mark(cls, name: str, after: datetime | None = None, *, before: bool = False) -> RecoveryTarget:
        if not name.strip():
            raise UsageError("a mark name cannot be empty")
        return cls(TargetKind.BEFORE_MARK if before else TargetKind.MARK, mark=name, after=after)

    def describe(self) -> str:
        if self.kind is TargetKind.TIME:
            return f"time {self.time}"
        if self.kind is TargetKind.LATEST:
            return "the latest reachable point"
        if self.kind is TargetKind.LSN:
            return f"LSN {self.lsn}"
        prefix = "before mark" if self.kind is TargetKind.BEFORE_MARK else "mark"
        return f"{prefix} {self.mark!r}" + (f" after {self.after}" if self.after else "")


def fmt_time(t: datetime | None) -> str | None:
    if t is None:
        return None
    return t.strftime("%Y-%m-%d %H:%M:%S") + (f".{t.microsecond // 1000:03d}" if t.microsecond else "")


@dataclass(frozen=True, slots=True)
class ResolvedTime:
    """A point in time on a lineage's clock: server-local, UTC (when known), and the compare key."""

    local: datetime
    utc: datetime | None
    key: datetime
    # the local time is read twice in a DST fall-back hour (so is a STOPAT written with it)
    ambiguous: bool = False
    offset: int | None = None  # the UTC offset of ``local`` (15-minute units), when known

    @property
    def local_text(self) -> str:
        return fmt_time(self.local) or ""

    @property
    def utc_text(self) -> str | None:
        return None if self.utc is None else (fmt_time(self.utc) or "") + "Z"

    @property
    def offset_text(self) -> str | None:
        if self.offset is None:
            return None
        minutes = 15 * self.offset
        sign = "-" if minutes < 0 else "+"
        return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def clock_of(lin: Lineage) -> Clock:
    """The lineage's clock (server-local <-> UTC), built once."""
    return lin.memo("clock", lambda: Clock(lin))


class Clock:
    """Server-local <-> UTC for one lineage, from the backups' own time_zone values."""

    def __init__(self, lineage: Lineage) -> None:
        self.utc_mode = lineage.utc
        pairs: list[tuple[datetime, int]] = []
        for s in lineage.sets:
            tz, off = s.traits.time_zone, s.traits.utc_offset
            if tz is not None and off is not None:
                pairs.append((s.backup_start_date - off, tz))
        pairs.sort()
        # Inside a run of equal offsets every instant has that offset as the last one at or
        # before it: keep the run's ends only (a history of a million backups changes offset
        # twice a year).
        keep = [
            i
            for i in range(len(pairs))
            if i in (0, len(pairs) - 1) or not pairs[i - 1][1] == pairs[i][1] == pairs[i + 1][1]
        ]
        self._times = [pairs[i][0] for i in keep]
        self._offsets = [pairs[i][1] for i in keep]

    def offset_at(self, utc: datetime) -> int | None:
        """The offset (15-minute units) in force at a UTC instant: that of the last backup that
        started at or before it (time_zone is the offset at backup start), else of the first after.

        (Not the nearest backup: the first backup after a DST change is nearer to the minutes
        before the change than the last one before it, and its offset was not yet in force.)
        Kept points are the ends of runs of equal offsets, so the last kept point at or before
        an instant has the offset of the last backup at or before it.
        """
        if not self._times:
            return None
        i = bisect.bisect_right(self._times, utc)
        return self._offsets[i - 1] if i > 0 else self._offsets[0]

    def is_ambiguous(self, local: datetime, offset: int) -> bool:
        """Is ``local`` (read with ``offset``) also the local reading of another instant, with
        another offset in force then (a DST fall-back repeats that hour)?"""
        for other in set(self._offsets):
            if other != offset and self.offset_at(local - timedelta(minutes=15 * other)) == other:
                return True
        return False

    def _resolved_utc(self, utc: datetime) -> ResolvedTime:
        off = self.offset_at(utc) or 0
        local = utc + timedelta(minutes=15 * off)
        return ResolvedTime(local, utc, utc, ambiguous=self.is_ambiguous(local, off), offset=off)

    def _valid(self, utc: datetime, offset: int) -> bool:
        i = bisect.bisect_right(self._times, utc)
        neighbours = set()
        if i > 0:
            neighbours.add(self._offsets[i - 1])
        if i < len(self._times):
            neighbours.add(self._offsets[i])
        return offset in neighbours

    def resolve(self, when: datetime) -> ResolvedTime:
        """Resolve a naive (server-local) or aware time; DST ambiguity is a usage error."""
        if when.tzinfo is not None:
            utc = (when - when.utcoffset()).replace(tzinfo=None)  # type: ignore[operator]
            if not self.utc_mode:
                raise UsageError(
                    f"{when.isoformat()} has an offset, but the history has no time_zone for every backup",
                    hint="give the time as server-local time without an offset",
                )
            return self._resolved_utc(utc)
        if not self.utc_mode:
            return ResolvedTime(when, None, when)
        candidates = {
            when - timedelta(minutes=15 * off) for off in set(self._offsets) if self._valid(when - timedelta(minutes=15 * off), off)
        }
        if len(candidates) > 1:
            raise UsageError(
                f"{when} is ambiguous in server-local time (a DST change repeats that hour)",
                hint="give an explicit offset, e.g. 2024-11-03T01:30:00-05:00, or Z for UTC",
            )
        if not candidates:
            raise UsageError(
                f"{when} does not exist in server-local time (a DST change skips that hour)",
                hint="give an explicit offset, or a time outside the skipped hour",
            )
        utc = candidates.pop()
        return ResolvedTime(when, utc, utc)

    def from_key(self, key: datetime) -> ResolvedTime:
        """A compare key back to local and UTC."""
        if not self.utc_mode:
            return ResolvedTime(key, None, key)
        return self._resolved_utc(key)
