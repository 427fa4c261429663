"""A choice made into plan steps: the tail-log backup, the data backups, the logs with their stops,
and the warnings each step carries."""

from __future__ import annotations

from restoreplan.core.choice import Choice
from restoreplan.core.history import Lineage
from restoreplan.core.model import BackupSet
from restoreplan.core.plan import Action, Plan, Step, Stop, StopKind
from restoreplan.core.target import (
    Clock,
    RecoveryTarget,
    ResolvedTime,
    fmt_time,
)


def tail_backup_step(lin: Lineage) -> Step:
    """The step that backs up the tail of the log first."""
    return Step(Action.BACKUP_TAIL_LOG, None,
                "back up the tail of the log WITH NORECOVERY first: it protects every transaction since the last "
                "log backup and stops further changes (restore-rules B.12; NO_TRUNCATE for a damaged database)")


def with_tail_backup(plan: Plan, lin: Lineage) -> Plan:
    """``plan`` with the tail-log backup first (--tail always, when the target needs no tail)."""
    steps = (tail_backup_step(lin),) + plan.steps
    return Plan(plan.database_name, plan.lineage_key, plan.family_guid, plan.target, plan.target_time, steps,
                plan.recovery_point, plan.recovery_time, plan.warnings + ("--tail always: the tail of the log is backed up first for safety, "
                "but the target is covered by existing backups, so the tail is not restored",), plan.bytes_read)


def build_plan(lin: Lineage, clock: Clock, target: RecoveryTarget, rt: ResolvedTime | None, best: Choice,
               stop: Stop | None, tail_anchor: int | None, warnings: list[str], label: str,
               recovery_time: ResolvedTime | None, *, stop_all: bool, tail_from_log: bool = True) -> Plan:
    """The plan that restores ``best``: the data backups, the logs with their stops, the tail
    when ``tail_anchor`` is given, and the warnings each step carries."""
    steps: list[Step] = []
    if tail_anchor is not None:
        steps.append(tail_backup_step(lin))
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
        warnings.extend(ambiguity_warning(rt))
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


def ambiguity_warning(rt: ResolvedTime) -> list[str]:
    """A warning when STOPAT names a local time a DST change repeats."""
    if not rt.ambiguous:
        return []
    return [f"STOPAT {rt.local_text} is ambiguous: a DST change repeats that hour of server-local time. The target "
            f"{rt.utc_text} is {rt.local_text} at UTC offset {rt.offset_text}, but SQL Server reads STOPAT as "
            "server-local time and may stop at the other reading of it: check, or choose a time outside the "
            "repeated hour"]


def _why_log(log: BackupSet, n: int, is_last: bool, base: BackupSet) -> str:
    if n == 0:
        text = f"first log after the {base.type.label} backup: it contains LSN {base.last_lsn}, the redo point"
    else:
        text = f"next log in the chain (first_lsn {log.first_lsn})"
    if is_last:
        text += "; the first log whose coverage reaches the target, so nothing is restored after it"
    return text
