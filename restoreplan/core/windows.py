"""Recoverable windows: every time T for which a plan (without a tail-log) exists.

T is inside a window exactly when ``plan --at T --tail never`` succeeds. Windows are closed
intervals on the lineage's clock; isolated points (a SIMPLE-recovery data backup, the end of a
bulk-logged log) are windows whose start equals their end.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime

from restoreplan.core.chain import fork_at
from restoreplan.core.history import Lineage, LogRun, forks_match
from restoreplan.core.model import BackupSet


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime

    def __contains__(self, t: object) -> bool:
        return isinstance(t, datetime) and self.start <= t <= self.end


def data_starts(lin: Lineage) -> list[tuple[BackupSet, BackupSet | None]]:
    """Every restorable (full, differential-or-None) pair."""
    out: list[tuple[BackupSet, BackupSet | None]] = []
    for full in lin.fulls:
        out.append((full, None))
        if full.is_copy_only:
            continue  # a copy-only full is never a differential base (B.5)
        for diff in lin.diffs_for(full):
            if diff.last_lsn > full.last_lsn:
                out.append((full, diff))
    return out


def _subtract(start: datetime, end: datetime, holes: list[tuple[datetime, datetime]]) -> list[Window]:
    """[start, end] minus open intervals (their ends stay reachable), in one sweep: a run with
    thousands of bulk-logged logs has thousands of holes."""
    pieces: list[Window] = []
    at = start  # what lies before ``at`` is done
    for lo, hi in sorted(holes):
        if hi <= at or lo > end:
            continue
        if lo >= at:
            pieces.append(Window(at, lo))
        at = hi
    if at <= end:
        pieces.append(Window(at, end))
    return pieces


def _run_cover(lin: Lineage, run: LogRun, i: int, t_entry: datetime, p: int) -> list[Window]:
    """What entering ``run`` at log i, with the database at time t_entry and redo point p, makes
    reachable."""
    holes: list[tuple[datetime, datetime]] = []
    for k in run.bulk:
        if k < i:
            continue
        prev = run.reach[k - 1] if k > i else t_entry
        holes.append((prev, run.reach[k]))
    first = run.logs[i]
    # a time before a spanning log's start is refused (msdb cannot tell when its new-fork records
    # begin), unless the redo point entering it is already past the fork point (as the planner)
    past_fork = first.fork_point_lsn is not None and p > first.fork_point_lsn.value
    if first.spans_fork and lin.start_key(first) > t_entry and not past_fork:
        holes.append((t_entry, lin.start_key(first)))
    return _subtract(t_entry, run.reach[-1], holes)


def merge(windows: list[Window]) -> list[Window]:
    out: list[Window] = []
    for w in sorted(windows, key=lambda w: (w.start, w.end)):
        if out and w.start <= out[-1].end:
            if w.end > out[-1].end:
                out[-1] = Window(out[-1].start, w.end)
        else:
            out.append(w)
    return out


@dataclass(frozen=True, slots=True)
class Explored:
    """What the search from every data backup found: the windows, and where it entered each run
    of logs (``entries[id(run)]``: the lowest index; that log and every later one in the run is
    restored by some chain from a full)."""

    windows: list[Window]
    entries: dict[int, int]

    def restored(self, lin: Lineage, log: BackupSet) -> bool:
        """Is ``log`` restored by some chain from a data backup (whatever time it reaches)?"""
        if log.first_lsn.value >= log.last_lsn.value:
            return False
        for run, i in lin.runs_containing(log.first_lsn.value):
            if run.logs[i] is log:
                entry = self.entries.get(id(run))
                return entry is not None and entry <= i
        return False


def recoverable_windows(lin: Lineage) -> list[Window]:
    """All recoverable windows of a lineage, merged and sorted."""
    return _explore(lin).windows


def explored(lin: Lineage) -> Explored:
    """The windows and run entries of a lineage, computed once (``lineage_windows`` shares them)."""
    return lin.memo("explored", lambda: _explore(lin))


def _explore(lin: Lineage) -> Explored:
    found: list[Window] = []
    starts = sorted(
        data_starts(lin), key=lambda fd: lin.finish_key(fd[1] or fd[0])
    )
    # (id(run), fork at entry) -> smallest entry index already expanded: the fork decides which
    # spanning logs can be reached from inside the run (as in the planner's search), so an entry
    # on another fork is expanded again
    best_entry: dict[tuple[int, str | None], int] = {}
    entries: dict[int, int] = {}  # id(run) -> smallest entry index on any fork
    for full, diff in starts:
        last = diff or full
        if diff is not None and lin.finish_key(diff) < lin.finish_key(full):
            continue
        t0 = lin.finish_key(last)
        found.append(Window(t0, t0))
        if last.is_simple:
            continue
        # (redo point, fork, from a data backup, time, the log just stopped with STOPBEFOREMARK:
        # never entered again from that point, since past its fork point it holds the other fork)
        queue: deque[tuple[int, str | None, bool, datetime, BackupSet | None]] = deque(
            [(last.last_lsn.value, last.last_recovery_fork_guid, True, t0, None)]
        )
        seen: set[tuple[int, str | None, int]] = set()
        while queue:
            p, fork, from_data, t, stopped = queue.popleft()
            if (p, fork, id(stopped)) in seen:
                continue
            seen.add((p, fork, id(stopped)))
            for run, i in lin.runs_containing(p):
                if not run.accepts(i, p, fork) or run.logs[i] is stopped:
                    continue
                if run.logs[i].begins_log_chain and not from_data:
                    continue
                key = (id(run), fork)
                prev = best_entry.get(key)
                if prev is not None and prev <= i and not run.logs[i].spans_fork:
                    continue  # an earlier entry already covered everything from here on
                best_entry[key] = i if prev is None else min(prev, i)
                entries[id(run)] = min(i, entries.get(id(run), i))
                found.extend(_run_cover(lin, run, i, t, p))
                # the database's time after a log is never before the time it was entered at: a
                # log that ran beside a data backup ends before that backup finishes
                queue.append((run.end, run.exit_fork, False, max(t, run.reach[-1]), None))
                for j in lin.branch_points(run, i, len(run.logs) - 2):
                    queue.append((run.last[j], run.logs[j].last_recovery_fork_guid or fork, False,
                                  max(t, run.reach[j]), None))
                for span in lin.spanning:
                    s_first = span.first_lsn.value
                    if not (run.first[i] <= s_first < run.end) or s_first < p:
                        continue
                    js = run.index_containing(s_first)
                    if js is None or js < i or run.first[js] == s_first:
                        continue
                    # the fork of the log being stopped (a run entered on one fork can cross
                    # another before it), as in chain.search_logs
                    at_fork = fork_at(run.logs[js], s_first - 1) or fork
                    if not forks_match(at_fork, span.first_recovery_fork_guid):
                        continue
                    # a time goal switches only past the stopped log (chain.search_logs: a time the
                    # stopped log holds is met there or nowhere), so this route covers times after it
                    queue.append((s_first, at_fork, False, max(t, run.reach[js]), run.logs[js]))
    return Explored(merge(found), entries)


def locate(windows: list[Window], t: datetime) -> tuple[Window | None, Window | None, Window | None]:
    """(window holding t, nearest window before, nearest window after)."""
    before = after = None
    for w in windows:
        if t in w:
            return w, None, None
        if w.end < t:
            before = w
        elif w.start > t and after is None:
            after = w
    return None, before, after


def lineage_windows(lin: Lineage) -> list[Window]:
    """recoverable_windows, computed once per lineage."""
    return lin.memo("windows", lambda: explored(lin).windows)
