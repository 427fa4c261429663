"""A mark oracle for forked histories: SQL Server's STOPATMARK replayed on the logs a plan restores
(from the third review of the fork changes; used by test_mark_fork_property.py)."""
from __future__ import annotations

import random
import re
from collections import deque
from datetime import timedelta

from restoreplan.core.lsn import LSN
from restoreplan.core.model import BackupSet, BackupType, LogMark
from restoreplan.core.plan import Plan, StopKind
from tests.builders import DAY, diff, full, log
from tests.core.test_planner_review2 import _applies, _fork_of

FORKS = [f"{c * 8}-{c * 4}-4{c * 3}-8{c * 3}-{c * 12}" for c in "abcdef"]


def branching_history(rnd: random.Random) -> list[BackupSet]:
    """Like review2's forked_history, but a restore WITH RECOVERY may start from any earlier log of
    any fork (so the live fork need not descend from every fork a mark was made on)."""
    t = DAY + timedelta(hours=9)
    fork, lsn, log_end = FORKS[0], 100, 100
    nxt = 1
    base = full(t, lsn, lsn + 5, fork=fork, size=1000)
    sets, regular = [base], []
    for _ in range(rnd.randint(2, 12)):
        t += timedelta(minutes=10)
        lsn += 10
        ev = rnd.choice(["log", "log", "log", "log", "full", "diff", "fork", "fork", "gap"])
        if ev == "log":
            lg = log(t, log_end, lsn + 5, fork=fork, size=50)
            sets.append(lg)
            regular.append(lg)
            log_end = lsn + 5
        elif ev == "full":
            base = full(t, lsn, lsn + 5, fork=fork, size=1000, start=t - timedelta(seconds=20))
            sets.append(base)
        elif ev == "diff":
            sets.append(diff(t, lsn, lsn + 5, base, fork=fork, size=300, start=t - timedelta(seconds=20)))
        elif ev == "gap":
            log_end = lsn + 5
        elif ev == "fork" and regular and nxt < len(FORKS):
            src = rnd.choice(regular)
            point = rnd.randint(src.first_lsn.value + 1, src.last_lsn.value - 1)
            old = _fork_of(src, point)
            new = FORKS[nxt]
            nxt += 1
            t += timedelta(minutes=5)
            end = max(lsn + 5, point + 1)
            first = rnd.randint(src.first_lsn.value + 1, point)
            if src.spans_fork and src.fork_point_lsn is not None and point > src.fork_point_lsn.value:
                first = max(first, src.fork_point_lsn.value + 1)  # the span's old records are all of one fork
            span = log(t, first, end, first_recovery_fork_guid=old, last_recovery_fork_guid=new,
                       fork_point_lsn=LSN(point), start=t - timedelta(minutes=1), size=50)
            sets.append(span)
            regular.append(span)
            fork, log_end, lsn = new, end, max(lsn, end)
    return sets


def add_marks(rnd: random.Random, sets: list[BackupSet], name: str = "m", k: int = 4) -> list[tuple[LogMark, str | None]]:
    """Marks named ``name`` at random records (fork, LSN) of the logs, each timed just before the
    first log of its fork holding it finished; returned with their true fork."""
    logs = [s for s in sets if s.type is BackupType.LOG and s.first_lsn < s.last_lsn]
    out: list[tuple[LogMark, str | None]] = []
    used = set()
    if not logs:
        return out
    for _ in range(rnd.randint(1, k)):
        lg = rnd.choice(logs)
        x = rnd.randint(lg.first_lsn.value, lg.last_lsn.value - 1)
        f = _fork_of(lg, x)
        if (f, x) in used:
            continue
        holders = sorted((h for h in logs if h.first_lsn.value <= x < h.last_lsn.value), key=lambda h: h.backup_finish_date)
        own = [h for h in holders if _fork_of(h, x) == f]
        when_ = own[0].backup_finish_date - timedelta(seconds=1)
        if any(_fork_of(h, x) != f and when_ <= h.backup_finish_date <= own[0].backup_finish_date for h in holders):
            continue
        used.add((f, x))
        out.append((LogMark("db", name, LSN(x), when_), f))
    return out


def live_of(sets: list[BackupSet]) -> str | None:
    return max(sets, key=lambda s: (s.backup_finish_date, s.last_lsn)).last_recovery_fork_guid


def in_history(sets: list[BackupSet], live: str | None, f: str | None, x: int) -> bool:
    """Is record (f, x) on the path to fork ``live``? (records up to a fork point are the old fork's,
    as chain.fork_at and review2's _fork_of have it)"""
    parent = {s.last_recovery_fork_guid: (s.first_recovery_fork_guid, s.fork_point_lsn.value)
              for s in sets if s.spans_fork}
    cur, limit = live, None
    while True:
        if cur == f:
            return limit is None or x <= limit
        if cur not in parent:
            return False
        cur, fp = parent[cur]
        limit = fp if limit is None else min(limit, fp)


def reachable(sets: list[BackupSet], n: int, fork: str | None) -> bool:
    logs = [s for s in sets if s.type is BackupType.LOG and s.first_lsn != s.last_lsn]
    spans = [s for s in logs if s.spans_fork]
    for f in sets:
        if f.type is not BackupType.FULL or f.last_lsn.value > n:
            continue
        starts = [f] + [d for d in sets if d.type is BackupType.DIFF and d.last_lsn.value <= n
                        and d.differential_base_guid == f.backup_set_uuid and d.last_lsn > f.last_lsn]
        for data in starts:
            queue = deque([(data.last_lsn.value, data.last_recovery_fork_guid, None)])
            seen = set()
            while queue:
                p, fk, stopped = queue.popleft()
                for lg in logs:
                    if lg is stopped or not _applies(lg, p, fk):
                        continue
                    if p <= n < lg.last_lsn.value and _fork_of(lg, n) == fork:
                        return True
                    nexts = [(lg.last_lsn.value, lg.last_recovery_fork_guid, None)] if lg.last_lsn.value <= n else []
                    nexts += [(s.first_lsn.value, _fork_of(lg, s.first_lsn.value - 1), lg) for s in spans
                              if lg.first_lsn.value < s.first_lsn.value < lg.last_lsn.value and p < s.first_lsn.value
                              and s.first_recovery_fork_guid == _fork_of(lg, s.first_lsn.value - 1)]
                    for q, qf, stop in nexts:
                        if (q, qf) not in seen:
                            seen.add((q, qf))
                            queue.append((q, qf, stop))
    return False


def replay_mark(plan: Plan, marks: list[tuple[LogMark, str | None]], name: str, after=None):
    """(error, (fork, lsn) of the mark SQL Server stops at)."""
    steps = plan.restore_steps
    p = fk = None
    for i, s in enumerate(steps):
        bs = s.backup
        if bs.type.is_data:
            p, fk = bs.last_lsn.value, bs.last_recovery_fork_guid
            continue
        if not _applies(bs, p, fk):
            return "4305/4326/4330", None
        if i < len(steps) - 1:
            if s.stop is not None and s.stop.kind is StopKind.STOPBEFOREMARK and s.stop.value.startswith("lsn:"):
                x = int(s.stop.value.removeprefix("lsn:"))
                p, fk = x, _fork_of(bs, x - 1)
            elif s.stop is not None:
                return "stop-before-the-last", None
            else:
                p, fk = bs.last_lsn.value, bs.last_recovery_fork_guid
            continue
        if s.stop is None or s.stop.value != name:
            return "no-stopatmark", None
        hits = sorted((m.lsn.value, f) for m, f in marks if m.mark_name == name
                      and p <= m.lsn.value < bs.last_lsn.value and _fork_of(bs, m.lsn.value) == f
                      and (after is None or m.mark_time >= after))
        if not hits:
            return "mark-not-in-the-last-log", None
        return None, (hits[0][1], hits[0][0])
    return "no-log", None


def claimed_lsn(plan: Plan) -> int:
    return int(re.search(r"at LSN (\d+)", plan.recovery_point).group(1))
