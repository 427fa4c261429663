"""Backup files as a history source: scan folders, files and S3 prefixes; canonical rows out."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from restoreplan.sources.bakfile import FileScan, read_backup_file

if TYPE_CHECKING:
    from restoreplan.sources.s3 import S3Options

S3_WORKERS = 8
Job = Callable[[], FileScan]


def _walk(folder: str, seen: set[tuple[int, int]] | None = None) -> Iterator[tuple[str, str | None]]:
    """(path, None) for regular files under ``folder``, recursively, in a stable order, and
    (path, why) for what cannot be listed or opened (an unreadable subfolder, a dangling link),
    so that no backup file is left out of a scan silently.

    Symbolic links to folders are followed; a folder already visited (a link loop, or two links
    to one folder) is read once.
    """
    seen = set() if seen is None else seen
    try:
        st = os.stat(folder)
        key = (st.st_dev, st.st_ino)
        if key in seen:
            return
        seen.add(key)
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        yield folder, f"cannot list folder: {exc.strerror or exc}"
        return
    for entry in entries:
        try:
            mode = os.stat(entry.path).st_mode
        except OSError as exc:
            yield entry.path, f"cannot open: {exc.strerror or exc}"
            continue
        if stat.S_ISDIR(mode):
            yield from _walk(entry.path, seen)
        elif stat.S_ISREG(mode):
            yield entry.path, None
        # FIFOs, sockets and devices inside a folder are not backups: skipped


def _error(name: str, why: str) -> Job:
    return lambda: FileScan(name, (), f"unreadable: {why}", 0)


def _shown(path: str) -> str | None:
    """None for a path UTF-8 can write; else the path with its undecodable bytes as ``\\xe9``
    (a name no history file, report or script can hold as it is)."""
    try:
        path.encode("utf-8")
        return None
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")


def _local_job(path: str, why: str | None) -> Job:
    shown = _shown(path)
    if shown is not None:
        return _error(shown, "its name is not valid UTF-8: no history file or script can name it (rename it)")
    return _error(path, why) if why else (lambda: read_backup_file(path, path))


def _local_jobs(target: str) -> list[tuple[str, Job]]:
    if os.path.isdir(target):
        return [(p, _local_job(p, why)) for p, why in _walk(target)]
    if os.path.exists(target):
        if not stat.S_ISREG(os.stat(target).st_mode):
            return [(target, _error(target, "not a regular file"))]
        return [(target, lambda: read_backup_file(target, target))]
    return [(target, _error(target, "no such file or folder"))]


def _s3_jobs(target: str, options: S3Options | None) -> list[tuple[str, Job]]:
    from restoreplan.sources import s3

    client = s3.make_client(options)
    bucket, _prefix = s3.parse_s3_url(target)
    jobs: list[tuple[str, Job]] = []
    for key, size in s3.list_objects(target, options, client=client):
        if key.endswith("/"):
            continue  # a "folder" marker object
        url = f"s3://{bucket}/{key}"

        def job(key: str = key, size: int = size, url: str = url) -> FileScan:
            try:
                obj = s3.S3Object(bucket, key, size, client=client)
            except OSError as exc:
                return FileScan(url, (), f"unreadable: {exc}", 0)
            return read_backup_file(obj, url)

        jobs.append((url, job))
    return jobs


def scan_sources(
    targets: list[str],
    *,
    s3: S3Options | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[FileScan]:
    """Read the headers of every file under ``targets`` (folders, files, ``s3://`` prefixes)."""
    jobs: list[tuple[bool, Job]] = []
    for target in targets:
        remote = target.lower().startswith("s3://")
        found = _s3_jobs(target, s3) if remote else _local_jobs(target)
        jobs.extend((remote, job) for _, job in found)
    total = len(jobs)
    done = 0
    results: list[FileScan | None] = [None] * total

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    remote_jobs = [(i, job) for i, (remote, job) in enumerate(jobs) if remote]
    for i, (remote, job) in enumerate(jobs):
        if not remote:
            results[i] = job()
            tick()
    if remote_jobs:
        with ThreadPoolExecutor(max_workers=S3_WORKERS) as pool:
            futures = [(i, pool.submit(job)) for i, job in remote_jobs]
            for i, fut in futures:
                results[i] = fut.result()
                tick()
    return [r for r in results if r is not None]


def rows_for_history(scans: list[FileScan]) -> list[dict[str, Any]]:
    """One canonical row per backup set per file (stripes are grouped downstream by GUID)."""
    return [dict(row) for scan in scans for row in scan.sets]
