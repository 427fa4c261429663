"""T-SQL for sqlcmd and SSMS (SQLCMD mode): one statement per batch under ``:On Error exit``.

Every statement is its own batch (GO), so a failed RESTORE stops sqlcmd before the next step
runs; ``sqlcmd -b -i plan.sql`` returns non-zero. (restore-rules C.1, C.5, C.6)
"""

from __future__ import annotations

import ntpath
import posixpath
import re
from dataclasses import dataclass

from restoreplan.core.errors import UsageError
from restoreplan.core.model import DEVICE_TYPE_URL, BackupSet, DatabaseFile, MediaFile
from restoreplan.core.plan import Action, Plan, Step, Stop, StopKind
from restoreplan.emit.quoting import (
    Batch,
    comment_text,
    datetime_literal_text,
    identifier_safe,
    quote_identifier,
    setvar_safe,
    sysname_length,
)

DEVICE_TYPE_TAPE = 5  # msdb backupmediafamily.device_type (restore-rules A.2)
DEVICE_TYPE_PERMANENT = 105  # a permanent (logical) backup device: disk or tape, told by its path
_TAPE_PATH = re.compile(r"^\\\\\.\\tape\d+$", re.IGNORECASE)  # \\.\Tape0
_BAD_FILE_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


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


def _is_tape(dev: MediaFile) -> bool:
    """msdb device_type 5 is a tape; 105 (a permanent backup device) is one when its path is \\\\.\\TapeN."""
    if dev.device_type == DEVICE_TYPE_TAPE:
        return True
    return dev.device_type == DEVICE_TYPE_PERMANENT and bool(_TAPE_PATH.match(dev.physical_device_name.strip()))


def _device_kind(dev: MediaFile) -> str:
    """DISK, TAPE or URL: the <backup_device> keyword of RESTORE (restore-rules C.1)."""
    if _is_url(dev.physical_device_name, dev.device_type):
        return "URL"
    if _is_tape(dev):
        return "TAPE"
    return "DISK"


def _credential_comment(path: str) -> str | None:
    low = path.lower()
    if low.startswith("s3://"):
        rest = path[5:]
        parts = rest.split("/")
        # path style s3://endpoint[:port]/bucket/key -> .../bucket; virtual-host s3://bucket.domain/key -> the host
        scope = "s3://" + "/".join(parts[:2]) if len(parts) > 2 else "s3://" + parts[0]
        return (f"-- needs: CREATE CREDENTIAL [{comment_text(scope)}] WITH IDENTITY = 'S3 Access Key', "
                "SECRET = '<AccessKeyID>:<SecretKeyID>';  (SQL Server 2022)")
    if low.startswith(("http://", "https://")):
        container = path.rsplit("/", 1)[0]
        return (f"-- needs: CREATE CREDENTIAL [{comment_text(container)}] WITH IDENTITY = 'SHARED ACCESS SIGNATURE', "
                "SECRET = '<SAS token without the leading ?>';")
    return None


def _sep_of(directory: str) -> str:
    return "/" if "/" in directory and "\\" not in directory else "\\"


def _strip_dir(directory: str) -> str:
    """A directory without its trailing separators (``D:\\R\\`` -> ``D:\\R``), so a file name joins with one."""
    return directory.rstrip("\\/")


def _join(directory: str, name: str) -> str:
    return _strip_dir(directory) + _sep_of(directory) + name


def _dirname(path: str) -> str:
    return ntpath.dirname(path) if "\\" in path else posixpath.dirname(path)


def _basename(path: str) -> str:
    return ntpath.basename(path.replace("/", "\\"))


def _path_key(path: str) -> str:
    """Paths compared as Windows compares them: case-insensitive, either separator, no doubled one."""
    return re.sub(r"\\+", "\\\\", path.replace("/", "\\")).rstrip("\\").casefold()


def _renamed(filename: str, source: str, target: str | None) -> str:
    """The file name with the source name replaced by the target's, made a file name: a target name
    holding ``\\``, ``/`` or ``:`` must not move the file to another directory or stream."""
    if not target or target.casefold() == source.casefold():
        return filename
    idx = filename.lower().find(source.lower())
    if idx < 0:
        return filename
    part = _BAD_FILE_CHARS.sub("_", target)
    return filename[:idx] + part + filename[idx + len(source):]


def _unique_name(name: str, directory: str, taken: set[str]) -> str:
    """``data.ndf`` -> ``data_2.ndf`` (then _3 ...): the first name not yet a MOVE target in ``directory``."""
    stem, ext = ntpath.splitext(name)
    n = 2
    while True:
        candidate = f"{stem}_{n}{ext}"
        if _path_key(_join(directory, candidate) if directory else candidate) not in taken:
            return candidate
        n += 1


def safe_file_name(name: str) -> str:
    """A Windows file name: no ``<>:"/\\|?*`` or control characters, no trailing dot or space."""
    out = _BAD_FILE_CHARS.sub("_", name).rstrip(". ")
    return out or "database"


def iso_datetime(text: str) -> str | None:
    """``2026-11-19 09:20:00[.250]`` -> ``2026-11-19T09:20:00[.250]``: ISO 8601, read the same under every
    SET DATEFORMAT / SET LANGUAGE (the space-separated form is not, for datetime), the fraction floored
    to a datetime tick so that it never reads later than asked; None if not that shape."""
    return datetime_literal_text(text, "T")


def _time_literal(batch: Batch, text: str) -> str:
    iso = iso_datetime(text)
    return f"'{iso}'" if iso is not None else batch.literal(text)


def _stop_clause(batch: Batch, stop: Stop) -> str:
    value = _time_literal(batch, stop.value) if stop.kind is StopKind.STOPAT else batch.literal(stop.value)
    clause = f"{stop.kind.value} = {value}"
    if stop.after:
        clause += f" AFTER {_time_literal(batch, stop.after)}"
    return clause


class TsqlEmitter:
    """Turns a Plan into a sqlcmd script."""

    def __init__(self, plan: Plan, options: ScriptOptions | None = None) -> None:
        self.plan = plan
        self.opts = options or ScriptOptions()
        self.source = plan.database_name
        self.target = self.opts.target_name or plan.database_name
        self._vars: dict[str, str] = {}
        self.notes: list[str] = []
        """what the DBA must know about the script (also written as ``-- warning:`` in its header)"""

    # -- sqlcmd variables --------------------------------------------------------------
    def _setvar(self, name: str, value: str, context: str) -> str | None:
        """Declare :setvar when the value is safe; return the text to use, or None to inline."""
        escaped = value.replace("]", "]]") if context == "identifier" else value.replace("'", "''")
        if not setvar_safe(escaped) or (context == "identifier" and not identifier_safe(value)):
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
        """One device per family: the first of its mirrors (a loader that checked the files on disk
        left only the present mirrors, so this is one that exists)."""
        devices = []
        comments = []
        for mirrors in bs.families.values():
            dev = mirrors[0]
            kind = _device_kind(dev)
            devices.append(f"{kind} = {batch.literal(dev.physical_device_name)}")
            cred = _credential_comment(dev.physical_device_name) if kind == "URL" else None
            if cred and cred not in comments:
                comments.append(cred)
        return ",\n     ".join(devices), comments

    def _moves(self, batch: Batch, files: tuple[DatabaseFile, ...]) -> tuple[list[str], list[str]]:
        """MOVE every file; --data-dir/--log-dir relocate, --target-name renames (log dir defaults to data dir).

        Two files never get one destination: a later file whose name is taken in its directory
        becomes ``name_2.ext`` (``_3`` ...), in file order, and a comment says so. Under a new
        --target-name a file left at the source's own path is refused unless --replace.
        """
        moves: list[str] = []
        comments: list[str] = []
        taken: dict[str, str] = {}  # path key -> logical name of the file that goes there
        onto_source: list[tuple[DatabaseFile, str]] = []
        renaming = self._is_copy()
        source_paths = {_path_key(f.physical_name): f for f in files}
        for f in files:
            name = _renamed(_basename(f.physical_name), self.source, self.opts.target_name)
            is_log = f.file_type.upper() == "L"
            var = "LogDir" if is_log and self.opts.log_dir else "DataDir"
            # an empty --data-dir/--log-dir is no directory: the file stays where it was (not a bare name)
            chosen = ((self.opts.log_dir or self.opts.data_dir) if is_log else self.opts.data_dir) or None
            directory = chosen if chosen is not None else _dirname(f.physical_name)
            dest_path = _join(directory, name) if directory else name
            key = _path_key(dest_path)
            if key in taken:
                first = taken[key]
                name = _unique_name(name, directory, set(taken))
                dest_path = _join(directory, name) if directory else name
                key = _path_key(dest_path)
                note = (f"MOVE {f.logical_name} renamed to {name}: its name is already the destination of "
                        f"{first} in {_strip_dir(directory) or directory or 'the same directory'}")
                comments.append(f"-- {comment_text(note)}")
                self.notes.append(note)
            taken[key] = f.logical_name
            if renaming and key in source_paths:  # its own path, or another file's, left or chosen
                onto_source.append((f, dest_path))
            if chosen is None:
                dest = batch.literal(dest_path)
            elif var in self._vars and setvar_safe((_sep_of(chosen) + name).replace("'", "''")):
                dest = "N'$(" + var + ")" + _sep_of(chosen) + name.replace("'", "''") + "'"
            else:
                dest = batch.literal(dest_path)
            moves.append(f"MOVE {batch.literal(f.logical_name)} TO {dest}")
        if onto_source:
            listed = ", ".join(f"{f.logical_name} ({f.physical_name})" if _path_key(dest) == _path_key(f.physical_name)
                               else f"{f.logical_name} ({f.physical_name} -> {dest})" for f, dest in onto_source)
            if not self.opts.replace:
                raise UsageError(
                    f"restoring {self.source} as {self.target}: these files would be moved onto the source "
                    f"database's own paths (file names without {self.source!r}, in the source's directories): {listed}",
                    hint="give --data-dir (and --log-dir) that are not the source's directories; or, when the script "
                         "runs on another server where these paths are free, add --replace",
                    code="MOVE_ONTO_SOURCE")
            note = (f"restoring under a new name with --replace, these MOVE targets are the source database's "
                    f"own file paths: {listed}; on the source's server this fails while {self.source} is "
                    f"online and overwrites its files if it is not")
            self.notes.append(note)
        return moves, comments

    def _restore(self, n: int, step: Step, first_data: bool) -> list[str]:
        bs = step.backup
        batch = Batch()
        lines = [f"-- Step {n}: {comment_text(step.why)}"]
        if bs is None:  # the tail-log backup being restored
            src = self._path_literal(batch, self._tail_path(), "TailFile")
            opts = ["NORECOVERY"]
            if step.stop is not None:
                opts.append(_stop_clause(batch, step.stop))
            stmt = f"RESTORE LOG {self._db(batch)} FROM DISK = {src} WITH {', '.join(opts)};"
            return lines + batch.declarations + [stmt, "GO"]
        lines.append(
            f"-- {bs.type.label} backup set {comment_text(bs.backup_set_uuid)}, finished {bs.backup_finish_date:%Y-%m-%d %H:%M:%S}, "
            f"LSN {comment_text(bs.first_lsn)} .. {comment_text(bs.last_lsn)}" + (f", server {comment_text(bs.server_name)}" if bs.server_name else "")
        )
        devices, comments = self._devices(batch, bs)
        lines.extend(comments)
        opts = [f"FILE = {int(bs.position)}", "NORECOVERY"]
        if step.action is Action.RESTORE_DATABASE and first_data:
            if bs.db_files:
                moves, move_comments = self._moves(batch, bs.db_files)
                lines.extend(move_comments)
                opts.extend(moves)
            elif self.opts.target_name or self.opts.data_dir or self.opts.log_dir:
                lines.append("-- file list unknown: load backupfile rows (--msdb or --backup-files) to get MOVE clauses,")
                lines.append("-- or run RESTORE FILELISTONLY on this backup and add MOVE N'logical' TO N'path' here")
            if self.opts.replace:
                opts.append("REPLACE")
        if bs.has_backup_checksums:
            opts.append("CHECKSUM")
        if step.stop is not None:
            opts.append(_stop_clause(batch, step.stop))
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
        if logs and logs[-1].files:
            dev = logs[-1].files[0]
            # next to the last backup when that is a file on disk (not a URL, tape or virtual device)
            if dev.device_type in (None, 2) and not _is_url(dev.physical_device_name, dev.device_type):
                directory = _dirname(dev.physical_device_name)
        name = safe_file_name(f"{self.source}_tail.trn")
        return _join(directory, name) if directory else name

    def _tail_backup(self, n: int, step: Step) -> list[str]:
        batch = Batch()
        src = self._path_literal(batch, self._tail_path(), "TailFile")
        source_db = batch.identifier(self.source)
        lines = [f"-- Step {n}: {comment_text(step.why)}"]
        if self._is_copy():
            # the plan's reason speaks of NORECOVERY: for a copy the script does otherwise
            lines = [f"-- Step {n}: back up the tail of the log of {comment_text(self.source)} WITH COPY_ONLY first: the copy "
                     "gets every transaction since the last log backup (restore-rules B.12, B.5)"]
            # a copy under another name: the source stays online, and its log backup chain is not
            # touched (a regular log backup here would truncate the log into a file the scheduled
            # chain then needs); NO_TRUNCATE is COPY_ONLY + CONTINUE_AFTER_ERROR (restore-rules B.12)
            lines += ["-- Restoring a copy under another name: COPY_ONLY leaves the source online and its log "
                      "backup chain as it was;",
                      "-- the copy holds what the source held when this backup ran. "
                      "For a damaged source use instead: BACKUP LOG ... WITH NO_TRUNCATE"]
            stmt = f"BACKUP LOG {source_db} TO DISK = {src} WITH COPY_ONLY, CHECKSUM, FORMAT, INIT;"
        else:
            lines.append("-- For a damaged database use instead: BACKUP LOG ... WITH NO_TRUNCATE, NORECOVERY "
                         "(or CONTINUE_AFTER_ERROR)")
            stmt = f"BACKUP LOG {source_db} TO DISK = {src} WITH NORECOVERY, CHECKSUM, FORMAT, INIT;"
        return lines + batch.declarations + [stmt, "GO"]

    def _is_copy(self) -> bool:
        """Restoring under another name (SQL Server compares database names case-insensitively here)."""
        return self.target.casefold() != self.source.casefold()

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
        if (length := sysname_length(self.target)) > 128:  # a sysname variable would cut it to another name
            raise UsageError(f"the target database name is {length} UTF-16 code units long: SQL Server names "
                             "have at most 128 (sysname)", hint="choose a shorter --target-name")
        self._vars.clear()
        self.notes.clear()
        self._setvar("TargetDb", self.target, "identifier")
        if self.opts.data_dir:
            self._setvar("DataDir", _strip_dir(self.opts.data_dir), "literal")
        if self.opts.log_dir:
            self._setvar("LogDir", _strip_dir(self.opts.log_dir), "literal")
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
            "-- restoreplan: restore script for sqlcmd or SSMS in SQLCMD mode. The file is UTF-8: ODBC sqlcmd "
            "needs -f 65001 (sqlcmd -b -f 65001 -i this.sql); go-sqlcmd reads UTF-8 as it is (sqlcmd -b -i this.sql)",
            f"-- source database: {comment_text(p.database_name)} (family_guid {comment_text(p.family_guid or p.lineage_key)})",
            f"-- target: {comment_text(p.target.describe())}",
            f"-- recovery point: {comment_text(p.recovery_point)}",
        ]
        head += [f"-- warning: {comment_text(w)}" for w in (*p.warnings, *self.notes)]
        head += [":On Error exit"]
        for name, value in self._vars.items():
            head.append(f':setvar {name} "{value}"')
        if "TargetDb" in self._vars and self.target != self.source:
            head.append(f"-- restoring under a new name: {comment_text(self.target)}")
        return "\n".join(head + [""] + body).rstrip() + "\n"


def render_tsql(plan: Plan, options: ScriptOptions | None = None) -> str:
    return TsqlEmitter(plan, options).render()
