"""T-SQL for sqlcmd and SSMS (SQLCMD mode): one statement per batch under ``:On Error exit``.

Every statement is its own batch (GO), so a failed RESTORE stops sqlcmd before the next step
runs; ``sqlcmd -b -i plan.sql`` returns non-zero. (restore-rules C.1, C.5, C.6)
"""

from __future__ import annotations

import ntpath
import posixpath
from dataclasses import dataclass

from restoreplan.core.model import DEVICE_TYPE_URL, BackupSet, DatabaseFile
from restoreplan.core.plan import Action, Plan, Step
from restoreplan.emit.quoting import Batch, comment_text, quote_identifier, setvar_safe


@dataclass(frozen=True, slots=True)
class ScriptOptions:
    target_name: str | None = None
    data_dir: str | None = None
    log_dir: str | None = None
    replace: bool = False
    standby: str | None = None
    no_recovery: bool = False
    tail_file: str | None = None
    stats: int = 5


def _is_url(path: str, device_type: int | None) -> bool:
    low = path.lower()
    return device_type == DEVICE_TYPE_URL or low.startswith(("http://", "https://", "s3://"))


def _credential_comment(path: str) -> str | None:
    low = path.lower()
    if low.startswith("s3://"):
        rest = path[5:]
        parts = rest.split("/")
        scope = "s3://" + "/".join(parts[:2]) if len(parts) > 2 else "s3://" + rest
        return (f"-- needs: CREATE CREDENTIAL [{comment_text(scope)}] WITH IDENTITY = 'S3 Access Key', "
                "SECRET = '<AccessKeyID>:<SecretKeyID>';  (SQL Server 2022)")
    if low.startswith(("http://", "https://")):
        container = path.rsplit("/", 1)[0]
        return (f"-- needs: CREATE CREDENTIAL [{comment_text(container)}] WITH IDENTITY = 'SHARED ACCESS SIGNATURE', "
                "SECRET = '<SAS token without the leading ?>';")
    return None


def _join(directory: str, name: str) -> str:
    if "/" in directory and "\\" not in directory:
        return posixpath.join(directory, name)
    return ntpath.join(directory, name)


def _basename(path: str) -> str:
    return ntpath.basename(path.replace("/", "\\"))


def _renamed(filename: str, source: str, target: str | None) -> str:
    if not target or target == source:
        return filename
    idx = filename.lower().find(source.lower())
    if idx < 0:
        return filename
    return filename[:idx] + target + filename[idx + len(source):]


class TsqlEmitter:
    """Turns a Plan into a sqlcmd script."""

    def __init__(self, plan: Plan, options: ScriptOptions | None = None) -> None:
        self.plan = plan
        self.opts = options or ScriptOptions()
        self.source = plan.database_name
        self.target = self.opts.target_name or plan.database_name
        self._vars: dict[str, str] = {}

    # -- sqlcmd variables --------------------------------------------------------------
    def _setvar(self, name: str, value: str, context: str) -> str | None:
        """Declare :setvar when the value is safe; return the text to use, or None to inline."""
        escaped = value.replace("]", "]]") if context == "identifier" else value.replace("'", "''")
        if not setvar_safe(escaped):
            return None
        self._vars[name] = escaped
        return f"$({name})"

    def _db(self, batch: Batch) -> str:
        var = self._vars.get("TargetDb")
        if var is not None:
            return "[$(TargetDb)]"
        return batch.identifier(self.target)

    def _path_literal(self, batch: Batch, path: str, var: str | None) -> str:
        if var is not None and var in self._vars:
            return f"N'$({var})'"
        return batch.literal(path)

    # -- statements ----------------------------------------------------------------------
    def _devices(self, batch: Batch, bs: BackupSet) -> tuple[str, list[str]]:
        devices = []
        comments = []
        for mirrors in bs.families.values():
            dev = mirrors[0]
            kind = "URL" if _is_url(dev.physical_device_name, dev.device_type) else "DISK"
            devices.append(f"{kind} = {batch.literal(dev.physical_device_name)}")
            cred = _credential_comment(dev.physical_device_name) if kind == "URL" else None
            if cred and cred not in comments:
                comments.append(cred)
        return ",\n     ".join(devices), comments

    def _moves(self, batch: Batch, files: tuple[DatabaseFile, ...]) -> list[str]:
        """MOVE every file; --data-dir/--log-dir relocate, --target-name renames (log dir defaults to data dir)."""
        moves = []
        for f in files:
            name = _renamed(_basename(f.physical_name), self.source, self.opts.target_name)
            is_log = f.file_type.upper() == "L"
            var = "LogDir" if is_log and self.opts.log_dir else "DataDir"
            chosen = (self.opts.log_dir or self.opts.data_dir) if is_log else self.opts.data_dir
            if chosen is None:
                original = f.physical_name
                directory = ntpath.dirname(original) if "\\" in original else posixpath.dirname(original)
                dest = batch.literal(_join(directory, name) if directory else name)
            elif var in self._vars and setvar_safe(name.replace("'", "''")):
                sep = "/" if "/" in chosen and "\\" not in chosen else "\\"
                dest = "N'$(" + var + ")" + sep + name.replace("'", "''") + "'"
            else:
                dest = batch.literal(_join(chosen, name))
            moves.append(f"MOVE {batch.literal(f.logical_name)} TO {dest}")
        return moves

    def _restore(self, n: int, step: Step, first_data: bool) -> list[str]:
        bs = step.backup
        batch = Batch()
        lines = [f"-- Step {n}: {comment_text(step.why)}"]
        if bs is None:  # the tail-log backup being restored
            src = self._path_literal(batch, self._tail_path(), "TailFile")
            opts = ["NORECOVERY"]
            if step.stop is not None:
                opts.append(f"{step.stop.kind.value} = {batch.literal(step.stop.value)}")
            stmt = f"RESTORE LOG {self._db(batch)} FROM DISK = {src} WITH {', '.join(opts)};"
            return lines + batch.declarations + [stmt, "GO"]
        lines.append(
            f"-- {bs.type.label} backup set {bs.backup_set_uuid}, finished {bs.backup_finish_date:%Y-%m-%d %H:%M:%S}, "
            f"LSN {bs.first_lsn} .. {bs.last_lsn}" + (f", server {comment_text(bs.server_name)}" if bs.server_name else "")
        )
        devices, comments = self._devices(batch, bs)
        lines.extend(comments)
        opts = [f"FILE = {int(bs.position)}", "NORECOVERY"]
        if step.action is Action.RESTORE_DATABASE and first_data:
            if bs.db_files:
                opts.extend(self._moves(batch, bs.db_files))
            elif self.opts.target_name or self.opts.data_dir or self.opts.log_dir:
                lines.append("-- file list unknown: load backupfile rows (--msdb or --backup-files) to get MOVE clauses,")
                lines.append("-- or run RESTORE FILELISTONLY on this backup and add MOVE N'logical' TO N'path' here")
            if self.opts.replace:
                opts.append("REPLACE")
        if bs.has_backup_checksums:
            opts.append("CHECKSUM")
        if step.stop is not None:
            value = batch.literal(step.stop.value)
            clause = f"{step.stop.kind.value} = {value}"
            if step.stop.after:
                clause += f" AFTER {batch.literal(step.stop.after)}"
            opts.append(clause)
        if step.action is Action.RESTORE_DATABASE:
            opts.append(f"STATS = {int(self.opts.stats)}")
        verb = "DATABASE" if step.action is Action.RESTORE_DATABASE else "LOG"
        stmt = f"RESTORE {verb} {self._db(batch)} FROM {devices}\n    WITH " + ",\n         ".join(opts) + ";"
        return lines + batch.declarations + [stmt, "GO"]

    def _tail_path(self) -> str:
        if self.opts.tail_file:
            return self.opts.tail_file
        logs = [s.backup for s in self.plan.steps if s.backup is not None]
        directory = ""
        if logs:
            dev = logs[-1].files[0].physical_device_name
            if not _is_url(dev, None):
                directory = ntpath.dirname(dev) if "\\" in dev else posixpath.dirname(dev)
        name = f"{self.source}_tail.trn"
        return _join(directory, name) if directory else name

    def _tail_backup(self, n: int, step: Step) -> list[str]:
        batch = Batch()
        src = self._path_literal(batch, self._tail_path(), "TailFile")
        source_db = batch.identifier(self.source)
        lines = [f"-- Step {n}: {comment_text(step.why)}",
                 "-- For a damaged database use instead: BACKUP LOG ... WITH NO_TRUNCATE, NORECOVERY (or CONTINUE_AFTER_ERROR)"]
        stmt = f"BACKUP LOG {source_db} TO DISK = {src} WITH NORECOVERY, CHECKSUM, FORMAT, INIT;"
        return lines + batch.declarations + [stmt, "GO"]

    def _recover(self, n: int) -> list[str]:
        batch = Batch()
        db = self._db(batch)
        if self.opts.no_recovery:
            return [f"-- Step {n}: --no-recovery: the database is left RESTORING; finish with:",
                    f"-- RESTORE DATABASE {comment_text(quote_identifier(self.target))} WITH RECOVERY;"]
        if self.opts.standby:
            stmt = f"RESTORE DATABASE {db} WITH STANDBY = {batch.literal(self.opts.standby)};"
            head = f"-- Step {n}: leave the database read-only in STANDBY (more logs can follow)"
        else:
            stmt = f"RESTORE DATABASE {db} WITH RECOVERY;"
            head = f"-- Step {n}: bring the database online"
        return [head] + batch.declarations + [stmt, "GO"]

    def render(self) -> str:
        self._vars.clear()
        self._setvar("TargetDb", self.target, "identifier")
        if self.opts.data_dir:
            self._setvar("DataDir", self.opts.data_dir, "literal")
        if self.opts.log_dir:
            self._setvar("LogDir", self.opts.log_dir, "literal")
        if any(s.action is Action.BACKUP_TAIL_LOG for s in self.plan.steps):
            self._setvar("TailFile", self._tail_path(), "literal")
        body: list[str] = []
        first_data = True
        for n, step in enumerate(self.plan.steps, start=1):
            if step.action is Action.BACKUP_TAIL_LOG:
                body.extend(self._tail_backup(n, step))
            elif step.action is Action.RECOVER:
                body.extend(self._recover(n))
            else:
                body.extend(self._restore(n, step, first_data))
                if step.action is Action.RESTORE_DATABASE:
                    first_data = False
            body.append("")
        p = self.plan
        head = [
            "-- restoreplan: restore script for sqlcmd (sqlcmd -b -i this.sql) or SSMS in SQLCMD mode",
            f"-- source database: {comment_text(p.database_name)} (family_guid {p.family_guid or p.lineage_key})",
            f"-- target: {comment_text(p.target.describe())}",
            f"-- recovery point: {comment_text(p.recovery_point)}",
        ]
        head += [f"-- warning: {comment_text(w)}" for w in p.warnings]
        head += [":On Error exit"]
        for name, value in self._vars.items():
            head.append(f':setvar {name} "{value}"')
        if "TargetDb" in self._vars and self.target != self.source:
            head.append(f"-- restoring under a new name: {comment_text(self.target)}")
        return "\n".join(head + [""] + body).rstrip() + "\n"


def render_tsql(plan: Plan, options: ScriptOptions | None = None) -> str:
    return TsqlEmitter(plan, options).render()
