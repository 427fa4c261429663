"""Large canonical histories for the benchmarks, written as msdb-shaped CSV, streaming.

Same shape as :mod:`restoreplan.samplegen` (weekly full Sunday 22:00, daily differential 22:00,
a log every 15 minutes, LSNs that advance the way a log does, differential bases, a fork and a
time zone per database), but written row by row by a dedicated writer: the sample generator
builds dicts in memory, which is fine for a bundled sample and too slow for a million rows.

Cases:

* ``history_<rows>.csv``: ``rows / 5000`` databases of 5,000 rows (backup media files) each;
  every fourth database stripes its fulls over 4 files every second week.
* ``logs_<n>.csv``: one database with ``n`` log backups (plus its fulls and differentials).
* ``<shape>_<rows>.csv``: the same number of rows in another shape (``SHAPES``: many small
  databases, rows in time order across databases, every backup striped, copy-only logs beside
  the chain).

Deterministic for a given seed. Run ``python bench/generate.py --help``.
"""

from __future__ import annotations

import argparse
import csv
import heapq
import json
import os
import random
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from restoreplan.sources.columns import ALL  # noqa: E402

VLF = 10**15
BLOCK = 10**5
ROWS_PER_DATABASE = 5000
START = datetime(2025, 1, 5, 22, 0)  # a Sunday, 22:00: the first backup is a full
DATA_DIR = Path(__file__).resolve().parent / "data"
_COL = {name: i for i, name in enumerate(ALL)}


def _guid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    # version 4 / variant 1, like uuid.uuid4()
    h = h[:12] + "4" + h[13:16] + "89ab"[int(h[16], 16) & 3] + h[17:]
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class _Database:
    """One database incarnation taking backups; yields canonical rows (lists in ALL order)."""

    def __init__(self, index: int, seed: int, stripe_fulls: bool, copy_only_logs: bool = False) -> None:
        self.rng = rng = random.Random(seed * 1_000_003 + index)
        self.name = f"DB{index:04d}"
        self.server = f"SQL{index % 7:02d}"
        self.family_guid = _guid(rng)
        self.database_guid = _guid(rng)
        self.fork = _guid(rng)
        self.pos = rng.randint(20, 60) * VLF + rng.randint(100, 900) * BLOCK + 1
        self.size = rng.randint(1, 200) * 2**30
        self.log_rate = rng.randint(50, 600) * 2**20 // 4
        self.stripe_fulls = stripe_fulls
        self.copy_only_logs = copy_only_logs  # hourly, beside the chain (a second backup tool)
        self.last_full: tuple[str, int] | None = None  # (uuid, checkpoint_lsn)
        self.last_log_end: int | None = None
        self.first_log = True
        self.backup_set_id = 1
        self.media_set_id = 1000
        self.directory = f"\\\\backup01\\sql\\{self.name}"
        template = [""] * len(ALL)
        for name, value in (
            ("database_name", self.name),
            ("position", "1"),
            ("server_name", self.server),
            ("machine_name", self.server),
            ("family_guid", self.family_guid),
            ("database_guid", self.database_guid),
            ("last_recovery_fork_guid", self.fork),
            ("first_recovery_fork_guid", self.fork),
            ("time_zone", "-20"),
            ("recovery_model", "FULL"),
            ("is_copy_only", "0"),
            ("is_snapshot", "0"),
            ("is_damaged", "0"),
            ("has_bulk_logged_data", "0"),
            ("has_incomplete_metadata", "0"),
            ("has_backup_checksums", "1"),
            ("is_password_protected", "0"),
            ("software_major_version", "16"),
            ("device_type", "2"),
            ("mirror", "0"),
            ("mirror_count", "1"),
            ("is_compressed", "1"),
        ):
            template[_COL[name]] = value
        self.template = template

    def _advance(self, lo: int, hi: int) -> int:
        self.pos += self.rng.randint(lo, hi) * BLOCK
        if self.rng.random() < 0.05:  # the log moves on to the next VLF
            self.pos = (self.pos // VLF + 1) * VLF + 10 * BLOCK + 1
        return self.pos

    def _rows(
        self,
        kind: str,
        start: datetime,
        finish: datetime,
        first: int,
        last: int,
        ckpt: int,
        size: int,
        stripes: int = 1,
        begins: bool = False,
        uid: str | None = None,
    ) -> Iterator[list[str]]:
        self.backup_set_id += 1
        self.media_set_id += 1
        row = list(self.template)
        c = _COL
        row[c["backup_set_uuid"]] = uid or _guid(self.rng)
        row[c["type"]] = kind
        row[c["first_lsn"]] = str(first)
        row[c["last_lsn"]] = str(last)
        row[c["checkpoint_lsn"]] = str(ckpt)
        row[c["database_backup_lsn"]] = str(self.last_full[1]) if self.last_full else "0"
        row[c["backup_start_date"]] = f"{start:%Y-%m-%d %H:%M:%S}.000"
        row[c["backup_finish_date"]] = f"{finish:%Y-%m-%d %H:%M:%S}.000"
        row[c["backup_set_id"]] = str(self.backup_set_id)
        row[c["media_set_id"]] = str(self.media_set_id)
        if kind == "I" and self.last_full:
            row[c["differential_base_guid"]] = self.last_full[0]
            row[c["differential_base_lsn"]] = str(self.last_full[1])
        row[c["begins_log_chain"]] = "1" if begins else "0"
        row[c["backup_size"]] = str(size)
        row[c["compressed_backup_size"]] = str(int(size * 0.35))
        row[c["media_family_count"]] = str(stripes)
        label, ext = {"D": ("FULL", "bak"), "I": ("DIFF", "dif"), "L": ("LOG", "trn")}[kind]
        stem = f"{self.directory}\\{self.server}_{self.name}_{label}_{start:%Y%m%d_%H%M%S}"
        if stripes == 1:
            row[c["physical_device_name"]] = f"{stem}.{ext}"
            row[c["family_sequence_number"]] = "1"
            yield row
            return
        for family in range(1, stripes + 1):
            striped = list(row)
            striped[c["physical_device_name"]] = f"{stem}_{family}.{ext}"
            striped[c["family_sequence_number"]] = str(family)
            yield striped

    def backups(self, t: datetime, week: int) -> Iterator[list[str]]:
        """The backup(s) taken at slot ``t`` (a full, a differential or a log)."""
        if t.hour == 22 and t.minute == 0:
            if t.weekday() == 6 or self.last_full is None:
                stripes = 4 if self.stripe_fulls and week % 2 == 0 else 1
                first = self._advance(5, 40)
                ckpt = self._advance(1, 5)
                last = self._advance(20, 200)
                uid = _guid(self.rng)
                yield from self._rows(
                    "D",
                    t,
                    t + timedelta(minutes=25),
                    first,
                    last,
                    ckpt,
                    self.size,
                    stripes,
                    uid=uid,
                )
                self.last_full = (uid, ckpt)
                return
            first = self._advance(5, 40)
            ckpt = self._advance(1, 5)
            last = self._advance(10, 80)
            yield from self._rows(
                "I",
                t,
                t + timedelta(minutes=6),
                first,
                last,
                ckpt,
                max(2**20, int(self.size * 0.04 * t.weekday())),
            )
            return
        start_lsn = self.last_log_end if self.last_log_end is not None else self.pos
        end = self._advance(50, 400)
        size = int(self.log_rate * self.rng.uniform(0.5, 1.5))
        yield from self._rows(
            "L",
            t,
            t + timedelta(seconds=20),
            start_lsn,
            end,
            start_lsn,
            size,
            begins=self.first_log,
        )
        self.last_log_end = end
        self.first_log = False
        if self.copy_only_logs and t.minute == 30:
            # from where the chain stands to a later LSN; the next regular log covers it again
            copy_end = self._advance(10, 100)
            for row in self._rows("L", t + timedelta(minutes=5), t + timedelta(minutes=5, seconds=20), end,
                                  copy_end, end, size // 2):
                row[_COL["is_copy_only"]] = "1"
                yield row

    def stream(
        self, max_rows: int | None = None, max_logs: int | None = None
    ) -> Iterator[list[str]]:
        t = START
        step = timedelta(minutes=15)
        rows = logs = week = 0
        while True:
            if t.weekday() == 6 and t.hour == 22 and t.minute == 0:
                week += 1
            for row in self.backups(t, week):
                if row[_COL["type"]] == "L":
                    logs += 1
                yield row
                rows += 1
                if max_rows is not None and rows >= max_rows:
                    return
            if max_logs is not None and logs >= max_logs:
                return
            t += step


def write_history(path: Path, rows: int, seed: int = 1) -> Path:
    """``rows / 5000`` databases of 5,000 rows each (at least one database)."""
    n_db = max(1, rows // ROWS_PER_DATABASE)
    per_db = ROWS_PER_DATABASE if rows >= ROWS_PER_DATABASE else rows
    return _write(
        path, ((_Database(i, seed, stripe_fulls=i % 4 == 0), per_db, None) for i in range(n_db))
    )


def write_log_heavy(path: Path, logs: int, seed: int = 1) -> Path:
    """One database with ``logs`` log backups (and its weekly fulls and daily differentials)."""
    return _write(path, [(_Database(9999, seed, stripe_fulls=True), None, logs)])


def _write(path: Path, dbs: Iterator[tuple[_Database, int | None, int | None]] | list) -> Path:
    return _write_rows(
        path, (row for db, max_rows, max_logs in dbs for row in db.stream(max_rows, max_logs))
    )


def _write_rows(path: Path, rows: Iterable[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(ALL)
        w.writerows(rows)
    os.replace(tmp, path)
    return path


# -- other shapes of a history of the same size ---------------------------------------------
SHAPES = {
    "many-small": "rows / 50 databases of 50 rows each: a server of many small databases, where "
    "what a database costs (its indexes, its audit, its report section) outweighs what a row costs",
    "by-time": "the standard history's rows in backup-time order across its databases, as msdb "
    "returns them unsorted: neighbouring rows belong to different databases and share nothing",
    "striped": "every backup striped over 4 files: 4 rows per backup set, merged into one set",
    "copy-only": "the standard history with an hourly copy-only log backup beside each chain (a "
    "second backup tool): every one is a run of its own over the chain, a branch for the planner",
    "tiny": "rows / 5 databases of 5 rows each (a full and four logs): the extreme of many-small, "
    "where what a database costs is all there is",
    "json": "the standard history as an msdb-json export (a JSON array of objects with msdb's "
    "column names), read a record at a time; its baseline is csv.reader over the same rows as CSV",
}


def _striped(rows: Iterator[list[str]], stripes: int = 4) -> Iterator[list[str]]:
    c = _COL
    for row in rows:
        if row[c["media_family_count"]] != "1":
            yield row
            continue
        for family in range(1, stripes + 1):
            out = list(row)
            stem, dot, ext = row[c["physical_device_name"]].rpartition(".")
            out[c["physical_device_name"]] = f"{stem}_{family}{dot}{ext}"
            out[c["family_sequence_number"]] = str(family)
            out[c["media_family_count"]] = str(stripes)
            yield out


def write_shape(path: Path, shape: str, rows: int, seed: int = 1) -> Path:
    """A history of ``rows`` rows in one of SHAPES."""
    if shape in ("many-small", "tiny"):
        per_db = 50 if shape == "many-small" else 5
        dbs = (_Database(i, seed, stripe_fulls=False) for i in range(max(1, rows // per_db)))
        return _write(path, ((db, per_db, None) for db in dbs))
    n_db = max(1, rows // ROWS_PER_DATABASE)
    per_db = min(rows, ROWS_PER_DATABASE)
    if shape == "by-time":
        start = _COL["backup_start_date"]
        streams = [
            _Database(i, seed, stripe_fulls=i % 4 == 0).stream(per_db) for i in range(n_db)
        ]
        return _write_rows(path, heapq.merge(*streams, key=lambda row: row[start]))
    if shape == "striped":
        return _write_rows(
            path,
            (
                row
                for i in range(n_db)
                for row in islice(_striped(_Database(i, seed, stripe_fulls=False).stream()), per_db)
            ),
        )
    if shape == "copy-only":
        dbs = (_Database(i, seed, stripe_fulls=i % 4 == 0, copy_only_logs=True) for i in range(n_db))
        return _write(path, ((db, per_db, None) for db in dbs))
    if shape == "json":
        return _as_json(ensure_history(rows, path.parent, seed), path)
    raise ValueError(f"unknown shape {shape!r} (one of {', '.join(SHAPES)})")


def _as_json(source: Path, path: Path) -> Path:
    """A CSV history written again as a JSON array, an object per line (streaming)."""
    tmp = path.with_suffix(".tmp")
    with open(source, newline="") as src, open(tmp, "w") as out:
        reader = csv.reader(src)
        header = next(reader)
        out.write("[")
        for n, row in enumerate(reader):
            out.write(("\n" if n == 0 else ",\n") + json.dumps(dict(zip(header, row, strict=True))))
        out.write("\n]\n")
    os.replace(tmp, path)
    return path


def shape_path(shape: str, rows: int, data_dir: Path = DATA_DIR, seed: int = 1) -> Path:
    return data_dir / f"{shape}_{rows}_s{seed}.{'json' if shape == 'json' else 'csv'}"


def baseline_path(shape: str, rows: int, data_dir: Path = DATA_DIR, seed: int = 1) -> Path:
    """The CSV a shape's baseline reads: the shape's own file, or for json the same rows as CSV."""
    return ensure_history(rows, data_dir, seed) if shape == "json" else shape_path(shape, rows, data_dir, seed)


def ensure_shape(shape: str, rows: int, data_dir: Path = DATA_DIR, seed: int = 1) -> Path:
    path = shape_path(shape, rows, data_dir, seed)
    return path if path.exists() else write_shape(path, shape, rows, seed)


def history_path(rows: int, data_dir: Path = DATA_DIR, seed: int = 1) -> Path:
    return data_dir / f"history_{rows}_s{seed}.csv"


def log_heavy_path(logs: int, data_dir: Path = DATA_DIR, seed: int = 1) -> Path:
    return data_dir / f"logs_{logs}_s{seed}.csv"


def ensure_history(rows: int, data_dir: Path = DATA_DIR, seed: int = 1) -> Path:
    path = history_path(rows, data_dir, seed)
    return path if path.exists() else write_history(path, rows, seed)


def ensure_log_heavy(logs: int, data_dir: Path = DATA_DIR, seed: int = 1) -> Path:
    path = log_heavy_path(logs, data_dir, seed)
    return path if path.exists() else write_log_heavy(path, logs, seed)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sizes", default="10000,100000,1000000", help="row counts (comma separated; 0 or empty: none)")
    p.add_argument(
        "--logs", type=int, default=100_000, help="log backups of the log-heavy database (0: none)"
    )
    p.add_argument("--shapes", default="", help=f"other shapes (comma separated: {', '.join(SHAPES)})")
    p.add_argument("--shape-rows", type=int, default=100_000, help="rows of each shape")
    p.add_argument("--data-dir", type=Path, default=DATA_DIR)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--force", action="store_true", help="rewrite files that exist")
    args = p.parse_args(argv)
    jobs = [
        (history_path(int(s), args.data_dir, args.seed), write_history, int(s))
        for s in args.sizes.split(",")
        if s.strip() and int(s)
    ]
    if args.logs:
        jobs.append(
            (log_heavy_path(args.logs, args.data_dir, args.seed), write_log_heavy, args.logs)
        )
    for shape in (s.strip() for s in args.shapes.split(",") if s.strip()):
        if shape not in SHAPES:
            p.error(f"unknown shape {shape!r} (one of {', '.join(SHAPES)})")
        jobs.append((
            shape_path(shape, args.shape_rows, args.data_dir, args.seed),
            lambda path, n, seed, shape=shape: write_shape(path, shape, n, seed),
            args.shape_rows,
        ))  # fmt: skip
    for path, writer, n in jobs:
        if path.exists() and not args.force:
            print(f"{path}: exists")
            continue
        t0 = time.perf_counter()
        writer(path, n, args.seed)
        print(f"{path}: {path.stat().st_size / 2**20:.1f} MiB in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
