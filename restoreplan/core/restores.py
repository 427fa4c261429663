"""Restores recorded after a lineage's last backup (msdb.dbo.restorehistory, restore-rules A.6).

A restore into the database after its newest backup replaced what the backups describe: WITH
RECOVERY it started a new recovery fork (or, from another database's backup, another family)
that no backup records yet; WITH NORECOVERY it left the database restoring, where no log backup
can be taken. Either way a tail-log backup would not continue the chain the backups form, so a
plan through the tail would fail halfway (rules-notes item 14). SMO's planner reads the same
table for the same reason (restore-rules A.6).
"""

from __future__ import annotations

from restoreplan.core.history import Lineage
from restoreplan.core.model import RestoreEvent
from restoreplan.core.target import fmt_time


def restored_since(lin: Lineage) -> RestoreEvent | None:
    """The latest restore into the database after its newest backup (by the lineage's clock:
    UTC when every backup has a time_zone), under that backup's name and on the server that
    took it (a restore of the name on another server, or of an older name of a renamed
    database, is another database), or None.

    The restore's date is compared with that backup's local finish time: both are that
    server's clock, as msdb records them. A restore whose server is not known counts (the safe
    side: a refused tail plan names the restore, a wrong one fails halfway).
    """
    if not lin.restores:
        return None
    newest = max(lin.own_sets, key=lambda s: (lin.finish_key(s), s.last_lsn))  # UTC when known
    server, name = (newest.server_name or "").casefold(), newest.database_name.casefold()
    later = [r for r in lin.restores
             if r.database_name.casefold() == name  # the name the tail-log would be taken under
             and r.restore_date > newest.backup_finish_date
             and (r.server_name is None or not server or r.server_name.casefold() == server)]
    return max(later, key=lambda r: r.restore_date, default=None)


def describe(r: RestoreEvent) -> str:
    """'restored (RESTORE DATABASE ... WITH RECOVERY, STOPAT ...) on SQL01 at 2026-11-20 10:30:00'"""
    kind = {"D": "RESTORE DATABASE", "I": "RESTORE DATABASE (a differential)", "L": "RESTORE LOG",
            "F": "RESTORE DATABASE ... FILE", "G": "RESTORE DATABASE ... FILEGROUP",
            "P": "RESTORE DATABASE ... PAGE", "R": "RESTORE DATABASE ... FROM DATABASE_SNAPSHOT",
            "?": "a restore of unrecorded type"}.get(r.restore_type.upper(), f"restore type {r.restore_type}")
    how = {True: " WITH RECOVERY", False: " WITH NORECOVERY", None: ""}[r.recovery]
    stop = f", STOPAT {fmt_time(r.stop_at)}" if r.stop_at is not None else ""
    on = f" on {r.server_name}" if r.server_name else ""
    return f"restored ({kind}{how}{stop}){on} at {fmt_time(r.restore_date)}"
