"""Plans through the tail of the log: where a tail-log backup would begin (the live recovery fork,
the last log backup that truncated the log) and the cheapest chain that ends exactly there
(restore-rules B.12)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from restoreplan.core.chain import Goal
from restoreplan.core.choice import search
from restoreplan.core.errors import NotRecoverable
from restoreplan.core.history import Lineage, forks_match, live_fork
from restoreplan.core.model import BackupSet, BackupType
from restoreplan.core.plan import Plan, Stop, StopKind
from restoreplan.core.refusals import last_reachable
from restoreplan.core.restores import describe, restored_since
from restoreplan.core.steps import build_plan
from restoreplan.core.target import (
    Clock,
    RecoveryTarget,
    ResolvedTime,
    fmt_time,
)


@dataclass(frozen=True, slots=True)
class _Anchor:
    """Where a tail-log backup would begin, and why there."""

    lsn: int
    fork: str | None
    log: BackupSet | None  # the regular log backup that ends there (None: no log on the live fork)
    since: datetime | None  # the end of the last backup taken in SIMPLE recovery: the chain began after it


def tail_anchor(lin: Lineage) -> _Anchor | None:
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


def tail_unreachable(lin: Lineage, clock: Clock, anchor: _Anchor | None) -> NotRecoverable:
    """The refusal when no chain of usable backups ends where a tail-log backup would begin."""
    nb = last_reachable(lin, clock)
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
    fork = f" on recovery fork {anchor.fork}" if anchor.fork and len(forks_of(lin)) > 1 else ""
    return NotRecoverable(
        f"a tail-log backup would begin at LSN {anchor.lsn}{where}, but no chain of usable backups reaches "
        f"that LSN{fork}{why}",
        hint="the log chain is broken before the end; see validate's LOG_GAP findings (--or-earlier plans to "
             "the latest reachable point)",
        lsn=anchor.lsn, backup_set_uuid=anchor.log.backup_set_uuid if anchor.log else None,
        nearest_before=nb, code="TAIL_UNREACHABLE",
    )


def forks_of(lin: Lineage) -> set[str]:
    """Every recovery fork the lineage's backups name."""
    return lin.memo("forks", lambda: {f for s in lin.sets for f in (s.first_recovery_fork_guid,
                                                                    s.last_recovery_fork_guid) if f})


def tail_plan(lin: Lineage, clock: Clock, target: RecoveryTarget, rt: ResolvedTime | None,
               warnings: list[str], *, until: datetime | None = None) -> Plan:
    """A plan through the tail of the log; ``until``: only data backups finished by then (a target
    time before the last backup)."""
    anchor = tail_anchor(lin)
    newest = max(lin.own_sets, key=lambda s: (lin.finish_key(s), s.last_lsn))
    if newest.is_simple:
        raise NotRecoverable(
            "the target is after the last backup and the database was in SIMPLE recovery: no tail-log backup exists",
            hint="restore to the latest backup instead (--latest)",
            nearest_before=last_reachable(lin, clock), code="NO_TAIL_IN_SIMPLE",
        )
    restored = restored_since(lin)
    if restored is not None:
        raise NotRecoverable(
            f"{lin.database_name} was {describe(restored)}, after its last backup (finished "
            f"{fmt_time(newest.backup_finish_date)}): the database is no longer on the chain its backups record "
            "(a restore WITH RECOVERY starts a new recovery fork; WITH NORECOVERY leaves it restoring), so a "
            "tail-log backup taken now would not continue that chain",
            hint="take a log backup (or a full backup) of the database and read the history again; or plan to the "
                 "latest point the backups reach (--or-earlier, or --latest --tail never)",
            nearest_before=last_reachable(lin, clock), code="RESTORED_SINCE_BACKUP",
        )
    if anchor is None:
        raise tail_unreachable(lin, clock, anchor)
    at, fork, since = anchor.lsn, anchor.fork, anchor.since

    def done(b: BackupSet) -> bool:  # a data backup the tail follows directly: it holds its end
        return (b.last_lsn.value >= at and forks_match(b.last_recovery_fork_guid or b.first_recovery_fork_guid, fork)
                and (since is None or lin.finish_key(b) > since))

    def data_ok(b: BackupSet) -> bool:
        return until is None or lin.finish_key(b) <= until

    res = search(lin, Goal(exact_end=at, fork=fork), data_ok, done)
    if res.best is None:
        raise tail_unreachable(lin, clock, anchor)
    stop = Stop(StopKind.STOPAT, rt.local_text, utc=rt.utc_text) if rt is not None else None
    label = (f"{rt.local_text} server-local" + (f" ({rt.utc_text})" if rt.utc_text else "") + ", from the tail of the log"
             if rt is not None else "the end of the tail-log backup (everything the database holds now)")
    warnings = warnings + ["the plan needs a tail-log backup of the source database: it must still be reachable; "
                           "restored over itself, BACKUP LOG ... WITH NORECOVERY leaves it RESTORING (use NO_TRUNCATE "
                           "if it is damaged); restored as a copy under another name, the script takes the tail "
                           "COPY_ONLY and leaves it online"]
    return build_plan(lin, clock, target, rt, res.best, stop, at, warnings, label, rt, stop_all=True,
                  tail_from_log=anchor.log is not None)
