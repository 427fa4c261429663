"""The planner: a target and a history in, a minimal restore plan (or a typed refusal) out.

Minimal means fewest restore steps; ties go to fewest bytes read, then to the newest data
backups (restore-rules F). Pure: no I/O.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import accumulate
from operator import itemgetter

from restoreplan.core.chain import Goal, LogPath, SearchNotes, Segment, fork_at, search_logs
from restoreplan.core.cover import cover_of
from restoreplan.core.errors import NotRecoverable, PointInfo, UsageError
from restoreplan.core.history import History, Lineage, LogRun, forks_match
from restoreplan.core.model import BackupSet, BackupType, LogMark
from restoreplan.core.plan import Action, Plan, Step, Stop, StopKind
from restoreplan.core.target import (
    Clock,
    RecoveryTarget,
    ResolvedTime,
    TargetKind,
    clock_of,
    fmt_time,
)
from restoreplan.core.windows import data_starts, lineage_windows, locate

TAIL_MODES = ("auto", "always", "never")


@dataclass(frozen=True, slots=True)
class PlanOptions:
    tail: str = "auto"
    or_earlier: bool = False
    family_guid: str | None = None


@dataclass(slots=True)
class Choice:
    """What a plan restores: its data backups and log path, and what they cost."""

    steps: int
    nbytes: int
    newest: datetime
    full: BackupSet
    diff: BackupSet | None
    path: LogPath | None

    @property
    def last(self) -> BackupSet:
        """The last backup it restores (the redo point it ends at is this one's last_lsn)."""
        seg = self.path.segments[-1] if self.path and self.path.segments else None
        return seg.run.logs[seg.k] if seg is not None else self.diff or self.full

    def better_than(self, other: Choice | None) -> bool:
        if other is None:
            return True
        return (self.steps, self.nbytes, -self.newest.timestamp()) < (
            other.steps,
            other.nbytes,
            -other.newest.timestamp(),
        )


@dataclass(slots=True)
class _Search:
    best: Choice | None = None
    notes: SearchNotes = field(default_factory=SearchNotes)
    simple: list[BackupSet] = field(default_factory=list)


@dataclass(slots=True)
class _Start:
    """A data-backup start (full, or full + differential), with what every query needs of it."""

    key: datetime
    full_key: datetime
    full: BackupSet
    diff: BackupSet | None
    dsteps: int
    dbytes: int
    p: int
    fork: str | None
    simple: bool
    run: LogRun | None  # the only run that holds p, when exactly one does and accepts it
    i: int


def _starts(lin: Lineage) -> list[_Start]:
    """Every start, oldest first (computed once per lineage)."""
    out = []
    for full, diff in data_starts(lin):
        last = diff or full
        p, fork = last.last_lsn.value, last.last_recovery_fork_guid
        found = lin.runs_containing(p)
        run, i = (found[0] if len(found) == 1 and found[0][0].accepts(found[0][1], p, fork) else (None, -1))
        out.append(_Start(lin.finish_key(last), lin.finish_key(full), full, diff, 1 if diff is None else 2,
                          full.size_on_disk + (diff.size_on_disk if diff else 0), p, fork, last.is_simple, run, i))
    out.sort(key=lambda s: s.key)
    return out


def _blocked(lin: Lineage, run: LogRun) -> list[int]:
    """Indexes of logs in ``run`` where another way forward exists (overlapping runs, fork switches)."""
    def compute() -> list[int]:
        marks: set[int] = set()
        n = len(run.logs)
        for other in lin.runs:
            if other is run or other.end <= run.start or other.start >= run.end:
                continue
            a = bisect.bisect_right(run.last, other.start)
            b = bisect.bisect_left(run.first, other.end)
            marks.update(range(max(0, a - 1), min(n, b + 1)))
        for span in lin.spanning:
            j = run.index_containing(span.first_lsn.value)
            if j is not None:
                marks.add(j)
        return sorted(marks)
    return lin.memo(f"blocked:{id(run)}", compute)


def _shortcut(lin: Lineage, anchors: dict[int, tuple[int, LogPath]], st: _Start, goal: Goal,
              best: Choice | None) -> LogPath | None | bool:
    """Reuse the optimal path of a newer start that entered the same run.

    When nothing else holds an LSN between this start's redo point and the newer entry, the only
    way forward is that run's logs up to the newer entry: the optimum from here is those logs
    followed by the newer optimum. Returns the path, False when it cannot beat ``best``, or None
    to search normally.
    """
    run = st.run
    if run is None:
        return None
    anchor = anchors.get(id(run))
    if anchor is None:
        return None
    i, path = anchor
    i2 = st.i
    if i < i2:
        return None
    blocked = _blocked(lin, run)
    b = bisect.bisect_left(blocked, i2)
    if b < len(blocked) and blocked[b] <= i:
        return None
    if i > i2 and _reaches(run, i - 1, goal):  # the goal comes before the newer entry
        return None
    extra = i - i2
    if best is not None and st.dsteps + extra + path.steps > best.steps:
        return False
    first = path.segments[0]
    merged = (Segment(run, i2, first.k, first.stop_before),) + path.segments[1:]
    return LogPath(merged, path.steps + extra, path.bytes + (run.bytes_between(i2, i - 1) if extra else 0))


def _full_only_before(lin: Lineage) -> list[int]:
    """Per start, oldest first: the index of the newest older start that is a full alone (-1)."""

    def compute() -> list[int]:
        out: list[int] = []
        last = -1
        for n, st in enumerate(lin.memo("starts", lambda: _starts(lin))):
            out.append(last)
            if st.diff is None:
                last = n
        return out

    return lin.memo("full_only_before", compute)


def _furthest_start(lin: Lineage) -> list[int]:
    """Per start, oldest first: the furthest redo point of it and the older starts."""
    starts = lin.memo("starts", lambda: _starts(lin))
    return lin.memo("furthest_start", lambda: list(accumulate((s.p for s in starts), max)))


def _reaches(run: LogRun, j: int, goal: Goal) -> bool:
    """Does log j of the run already complete the goal? (reach and last_lsn ascend in a run)"""
    if goal.time is not None:
        return run.reach[j] >= goal.time
    if goal.lsn is not None:
        return run.last[j] > goal.lsn
    return False


def _search(
    lin: Lineage,
    goal: Goal,
    data_ok: Callable[[BackupSet], bool],
    data_done: Callable[[BackupSet], bool],
) -> _Search:
    """Every usable (full, differential?) start, newest first; the cheapest complete plan wins."""
    res = _Search()
    starts = lin.memo("starts", lambda: _starts(lin))
    top = len(starts)
    if goal.time is not None:  # only starts that finished at or before the target
        top = bisect.bisect_right(start_keys(lin), goal.time)
    anchors: dict[int, tuple[int, LogPath]] = {}
    skip_at = goal.time if goal.exact_end is None else None  # a time goal: older starts may be skipped
    m = top
    while m > 0:
        m -= 1
        st = starts[m]
        if skip_at is not None and res.best is not None and st.key < skip_at:
            # from here on no start is done: each needs a data step or two and a log at least
            if res.best.steps < 2:
                break
            if st.dsteps >= res.best.steps:  # so do the differentials down to the next full
                m = _full_only_before(lin)[m] + 1
                continue
            # and none can need fewer logs than from the furthest redo point among them
            if cover_of(lin).needs_at_least(_furthest_start(lin)[m], skip_at, res.best.steps):
                break
        if goal.time is not None:
            if st.full_key > goal.time:
                continue
        elif not data_ok(st.full) or (st.diff is not None and not data_ok(st.diff)):
            continue
        last = st.diff or st.full
        done = st.key == goal.time if goal.time is not None else data_done(last)
        if res.best is not None and st.dsteps + (0 if done else 1) > res.best.steps:
            continue
        if done:
            cand = Choice(st.dsteps, st.dbytes, st.key, st.full, st.diff, None)
        elif st.simple:
            res.simple.append(last)
            continue
        else:
            short = _shortcut(lin, anchors, st, goal, res.best) if goal.exact_end is None else None
            if short is False:
                continue
            if isinstance(short, LogPath):
                path = short
            else:
                found = search_logs(lin, st.p, st.fork, st.key, goal, res.notes)
                if found is None:
                    continue
                path = found
                first = path.segments[0]
                if st.run is first.run and st.i == first.i:
                    anchors[id(first.run)] = (first.i, path)
            cand = Choice(st.dsteps + path.steps, st.dbytes + path.bytes, st.key, st.full, st.diff, path)
        if cand.better_than(res.best):
            res.best = cand
    return res


def _time_search(lin: Lineage, key: datetime) -> _Search:
    return _search(lin, Goal(time=key), lambda b: lin.finish_key(b) <= key, lambda b: lin.finish_key(b) == key)


def cheapest_at(lin: Lineage, key: datetime) -> Choice | None:
    """What a plan to the compare key ``key`` would restore, or None when nothing reaches it.

    Audit measures its worst case with this, so its figures are those of the plans users run.
    """
    best = _time_search(lin, key).best
    return newest_choice(lin, key, best) if best is not None else None


def start_keys(lin: Lineage) -> list[datetime]:
    """When each data start (a full, or a full and a differential) finished, oldest first."""
    return lin.memo("start_keys", lambda: [s.key for s in lin.memo("starts", lambda: _starts(lin))])


def choose_lineage(history: History, database: str, target: RecoveryTarget, family_guid: str | None) -> tuple[Lineage, list[str]]:
    """The lineage a name means; a name used by several incarnations resolves by the target."""
    found = history.lineages_named(database)
    if not found:
        names = ", ".join(history.database_names) or "(none)"
        raise UsageError(f"no database named {database!r} in the history", hint=f"databases: {names}")
    if family_guid:
        wanted = family_guid.strip("{}").lower()
        match = [lin for lin in found if wanted in (lin.key, lin.family)]
        if not match:
            keys = ", ".join(lin.key for lin in found)
            raise UsageError(f"{database!r} has no lineage with family_guid {family_guid}", hint=f"lineages: {keys}")
        return match[0], []
    if len(found) == 1:
        return found[0], []
    ordered = sorted(found, key=lambda lin: lin.last_time)
    chosen = ordered[-1]
    if target.kind is TargetKind.TIME and target.time is not None:
        covering = []
        for lin in ordered:
            try:
                key = clock_of(lin).resolve(target.time).key
            except UsageError:
                continue
            if any(key in w for w in lineage_windows(lin)):
                covering.append(lin)
        if covering:
            chosen = covering[-1]
        else:
            spanning = [lin for lin in ordered if lin.first_time <= target.time.replace(tzinfo=None) <= lin.last_time]
            if spanning:
                chosen = spanning[-1]
    elif target.kind in (TargetKind.MARK, TargetKind.BEFORE_MARK):
        with_mark = [lin for lin in ordered if any(m.mark_name == target.mark for m in lin.marks)]
        if with_mark:
            chosen = with_mark[-1]
    note = (
        f"{database!r} names {len(found)} lineages (the database was dropped and recreated); "
        f"using family_guid {chosen.key}; pass --family-guid to choose another"
    )
    return chosen, [note]


def _point(clock: Clock, key: datetime | None) -> PointInfo | None:
    if key is None:
        return None
    rt = clock.from_key(key)
    return PointInfo(rt.local_text, rt.utc_text)


def _explain_time(lin: Lineage, clock: Clock, rt: ResolvedTime, search: _Search) -> NotRecoverable:
    windows = lineage_windows(lin)
    _, before, after = locate(windows, rt.key)
    nb = _point(clock, before.end if before else None)
    na = _point(clock, after.start if after else None)
    when = rt.local_text
    fulls_before = [f for f in lin.fulls if lin.finish_key(f) <= rt.key]
    if not fulls_before:
        blocked = [
            f"{s.backup_set_uuid} ({reason})"
            for s in lin.sets
            if s.type is BackupType.FULL and lin.finish_key(s) <= rt.key
            for reason in [lin.unavailable.get(s.backup_set_uuid)]
            if reason
        ]
        msg = f"no restorable full backup finished at or before {when}"
        if blocked:
            msg += "; unusable fulls: " + "; ".join(blocked[:3])
        return NotRecoverable(msg, hint="choose a later time, or restore the nearest point after", nearest_before=nb, nearest_after=na, code="NO_FULL_BEFORE_TARGET")
    if search.notes.bulk:
        log = search.notes.bulk[-1]
        return NotRecoverable(
            f"{when} falls inside log backup {log.backup_set_uuid}, which holds bulk-logged changes: "
            "point-in-time recovery inside it is impossible (error 4341)",
            hint="restore to the end of that log or to a point before it",
            backup_set_uuid=log.backup_set_uuid, nearest_before=nb, nearest_after=na, code="BULK_LOGGED",
        )
    if search.notes.fork_span:
        log = search.notes.fork_span[-1]
        return NotRecoverable(
            f"{when} falls in log backup {log.backup_set_uuid}, which spans a recovery fork; msdb cannot "
            f"tell when its new-fork records begin, so only times from its start "
            f"{fmt_time(log.backup_start_date)} are reachable",
            hint="choose a time at or after that log's start",
            backup_set_uuid=log.backup_set_uuid, nearest_before=nb, nearest_after=na, code="FORK_SPAN",
        )
    reached = search.notes.furthest_time
    newest_simple = max(search.simple, key=lin.finish_key, default=None)
    if newest_simple is not None and (reached is None or lin.finish_key(newest_simple) >= reached):
        s = newest_simple
        return NotRecoverable(
            f"{when} is not reachable: the database was in SIMPLE recovery (backup {s.backup_set_uuid} "
            "has no log chain after it); only the end points of data backups are reachable",
            hint="restore to the end of a data backup", backup_set_uuid=s.backup_set_uuid,
            nearest_before=nb, nearest_after=na, code="SIMPLE_RECOVERY",
        )
    p = search.notes.furthest_lsn
    nxt = min((log for log in lin.logs if log.first_lsn.value > p), key=lambda log: log.first_lsn, default=None)
    missing = [f"{u} ({r})" for u, r in lin.unavailable.items() if lin.by_uuid.get(u) and lin.by_uuid[u].type is BackupType.LOG]
    msg = f"{when} is not reachable: no usable log backup contains LSN {p} (SQL Server would raise error 4305 naming it)"
    if nxt is not None:
        msg += f"; the chain resumes with log {nxt.backup_set_uuid} at LSN {nxt.first_lsn} (finished {fmt_time(nxt.backup_finish_date)})"
    if missing:
        msg += "; unusable logs: " + "; ".join(missing[:3])
    return NotRecoverable(msg, hint="pick a reachable point (--or-earlier does it for you)", lsn=p,
                          backup_set_uuid=nxt.backup_set_uuid if nxt else None,
                          nearest_before=nb, nearest_after=na, code="LOG_GAP")


def _resolve_mark(lin: Lineage, target: RecoveryTarget) -> tuple[LogMark, str | None]:
    """The mark a target names in this lineage, and the recovery fork of its record."""
    if not lin.marks and not lin.outside_marks:
        raise UsageError("no marks are loaded for this database", hint="pass --marks FILE (an export of msdb.dbo.logmarkhistory)")
    named = sorted((m for m in lin.marks if m.mark_name == target.mark), key=lambda m: m.lsn)
    if target.after is not None:
        named = [m for m in named if m.mark_time >= target.after]
    if not named:
        known = ", ".join(sorted({m.mark_name for m in lin.marks})[:10]) or "(none)"
        outside = [m for m in lin.outside_marks if m.mark_name == target.mark
                   and (target.after is None or m.mark_time >= target.after)]
        msg = f"mark {target.mark!r} is not in the history" + (f" after {target.after}" if target.after else "")
        if outside:
            m = outside[0]
            msg = (f"mark {target.mark!r} (LSN {m.lsn}, {fmt_time(m.mark_time)}) lies in no log backup of this "
                   f"lineage (family_guid {lin.key}): it belongs to another incarnation of {lin.database_name!r}, "
                   "or the log backup that holds it is not in the history")
        raise NotRecoverable(msg, hint=f"known marks of this lineage: {known}", code="UNKNOWN_MARK")
    mark = named[0]
    log = lin.mark_logs(mark)[0]
    return mark, fork_at(log, mark.lsn.value)


def _lsn_fork(lin: Lineage, n: int, warnings: list[str]) -> str | None:
    """The recovery fork an LSN target is taken on (restore-rules B.6). After a restore WITH
    RECOVERY both forks continue from the fork point, so one LSN can name a record on each: the
    fork the database is on now is chosen when it is one of them, else the newest, and the
    plan says which. None: one fork (or none known), nothing to choose."""
    newest: dict[str, datetime] = {}
    for log in lin.logs_holding(n):
        f = fork_at(log, n)
        if f is not None and (f not in newest or log.backup_finish_date > newest[f]):
            newest[f] = log.backup_finish_date
    if len(newest) < 2:
        return None
    live = live_fork(lin)
    chosen = live if live in newest else max(newest, key=lambda f: newest[f])
    others = ", ".join(sorted(f for f in newest if f != chosen))
    warnings.append(f"LSN {n} lies on {len(newest)} recovery forks (the database was restored WITH RECOVERY "
                    f"before it): planning on fork {chosen}"
                    + (" (the one the database is on now)" if chosen == live else " (the newest)")
                    + f", not on {others}")
    return chosen


def _last_backup_point(lin: Lineage) -> datetime | None:
    """The latest time a usable backup covers: a target after it needs a tail-log backup."""
    return lin.memo("last_point", lambda: _compute_last_point(lin))


def _compute_last_point(lin: Lineage) -> datetime | None:
    keys = [lin.reach_key(s) if s.type is BackupType.LOG else lin.finish_key(s)
            for s in lin.sets if s.backup_set_uuid not in lin.unavailable]
    return max(keys) if keys else None


def _reachable_before(lin: Lineage, key: datetime) -> datetime | None:
    """The latest point at or before ``key`` that a plan without a tail-log reaches (the recoverable
    windows: a refusal names only points that plan), or None."""
    inside, before, _ = locate(lineage_windows(lin), key)
    if inside is not None:
        return key
    return before.end if before is not None else None


def _last_reachable(lin: Lineage, clock: Clock) -> PointInfo | None:
    """The latest point a plan without a tail-log reaches, as a refusal names it."""
    windows = lineage_windows(lin)
    return _point(clock, windows[-1].end) if windows else None


def _around_lsn(lin: Lineage, clock: Clock, n: int) -> tuple[PointInfo | None, PointInfo | None]:
    """The nearest reachable times around LSN ``n``, for a refusal: an LSN has no time of its
    own, so it is placed after the backups that end at or before it and before those that
    begin after it."""
    lo = max((lin.finish_key(s) for s in lin.sets if s.last_lsn.value <= n), default=None)
    hi = min((lin.start_key(s) for s in lin.sets if s.first_lsn.value > n), default=None)
    before = after = None
    for w in lineage_windows(lin):
        if lo is not None and w.start <= lo:
            before = min(w.end, lo)
        if hi is not None and after is None and w.end >= hi:
            after = max(w.start, hi)
    return _point(clock, before), _point(clock, after)


def plan_restore(history: History, database: str, target: RecoveryTarget, options: PlanOptions | None = None) -> Plan:
    """Plan the restore of ``database`` to ``target``."""
    opts = options or PlanOptions()
    if opts.tail not in TAIL_MODES:
        raise UsageError(f"--tail must be one of {', '.join(TAIL_MODES)}")
    lin, warnings = choose_lineage(history, database, target, opts.family_guid)
    return plan_lineage(lin, target, opts, warnings)


def plan_lineage(lin: Lineage, target: RecoveryTarget, opts: PlanOptions, warnings: list[str] | None = None) -> Plan:
    warnings = list(warnings or [])
    if lin.servers_apart:
        a, b = lin.servers_apart[0]
        raise UsageError(f"backups of {lin.database_name} from servers {a} and {b} ran at the same time on different "
                         "recovery forks: two databases of that name (a copy restored on another server?) are in "
                         "one history, and a plan could restore the wrong one's backups",
                         hint=f"choose the server: --server-name {a} or --server-name {b}")
    clock = clock_of(lin)
    name = lin.database_name
    if not lin.fulls:
        raise NotRecoverable(f"{name}: no restorable full backup in the history",
                             hint="check for damaged, snapshot or missing-file fulls", code="NO_FULL_BACKUP")
    if target.kind is TargetKind.LSN:
        assert target.lsn is not None
        n = target.lsn.value
        fork = _lsn_fork(lin, n, warnings)
        res = _search(lin, Goal(lsn=n, fork=fork), lambda b: b.last_lsn.value <= n, lambda b: False)
        if res.best is None:
            nb, na = _around_lsn(lin, clock, n)
            raise NotRecoverable(f"LSN {n} is not reachable: no chain of backups from a full ending at or before it "
                                 "reaches a log that contains it", lsn=n, nearest_before=nb, nearest_after=na,
                                 hint="check validate's LOG_GAP findings; the nearest reachable times are given",
                                 code="LSN_NOT_REACHABLE")
        stop = Stop(StopKind.STOPATMARK, f"lsn:{n}")
        return _build(lin, clock, target, None, res.best, stop, None, warnings, f"LSN {n} (STOPATMARK, the record at that LSN included)", None, stop_all=False)
    if target.kind in (TargetKind.MARK, TargetKind.BEFORE_MARK):
        mark, fork = _resolve_mark(lin, target)
        m = mark.lsn.value
        res = _search(lin, Goal(lsn=m, fork=fork), lambda b: b.last_lsn.value <= m, lambda b: False)
        if res.best is None:
            nb, na = _around_lsn(lin, clock, m)
            raise NotRecoverable(f"mark {target.mark!r} at LSN {m} is not reachable from the backups", lsn=m,
                                 nearest_before=nb, nearest_after=na,
                                 hint="check validate's LOG_GAP findings; the nearest reachable times are given",
                                 code="MARK_NOT_REACHABLE")
        kind = StopKind.STOPBEFOREMARK if target.kind is TargetKind.BEFORE_MARK else StopKind.STOPATMARK
        after = fmt_time(target.after) if target.after else None
        stop = Stop(kind, mark.mark_name, after=after)
        label = "before" if kind is StopKind.STOPBEFOREMARK else "including"
        return _build(lin, clock, target, None, res.best, stop, None, warnings,
                      f"mark {mark.mark_name!r} at LSN {m} ({label} the marked transaction, at {fmt_time(mark.mark_time)})", None, stop_all=False)

    last_point = _last_backup_point(lin)
    assert last_point is not None
    if target.kind is TargetKind.LATEST:
        windows = lineage_windows(lin)
        if opts.tail == "always":
            try:
                return _tail_plan(lin, clock, target, None, opts, warnings)
            except NotRecoverable as err:
                return _or_earlier(lin, clock, target, None, opts, warnings, err)
        if not windows:
            raise NotRecoverable(f"{name}: nothing in the history is restorable", code="NOTHING_RESTORABLE")
        key = windows[-1].end
        rt = clock.from_key(key)
        return _time_plan(lin, clock, target, rt, opts, warnings, stop=False)
    assert target.time is not None
    rt = clock.resolve(target.time)
    if rt.key > last_point:
        try:
            if opts.tail == "never":
                lp = clock.from_key(last_point)
                raise NotRecoverable(
                    f"{rt.local_text} is after the last backup (finished {lp.local_text}) and --tail never was given",
                    hint="allow a tail-log backup (--tail auto) or choose the latest reachable point (--latest)",
                    nearest_before=_last_reachable(lin, clock), code="AFTER_LAST_BACKUP",
                )
            return _tail_plan(lin, clock, target, rt, opts, warnings)
        except NotRecoverable as err:
            return _or_earlier(lin, clock, target, rt, opts, warnings, err)
    if opts.tail == "never":
        return _time_plan(lin, clock, target, rt, opts, warnings, stop=True)
    try:
        plan = _time_plan(lin, clock, target, rt, replace(opts, or_earlier=False), warnings, stop=True)
    except NotRecoverable:
        # before the last backup but after the last log backup (a data backup finished later): the
        # existing backups do not reach it, the tail of the log does
        tail = _tail_inside(lin, clock, target, rt, opts, warnings)
        if tail is not None:
            return tail
        if not opts.or_earlier:
            raise
        plan = _time_plan(lin, clock, target, rt, opts, warnings, stop=True)
    if opts.tail == "always":
        return _with_tail_backup(plan, lin)
    return plan


def _tail_inside(lin: Lineage, clock: Clock, target: RecoveryTarget, rt: ResolvedTime, opts: PlanOptions,
                 warnings: list[str]) -> Plan | None:
    """A tail plan to a time before the last backup that no plan without the tail reaches, or None.

    Every data backup it restores finished at or before the target (error 4338), and every log
    before the tail ends at or before it: STOPAT inside one would end the restore there, short of
    the tail (and inside a bulk-logged log it is error 4341).
    """
    try:
        plan = _tail_plan(lin, clock, target, rt, opts, warnings, until=rt.key)
    except NotRecoverable:
        return None
    for step in plan.steps:
        if (step.action is Action.RESTORE_LOG and step.backup is not None and step.stop is not None
                and step.stop.kind is StopKind.STOPAT and lin.reach_key(step.backup) > rt.key):
            return None
    return plan


def _ambiguity_warning(rt: ResolvedTime) -> list[str]:
    if not rt.ambiguous:
        return []
    return [f"STOPAT {rt.local_text} is ambiguous: a DST change repeats that hour of server-local time. The target "
            f"{rt.utc_text} is {rt.local_text} at UTC offset {rt.offset_text}, but SQL Server reads STOPAT as "
            "server-local time and may stop at the other reading of it: check, or choose a time outside the "
            "repeated hour"]


def _or_earlier(lin: Lineage, clock: Clock, target: RecoveryTarget, rt: ResolvedTime | None, opts: PlanOptions,
                warnings: list[str], err: NotRecoverable) -> Plan:
    """--or-earlier after a refusal of a target past the backups (AFTER_LAST_BACKUP, TAIL_UNREACHABLE,
    NO_TAIL_IN_SIMPLE): the latest point at or before the target that plans without a tail-log."""
    if not opts.or_earlier:
        raise err
    if rt is not None:
        earlier_key = _reachable_before(lin, rt.key)
    else:
        windows = lineage_windows(lin)
        earlier_key = windows[-1].end if windows else None
    if earlier_key is None:
        raise err
    earlier = clock.from_key(earlier_key)
    asked = rt.local_text if rt is not None else "the latest point (with the tail of the log)"
    changed = warnings + [
        f"TARGET CHANGED: {asked} is not reachable ({err.message}); "
        f"planning to the nearest earlier point {earlier.local_text} instead (--or-earlier)"
    ]
    plan = _time_plan(lin, clock, target, earlier, PlanOptions(opts.tail, False, opts.family_guid), changed,
                      stop=rt is not None)
    if opts.tail == "always" and err.code != "NO_TAIL_IN_SIMPLE":
        return _with_tail_backup(plan, lin)
    return plan


def _time_plan(lin: Lineage, clock: Clock, target: RecoveryTarget, rt: ResolvedTime, opts: PlanOptions,
               warnings: list[str], *, stop: bool) -> Plan:
    key = rt.key
    res = _time_search(lin, key)
    if res.best is None:
        err = _explain_time(lin, clock, rt, res)
        if opts.or_earlier and err.nearest_before is not None:
            windows = lineage_windows(lin)
            _, before, _ = locate(windows, key)
            assert before is not None
            earlier = clock.from_key(before.end)
            warnings = warnings + [
                f"TARGET CHANGED: {rt.local_text} is not reachable ({err.message}); "
                f"planning to the nearest earlier point {earlier.local_text} instead (--or-earlier)"
            ]
            return _time_plan(lin, clock, target, earlier, PlanOptions(opts.tail, False, opts.family_guid), warnings, stop=stop)
        raise err
    best = newest_choice(lin, key, res.best)
    stop_clause = Stop(StopKind.STOPAT, rt.local_text, utc=rt.utc_text) if stop else None
    label = f"{rt.local_text} server-local" + (f" ({rt.utc_text})" if rt.utc_text else "")
    if best is not res.best:
        label += f": the newest state, LSN {best.last.last_lsn}, of the backups that end then"
    elif stop:
        label += ": the latest commit at or before it"
    return _build(lin, clock, target, rt, best, stop_clause, None, warnings, label, rt, stop_all=True)


def newest_choice(lin: Lineage, key: datetime, c: Choice) -> Choice:
    """The newest state at a time, not only a plan that reaches the time: backups that end in the
    same instant (a full and a differential or log finished within one tick of the clock; backup
    headers keep whole seconds) reach one time with different LSNs, and the fewest steps to that
    time can stop at the lower one, leaving out commits made by then. The choice is taken on to
    the highest LSN that ends at that time, when a chain reaches it. An index lookup: the common
    case (nothing else ends then) costs two bisections."""
    keys, ends = ends_by_time(lin)
    lo, hi = bisect.bisect_left(keys, key), bisect.bisect_right(keys, key)
    reached = c.last.last_lsn.value
    for b in sorted((b for b in ends[lo:hi] if b.last_lsn.value > reached), key=lambda b: b.last_lsn, reverse=True):
        end = b.last_lsn.value
        fork = b.last_recovery_fork_guid or b.first_recovery_fork_guid

        def done(d: BackupSet, end: int = end, fork: str | None = fork) -> bool:
            return d.last_lsn.value == end and forks_match(d.last_recovery_fork_guid or d.first_recovery_fork_guid, fork)

        best = _search(lin, Goal(exact_end=end, fork=fork), lambda d: lin.finish_key(d) <= key, done).best
        if best is not None:
            return best
    return c


def ends_by_time(lin: Lineage) -> tuple[list[datetime], list[BackupSet]]:
    """The usable backups by the time they end (a log's reach, a data backup's finish), once per
    lineage. The usable non-empty logs are those of the runs, whose reach keys are already made."""
    return lin.memo("ends_by_time", lambda: _ends_by_time(lin))


def _ends_by_time(lin: Lineage) -> tuple[list[datetime], list[BackupSet]]:
    ends = [pair for run in lin.runs for pair in zip(run.reach, run.logs, strict=True)]
    finish_key = lin.finish_key
    ends += [(finish_key(b), b) for b in lin.sets
             if b.type is not BackupType.LOG and b.backup_set_uuid not in lin.unavailable]
    ends.sort(key=itemgetter(0))
    return [e[0] for e in ends], [e[1] for e in ends]


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


@dataclass(frozen=True, slots=True)
class _Anchor:
    """Where a tail-log backup would begin, and why there."""

    lsn: int
    fork: str | None
    log: BackupSet | None  # the regular log backup that ends there (None: no log on the live fork)
    since: datetime | None  # the end of the last backup taken in SIMPLE recovery: the chain began after it


def _tail_anchor(lin: Lineage) -> _Anchor | None:
    """Where a tail-log backup would begin: where the log was last truncated on the live fork.

    Every regular (not copy-only) log backup recorded truncated the log, usable or not (a damaged
    log or one with a missing stripe still moved the start of the tail: restore-rules B.12,
    rules-notes item 6); logs of abandoned recovery forks did not (B.6), nor did those before a
    SIMPLE period (the log chain restarted at the first data backup after it, B.7.1). Without
    such a log the log was not truncated since the chain began: the tail holds the end of every
    usable data backup taken since, and the anchor is the lowest of those ends (None: none).
    """
    fork = live_fork(lin)
    own = [s for s in lin.own_sets if forks_match(s.last_recovery_fork_guid or s.first_recovery_fork_guid, fork)]
    since = max((lin.finish_key(s) for s in own if s.is_simple), default=None)
    if since is not None:
        own = [s for s in own if lin.finish_key(s) > since]
    logs = [s for s in own if s.type is BackupType.LOG and not s.is_copy_only]
    if logs:
        last_log = max(logs, key=lambda s: (s.last_lsn, lin.finish_key(s)))
        return _Anchor(last_log.last_lsn.value, fork, last_log, since)
    data = [s.last_lsn.value for s in own if s.type.is_data and s.backup_set_uuid not in lin.unavailable]
    return _Anchor(min(data), fork, None, since) if data else None


def _tail_unreachable(lin: Lineage, clock: Clock, anchor: _Anchor | None) -> NotRecoverable:
    nb = _last_reachable(lin, clock)
    if anchor is None:
        return NotRecoverable("no log backup was taken since the log chain began (on the recovery fork the database "
                              "is on now, after the last SIMPLE period), and no usable data backup either: no plan "
                              "can end where a tail-log backup would begin", hint="see validate's findings",
                              nearest_before=nb, code="TAIL_UNREACHABLE")
    where = why = ""
    if anchor.log is not None:
        log = anchor.log
        where = (f", where log backup {log.backup_set_uuid} (finished {fmt_time(log.backup_finish_date)}) ends "
                 "(a log backup truncates the log, usable or not)")
        reason = lin.unavailable.get(log.backup_set_uuid)
        if reason:
            why = f": that log backup cannot be restored ({reason})"
    fork = f" on recovery fork {anchor.fork}" if anchor.fork and len(_forks(lin)) > 1 else ""
    return NotRecoverable(
        f"a tail-log backup would begin at LSN {anchor.lsn}{where}, but no chain of usable backups reaches "
        f"that LSN{fork}{why}",
        hint="the log chain is broken before the end; see validate's LOG_GAP findings (--or-earlier plans to "
             "the latest reachable point)",
        lsn=anchor.lsn, backup_set_uuid=anchor.log.backup_set_uuid if anchor.log else None,
        nearest_before=nb, code="TAIL_UNREACHABLE",
    )


def _forks(lin: Lineage) -> set[str]:
    return lin.memo("forks", lambda: {f for s in lin.sets for f in (s.first_recovery_fork_guid,
                                                                    s.last_recovery_fork_guid) if f})


def _tail_plan(lin: Lineage, clock: Clock, target: RecoveryTarget, rt: ResolvedTime | None, opts: PlanOptions,
               warnings: list[str], *, until: datetime | None = None) -> Plan:
    """A plan through the tail of the log; ``until``: only data backups finished by then (a target
    time before the last backup)."""
    anchor = _tail_anchor(lin)
    newest = max(lin.own_sets, key=lambda s: (lin.finish_key(s), s.last_lsn))
    if newest.is_simple:
        raise NotRecoverable(
            "the target is after the last backup and the database was in SIMPLE recovery: no tail-log backup exists",
            hint="restore to the latest backup instead (--latest)",
            nearest_before=_last_reachable(lin, clock), code="NO_TAIL_IN_SIMPLE",
        )
    if anchor is None:
        raise _tail_unreachable(lin, clock, anchor)
    at, fork, since = anchor.lsn, anchor.fork, anchor.since

    def done(b: BackupSet) -> bool:  # a data backup the tail follows directly: it holds its end
        return (b.last_lsn.value >= at and forks_match(b.last_recovery_fork_guid or b.first_recovery_fork_guid, fork)
                and (since is None or lin.finish_key(b) > since))

    def data_ok(b: BackupSet) -> bool:
        return until is None or lin.finish_key(b) <= until

    res = _search(lin, Goal(exact_end=at, fork=fork), data_ok, done)
    if res.best is None:
        raise _tail_unreachable(lin, clock, anchor)
    stop = Stop(StopKind.STOPAT, rt.local_text, utc=rt.utc_text) if rt is not None else None
    label = (f"{rt.local_text} server-local" + (f" ({rt.utc_text})" if rt.utc_text else "") + ", from the tail of the log"
             if rt is not None else "the end of the tail-log backup (everything the database holds now)")
    warnings = warnings + ["the plan needs a tail-log backup of the source database: it must still be reachable; "
                           "restored over itself, BACKUP LOG ... WITH NORECOVERY leaves it RESTORING (use NO_TRUNCATE "
                           "if it is damaged); restored as a copy under another name, the script takes the tail "
                           "COPY_ONLY and leaves it online"]
    return _build(lin, clock, target, rt, res.best, stop, at, warnings, label, rt, stop_all=True,
                  tail_from_log=anchor.log is not None)


def _tail_backup_step(lin: Lineage) -> Step:
    return Step(Action.BACKUP_TAIL_LOG, None,
                "back up the tail of the log WITH NORECOVERY first: it protects every transaction since the last "
                "log backup and stops further changes (restore-rules B.12; NO_TRUNCATE for a damaged database)")


def _with_tail_backup(plan: Plan, lin: Lineage) -> Plan:
    steps = (_tail_backup_step(lin),) + plan.steps
    return Plan(plan.database_name, plan.lineage_key, plan.family_guid, plan.target, plan.target_time, steps,
                plan.recovery_point, plan.recovery_time, plan.warnings + ("--tail always: the tail of the log is backed up first for safety, "
                "but the target is covered by existing backups, so the tail is not restored",), plan.bytes_read)


def _build(lin: Lineage, clock: Clock, target: RecoveryTarget, rt: ResolvedTime | None, best: Choice, stop: Stop | None,
           tail_anchor: int | None, warnings: list[str], label: str, recovery_time: ResolvedTime | None, *, stop_all: bool,
           tail_from_log: bool = True) -> Plan:
    steps: list[Step] = []
    if tail_anchor is not None:
        steps.append(_tail_backup_step(lin))
    full, diff = best.full, best.diff
    why_full = (
        f"full backup finished {fmt_time(full.backup_finish_date)}"
        + (" (copy-only: it starts the chain but is never a differential base)" if full.is_copy_only else "")
        + ("; the base of the differential below" if diff else "")
    )
    steps.append(Step(Action.RESTORE_DATABASE, full, why_full))
    if full.is_copy_only:
        warnings.append(f"the plan starts from copy-only full {full.backup_set_uuid}")
    if diff is not None:
        steps.append(Step(Action.RESTORE_DATABASE, diff,
                          f"latest usable differential on that full (differential_base_guid = {full.backup_set_uuid}); "
                          "differentials are cumulative, so only one is needed"))
    logs = best.path.logs() if best.path else []
    for n, (log, stop_before) in enumerate(logs):
        is_last = n == len(logs) - 1 and tail_anchor is None
        step_stop: Stop | None
        if stop_before is not None:
            step_stop = Stop(StopKind.STOPBEFOREMARK, f"lsn:{stop_before}")
            why = (f"log on the old recovery fork, stopped just before LSN {stop_before}, where the next log "
                   "switches to the new fork (restore-rules B.6)")
        else:
            step_stop = stop if (stop_all or is_last) else None
            why = _why_log(log, n, is_last, full if diff is None else diff)
        if log.has_bulk_logged_data:
            warnings.append(f"log {log.backup_set_uuid} holds bulk-logged changes: no point-in-time stop inside it")
        steps.append(Step(Action.RESTORE_LOG, log, why, step_stop))
    if tail_anchor is not None:
        steps.append(Step(Action.RESTORE_LOG, None,
                          f"the tail-log backup taken in step 1: it begins at LSN {tail_anchor}, where the last log backup ends"
                          if tail_from_log else
                          "the tail-log backup taken in step 1: no log backup was taken since the log chain began, "
                          "so it holds the end of every data backup since",
                          stop, is_tail=True))
    steps.append(Step(Action.RECOVER, None, "bring the database online (RESTORE ... WITH RECOVERY)"))
    if stop is not None and stop.kind is StopKind.STOPAT and rt is not None:
        warnings.extend(_ambiguity_warning(rt))
    servers = {s.backup.server_name for s in steps if s.backup and s.backup.server_name}
    if len(servers) > 1:
        warnings.append("the plan uses backups taken on several servers (" + ", ".join(sorted(servers)) +
                        "): expected for availability-group replicas; all files must be reachable from the target server")
    for s in steps:
        if s.backup and s.backup.has_incomplete_metadata:
            warnings.append(f"backup {s.backup.backup_set_uuid} has incomplete metadata (a tail-log of a damaged database)")
        if s.backup and s.backup.encryptor_thumbprint:
            warnings.append(f"backup {s.backup.backup_set_uuid} is encrypted: the target server needs the certificate "
                            f"or key with thumbprint {s.backup.encryptor_thumbprint}")
    return Plan(
        database_name=lin.database_name, lineage_key=lin.key, family_guid=full.family_guid, target=target,
        target_time=rt, steps=tuple(steps), recovery_point=label, recovery_time=recovery_time,
        warnings=tuple(dict.fromkeys(warnings)), bytes_read=best.nbytes,
    )


def _why_log(log: BackupSet, n: int, is_last: bool, base: BackupSet) -> str:
    if n == 0:
        text = f"first log after the {base.type.label} backup: it contains LSN {base.last_lsn}, the redo point"
    else:
        text = f"next log in the chain (first_lsn {log.first_lsn})"
    if is_last:
        text += "; the first log whose coverage reaches the target, so nothing is restored after it"
    return text
