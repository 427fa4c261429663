"""The planner: a target and a history in, a minimal restore plan (or a typed refusal) out.

Minimal means fewest restore steps; ties go to fewest bytes read, then to the newest data
backups (restore-rules F). Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from restoreplan.core.chain import Goal, fork_at
from restoreplan.core.choice import newest_choice, search, time_search
from restoreplan.core.errors import NotRecoverable, UsageError
from restoreplan.core.history import History, Lineage, in_history_of, live_fork
from restoreplan.core.model import BackupType, LogMark
from restoreplan.core.plan import Action, Plan, Stop, StopKind
from restoreplan.core.refusals import around_lsn, explain_time, last_reachable, unusable_fulls
from restoreplan.core.restores import describe, restored_since
from restoreplan.core.steps import build_plan, with_tail_backup
from restoreplan.core.tail import tail_plan
from restoreplan.core.target import (
    Clock,
    RecoveryTarget,
    ResolvedTime,
    TargetKind,
    clock_of,
    fmt_time,
)
from restoreplan.core.windows import lineage_windows, locate

TAIL_MODES = ("auto", "always", "never")


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """How to plan: the tail-log mode, --or-earlier, and the lineage (--family-guid)."""

    tail: str = "auto"
    or_earlier: bool = False
    family_guid: str | None = None


def choose_lineage(history: History, database: str, target: RecoveryTarget, family_guid: str | None) -> tuple[Lineage, list[str]]:
    """The lineage a name means; a name used by several incarnations resolves by the target."""
    found = history.lineages_named(database)
    if not found:
        raise UsageError(f"no database named {database!r} in the history", hint=f"databases: {history.names_listed}")
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


def _resolve_mark(lin: Lineage, target: RecoveryTarget, warnings: list[str]) -> tuple[LogMark, str | None]:
    """The mark a target names in this lineage, and the recovery fork of its record. STOPATMARK
    stops at the first mark of that name in the logs restored: when the name was marked on
    several recovery forks, the fork decides which, and the live fork is taken (as for an LSN,
    ``_lsn_fork``), saying so."""
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

    def fork_of(m: LogMark) -> str | None:
        return fork_at(lin.mark_logs(m)[0], m.lsn.value)

    forks = {f for f in map(fork_of, named) if f is not None}  # an unknown fork matches any
    if len(forks) < 2:
        return named[0], fork_of(named[0])
    live = live_fork(lin)
    on = [m for m in named if in_history_of(lin, live, fork_of(m), m.lsn.value)]
    where = f"in the history of fork {live}, the one the database is on now"
    if not on:  # the database left every fork the name was made on: the newest mark's fork
        newest = fork_of(max(named, key=lambda m: m.mark_time))
        on = [m for m in named if in_history_of(lin, newest, fork_of(m), m.lsn.value)]
        where = f"in the history of fork {newest}, the newest mark's"
    mark = on[0]
    off = [m for m in named if m not in on]
    if off:
        warnings.append(f"mark {target.mark!r} was made on {len(forks)} recovery forks (the database was restored "
                        f"WITH RECOVERY in between): planning the first one {where} (LSN {mark.lsn}), not the "
                        f"one(s) at LSN {', '.join(str(m.lsn) for m in off)}, made on a fork that history left")
    return mark, fork_of(mark)


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


def plan_restore(history: History, database: str, target: RecoveryTarget, options: PlanOptions | None = None) -> Plan:
    """Plan the restore of ``database`` to ``target``."""
    opts = options or PlanOptions()
    if opts.tail not in TAIL_MODES:
        raise UsageError(f"--tail must be one of {', '.join(TAIL_MODES)}")
    lin, warnings = choose_lineage(history, database, target, opts.family_guid)
    return plan_lineage(lin, target, opts, warnings)


def plan_lineage(lin: Lineage, target: RecoveryTarget, opts: PlanOptions, warnings: list[str] | None = None) -> Plan:
    """Plan the restore of one lineage to ``target``."""
    warnings = list(warnings or [])
    if lin.servers_apart:
        a, b = lin.servers_apart[0]
        raise UsageError(f"backups of {lin.database_name} from servers {a} and {b} ran at the same time on different "
                         "recovery forks: two databases of that name (a copy restored on another server?) are in "
                         "one history, and a plan could restore the wrong one's backups",
                         hint=f"choose the server: --server-name {a} or --server-name {b}")
    clock = clock_of(lin)
    name = lin.database_name
    restored = restored_since(lin)
    if restored is not None:
        warnings.append(f"{name} was {describe(restored)}, after its last backup: the database no longer is what its "
                        "backups record, and this plan restores the backups, not its current state")
    if not lin.fulls:
        raise NotRecoverable(f"{name}: no restorable full backup in the history{unusable_fulls(lin)}",
                             hint="check for damaged, snapshot or missing-file fulls", code="NO_FULL_BACKUP")
    if target.kind is TargetKind.LSN:
        assert target.lsn is not None
        n = target.lsn.value
        fork = _lsn_fork(lin, n, warnings)
        res = search(lin, Goal(lsn=n, fork=fork), lambda b: b.last_lsn.value <= n, lambda b: False)
        if res.best is None:
            nb, na = around_lsn(lin, clock, n, fork)
            raise NotRecoverable(f"LSN {n} is not reachable: no chain of backups from a full ending at or before it "
                                 "reaches a log that contains it", lsn=n, nearest_before=nb, nearest_after=na,
                                 hint="check validate's LOG_GAP findings; the nearest reachable times are given",
                                 code="LSN_NOT_REACHABLE")
        stop = Stop(StopKind.STOPATMARK, f"lsn:{n}")
        return build_plan(lin, clock, target, None, res.best, stop, None, warnings, f"LSN {n} (STOPATMARK, the record at that LSN included)", None, stop_all=False)
    if target.kind in (TargetKind.MARK, TargetKind.BEFORE_MARK):
        mark, fork = _resolve_mark(lin, target, warnings)
        m = mark.lsn.value
        res = search(lin, Goal(lsn=m, fork=fork), lambda b: b.last_lsn.value <= m, lambda b: False)
        if res.best is None:
            nb, na = around_lsn(lin, clock, m, fork)
            raise NotRecoverable(f"mark {target.mark!r} at LSN {m} is not reachable from the backups", lsn=m,
                                 nearest_before=nb, nearest_after=na,
                                 hint="check validate's LOG_GAP findings; the nearest reachable times are given",
                                 code="MARK_NOT_REACHABLE")
        kind = StopKind.STOPBEFOREMARK if target.kind is TargetKind.BEFORE_MARK else StopKind.STOPATMARK
        after = fmt_time(target.after) if target.after else None
        stop = Stop(kind, mark.mark_name, after=after)
        label = "before" if kind is StopKind.STOPBEFOREMARK else "including"
        return build_plan(lin, clock, target, None, res.best, stop, None, warnings,
                      f"mark {mark.mark_name!r} at LSN {m} ({label} the marked transaction, at {fmt_time(mark.mark_time)})", None, stop_all=False)

    last_point = _last_backup_point(lin)
    assert last_point is not None
    if target.kind is TargetKind.LATEST:
        windows = lineage_windows(lin)
        if opts.tail == "always":
            try:
                return tail_plan(lin, clock, target, None, warnings)
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
                    nearest_before=last_reachable(lin, clock), code="AFTER_LAST_BACKUP",
                )
            return tail_plan(lin, clock, target, rt, warnings)
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
        return with_tail_backup(plan, lin)
    return plan


def _tail_inside(lin: Lineage, clock: Clock, target: RecoveryTarget, rt: ResolvedTime, opts: PlanOptions,
                 warnings: list[str]) -> Plan | None:
    """A tail plan to a time before the last backup that no plan without the tail reaches, or None.

    Every data backup it restores finished at or before the target (error 4338), and every log
    before the tail ends at or before it: STOPAT inside one would end the restore there, short of
    the tail (and inside a bulk-logged log it is error 4341).
    """
    try:
        plan = tail_plan(lin, clock, target, rt, warnings, until=rt.key)
    except NotRecoverable:
        return None
    for step in plan.steps:
        if (step.action is Action.RESTORE_LOG and step.backup is not None and step.stop is not None
                and step.stop.kind is StopKind.STOPAT and lin.reach_key(step.backup) > rt.key):
            return None
    return plan


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
        return with_tail_backup(plan, lin)
    return plan


def _time_plan(lin: Lineage, clock: Clock, target: RecoveryTarget, rt: ResolvedTime, opts: PlanOptions,
               warnings: list[str], *, stop: bool) -> Plan:
    key = rt.key
    res = time_search(lin, key)
    if res.best is None:
        err = explain_time(lin, clock, rt, res)
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
    return build_plan(lin, clock, target, rt, best, stop_clause, None, warnings, label, rt, stop_all=True)


