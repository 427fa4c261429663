"""Assemble a History from every input the user named (the edge between sources and the core)."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any

from restoreplan.core.errors import InputError
from restoreplan.core.history import History
from restoreplan.core.lsn import LSN
from restoreplan.core.model import BackupSet, DatabaseFile, LogMark, MediaFile, RestoreEvent
from restoreplan.sources import values as v
from restoreplan.sources.canonical import SetBuilder
from restoreplan.sources.restores import restore_events
from restoreplan.sources.tabular import read_history_file, read_records

Progress = Callable[[str], None]


@dataclass(slots=True)
class LoadRequest:
    history: list[str] = field(default_factory=list)
    marks: list[str] = field(default_factory=list)
    restores: list[str] = field(default_factory=list)  # restorehistory exports
    backup_files: list[str] = field(default_factory=list)
    backups: list[str] = field(default_factory=list)
    msdb: str | None = None
    inventory: str | None = None
    jobs: int = 4
    input_format: str | None = None
    check_files: bool = False
    database: str | None = None  # msdb: read only this database's rows
    only_named: str | None = None  # build only the lineages that carried this name (if any did);
    # rows of other lineages are set aside unparsed beyond their shared columns (SetBuilder skim_for)
    since: datetime | None = None
    server_name: str | None = None
    s3: Any = None  # restoreplan.sources.s3.S3Options


@dataclass(slots=True)
class Loaded:
    history: History
    origins: list[str]
    failures: list[tuple[str, str]] = field(default_factory=list)  # (source, message)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    used_sample: bool = False


def sample_history_path() -> str:
    return str(resources.files("restoreplan") / "data" / "sample_history.csv")


def sample_marks_path() -> str:
    return str(resources.files("restoreplan") / "data" / "sample_marks.csv")


def _lowered(records: list[dict[str, Any]], origin: str) -> list[dict[str, Any]]:
    """The records keyed by lower-case column names (msdb compares names case-insensitively;
    a name given twice in any case is refused)."""
    out = []
    for row_no, r in enumerate(records, start=2):
        names = [str(k).strip().lower() for k in r]
        if len(set(names)) != len(names):
            raise InputError(f"{origin}, row {row_no}: a column is named twice (column names are "
                             "compared case-insensitively)")
        out.append(dict(zip(names, r.values(), strict=True)))
    return out


def _marks(records: list[dict[str, Any]], origin: str) -> list[LogMark]:
    out = []
    seen: dict[tuple[str, str, int], tuple[int, LogMark]] = {}  # one mark: its first row
    for row_no, r in enumerate(_lowered(records, origin), start=2):
        try:
            lsn = v.text(r.get("lsn"))
            name, mark_name = v.parse_database_name(r.get("database_name")), v.text(r.get("mark_name"))
            # msdb's mark_time is server-local; without it the mark cannot be tied to a log backup
            mark_time = v.parse_local_datetime(r.get("mark_time"))
            missing = [c for c, x in (("database_name", name), ("mark_name", mark_name), ("lsn", lsn),
                                      ("mark_time", mark_time)) if x is None]
            if missing:
                raise InputError(f"{', '.join(missing)} missing (every mark needs all four)")
            assert name is not None and mark_name is not None and lsn is not None and mark_time is not None
            mark = LogMark(
                database_name=name,
                mark_name=mark_name,
                lsn=LSN.parse(lsn),
                mark_time=mark_time,
                description=v.text(r.get("description")),
            )
            key = (name.casefold(), mark_name, mark.lsn.value)
            if key in seen:  # the same row again is merged; a different time is a conflict
                first_row, first = seen[key]
                if first.mark_time != mark.mark_time:
                    raise InputError(f"mark {mark_name!r} of {name} at LSN {mark.lsn} has mark_time "
                                     f"{first.mark_time} at row {first_row} but {mark_time} here")
                continue
            seen[key] = (row_no, mark)
            out.append(mark)
        except (v.ValueProblem, InputError) as exc:
            msg = exc.message if isinstance(exc, InputError) else str(exc)
            raise InputError(f"{origin}, row {row_no}: {msg}", hint="columns: database_name, mark_name, lsn, mark_time") from None
    return out


_FILE_TYPES = frozenset("DLFS")  # backupfile.file_type and FILELISTONLY's Type (restore-rules A.4, A.9)


def _database_files(records: list[dict[str, Any]], origin: str) -> dict[str, list[DatabaseFile]]:
    out: dict[str, list[DatabaseFile]] = {}
    for row_no, r in enumerate(_lowered(records, origin), start=2):
        try:
            uuid = v.parse_guid(r.get("backup_set_uuid"))
        except v.ValueProblem as exc:
            raise InputError(f"{origin}, row {row_no}, column backup_set_uuid: {exc}") from None
        logical, physical = v.text(r.get("logical_name")), v.text(r.get("physical_name"))
        if not uuid or not logical or not physical:
            raise InputError(f"{origin}, row {row_no}: backup_set_uuid, logical_name and physical_name are required")
        file_type = (v.text(r.get("file_type")) or "D").upper()
        if file_type not in _FILE_TYPES:  # a guess would put a log file under --data-dir, or the reverse
            raise InputError(f"{origin}, row {row_no}: unknown file_type {file_type!r} (expected D data, L log, "
                             "F full-text catalog or S FILESTREAM / in-memory container)")
        files = out.setdefault(uuid, [])
        same = [f for f in files if f.logical_name.casefold() == logical.casefold()]
        if same and same[0] != DatabaseFile(logical, physical, file_type):  # two MOVEs of one file fail (3234)
            raise InputError(f"{origin}, row {row_no}: backup set {uuid} lists logical file {logical!r} twice, "
                             f"as {same[0].physical_name!r} and {physical!r}", hint="keep one row per file")
        if not same:
            files.append(DatabaseFile(logical, physical, file_type))
    return out


def check_files(sets: list[BackupSet], exists: Callable[[str], bool]) -> tuple[list[BackupSet], dict[str, str]]:
    """``--check-files``: the sets with only their present mirrors, and the sets that cannot be restored.

    The mirrors of one family are interchangeable (one complete mirror per family suffices), so
    a family whose lowest mirror is missing is restored from a mirror that is present: the set
    keeps only the devices found on disk, and every later reader (plan JSON, the scripts) names
    those. A set with a family of which no mirror exists is unavailable; its files stay as
    recorded so the reason can name them.
    """
    out: list[BackupSet] = []
    unavailable: dict[str, str] = {}
    for bs in sets:
        present: list[MediaFile] = []
        missing: list[str] = []
        dropped = False
        for mirrors in bs.families.values():
            found = [m for m in mirrors if exists(m.physical_device_name)]
            if not found:
                missing.append(mirrors[0].physical_device_name)
            dropped = dropped or len(found) < len(mirrors)
            present.extend(found)
        if missing:
            unavailable[bs.backup_set_uuid] = "missing file(s): " + ", ".join(missing)
            out.append(bs)
        elif dropped:
            out.append(bs.evolve(files=tuple(present)))
        else:
            out.append(bs)
    return out, unavailable


def local_exists(path: str) -> bool:
    if path.lower().startswith(("http://", "https://", "s3://")):
        return True  # checked by the S3 source when it is the input
    return os.path.exists(path)


def _rows_read(progress: Progress | None, path: str, before: int) -> Callable[[int], None] | None:
    """What ``progress`` hears while ``path`` is read (the builder counts every input's rows)."""
    if progress is None:
        return None
    return lambda n: progress(f"{path}: {n - before:,} rows read")


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a history is read and indexed.

    Loading allocates millions of objects that live on and hold no cycles; each full
    collection would traverse all of them again (at 1,000,000 rows that was a third of the
    time: docs/benchmarks.md). Collection resumes afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _of_server(sets: list[BackupSet], server: str) -> list[BackupSet]:
    """The sets taken on ``server`` (server_name, compared case-insensitively)."""
    wanted = server.casefold()
    kept = [s for s in sets if (s.server_name or "").casefold() == wanted]
    if not kept:
        servers = sorted({s.server_name for s in sets if s.server_name})
        raise InputError(f"no backup set of server {server!r} in the inputs",
                         hint=f"servers: {', '.join(servers[:20])}" if servers else "the inputs have no server_name")
    return kept


def load(req: LoadRequest, progress: Progress | None = None) -> Loaded:
    """Read every input into one History."""
    with _collector_paused():
        return _load(req, progress)


def _load(req: LoadRequest, progress: Progress | None, *, skim: bool = True) -> Loaded:
    # skimming may need a second read: only of files that can be read twice (not a pipe)
    skim = skim and all(os.path.isfile(path) for path in req.history)
    builder = SetBuilder(skim_for=req.only_named if skim else None)
    origins: list[str] = []
    marks: list[LogMark] = []
    restores: list[RestoreEvent] = []
    failures: list[tuple[str, str]] = []
    unreadable: list[tuple[str, str]] = []
    used_sample = False
    files = list(req.history)
    if not (files or req.msdb or req.inventory or req.backups):
        files = [sample_history_path()]
        used_sample = True
        if not req.marks:
            req.marks = [sample_marks_path()]
        if not req.backup_files:
            req.backup_files = [str(resources.files("restoreplan") / "data" / "sample_backup_files.csv")]
    for path in files:
        read_history_file(path, builder, req.input_format, _rows_read(progress, path, builder.rows_read))
        origins.append(path)
    if req.msdb or req.inventory:
        from restoreplan.sources import msdb_odbc

        results = []
        if req.msdb:  # its rows go straight into the builder, a fetched batch at a time
            results.append(msdb_odbc.read_msdb(req.msdb, database=req.database, since=req.since,
                                               server_name=req.server_name, into=builder))
        if req.inventory:
            inv = msdb_odbc.read_inventory(req.inventory, jobs=req.jobs, database=req.database, since=req.since,
                                           server_name=req.server_name)
            results.extend(inv.results)
            failures.extend(inv.failures)
        for res in results:
            builder.add_mappings(res.rows, f"msdb on {res.server}")
            for uuid, dbf in res.database_files.items():
                builder.add_database_files(uuid, dbf)
            marks.extend(res.marks)
            restores.extend(res.restores)
            origins.append(f"msdb on {res.server}")
    unreadable.extend(builder.unreadable)  # a scan's JSON read as history names what it could not read
    if req.backups:
        from restoreplan.sources import backup_files

        scans = backup_files.scan_sources(req.backups, s3=req.s3)
        rows = backup_files.rows_for_history(scans)
        unreadable.extend((s.name, s.error) for s in scans if s.error)
        if rows:
            builder.add_mappings(rows, "backup files")
        origins.extend(req.backups)
    for path in req.backup_files:
        for uuid, dbf in _database_files(read_records(path), path).items():
            builder.add_database_files(uuid, dbf)
    for path in req.marks:
        marks.extend(_marks(read_records(path), path))
    for path in req.restores:
        restores.extend(restore_events(_lowered(read_records(path), path), path))
    if builder.skimmed_too_much:  # rare: a renamed database, a conflict, an unknown name
        return _load(req, progress, skim=False)
    sets = builder.build(req.only_named)
    if not sets:
        if failures:  # every server failed: say why, not only that nothing was read
            said = "; ".join(f"{server}: {message}" for server, message in failures[:5])
            more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
            raise InputError(f"no server could be read: {said}{more}", hint="check the connection strings and logins")
        raise InputError("the inputs hold no backup sets", hint="check the export or the folder")
    if req.server_name:
        sets = _of_server(sets, req.server_name)
    unavailable: dict[str, str] = {}
    if req.check_files:
        sets, unavailable = check_files(sets, local_exists)
    history = History.from_sets(sets, marks=marks, unavailable=unavailable, restores=restores)
    return Loaded(history, origins, failures, unreadable, used_sample)
