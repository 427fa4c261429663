"""Refusals: why a target cannot be reached, and the nearest reachable points a refusal names
(every one of them plans: they come from the recoverable windows)."""

from __future__ import annotations

from datetime import datetime

from restoreplan.core.chain import fork_at
from restoreplan.core.choice import Search, cheapest_at
from restoreplan.core.errors import NotRecoverable, PointInfo
from restoreplan.core.history import Lineage, forks_match, in_history_of, live_fork
from restoreplan.core.model import BackupType
from restoreplan.core.target import (
    Clock,
    ResolvedTime,
    fmt_time,
)
from restoreplan.core.windows import lineage_windows, locate


def point(clock: Clock, key: datetime | None) -> PointInfo | None:
    """A compare key as the point a refusal offers (server-local and UTC), or None."""
    if key is None:
        return None
    rt = clock.from_key(key)
    return PointInfo(rt.local_text, rt.utc_text)


def explain_time(lin: Lineage, clock: Clock, rt: ResolvedTime, search: Search) -> NotRecoverable:
    """Why no plan reaches ``rt``, with the nearest reachable times before and after it."""
    windows = lineage_windows(lin)
    _, before, after = locate(windows, rt.key)
    nb = point(clock, before.end if before else None)
    na = point(clock, after.start if after else None)
    when = rt.local_text
    fulls_before = [f for f in lin.fulls if lin.finish_key(f) <= rt.key]
    if not fulls_before:
        msg = f"no restorable full backup finished at or before {when}{unusable_fulls(lin, rt.key)}"
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
    fork = search.notes.furthest_fork
    elsewhere = [run.logs[i] for run, i in lin.runs_containing(p) if not run.accepts(i, p, fork)]
    if elsewhere:  # a log holds the LSN, on another recovery fork than the database there
        log = elsewhere[0]
        msg = (f"{when} is not reachable: log backup {log.backup_set_uuid} holds LSN {p}, but on recovery fork "
               f"{fork_at(log, p)}, not {fork}, the one the database is on at that LSN (SQL Server would "
               "raise error 4330 applying it)")
    else:
        msg = f"{when} is not reachable: no usable log backup contains LSN {p} (SQL Server would raise error 4305 naming it)"
    if nxt is not None:
        msg += f"; the chain resumes with log {nxt.backup_set_uuid} at LSN {nxt.first_lsn} (finished {fmt_time(nxt.backup_finish_date)})"
    if missing:
        msg += "; unusable logs: " + "; ".join(missing[:3])
    return NotRecoverable(msg, hint="pick a reachable point (--or-earlier does it for you)", lsn=p,
                          backup_set_uuid=nxt.backup_set_uuid if nxt else None,
                          nearest_before=nb, nearest_after=na, code="LOG_GAP")


def unusable_fulls(lin: Lineage, until: datetime | None = None) -> str:
    """Why the last three fulls (finished by ``until``) that cannot be restored cannot be ("" when
    there are none), for a refusal or finding: with --check-files, the files that are missing."""
    blocked = [f"{s.backup_set_uuid} ({reason})" for s in lin.sets
               if s.type is BackupType.FULL and (until is None or lin.finish_key(s) <= until)
               for reason in [lin.unavailable.get(s.backup_set_uuid)] if reason]
    return "; unusable fulls: " + "; ".join(blocked[-3:]) if blocked else ""


def last_reachable(lin: Lineage, clock: Clock) -> PointInfo | None:
    """The latest point a plan without a tail-log reaches, as a refusal names it."""
    windows = lineage_windows(lin)
    return point(clock, windows[-1].end) if windows else None


def around_lsn(lin: Lineage, clock: Clock, n: int, fork: str | None) -> tuple[PointInfo | None, PointInfo | None]:
    """The nearest reachable times around LSN ``n``, for a refusal. An LSN has no time of its
    own: the state without it is at the latest the end of the backups that end at or before it,
    the state with it at the earliest the end of the first backup that ends after it. Both are
    taken on one recovery fork (``fork``, else that of a log holding ``n``, else the live one):
    across forks a lower LSN can end later."""
    if fork is None:
        holders = lin.logs_holding(n)
        fork = fork_at(holders[-1], n) if holders else live_fork(lin)
    on_fork = [s for s in lin.sets if forks_match(s.last_recovery_fork_guid or s.first_recovery_fork_guid, fork)]
    lo = max((lin.finish_key(s) for s in on_fork if s.last_lsn.value <= n), default=None)
    hi = min((lin.finish_key(s) for s in on_fork if s.last_lsn.value > n), default=None)
    before = after = None
    for w in lineage_windows(lin):
        if lo is not None and w.start <= lo:
            before = min(w.end, lo)
        if hi is not None and after is None and w.end >= hi:
            after = max(w.start, hi)
    # the windows are of every fork: a time whose plan ends on another fork never held the LSN
    before, after = (k if k is not None and _holds(lin, k, n, fork) else None for k in (before, after))
    if before is not None and after is not None and after < before:
        after = None  # the fork's own backups disagree with time: no point after is certain
    return point(clock, before), point(clock, after)


def _holds(lin: Lineage, key: datetime, n: int, fork: str | None) -> bool:
    """Does the plan to ``key`` end on a fork whose history holds LSN ``n`` of ``fork`` (that fork,
    or one that branched from it at or after ``n``)?"""
    c = cheapest_at(lin, key)
    return c is not None and in_history_of(lin, c.last.last_recovery_fork_guid or c.last.first_recovery_fork_guid,
                                           fork, n)
