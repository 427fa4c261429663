"""A plan as a table with a one-line verdict, and as the stable JSON schema."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from restoreplan.core.plan import Action, Plan, Step
from restoreplan.core.target import TargetKind, fmt_time


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def step_json(step: Step) -> dict[str, Any]:
    bs = step.backup
    stop = step.stop
    return {
        "action": step.action.value,
        "backup_set_uuid": bs.backup_set_uuid if bs else None,
        "backup_type": bs.type.value if bs else None,
        "files": [m[0].physical_device_name for m in bs.families.values()] if bs else [],
        "position": bs.position if bs else None,
        "first_lsn": str(bs.first_lsn) if bs else None,
        "last_lsn": str(bs.last_lsn) if bs else None,
        "stop_at": stop.value if stop is not None and stop.kind.value == "STOPAT" else None,
        "stop": None if stop is None else {"kind": stop.kind.value, "value": stop.value, "after": stop.after, "utc": stop.utc},
        "backup_start_date": fmt_time(bs.backup_start_date) if bs else None,
        "backup_finish_date": fmt_time(bs.backup_finish_date) if bs else None,
        "server_name": bs.server_name if bs else None,
        "is_copy_only": bs.is_copy_only if bs else None,
        "is_tail": step.is_tail,
        "why": step.why,
    }


def plan_json(plan: Plan) -> dict[str, Any]:
    t = plan.target
    tt = plan.target_time
    rt = plan.recovery_time
    return {
        "database": plan.database_name,
        "family_guid": plan.family_guid,
        "target": {
            "kind": t.kind.value,
            "time_local": tt.local_text if tt else None,
            "time_utc": tt.utc_text if tt else None,
            "lsn": str(t.lsn) if t.lsn else None,
            "mark": t.mark,
            "after": fmt_time(t.after) if t.after else None,
        },
        "steps": [step_json(s) for s in plan.steps],
        "recovery_point": {
            "description": plan.recovery_point,
            "time_local": rt.local_text if rt else None,
            "time_utc": rt.utc_text if rt else None,
        },
        "bytes_read": plan.bytes_read,
        "warnings": list(plan.warnings),
    }


def verdict(plan: Plan) -> str:
    counts = {"D": 0, "I": 0, "L": 0}
    for s in plan.restore_steps:
        if s.backup is not None:
            counts[s.backup.type.value] = counts.get(s.backup.type.value, 0) + 1
    tail = any(s.action is Action.BACKUP_TAIL_LOG for s in plan.steps)
    parts = [f"{counts['D']} full", f"{counts['I']} differential", f"{counts['L']} log"]
    if tail:
        parts.append("tail-log")
    rt = plan.recovery_time
    target = rt.local_text if rt is not None and plan.target.kind is TargetKind.TIME else plan.target.describe()
    return (
        # the RESTOREs the parts list (the tail's among them); the tail-log BACKUP is no restore
        f"PLANNED: {plan.database_name} to {target} in {len(plan.restore_steps)} restore steps "
        f"({', '.join(parts)}), reading {human_bytes(plan.bytes_read)}"
    )


def plan_table(plan: Plan) -> str:
    rows = []
    for n, s in enumerate(plan.steps, start=1):
        bs = s.backup
        files = "\n".join(m[0].physical_device_name for m in bs.families.values()) if bs else ""
        stop = s.stop.kind.value + " " + s.stop.text() if s.stop else ""
        rows.append([
            n,
            s.action.value + (" (tail)" if s.is_tail else ""),
            bs.type.label if bs else "",
            fmt_time(bs.backup_start_date) if bs else "",
            fmt_time(bs.backup_finish_date) if bs else "",
            f"{bs.first_lsn}\n{bs.last_lsn}" if bs else "",
            files,
            (stop + "\n" if stop else "") + s.why,
        ])
    table = tabulate(rows, headers=["#", "action", "type", "start", "finish", "LSN range", "files", "why"],
                     tablefmt="simple", maxcolwidths=[None, None, None, None, None, None, 48, 60])
    lines = [f"Restore plan for {plan.database_name} (family_guid {plan.family_guid or plan.lineage_key})",
             f"Target: {plan.target.describe()}; recovery point: {plan.recovery_point}", "", table, ""]
    lines += [f"warning: {w}" for w in plan.warnings]
    lines.append(verdict(plan))
    return "\n".join(lines)
