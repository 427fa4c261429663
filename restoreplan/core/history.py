"""History: backup sets partitioned into lineages, with the indexes a planner needs.

A lineage is one database incarnation, keyed by family_guid (never by name alone). Logs are held
as *runs*: maximal sequences in which each log starts exactly where the previous one ended on the
same recovery fork. A run keeps sorted arrays, so a plan query bisects instead of walking, and
memory stays linear in the number of backups.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate
from operator import attrgetter
from typing import Any, TypeVar

from restoreplan.core.families import apart, servers_apart
from restoreplan.core.model import BackupSet, BackupType, LogMark, RestoreEvent

T = TypeVar("T")


def forks_match(a: str | None, b: str | None) -> bool:
    """Fork GUIDs match when equal; an unknown fork (older exports) matches any."""
    return a is None or b is None or a == b


@dataclass(slots=True, eq=False)
class LogRun:
    """Consecutive logs: logs[k].first_lsn == logs[k-1].last_lsn, one fork, times ascending.

    A run is itself (compared by identity): two runs are never the same logs.
    """

    logs: list[BackupSet]
    first: list[int] = field(default_factory=list)  # first_lsn values
    last: list[int] = field(default_factory=list)  # last_lsn values
    reach: list[datetime] = field(default_factory=list)  # time key each log covers up to
    bytes_prefix: list[int] = field(default_factory=lambda: [0])
    bulk: list[int] = field(default_factory=list)  # indexes of logs with bulk-logged data

    @classmethod
    def of(cls, logs: list[BackupSet], reach: list[datetime]) -> LogRun:
        """A run of these logs (already consecutive), with their reach keys: its arrays are
        made a column at a time."""
        return cls(
            logs,
            [log.first_lsn.value for log in logs],
            [log.last_lsn.value for log in logs],
            reach,
            list(accumulate((log.compressed_backup_size or log.backup_size or 0 for log in logs), initial=0)),
            [i for i, log in enumerate(logs) if log.traits.has_bulk_logged_data],
        )

    @property
    def start(self) -> int:
        return self.first[0]

    @property
    def end(self) -> int:
        return self.last[-1]

    @property
    def entry_fork(self) -> str | None:
        return self.logs[0].first_recovery_fork_guid or self.logs[0].last_recovery_fork_guid

    @property
    def exit_fork(self) -> str | None:
        return self.logs[-1].last_recovery_fork_guid or self.logs[-1].first_recovery_fork_guid

    def index_containing(self, lsn: int) -> int | None:
        """Index of the log with first_lsn <= lsn < last_lsn, if any."""
        i = bisect.bisect_right(self.last, lsn)
        if i < len(self.logs) and self.first[i] <= lsn:
            return i
        return None

    def accepts(self, i: int, lsn: int, fork: str | None) -> bool:
        """Restore-rules B.6: may log i be applied to a database at (lsn, fork)?"""
        log = self.logs[i]
        if log.spans_fork and log.fork_point_lsn is not None:
            if lsn <= log.fork_point_lsn.value:
                return forks_match(fork, log.first_recovery_fork_guid)
            return forks_match(fork, log.last_recovery_fork_guid)
        return forks_match(fork, log.last_recovery_fork_guid or log.first_recovery_fork_guid)

    def bytes_between(self, i: int, k: int) -> int:
        """Bytes of logs i..k inclusive."""
        return self.bytes_prefix[k + 1] - self.bytes_prefix[i]


class RunEnds:
    """The ends of a lineage's runs (sorted by start), in blocks with their maximum, to find
    the runs that end after an LSN without looking at each: beside one long chain, a prefix
    maximum sent every query through every run (copy-only logs are runs of their own)."""

    __slots__ = ("ends", "size", "block_max")

    def __init__(self, ends: Sequence[int]) -> None:
        self.ends = list(ends)
        self.size = size = max(32, math.isqrt(len(self.ends)))
        self.block_max = [max(self.ends[b : b + size]) for b in range(0, len(self.ends), size)]

    def after(self, count: int, lsn: int) -> list[int]:
        """The indexes j < ``count`` of the runs that end after ``lsn``, highest first."""
        ends, size, block_max = self.ends, self.size, self.block_max
        count = min(count, len(ends))
        if count <= 0:
            return []
        out: list[int] = []
        for block in [b for b in range((count - 1) // size, -1, -1) if block_max[b] > lsn]:
            lo = block * size
            out += [j for j in range(min(lo + size, count) - 1, lo - 1, -1) if ends[j] > lsn]
        return out


@dataclass(slots=True)
class Lineage:
    """One database incarnation (family_guid) and its indexes."""

    key: str
    sets: list[BackupSet]
    utc: bool  # True when every backup has a known time_zone: compare times in UTC
    by_uuid: dict[str, BackupSet]
    fulls: list[BackupSet]  # restorable fulls, by finish time
    diffs_by_base: dict[str, list[BackupSet]]
    logs: list[BackupSet]  # non-empty logs, by first_lsn
    runs: list[LogRun]
    run_ends: RunEnds  # which runs end after an LSN, runs sorted by start
    run_starts: list[int]
    spanning: list[BackupSet]  # logs that span a recovery fork
    unavailable: dict[str, str]  # uuid -> reason it cannot be restored by this tool
    diff_base: dict[str, str] = field(default_factory=dict)  # differential uuid -> its base full's uuid
    marks: list[LogMark] = field(default_factory=list)  # the marks of its names that lie in its logs
    # marks of its names that lie in none of its logs (another incarnation's, or their log is not
    # in the history): never a target, named when asked for
    outside_marks: list[LogMark] = field(default_factory=list)
    # restores recorded into one of its names (restorehistory): core/restores.py reads them
    restores: list[RestoreEvent] = field(default_factory=list)
    # the names of the other databases of its family_guid (copies restored under another name),
    # kept apart in lineages of their own (core/families.py)
    copies: list[str] = field(default_factory=list)
    family: str = ""  # the family's key (family_guid): the key itself unless copies split the family
    borrowed: frozenset[str] = frozenset()  # uuids of base fulls of its differentials, another name's
    # Derived values computed once per lineage (the lineage never changes after it is built).
    cache: dict[str, Any] = field(default_factory=dict)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """A value derived from this lineage, computed on first use."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]  # type: ignore[no-any-return]

    @property
    def database_names(self) -> list[str]:
        return self.memo("database_names", lambda: sorted({s.database_name for s in self.own_sets}))

    @property
    def folded_names(self) -> set[str]:
        """Database names, case-folded (SQL Server names compare case-insensitively here)."""
        return self.memo("folded_names", lambda: {n.casefold() for n in self.database_names})

    @property
    def database_name(self) -> str:
        return self.own_sets[-1].database_name

    @property
    def own_sets(self) -> list[BackupSet]:
        """Its sets, less the fulls borrowed from a copy's original (its names are these sets')."""
        if not self.borrowed:
            return self.sets
        return self.memo("own_sets", lambda: [s for s in self.sets if s.backup_set_uuid not in self.borrowed])

    @property
    def server_names(self) -> list[str]:
        return self.memo("server_names", lambda: sorted({s.server_name for s in self.sets if s.server_name}))

    def finish_key(self, bs: BackupSet) -> datetime:
        """backup_finish_date on the lineage's clock (UTC when every set has a time_zone)."""
        if self.utc:
            return bs.backup_finish_date - bs.traits.utc_offset  # type: ignore[operator]
        return bs.backup_finish_date

    def start_key(self, bs: BackupSet) -> datetime:
        """backup_start_date on the lineage's clock."""
        if self.utc:
            return bs.backup_start_date - bs.traits.utc_offset  # type: ignore[operator]
        return bs.backup_start_date

    def reach_key(self, bs: BackupSet) -> datetime:
        """The time up to which a log can restore (SQL 2022 last_valid_restore_time, else finish)."""
        if bs.last_valid_restore_time is not None:
            if self.utc and bs.traits.utc_offset is not None:
                return bs.last_valid_restore_time - bs.traits.utc_offset
            return bs.last_valid_restore_time
        return self.finish_key(bs)

    def runs_containing(self, lsn: int) -> list[tuple[LogRun, int]]:
        """Every run with a log holding ``lsn``, with that log's index."""
        out: list[tuple[LogRun, int]] = []
        for j in self.run_ends.after(bisect.bisect_right(self.run_starts, lsn), lsn):
            run = self.runs[j]
            i = run.index_containing(lsn)
            if i is not None:
                out.append((run, i))
        return out

    def branch_points(self, run: LogRun, i: int, hi: int) -> list[int]:
        """Indexes j in [i, hi] after which another run could take over (a copy-only log, an
        overlapping chain): the redo point ``run.last[j]`` lies inside some other run."""
        every = self._branch_points(run)
        return every[bisect.bisect_left(every, i) : bisect.bisect_right(every, hi)]

    def next_branch_point(self, run: LogRun, i: int, hi: int) -> int | None:
        """The first of ``branch_points(run, i, hi)``, if any."""
        every = self._branch_points(run)
        n = bisect.bisect_left(every, i)
        return every[n] if n < len(every) and every[n] <= hi else None

    def _branch_points(self, run: LogRun) -> list[int]:
        """Every branch point of a run (computed once per run)."""

        def compute() -> list[int]:
            out: set[int] = set()
            lo_lsn, hi_lsn = run.last[0], run.last[-1]
            for j in self.run_ends.after(bisect.bisect_right(self.run_starts, hi_lsn), lo_lsn):
                other = self.runs[j]
                if other is not run:
                    a = bisect.bisect_left(run.last, other.start)
                    b = bisect.bisect_left(run.last, other.end)
                    out.update(range(a, b))
            return sorted(out)

        return self.memo(f"branches:{id(run)}", compute)

    @property
    def servers_apart(self) -> list[tuple[str, str]]:
        """Servers whose backups ran at the same time on different forks (families.servers_apart)."""
        return self.memo("servers_apart", lambda: servers_apart(self.own_sets, self.start_key, self.finish_key))

    def base_of(self, diff: BackupSet) -> BackupSet | None:
        """The full a differential is based on, when it is in the history (restore-rules B.4)."""
        base = self.diff_base.get(diff.backup_set_uuid) or diff.differential_base_guid
        return self.by_uuid.get(base) if base else None

    def diffs_for(self, full: BackupSet) -> list[BackupSet]:
        return self.diffs_by_base.get(full.backup_set_uuid, [])

    def mark_logs(self, mark: LogMark) -> list[BackupSet]:
        """The log backups of this lineage that can hold ``mark``, the likeliest first.

        A log holds the LSNs first_lsn <= lsn < last_lsn, and a mark only when it was committed
        before the log backup finished (the mark's time and the backups' are server-local). The
        database must exist by then (its creation date, or its first backup's start). Logs of
        other recovery forks can hold the same LSN: the one that finished first after the mark
        holds it (a later fork begins with a restore after the old fork's logs). Every log
        recorded counts, usable or not: the mark is this database's even if its log is damaged.
        """
        if mark.mark_time < self._born:
            return []
        found = [log for log in self.logs_holding(mark.lsn.value) if mark.mark_time <= log.backup_finish_date]
        found.sort(key=lambda log: (log.backup_finish_date, log.last_lsn))
        return found

    def logs_holding(self, lsn: int) -> list[BackupSet]:
        """Every log backup of its own, usable or not, with ``first_lsn <= lsn < last_lsn``
        (logs of several recovery forks can hold one LSN)."""
        firsts, ends, logs = self.memo("mark_index", self._mark_index)
        found: list[BackupSet] = []
        j = bisect.bisect_right(firsts, lsn) - 1
        while j >= 0 and ends[j] > lsn:
            if lsn < logs[j].last_lsn.value:
                found.append(logs[j])
            j -= 1
        return found

    def _mark_index(self) -> tuple[list[int], list[int], list[BackupSet]]:
        """Every log of its own, by first LSN, with the furthest last LSN up to each."""
        logs = sorted((s for s in self.own_sets if s.type is BackupType.LOG), key=lambda s: s.first_lsn.value)
        return ([s.first_lsn.value for s in logs], list(accumulate((s.last_lsn.value for s in logs), max)), logs)

    @property
    def _born(self) -> datetime:
        """When the database existed at the latest (server-local): its creation date, else its first backup."""
        def compute() -> datetime:
            first = min(s.backup_start_date for s in self.own_sets)
            created = [s.database_creation_date for s in self.own_sets if s.database_creation_date is not None]
            return min([first, *created])
        return self.memo("born", compute)

    @property
    def first_time(self) -> datetime:
        return min(self.start_key(s) for s in self.sets)

    @property
    def last_time(self) -> datetime:
        return max(self.finish_key(s) for s in self.sets)


_PLANNABLE = frozenset(t for t in BackupType if t.plannable)


def unavailability(bs: BackupSet) -> str | None:
    """Why this tool cannot restore a backup set, or None (checked once per set: the usual
    backup passes each test on a traits flag, without building a message)."""
    t = bs.traits
    if bs.type not in _PLANNABLE:
        return f"{bs.type.label} backups are not planned automatically (restore-rules B.9)"
    if t.is_damaged:
        return "the backup is marked damaged (is_damaged)"
    if t.is_snapshot or bs.is_virtual_device:
        return "a snapshot / virtual-device backup (VSS or a third-party tool must restore it)"
    count = t.media_family_count
    if count and not (count == 1 and bs.files) and bs.missing_families:
        nums = ", ".join(str(n) for n in bs.missing_families)
        return f"media family {nums} of {count} is not recorded (error 3132)"
    return None


_set_order = attrgetter("backup_finish_date", "last_lsn", "backup_set_uuid")


def live_fork(lin: Lineage) -> str | None:
    """The recovery fork the database is on now: that of its most recent backup (restore-rules B.6).

    A tail-log backup comes from the live database, so a tail plan must end on this fork.
    """
    def compute() -> str | None:
        known = [s for s in lin.own_sets if s.last_recovery_fork_guid or s.first_recovery_fork_guid]
        if not known:
            return None
        newest = max(known, key=lambda s: (lin.finish_key(s), s.last_lsn))
        return newest.last_recovery_fork_guid or newest.first_recovery_fork_guid
    return lin.memo("live_fork", compute)


def in_history_of(lin: Lineage, fork: str | None, rec_fork: str | None, lsn: int) -> bool:
    """Is the record at ``lsn`` of fork ``rec_fork`` part of fork ``fork``'s history: the same fork,
    or one it branched from at or after that LSN? Each log spanning a fork names the fork it left
    and the fork point (restore-rules B.6); a record at the fork point is the old fork's, and the
    new fork replays it. Every spanning log recorded counts, usable or not. An unknown fork
    matches any."""
    if fork is None or rec_fork is None or fork == rec_fork:
        return True
    parents = lin.memo("fork_parents", lambda: {
        s.last_recovery_fork_guid: (s.first_recovery_fork_guid, s.fork_point_lsn)
        for s in sorted(lin.own_sets, key=lin.finish_key) if s.spans_fork
    })
    limit: int | None = None
    seen = {fork}
    while fork in parents:
        parent, point = parents[fork]
        if parent is None or parent in seen:
            return False
        if point is not None:
            limit = point.value if limit is None else min(limit, point.value)
        if parent == rec_fork:
            return limit is None or lsn <= limit
        seen.add(parent)
        fork = parent
    return False


def as_it_stood(lin: Lineage, until: datetime) -> Lineage | None:
    """The lineage with only the backups finished by ``until`` (a key on its clock): what a past
    --as-of judges, since a later backup can make earlier times reachable (a log closing a gap).
    The lineage itself when every backup had finished by then; None when none had."""
    def compute() -> Lineage | None:
        sets = [s for s in lin.sets if lin.finish_key(s) <= until]
        if len(sets) == len(lin.sets):
            return lin
        if not sets:
            return None
        past = build_lineage(lin.key, sets, lin.unavailable, utc=lin.utc)
        past.copies, past.family, past.borrowed = lin.copies, lin.family, lin.borrowed
        return past

    return lin.memo(f"as_it_stood {until.isoformat()}", compute)  # audit asks twice (RPO, ages)


def build_lineage(key: str, sets: Sequence[BackupSet], unavailable: dict[str, str], *,
                  utc: bool | None = None) -> Lineage:
    """``utc``: the clock to compare on (default: UTC when every set has a time_zone)."""
    ordered = sorted(sets, key=_set_order)
    if utc is None:
        utc = all(s.traits.time_zone is not None for s in ordered)
    by_uuid = {s.backup_set_uuid: s for s in ordered}
    blocked = dict(unavailable)
    for s in ordered:
        reason = unavailability(s)
        if reason and s.backup_set_uuid not in blocked:
            blocked[s.backup_set_uuid] = reason
    usable = [s for s in ordered if s.backup_set_uuid not in blocked]
    lineage = Lineage(
        key=key,
        family=key,
        sets=ordered,
        utc=utc,
        by_uuid=by_uuid,
        fulls=[s for s in usable if s.type is BackupType.FULL],
        diffs_by_base={},
        logs=[],
        runs=[],
        run_ends=RunEnds([]),
        run_starts=[],
        spanning=[],
        unavailable=blocked,
    )
    # Exports without differential_base_guid (dbatools' Get-DbaDbBackupHistory): fall back to the
    # secondary evidence of restore-rules B.4, database_backup_lsn == the base full's
    # checkpoint_lsn, and only when exactly one regular full matches.
    by_checkpoint: dict[int, list[BackupSet]] = {}
    for s in ordered:
        if s.type is BackupType.FULL and not s.is_copy_only:
            by_checkpoint.setdefault(s.checkpoint_lsn.value, []).append(s)
    for s in usable:
        if s.type is not BackupType.DIFF:
            continue
        base = s.differential_base_guid
        if base is None:
            candidates = by_checkpoint.get(s.database_backup_lsn.value, [])
            if len(candidates) == 1:
                base = candidates[0].backup_set_uuid
        if base:
            lineage.diffs_by_base.setdefault(base, []).append(s)
            lineage.diff_base[s.backup_set_uuid] = base
    logs = sorted(
        (s for s in usable if s.type is BackupType.LOG and not s.is_empty_log),
        key=lambda s: (s.first_lsn.value, s.last_lsn.value, s.backup_finish_date),
    )
    lineage.logs = logs
    lineage.spanning = [s for s in logs if s.spans_fork]
    # Each log joins the run that ends where it starts (or begins one): a run is gathered as
    # (its logs, their reach keys) and made into a LogRun once complete.
    open_runs: dict[int, list[tuple[list[BackupSet], list[datetime]]]] = {}  # by the LSN it ends at
    gathered: list[tuple[list[BackupSet], list[datetime]]] = []
    reach_key = lineage.reach_key
    for log in logs:
        reach = reach_key(log)
        t = log.traits
        target = None
        first = log.first_lsn.value
        if not (t.is_copy_only or t.begins_log_chain or t.spans_fork) and first in open_runs:
            entry = t.first_recovery_fork_guid or t.last_recovery_fork_guid
            ending = open_runs[first]
            for n, run in enumerate(ending):
                prev = run[0][-1]
                if (
                    not prev.traits.is_copy_only
                    and forks_match(prev.last_recovery_fork_guid or prev.first_recovery_fork_guid, entry)
                    and run[1][-1] <= reach
                ):
                    target = run
                    del ending[n]  # it ended at this log's first LSN
                    if not ending:
                        del open_runs[first]
                    break
        if target is None:
            target = ([], [])
            gathered.append(target)
        target[0].append(log)
        target[1].append(reach)
        open_runs.setdefault(log.last_lsn.value, []).append(target)
    runs = [LogRun.of(run_logs, reach) for run_logs, reach in gathered]
    runs.sort(key=lambda r: (r.start, r.end))
    lineage.runs = runs
    lineage.run_starts = [r.start for r in runs]
    lineage.run_ends = RunEnds([r.end for r in runs])
    return lineage


@dataclass(slots=True)
class History:
    """All lineages of all databases in the inputs."""

    lineages: dict[str, Lineage]
    marks: list[LogMark] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_sets(
        cls,
        sets: Iterable[BackupSet],
        *,
        marks: Iterable[LogMark] = (),
        unavailable: dict[str, str] | None = None,
        restores: Iterable[RestoreEvent] = (),
    ) -> History:
        groups: dict[str, list[BackupSet]] = {}
        for s in sets:
            groups.setdefault(s.traits.lineage_key, []).append(s)
        blocked = unavailable or {}
        lineages = {}
        for family, g in groups.items():
            for key, part, copies, borrowed in apart(family, g):
                lin = lineages[key] = build_lineage(key, part, blocked)
                lin.copies, lin.family, lin.borrowed = copies, family, borrowed
        all_marks = list(marks)
        by_name: dict[str, list[int]] = {}
        for n, m in enumerate(all_marks):
            by_name.setdefault(m.database_name, []).append(n)
        for lin in lineages.values():  # each lineage's marks, in their order in the inputs
            named = [all_marks[n] for n in sorted(n for name in lin.database_names for n in by_name.get(name, ()))]
            # a name can be several incarnations (dropped and recreated) or forks: a mark belongs
            # to a lineage only when one of its logs can hold it (restore-rules B.7.3)
            held = [bool(lin.mark_logs(m)) for m in named]
            lin.marks = [m for m, ok in zip(named, held, strict=True) if ok]
            lin.outside_marks = [m for m, ok in zip(named, held, strict=True) if not ok]
        into: dict[str, list[RestoreEvent]] = {}
        for r in restores:
            into.setdefault(r.database_name.casefold(), []).append(r)
        if into:
            for lin in lineages.values():
                lin.restores = [r for name in lin.folded_names for r in into.get(name, ())]
        return cls(lineages=lineages, marks=all_marks)

    @property
    def database_names(self) -> list[str]:
        return sorted({n for lin in self.lineages.values() for n in lin.database_names})

    @property
    def names_listed(self) -> str:
        """The database names for a hint: quoted when a space at an end or a control character
        would not show (' Sales' is another database than 'Sales')."""
        return ", ".join(n if n == n.strip() and n.isprintable() else repr(n) for n in self.database_names) or "(none)"

    def lineages_named(self, name: str) -> list[Lineage]:
        wanted = name.casefold()
        return [
            lin
            for lin in self.lineages.values()
            if wanted in lin.folded_names
        ]

    def all_sets(self) -> list[BackupSet]:
        return [s for lin in self.lineages.values() for s in lin.sets]
