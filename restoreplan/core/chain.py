"""Log-chain search: from a redo point to a goal, fewest restore steps (restore-rules B.2-B.8).

The state of a database being restored is its redo point P and its recovery fork. A log applies
when ``first_lsn <= P < last_lsn`` on a matching fork (B.2, B.6); a log that begins a new chain
may only follow a data backup (B.7.1). Runs of consecutive logs are crossed by bisection, so the
cost of a query does not grow with the length of the chain.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from dataclasses import dataclass, field
from datetime import datetime

from restoreplan.core.history import Lineage, LogRun, forks_match
from restoreplan.core.model import BackupSet


@dataclass(frozen=True, slots=True)
class Goal:
    """Where the chain must end: a time key, an LSN to include, or an exact redo point."""

    time: datetime | None = None
    lsn: int | None = None  # the log holding this LSN is the last one
    exact_end: int | None = None  # the chain must end with P == exact_end (tail-log anchor)
    # the recovery fork the goal lies on (restore-rules B.6): for exact_end the fork the chain
    # ends on, for lsn the fork of the record at that LSN; None: any
    fork: str | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """Logs ``run.logs[i..k]``; the last one restored only up to ``stop_before`` when set."""

    run: LogRun
    i: int
    k: int
    stop_before: int | None = None

    def logs(self) -> list[BackupSet]:
        return self.run.logs[self.i : self.k + 1]


@dataclass(frozen=True, slots=True)
class LogPath:
    segments: tuple[Segment, ...]
    steps: int
    bytes: int

    def logs(self) -> list[tuple[BackupSet, int | None]]:
        out: list[tuple[BackupSet, int | None]] = []
        for seg in self.segments:
            logs = seg.logs()
            for n, log in enumerate(logs):
                out.append((log, seg.stop_before if n == len(logs) - 1 else None))
        return out


@dataclass(slots=True)
class SearchNotes:
    """Why paths failed, for the explanation of a refusal."""

    bulk: list[BackupSet] = field(default_factory=list)
    fork_span: list[BackupSet] = field(default_factory=list)
    furthest_lsn: int = -1
    furthest_time: datetime | None = None
    furthest_fork: str | None = None  # the recovery fork the database is on at furthest_lsn
    stuck_at: list[int] = field(default_factory=list)


def _goal_index(lin: Lineage, run: LogRun, i: int, goal: Goal) -> int | None:
    """First index >= i in the run whose log completes the goal."""
    n = len(run.logs)
    if goal.time is not None:
        k = bisect.bisect_left(run.reach, goal.time, lo=i)
    elif goal.lsn is not None:
        k = bisect.bisect_right(run.last, goal.lsn, lo=i)
    else:
        assert goal.exact_end is not None
        k = bisect.bisect_left(run.last, goal.exact_end, lo=i)
        if k < n and run.last[k] != goal.exact_end:
            return None
    return k if k < n else None


def fork_at(log: BackupSet, lsn: int) -> str | None:
    """The recovery fork of the record at ``lsn`` in ``log`` (a log spanning a fork holds the old
    fork's records up to its fork point, the new fork's after it)."""
    if log.spans_fork and log.fork_point_lsn is not None and lsn <= log.fork_point_lsn.value:
        return log.first_recovery_fork_guid
    return log.last_recovery_fork_guid or log.first_recovery_fork_guid


def _final_ok(lin: Lineage, run: LogRun, i: int, k: int, p: int, t_entry: datetime | None, goal: Goal,
              notes: SearchNotes) -> bool:
    """Can log k hold the target? Bulk-logged (B.8) and fork-spanning logs restrict it, and a goal
    on a recovery fork is met only on that fork (B.6). ``p`` is the redo point on entering log i."""
    log = run.logs[k]
    if goal.fork is not None:
        at = goal.lsn if goal.lsn is not None else run.last[k]
        if not forks_match(fork_at(log, at), goal.fork):
            return False
    if goal.time is not None:
        if log.has_bulk_logged_data and goal.time < run.reach[k]:
            prev = run.reach[k - 1] if k > i else t_entry
            if prev is None or goal.time > prev:
                notes.bulk.append(log)
                return False
        # msdb cannot tell when a spanning log's new-fork records begin, so a time before its
        # start is refused, unless the redo point entering it is already past the fork point:
        # what it restores then is the new fork's records after that point (after t_entry)
        entered_past_fork = k == i and log.fork_point_lsn is not None and p > log.fork_point_lsn.value
        if log.spans_fork and goal.time < lin.start_key(log) and not entered_past_fork:
            notes.fork_span.append(log)
            return False
    elif goal.lsn is not None and log.has_bulk_logged_data:
        notes.bulk.append(log)
        return False
    return True


def _switch_in_goal_log(goal: Goal, s_first: int) -> bool:
    """May a path switch forks inside the log that holds the goal but cannot end the plan (the
    goal on another fork, or bulk-logged there)? Only for an LSN at or after the switch, which
    the spanning log holds too: a time goal would be restored past."""
    if goal.time is not None:
        return False
    end = goal.lsn if goal.lsn is not None else goal.exact_end
    return end is not None and s_first <= end


def search_logs(
    lin: Lineage,
    p: int,
    fork: str | None,
    t0: datetime,
    goal: Goal,
    notes: SearchNotes,
) -> LogPath | None:
    """Fewest logs (then fewest bytes) from a data backup's redo point to the goal."""
    # state: (steps, bytes, tiebreak, P, fork, from_data, t_entry, segments); P = -1 marks a
    # complete path, returned when popped (the cheapest, since costs only grow)
    heap: list[tuple[int, int, int, int, str | None, bool, datetime, tuple[Segment, ...]]] = [
        (0, 0, 0, p, fork, True, t0, ())
    ]
    seen: set[tuple[int, str | None, bool]] = set()
    counter = itertools.count(1)

    def push(steps: int, nbytes: int, segs: tuple[Segment, ...], seg: Segment, at: int,
             at_fork: str | None, t: datetime) -> None:
        """Queue the state after restoring ``seg`` on top of a path of cost (steps, nbytes)."""
        heapq.heappush(heap, (steps + seg.k - seg.i + 1, nbytes + seg.run.bytes_between(seg.i, seg.k),
                              next(counter), at, at_fork, False, t, segs + (seg,)))

    while heap:
        steps, nbytes, _, cur, cur_fork, from_data, t_entry, segs = heapq.heappop(heap)
        if cur == -1:
            return LogPath(_joined(segs), steps, nbytes)
        if (cur, cur_fork, from_data) in seen:
            continue
        seen.add((cur, cur_fork, from_data))
        if cur > notes.furthest_lsn:
            notes.furthest_lsn = cur
            notes.furthest_time = t_entry
            notes.furthest_fork = cur_fork
        found = lin.runs_containing(cur)
        if not found:
            notes.stuck_at.append(cur)
        for run, i in found:
            if not run.accepts(i, cur, cur_fork):
                continue
            if run.logs[i].begins_log_chain and not from_data:
                continue
            k = _goal_index(lin, run, i, goal)
            final = k is not None and _final_ok(lin, run, i, k, cur, t_entry, goal, notes)
            if final and k is not None:
                push(steps, nbytes, segs, Segment(run, i, k), -1, None, t_entry)
            last = len(run.logs) - 1
            # Where another run could take over (copy-only or overlapping logs), stop: the state
            # there goes on along this run as well as into the other. Only the first such point
            # is queued, the next ones from there, so a chain with many costs no more than one.
            j = lin.next_branch_point(run, i, (k - 1) if k is not None else last - 1)
            if j is not None:
                push(steps, nbytes, segs, Segment(run, i, j), run.last[j],
                     run.logs[j].last_recovery_fork_guid or cur_fork, run.reach[j])
            if k is None:
                push(steps, nbytes, segs, Segment(run, i, last), run.end, run.exit_fork, run.reach[last])
            # Fork switch: stop a log just before the first LSN of a log that spans a fork
            # (SMO restores it WITH STOPBEFOREMARK = 'lsn:...', restore-rules B.6).
            # The fork there is that of the log stopped, not the one the run was entered on: a run
            # that begins with a spanning log crosses a fork itself.
            for span in lin.spanning:
                s_first = span.first_lsn.value
                if s_first <= cur or s_first >= run.end:
                    continue
                js = run.index_containing(s_first)
                if js is None or js < i or run.first[js] == s_first:
                    continue
                # not past the goal's log; a switch inside it only when that log cannot end the
                # plan and the spanning log holds the goal too (an LSN two forks share, B.6)
                if k is not None and (k < js or (k == js and (final or not _switch_in_goal_log(goal, s_first)))):
                    continue
                at_fork = fork_at(run.logs[js], s_first - 1) or cur_fork
                if not forks_match(at_fork, span.first_recovery_fork_guid):
                    continue
                push(steps, nbytes, segs, Segment(run, i, js, stop_before=s_first), s_first, at_fork,
                     run.reach[js - 1] if js > i else t_entry)
    return None


def _joined(segs: tuple[Segment, ...]) -> tuple[Segment, ...]:
    """Consecutive pieces of one run as one segment (a search goes from one branch point to
    the next)."""
    out: list[Segment] = []
    for seg in segs:
        prev = out[-1] if out else None
        if prev is not None and prev.run is seg.run and prev.k + 1 == seg.i and prev.stop_before is None:
            out[-1] = Segment(seg.run, prev.i, seg.k, seg.stop_before)
        else:
            out.append(seg)
    return tuple(out)
