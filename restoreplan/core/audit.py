"""Recoverability audit: windows, gaps and their causes, RPO, worst case, a verdict per backup.

Pure: a lineage in, figures out. One pass over the sets plus a worst case that asks the planner
only at the instants where the plan can be most expensive: just before each full or
differential finishes (the plan cannot use it yet), as it finishes (the plan may then take
fewer steps but read more bytes) and at each window end. Between two such instants the
cheapest plan only needs more logs as time goes on, so the maximum is at an end.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from restoreplan.core.choice import Choice, cheapest_at, ends_by_time, start_keys
from restoreplan.core.findings import LineageFindings, Severity
from restoreplan.core.history import History, Lineage, as_it_stood
from restoreplan.core.lsn import LSN
from restoreplan.core.model import BackupSet, BackupType
from restoreplan.core.target import Clock, ResolvedTime, clock_of, fmt_time
from restoreplan.core.validate import (
    ValidateOptions,
    as_of_key,
    lineages_for,
    superseded,
    validate_lineage,
)
from restoreplan.core.windows import Window, data_starts, explored

_EPS = timedelta(milliseconds=1)


class Verdict(StrEnum):
    RESTORABLE = "restorable"  # a full (alone) or a differential (with its base)
    POINT_IN_TIME = "point_in_time"  # a log usable for point-in-time recovery
    LIMITED = "limited"  # usable with a restriction (bulk-logged, copy-only log)
    NOT_NEEDED = "not_needed"  # an empty log, or one that ends before every data backup's redo point
    UNREACHABLE = "unreachable"  # intact, but no chain of backups reaches it
    BROKEN = "broken"  # cannot be restored


@dataclass(frozen=True, slots=True)
class BackupVerdict:
    backup: BackupSet
    verdict: Verdict
    words: str


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch between two recoverable windows and why nothing in it can be reached."""

    start: ResolvedTime
    end: ResolvedTime
    kind: str  # log_gap, simple_recovery, bulk_logged, unavailable, recovery_fork, no_log_backup
    cause: str
    backup_set_uuid: str | None = None
    lsn: LSN | None = None


@dataclass(frozen=True, slots=True)
class WorstCase:
    """The most expensive plan inside the retained history."""

    at: ResolvedTime
    steps: int  # RESTORE statements (data + logs)
    bytes: int  # bytes read
    seconds: float  # estimated restore duration
    full_uuid: str
    diff_uuid: str | None
    logs: int


@dataclass(frozen=True, slots=True)
class TypeStats:
    type: BackupType
    count: int
    backup_size: int
    size_on_disk: int
    bytes_per_second: float | None  # observed: backup_size / (finish - start), summed


@dataclass(frozen=True, slots=True)
class Fork:
    """A recovery fork: a branch of the timeline."""

    guid: str | None
    start: ResolvedTime
    end: ResolvedTime
    parent: str | None = None
    branch_at: ResolvedTime | None = None
    sets: int = 0


@dataclass(frozen=True, slots=True)
class AuditOptions:
    as_of: datetime | None = None  # naive server-local or aware; None: no RPO
    restore_rate: float | None = None  # bytes per second; None: observed backup throughput
    max_full_age: timedelta | None = None
    max_log_age: timedelta | None = None
    until_as_of: bool = True  # the RPO and ages on the backups finished by as_of (ValidateOptions)


@dataclass(frozen=True, slots=True)
class LineageAudit:
    """Every figure of one lineage. Times are ResolvedTime (local, UTC, compare key)."""

    lineage: Lineage = field(repr=False, compare=False)
    findings: LineageFindings
    windows: tuple[tuple[ResolvedTime, ResolvedTime], ...]
    gaps: tuple[Gap, ...]
    as_of: ResolvedTime | None
    rpo: timedelta | None  # as_of - latest recoverable point
    worst_steps: WorstCase | None
    worst_bytes: WorstCase | None
    type_stats: tuple[TypeStats, ...]
    verdict_counts: tuple[tuple[Verdict, int], ...]
    exceptions: tuple[BackupVerdict, ...]  # verdicts other than restorable / point_in_time
    forks: tuple[Fork, ...]

    @property
    def database_name(self) -> str:
        return self.lineage.database_name

    @property
    def earliest(self) -> ResolvedTime | None:
        return self.windows[0][0] if self.windows else None

    @property
    def latest(self) -> ResolvedTime | None:
        return self.windows[-1][1] if self.windows else None

    def covers(self, key: datetime) -> bool:
        """Is a compare key inside a recoverable window?"""
        return any(a.key <= key <= b.key for a, b in self.windows)

    def verdicts(self) -> Iterator[BackupVerdict]:
        """A verdict for every backup set (computed on demand: one per row of the history)."""
        return _verdicts(self.lineage, [Window(a.key, b.key) for a, b in self.windows])


@dataclass(frozen=True, slots=True)
class AuditResult:
    lineages: tuple[LineageAudit, ...]
    options: AuditOptions


# -- verdicts ----------------------------------------------------------------------------------

_TYPE_ORDER = tuple(BackupType)  # enum iteration is slow: once per module, not per lineage
_VERDICT_ORDER = tuple(Verdict)

def _in_windows(windows: list[Window], ends: list[datetime], key: datetime) -> bool:
    i = bisect.bisect_left(ends, key)
    return i < len(windows) and windows[i].start <= key


def _first_redo_point(lin: Lineage) -> int | None:
    """The lowest redo point (last_lsn) of any restorable data backup: a log that ends at or
    before it is never applied (error 4326 after every data backup; LSNs only grow)."""
    return lin.memo("first_redo_point", lambda: min(((d or f).last_lsn.value for f, d in data_starts(lin)),
                                                     default=None))


def _judge(lin: Lineage, bs: BackupSet, windows: list[Window], ends: list[datetime]) -> tuple[Verdict, str]:
    """A backup's verdict and its reason (built as a BackupVerdict only where one is kept)."""
    reason = lin.unavailable.get(bs.backup_set_uuid)
    if reason:
        return (Verdict.BROKEN, f"cannot be restored: {reason}")
    if bs.type is BackupType.FULL:
        extra = " (copy-only: never a differential base)" if bs.is_copy_only else ""
        return (Verdict.RESTORABLE, "restorable on its own" + extra)
    if bs.type is BackupType.DIFF:
        base = lin.base_of(bs)
        if base is None:
            return (Verdict.BROKEN, "cannot be restored: its base full is not in the history")
        if base.backup_set_uuid in lin.unavailable:
            return (Verdict.BROKEN, f"cannot be restored: its base full {base.backup_set_uuid} "
                                 f"is unusable ({lin.unavailable[base.backup_set_uuid]})")
        return (Verdict.RESTORABLE, f"restorable with its base full {base.backup_set_uuid}")
    if bs.is_empty_log:
        return (Verdict.NOT_NEEDED, "empty log (no log records): never needed")
    if not _in_windows(windows, ends, lin.reach_key(bs)):
        # decided by LSN, not by time: a log that finishes before a data backup can hold its
        # redo point (it ran beside it) and be restored by every plan from it (B.3)
        if explored(lin).restored(lin, bs):
            return (Verdict.LIMITED, "needed, but restored whole: a chain from a data backup applies it "
                                     "(it holds LSNs after that backup's redo point), yet it ends before "
                                     "that backup finishes, so no point inside it can be recovered")
        first = _first_redo_point(lin)
        if first is not None and bs.last_lsn.value <= first:
            return (Verdict.NOT_NEEDED, f"not needed: it ends at LSN {bs.last_lsn}, at or before the redo point "
                                        f"of every restorable data backup (the lowest is LSN {first}), so no "
                                        "restore applies it")
        return (Verdict.UNREACHABLE, "intact, but no chain from a full backup reaches it "
                             "(a log gap, a recovery fork or chain restart no backup leads onto, or no full before it)")
    if bs.has_bulk_logged_data:
        return (Verdict.LIMITED, "usable, but only to its end: it holds bulk-logged changes")
    if bs.is_copy_only:
        return (Verdict.LIMITED, "copy-only log: usable only as the last log of a restore")
    return (Verdict.POINT_IN_TIME, "usable for point-in-time recovery")


def _verdict(lin: Lineage, bs: BackupSet, windows: list[Window], ends: list[datetime]) -> BackupVerdict:
    return BackupVerdict(bs, *_judge(lin, bs, windows, ends))


def _verdicts(lin: Lineage, windows: list[Window]) -> Iterator[BackupVerdict]:
    ends = [w.end for w in windows]
    for bs in lin.sets:
        yield _verdict(lin, bs, windows, ends)


# -- worst case --------------------------------------------------------------------------------

def _rates(stats: tuple[TypeStats, ...]) -> dict[BackupType, float]:
    rates = {s.type: s.bytes_per_second for s in stats if s.bytes_per_second}
    overall = [r for r in rates.values()]
    fallback = sum(overall) / len(overall) if overall else 50 * 2**20
    return {t: rates.get(t, fallback) for t in _TYPE_ORDER}


def _duration(c: Choice, rates: dict[BackupType, float], restore_rate: float | None) -> float:
    backups = [c.full] + ([c.diff] if c.diff else []) + ([b for b, _ in c.path.logs()] if c.path else [])
    if restore_rate:
        return sum(b.size_on_disk for b in backups) / restore_rate
    return sum((b.backup_size or b.size_on_disk) / rates[b.type] for b in backups)


def _out_of_order_ends(lin: Lineage) -> set[datetime]:
    """Where a backup ends no later than one with lower LSNs (two in one second, or a log whose
    last commit, last_valid_restore_time, comes before the end of an earlier log): there the
    plan takes the newest state (``choice.newest_choice``) and may need more steps than the fewest. One
    sort; rare in practice, so few extra instants."""
    keys, ends = ends_by_time(lin)
    by_lsn = sorted(zip([b.last_lsn.value for b in ends], keys, strict=True))  # ties: the earlier end first
    out: set[datetime] = set()
    top: datetime | None = None
    for _, key in by_lsn:
        if top is not None and key <= top:
            out.add(key)
        else:
            top = key
    return out


def _worst(lin: Lineage, clock: Clock, windows: list[Window], stats: tuple[TypeStats, ...],
           restore_rate: float | None) -> tuple[WorstCase | None, WorstCase | None]:
    """The costliest plans inside the windows, made by the planner itself at each instant."""
    if not windows:
        return None, None
    ends = [w.end for w in windows]
    instants = {w.end for w in windows}
    for t in start_keys(lin):
        instants.update(u for u in (t - _EPS, t) if _in_windows(windows, ends, u))
    instants.update(t for t in _out_of_order_ends(lin) if _in_windows(windows, ends, t))
    # a shorter route opens where a log spanning a recovery fork may first be stopped in (its
    # start) and at the end of a bulk-logged log: the plan just before can need more steps
    opens = [lin.start_key(s) for s in lin.spanning] + [run.reach[k] for run in lin.runs for k in run.bulk]
    instants.update(t - _EPS for t in opens if _in_windows(windows, ends, t - _EPS))
    top_steps: tuple[tuple[int, int], datetime, Choice] | None = None
    top_bytes: tuple[tuple[int, int], datetime, Choice] | None = None
    for t in sorted(instants):
        c = cheapest_at(lin, t)  # the newest state at t, as plan makes it
        if c is None:
            continue
        if top_steps is None or (c.steps, c.nbytes) > top_steps[0]:
            top_steps = ((c.steps, c.nbytes), t, c)
        if top_bytes is None or (c.nbytes, c.steps) > top_bytes[0]:
            top_bytes = ((c.nbytes, c.steps), t, c)
    rates = _rates(stats)

    def case(top: tuple[tuple[int, int], datetime, Choice] | None) -> WorstCase | None:
        if top is None:
            return None
        _, t, c = top
        nlogs = len(c.path.logs()) if c.path else 0
        return WorstCase(clock.from_key(t), c.steps, c.nbytes, _duration(c, rates, restore_rate),
                         c.full.backup_set_uuid, c.diff.backup_set_uuid if c.diff else None, nlogs)

    most_steps = case(top_steps)
    if top_bytes is not None and top_steps is not None and top_bytes[2] is top_steps[2]:
        return most_steps, most_steps  # the same plan at the same instant
    return most_steps, case(top_bytes)


def _rpo(lin: Lineage, windows: list[Window], key: datetime, *, until_as_of: bool) -> timedelta | None:
    """``key`` minus the latest point the backups finished by then restore to (a past --as-of
    judges the lineage as those backups left it); None when none restores to anything yet."""
    past = as_it_stood(lin, key) if until_as_of else lin
    if past is None:
        return None
    past_windows = windows if past is lin else explored(past).windows
    return max(timedelta(0), key - past_windows[-1].end) if past_windows else None


# -- one pass over the sets ----------------------------------------------------------------------

@dataclass(slots=True)
class _Pass:
    stats: dict[BackupType, list[float]] = field(default_factory=dict)  # count, size, disk, bytes, secs
    counts: dict[Verdict, int] = field(default_factory=dict)
    exceptions: list[BackupVerdict] = field(default_factory=list)
    notable: list[tuple[datetime, str, BackupSet]] = field(default_factory=list)  # for gap causes
    forks: dict[str | None, list[object]] = field(default_factory=dict)  # first key, last key, count


def _one_pass(lin: Lineage, windows: list[Window]) -> _Pass:
    out = _Pass()
    ends = [w.end for w in windows]
    fork_of: str | None = "\0"
    entry: list[object] | None = None
    finish_key, start_key, unavailable = lin.finish_key, lin.start_key, lin.unavailable
    for bs in lin.sets:
        t = bs.traits
        st = out.stats.get(bs.type)
        if st is None:
            st = out.stats[bs.type] = [0, 0, 0, 0, 0.0]
        size = bs.backup_size or 0
        st[0] += 1
        st[1] += size
        st[2] += bs.compressed_backup_size or size
        secs = (bs.backup_finish_date - bs.backup_start_date).total_seconds()
        if secs > 0 and size:
            st[3] += size
            st[4] += secs
        verdict, reason = _judge(lin, bs, windows, ends)
        out.counts[verdict] = out.counts.get(verdict, 0) + 1
        if verdict not in (Verdict.RESTORABLE, Verdict.POINT_IN_TIME):
            out.exceptions.append(BackupVerdict(bs, verdict, reason))
        key = finish_key(bs)
        if bs.backup_set_uuid in unavailable:
            out.notable.append((key, "unavailable", bs))
        elif t.is_simple:
            out.notable.append((key, "simple_recovery", bs))
        if t.spans_fork:
            out.notable.append((start_key(bs), "recovery_fork", bs))
        fork = t.last_recovery_fork_guid
        if fork != fork_of:
            fork_of = fork
            entry = out.forks.get(fork)
            if entry is None:
                entry = out.forks[fork] = [start_key(bs), key, 0]
        assert entry is not None
        if key > entry[1]:  # type: ignore[operator]
            entry[1] = key
        entry[2] += 1  # type: ignore[operator]
    return out


def _bulk_spans(lin: Lineage) -> list[tuple[datetime, datetime, BackupSet]]:
    """Each bulk-logged log with the stretch of time it holds (from the end of the log before it
    in its run, else its own start, to its end), by end."""
    out = []
    for run in lin.runs:
        for k in run.bulk:
            log = run.logs[k]
            out.append((run.reach[k - 1] if k > 0 else lin.start_key(log), run.reach[k], log))
    out.sort(key=lambda b: b[1])
    return out


def _last_point(lin: Lineage) -> datetime | None:
    """The end of the newest usable backup: where a lost stretch at the end of the history stops."""
    keys = [lin.reach_key(s) if s.type is BackupType.LOG else lin.finish_key(s)
            for s in lin.sets if s.backup_set_uuid not in lin.unavailable and not s.is_empty_log]
    return max(keys) if keys else None


_FINDING_CAUSE = {
    "log_gap": "log gap: no usable log backup contains LSN {lsn} (error 4305); the chain resumes with log {uuid}",
    "recovery_fork": "recovery fork: no backup leads onto the fork of log {uuid} (the database was restored "
                     "WITH RECOVERY and no log spanning the fork, or full of the fork, precedes it)",
    "simple_recovery": "the log chain restarts with log {uuid} (SIMPLE recovery period)",
}


def _gaps(lin: Lineage, clock: Clock, windows: list[Window], notable: list[tuple[datetime, str, BackupSet]],
          findings: LineageFindings) -> tuple[Gap, ...]:
    """Every stretch between windows, and after the last one when a finding says time is lost up
    to the end, with its cause: the finding whose lost range it is, else the backup whose time
    span holds it (matched by containment, not by when a backup finished)."""
    if not windows:
        return ()
    notable = sorted(notable, key=lambda n: n[0])
    keys = [n[0] for n in notable]
    # by where the loss begins, so each gap finds its own by bisection
    losses = sorted(
        (f.lost_from.key, n, f) for n, f in enumerate(findings.findings)
        if f.code in ("LOG_GAP", "CHAIN_RESTART") and f.lost_from
    )
    loss_keys = [key for key, _, _ in losses]
    bulk = _bulk_spans(lin)
    bulk_ends = [b[1] for b in bulk]
    stretches = [(w.end, nxt.start) for w, nxt in zip(windows, windows[1:], strict=False)]
    if any(f.lost_to is None and f.severity is Severity.ERROR for _, _, f in losses):
        last = _last_point(lin)
        if last is not None and last > windows[-1].end:
            stretches.append((windows[-1].end, last))
    out: list[Gap] = []
    for a, b in stretches:
        start, end = clock.from_key(a), clock.from_key(b)
        gap = None
        lo = bisect.bisect_left(loss_keys, a)
        inside = losses[lo : bisect.bisect_left(loss_keys, b)]
        if not inside and lo > 0:  # a loss that began earlier and runs into this stretch
            f = losses[lo - 1][2]
            if f.severity is Severity.ERROR and (f.lost_to is None or f.lost_to.key > a):
                inside = [losses[lo - 1]]
        if inside:
            errs = [x for x in inside if x[2].severity is Severity.ERROR] or inside
            _, _, f = min(errs, key=lambda kf: kf[1])  # the first in the findings' order
            assert f.backup is not None
            kind = f.kind or ("log_gap" if f.code == "LOG_GAP" else "simple_recovery")
            cause = _FINDING_CAUSE.get(kind, _FINDING_CAUSE["log_gap"]).format(lsn=f.lsn, uuid=f.backup.backup_set_uuid)
            gap = Gap(start, end, kind, cause, f.backup.backup_set_uuid, f.lsn)
        if gap is None:
            j = bisect.bisect_right(bulk_ends, a)
            while j < len(bulk):
                held_from, held_to, bs = bulk[j]
                if held_from < b:
                    gap = Gap(start, end, "bulk_logged", f"{bs.type.label} backup {bs.backup_set_uuid} holds "
                              "bulk-logged changes: no point in time inside it (error 4341)", bs.backup_set_uuid)
                    break
                if held_to >= b:
                    break
                j += 1
        if gap is None:
            i = bisect.bisect_left(keys, a)
            for key, kind, bs in notable[i:]:
                if key > b:
                    break
                what = f"{bs.type.label} backup {bs.backup_set_uuid}"
                cause = {
                    "unavailable": f"{what} cannot be restored: {lin.unavailable.get(bs.backup_set_uuid)}",
                    "simple_recovery": "SIMPLE recovery: only the end points of data backups are restorable",
                    "recovery_fork": f"recovery fork: the database was restored WITH RECOVERY; {what} spans the fork, "
                                     "and times before its start on the new fork cannot be reached",
                }[kind]
                gap = Gap(start, end, kind, cause, bs.backup_set_uuid)
                break
        # validate turns every regular log no chain reaches into a finding, so a stretch nothing
        # above explains holds no log backup's end
        out.append(gap or Gap(start, end, "no_log_backup", "no log backup covers this period (only data "
                                                             "backups were taken)"))
    return tuple(out)


def _forks(lin: Lineage, clock: Clock, raw: dict[str | None, list[object]]) -> tuple[Fork, ...]:
    parents = {s.last_recovery_fork_guid: s for s in lin.spanning}
    out = []
    for guid, (first, last, n) in raw.items():
        span = parents.get(guid)
        out.append(Fork(guid, clock.from_key(first), clock.from_key(last),  # type: ignore[arg-type]
                        span.first_recovery_fork_guid if span else None,
                        clock.from_key(lin.start_key(span)) if span else None, n))  # type: ignore[arg-type]
    return tuple(sorted(out, key=lambda f: f.start.key))


def audit_lineage(lin: Lineage, opts: AuditOptions | None = None, *, superseded: bool = False) -> LineageAudit:
    """Every audit figure of one lineage (``superseded``: an older incarnation of the name)."""
    opts = opts or AuditOptions()
    clock = clock_of(lin)
    windows = explored(lin).windows
    findings = validate_lineage(lin, ValidateOptions(opts.max_full_age, opts.max_log_age, opts.as_of, opts.until_as_of), windows,
                                superseded=superseded)
    p = _one_pass(lin, windows)
    stats = tuple(
        TypeStats(t, int(v[0]), int(v[1]), int(v[2]), (v[3] / v[4]) if v[4] else None)
        for t, v in sorted(p.stats.items(), key=lambda kv: _TYPE_ORDER.index(kv[0]))
    )
    worst_steps, worst_bytes = _worst(lin, clock, windows, stats, opts.restore_rate)
    as_of = rpo = None
    if opts.as_of is not None:
        key = as_of_key(lin, clock, opts.as_of)
        as_of = clock.from_key(key)
        rpo = _rpo(lin, windows, key, until_as_of=opts.until_as_of)
    return LineageAudit(
        lineage=lin, findings=findings,
        windows=tuple((clock.from_key(w.start), clock.from_key(w.end)) for w in windows),
        gaps=_gaps(lin, clock, windows, p.notable, findings), as_of=as_of, rpo=rpo,
        worst_steps=worst_steps, worst_bytes=worst_bytes, type_stats=stats,
        verdict_counts=tuple(sorted(p.counts.items(), key=lambda kv: _VERDICT_ORDER.index(kv[0]))),
        exceptions=tuple(p.exceptions), forks=_forks(lin, clock, p.forks),
    )


def audit_history(history: History, opts: AuditOptions | None = None, database: str | None = None) -> AuditResult:
    """The audit of every lineage (or of the lineages named ``database``)."""
    opts = opts or AuditOptions()
    lins = lineages_for(history, database)
    old = superseded(lins)
    return AuditResult(tuple(audit_lineage(lin, opts, superseded=lin.key in old) for lin in lins), opts)


def describe_seconds(seconds: float) -> str:
    """A duration in words: 3h 05m, 12m 30s, 45s."""
    s = int(round(seconds))
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    if d:
        return f"{d}d {h:02d}h"
    if h:
        return f"{h}h {m:02d}m"
    if m:
        return f"{m}m {s:02d}s"
    return f"{s}s"


__all__ = [
    "AuditOptions", "AuditResult", "BackupVerdict", "Fork", "Gap", "LineageAudit", "TypeStats", "Verdict",
    "WorstCase", "audit_history", "audit_lineage", "describe_seconds", "fmt_time",
]
