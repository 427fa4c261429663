"""The cheapest restore choices: every data start (a full, or a full and a differential), newest
first, with the cheapest log path from it to a goal (restore-rules B.1-B.5, F).

Minimal means fewest restore steps; ties go to fewest bytes read, then to the newest data
backups. The planner, audit's worst case and the windows all ask this module, so their answers
agree. Pure: no I/O."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate
from operator import itemgetter

from restoreplan.core.chain import Goal, LogPath, SearchNotes, Segment, search_logs
from restoreplan.core.cover import cover_of
from restoreplan.core.history import Lineage, LogRun, forks_match
from restoreplan.core.model import BackupSet, BackupType
from restoreplan.core.windows import data_starts


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
class Search:
    """What a search found: the cheapest choice, and notes on what stopped the others."""

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


def search(
    lin: Lineage,
    goal: Goal,
    data_ok: Callable[[BackupSet], bool],
    data_done: Callable[[BackupSet], bool],
) -> Search:
    """Every usable (full, differential?) start, newest first; the cheapest complete plan wins."""
    res = Search()
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


def time_search(lin: Lineage, key: datetime) -> Search:
    """The search for a plan to the compare key ``key`` (data backups finished by then)."""
    return search(lin, Goal(time=key), lambda b: lin.finish_key(b) <= key, lambda b: lin.finish_key(b) == key)


def cheapest_at(lin: Lineage, key: datetime) -> Choice | None:
    """What a plan to the compare key ``key`` would restore, or None when nothing reaches it.

    Audit measures its worst case with this, so its figures are those of the plans users run.
    """
    best = time_search(lin, key).best
    return newest_choice(lin, key, best) if best is not None else None


def start_keys(lin: Lineage) -> list[datetime]:
    """When each data start (a full, or a full and a differential) finished, oldest first."""
    return lin.memo("start_keys", lambda: [s.key for s in lin.memo("starts", lambda: _starts(lin))])


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

        best = search(lin, Goal(exact_end=end, fork=fork), lambda d: lin.finish_key(d) <= key, done).best
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
