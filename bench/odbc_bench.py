"""msdb over ODBC at scale: where the time goes between the driver and restoreplan.

Starts a throwaway PostgreSQL 15 on loopback (as tests/odbc/conftest.py does), bulk-loads
``--rows`` msdb rows (backupset ⨝ backupmediafamily ⨝ backupmediaset, from bench/generate.py's
histories) with COPY, then times, in this process:

* fetch: the history query through pyodbc (execute + fetchmany), rows thrown away: the driver;
* read_msdb: what ``restoreplan --msdb`` does, ``read_msdb(into=builder)``: the same fetch, each
  batch converted a column at a time and parsed into the builder as it arrives;
* build: SetBuilder.build (the BackupSet values);
* history: History.from_sets.

Prints one JSON object on its last line; ``{"note": ...}`` when PostgreSQL, the driver or
pyodbc is missing.
"""

from __future__ import annotations

import argparse
import csv
import gc
import importlib.util
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402

PG_BIN = Path(os.environ.get("RESTOREPLAN_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_DRIVER = Path("/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so")


def _note(text: str) -> int:
    print(json.dumps({"note": text}))
    return 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tables() -> dict[str, list[tuple[str, str]]]:
    from tests.odbc.history import BACKUPMEDIAFAMILY, BACKUPMEDIASET, BACKUPSET

    return {
        "backupset": [(c, pg) for c, pg, _ in BACKUPSET],
        "backupmediafamily": [(c, pg) for c, pg, _ in BACKUPMEDIAFAMILY],
        "backupmediaset": [(c, pg) for c, pg, _ in BACKUPMEDIASET],
    }


def write_tables(
    rows: int, folder: Path, tables: dict[str, list[tuple[str, str]]]
) -> dict[str, Path]:
    """Split a generated canonical history into the three msdb tables (CSV for COPY)."""
    col = {name: i for i, name in enumerate(generate.ALL)}
    paths = {t: folder / f"{t}.csv" for t in tables}
    handles = {t: open(p, "w", newline="", encoding="utf-8") for t, p in paths.items()}  # noqa: SIM115
    writers = {t: csv.writer(h, lineterminator="\n") for t, h in handles.items()}
    n_db = max(1, rows // generate.ROWS_PER_DATABASE)
    per_db = min(rows, generate.ROWS_PER_DATABASE)
    set_id = media_id = 0
    last_uuid = None
    try:
        for i in range(n_db):
            for row in generate._Database(i, 1, stripe_fulls=i % 4 == 0).stream(per_db):
                if row[col["backup_set_uuid"]] != last_uuid:
                    last_uuid = row[col["backup_set_uuid"]]
                    set_id += 1
                    media_id += 1
                    values = {c: row[col[c]] for c in generate.ALL}
                    values.update(backup_set_id=str(set_id), media_set_id=str(media_id))
                    writers["backupset"].writerow(values.get(c, "") for c, _ in tables["backupset"])
                    writers["backupmediaset"].writerow(
                        values.get(c, "") for c, _ in tables["backupmediaset"]
                    )
                values = {c: row[col[c]] for c in generate.ALL}
                values["media_set_id"] = str(media_id)
                writers["backupmediafamily"].writerow(
                    values.get(c, "") for c, _ in tables["backupmediafamily"]
                )
    finally:
        for h in handles.values():
            h.close()
    return paths


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rows", type=int, default=1_000_000)
    args = p.parse_args(argv)
    if importlib.util.find_spec("pyodbc") is None:
        return _note("pyodbc is not installed")
    if (
        not all((PG_BIN / b).exists() for b in ("initdb", "pg_ctl", "postgres"))
        or not PG_DRIVER.exists()
    ):
        return _note(f"PostgreSQL 15 ({PG_BIN}) or its ODBC driver ({PG_DRIVER}) is missing")
    psql = shutil.which("psql")
    if psql is None:
        return _note("psql is missing (needed for COPY)")
    from restoreplan.core.history import History
    from restoreplan.sources import msdb_odbc
    from restoreplan.sources.canonical import SetBuilder
    from restoreplan.sources.msdb_query import build_query

    prefix: list[str] = []
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            return _note("running as root without runuser: cannot start PostgreSQL")
        prefix = [runuser, "-u", "nobody", "--"]
    tmp = Path(tempfile.mkdtemp(prefix="restoreplan-bench-pg-"))
    data, sock = tmp / "data", tmp / "sock"
    sock.mkdir()
    if prefix:
        for path in (tmp, sock):
            shutil.chown(path, user="nobody")
    port = _free_port()
    started = False
    out: dict[str, object] = {"rows": args.rows}
    try:
        subprocess.run([*prefix, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8",
                        "--no-sync", "--auth=trust", "--locale=C"], check=True, capture_output=True)  # fmt: skip
        opts = (f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off")  # fmt: skip
        subprocess.run([*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(tmp / "log"), "-w",
                        "-t", "60", "-o", opts, "start"], check=True, capture_output=True)  # fmt: skip
        started = True
        tables = _tables()
        t0 = time.perf_counter()
        files = write_tables(args.rows, tmp, tables)
        ddl = ["CREATE DATABASE msdb"]
        base = [
            psql,
            "-h",
            str(sock),
            "-p",
            str(port),
            "-U",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
        ]
        subprocess.run([*base, "-d", "postgres", "-c", ddl[0]], check=True, capture_output=True)
        script = ["CREATE SCHEMA dbo;"]
        for table, cols in tables.items():
            script.append(f"CREATE TABLE dbo.{table} ({', '.join(f'{c} {t}' for c, t in cols)});")
            script.append(
                f"\\copy dbo.{table} ({', '.join(c for c, _ in cols)}) FROM '{files[table]}' CSV"
            )
        script.append("ANALYZE;")
        subprocess.run([*base, "-d", "msdb"], input="\n".join(script), text=True, check=True,
                       capture_output=True)  # fmt: skip
        out["load_db_s"] = round(time.perf_counter() - t0, 1)
        cs = f"Driver={PG_DRIVER};Server=127.0.0.1;Port={port};Database=msdb;UID=postgres"

        with msdb_odbc.open_msdb(cs) as session:
            sql, params = build_query(
                session.available, schema=session.schema, dialect=session.dialect
            )
            t0 = time.perf_counter()
            cur = session.conn.cursor()
            cur.execute(sql, params)
            fetched = 0
            while batch := cur.fetchmany(10000):
                fetched += len(batch)
            cur.close()
            fetch = time.perf_counter() - t0
        fetch_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the driver's share
        # what `restoreplan --msdb` does: each fetched batch goes straight into the builder
        gc.disable()  # as restoreplan.sources.load does while loading
        t0 = time.perf_counter()
        builder = SetBuilder()
        msdb_odbc.read_msdb(cs, into=builder)
        read = time.perf_counter() - t0
        t0 = time.perf_counter()
        sets = builder.build()
        canonical = time.perf_counter() - t0
        t0 = time.perf_counter()
        History.from_sets(sets)
        history = time.perf_counter() - t0
        gc.enable()
        out.update(
            fetched_rows=fetched,
            sets=len(sets),
            fetch_s=round(fetch, 2),
            read_msdb_s=round(read, 2),
            parse_beyond_fetch_s=round(read - fetch, 2),
            build_s=round(canonical, 2),
            history_s=round(history, 2),
            restoreplan_s=round(read - fetch + canonical + history, 2),
            fetch_peak_rss_mib=round(fetch_rss),
            peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        )
    except subprocess.CalledProcessError as exc:
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr
        return _note(f"{' '.join(map(str, exc.cmd))[:200]} failed: {(err or '').strip()[-500:]}")
    finally:
        if started:
            subprocess.run([*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, check=False)  # fmt: skip
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
