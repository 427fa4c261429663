"""A small realistic msdb history, as table rows and as the canonical rows they join into."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

VLF = 4_294_967_000  # ten-digit VLF numbers give 25-digit LSNs (a float keeps ~16 digits)


def lsn(vlf: int, block: int, slot: int) -> int:
    return vlf * 10**15 + block * 10**5 + slot


def guid(n: int) -> str:
    return str(uuid.UUID(int=0x5EED_0000_0000_4000_8000_0000_0000_0000 + n))


# (column, PostgreSQL type, SQLite type); msdb's own names
BACKUPSET: list[tuple[str, str, str]] = [
    ("backup_set_id", "integer PRIMARY KEY", "INTEGER PRIMARY KEY"),
    ("backup_set_uuid", "uuid NOT NULL", "TEXT"),
    ("media_set_id", "integer NOT NULL", "INTEGER"),
    ("position", "integer", "INTEGER"),
    ("name", "varchar(128)", "TEXT"),
    ("user_name", "varchar(128)", "TEXT"),
    ("software_major_version", "smallint", "INTEGER"),
    ("time_zone", "smallint", "INTEGER"),
    ("first_lsn", "numeric(25,0)", "TEXT"),
    ("last_lsn", "numeric(25,0)", "TEXT"),
    ("checkpoint_lsn", "numeric(25,0)", "TEXT"),
    ("database_backup_lsn", "numeric(25,0)", "TEXT"),
    ("database_creation_date", "timestamp", "TEXT"),
    ("backup_start_date", "timestamp", "TEXT"),
    ("backup_finish_date", "timestamp", "TEXT"),
    ("type", "char(1)", "TEXT"),
    ("backup_size", "numeric(20,0)", "INTEGER"),
    ("database_name", "varchar(128)", "TEXT"),
    ("server_name", "varchar(128)", "TEXT"),
    ("machine_name", "varchar(128)", "TEXT"),
    ("is_password_protected", "smallint", "INTEGER"),
    ("recovery_model", "varchar(60)", "TEXT"),
    ("has_bulk_logged_data", "smallint", "INTEGER"),
    ("is_snapshot", "smallint", "INTEGER"),
    ("has_backup_checksums", "smallint", "INTEGER"),
    ("is_damaged", "smallint", "INTEGER"),
    ("begins_log_chain", "smallint", "INTEGER"),
    ("has_incomplete_metadata", "smallint", "INTEGER"),
    ("is_copy_only", "smallint", "INTEGER"),
    ("first_recovery_fork_guid", "uuid", "TEXT"),
    ("last_recovery_fork_guid", "uuid", "TEXT"),
    ("fork_point_lsn", "numeric(25,0)", "TEXT"),
    ("database_guid", "uuid", "TEXT"),
    ("family_guid", "uuid", "TEXT"),
    ("differential_base_lsn", "numeric(25,0)", "TEXT"),
    ("differential_base_guid", "uuid", "TEXT"),
    ("compressed_backup_size", "numeric(20,0)", "INTEGER"),
    ("key_algorithm", "varchar(32)", "TEXT"),
    ("encryptor_thumbprint", "bytea", "TEXT"),
    ("encryptor_type", "varchar(32)", "TEXT"),
    ("last_valid_restore_time", "timestamp", "TEXT"),
]
BACKUPMEDIAFAMILY = [
    ("media_set_id", "integer NOT NULL", "INTEGER"),
    ("family_sequence_number", "smallint NOT NULL", "INTEGER"),
    ("media_family_id", "uuid", "TEXT"),
    ("logical_device_name", "varchar(128)", "TEXT"),
    ("physical_device_name", "varchar(260)", "TEXT"),
    ("device_type", "smallint", "INTEGER"),
    ("mirror", "smallint NOT NULL", "INTEGER"),
]
BACKUPMEDIASET = [
    ("media_set_id", "integer PRIMARY KEY", "INTEGER PRIMARY KEY"),
    ("media_uuid", "uuid", "TEXT"),
    ("media_family_count", "smallint", "INTEGER"),
    ("software_name", "varchar(128)", "TEXT"),
    ("mirror_count", "smallint", "INTEGER"),
    ("is_compressed", "smallint", "INTEGER"),
]
BACKUPFILE = [
    ("backup_set_id", "integer NOT NULL", "INTEGER"),
    ("file_number", "integer", "INTEGER"),
    ("file_type", "char(1)", "TEXT"),
    ("logical_name", "varchar(128)", "TEXT"),
    ("physical_name", "varchar(260)", "TEXT"),
    ("state", "smallint", "INTEGER"),
]
LOGMARKHISTORY = [
    ("database_name", "varchar(128)", "TEXT"),
    ("mark_name", "varchar(128)", "TEXT"),
    ("description", "varchar(255)", "TEXT"),
    ("user_name", "varchar(128)", "TEXT"),
    ("lsn", "numeric(25,0)", "TEXT"),
    ("mark_time", "timestamp", "TEXT"),
]
RESTOREHISTORY = [
    ("restore_history_id", "integer PRIMARY KEY", "INTEGER PRIMARY KEY"),
    ("restore_date", "timestamp", "TEXT"),
    ("destination_database_name", "varchar(128)", "TEXT"),
    ("backup_set_id", "integer", "INTEGER"),
    ("restore_type", "char(1)", "TEXT"),
]
SCHEMA: dict[str, list[tuple[str, str, str]]] = {
    "backupset": BACKUPSET,
    "backupmediafamily": BACKUPMEDIAFAMILY,
    "backupmediaset": BACKUPMEDIASET,
    "backupfile": BACKUPFILE,
    "logmarkhistory": LOGMARKHISTORY,
    "restorehistory": RESTOREHISTORY,
}
LSN_COLS = {
    "first_lsn",
    "last_lsn",
    "checkpoint_lsn",
    "database_backup_lsn",
    "fork_point_lsn",
    "differential_base_lsn",
    "lsn",
}


@dataclass
class History:
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {t: [] for t in SCHEMA})

    def canonical(self, drop: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
        """backupset ⨝ backupmediafamily ⨝ backupmediaset as canonical rows (what msdb returns)."""
        from restoreplan.sources.columns import ALL

        media = {m["media_set_id"]: m for m in self.tables["backupmediaset"]}
        out = []
        for bs in sorted(
            self.tables["backupset"], key=lambda r: (r["database_name"], r["backup_set_id"])
        ):
            fams = [
                f
                for f in self.tables["backupmediafamily"]
                if f["media_set_id"] == bs["media_set_id"]
            ]
            for f in sorted(fams, key=lambda r: (r["family_sequence_number"], r["mirror"])):
                merged = {**media[bs["media_set_id"]], **f, **bs}
                row = {c: merged.get(c) for c in ALL if c in merged and c not in drop}
                thumb = row.get("encryptor_thumbprint")
                if isinstance(thumb, bytes):
                    row["encryptor_thumbprint"] = "0x" + thumb.hex().upper()
                out.append(row)
        return out


def make_history() -> History:
    """Sales: full, diff (striped, 2 families), logs, a mirrored full, copy-only; HR: one full."""
    h = History()
    fam = guid(900)
    dbg = guid(901)
    fork = guid(902)
    t0 = datetime(2024, 3, 1, 22, 0, 0, 123000)
    sid = 0

    def add(
        dbname: str,
        btype: str,
        first: int,
        last: int,
        ckpt: int,
        dbl: int,
        start: datetime,
        files: list[list[str]],
        **extra: Any,
    ) -> int:
        nonlocal sid
        sid += 1
        h.tables["backupmediaset"].append(
            {
                "media_set_id": sid,
                "media_uuid": guid(500 + sid),
                "media_family_count": len(files),
                "software_name": "Microsoft SQL Server",
                "mirror_count": len(files[0]),
                "is_compressed": 1,
            }
        )
        for fno, mirrors in enumerate(files, start=1):
            for mno, path in enumerate(mirrors):
                h.tables["backupmediafamily"].append(
                    {
                        "media_set_id": sid,
                        "family_sequence_number": fno,
                        "media_family_id": guid(700 + sid * 10 + fno),
                        "logical_device_name": None,
                        "physical_device_name": path,
                        "device_type": 2,
                        "mirror": mno,
                    }
                )
        row: dict[str, Any] = {
            "backup_set_id": sid,
            "backup_set_uuid": guid(sid),
            "media_set_id": sid,
            "position": 1,
            "name": f"{dbname}-{btype}",
            "user_name": "CORP\\sqlsvc",
            "software_major_version": 16,
            "time_zone": 4,
            "first_lsn": first,
            "last_lsn": last,
            "checkpoint_lsn": ckpt,
            "database_backup_lsn": dbl,
            "database_creation_date": datetime(2020, 1, 2, 3, 4, 5),
            "backup_start_date": start,
            "backup_finish_date": start + timedelta(minutes=3, seconds=7),
            "type": btype,
            "backup_size": 123_456_789_012 + sid,
            "database_name": dbname,
            "server_name": "SQL01",
            "machine_name": "SQL01",
            "is_password_protected": 0,
            "recovery_model": "FULL",
            "has_bulk_logged_data": 0,
            "is_snapshot": 0,
            "has_backup_checksums": 1,
            "is_damaged": 0,
            "begins_log_chain": 0,
            "has_incomplete_metadata": 0,
            "is_copy_only": 0,
            "first_recovery_fork_guid": fork,
            "last_recovery_fork_guid": fork,
            "fork_point_lsn": None,
            "database_guid": dbg,
            "family_guid": fam,
            "differential_base_lsn": None,
            "differential_base_guid": None,
            "compressed_backup_size": 23_456_789_012 + sid,
            "key_algorithm": "NO_Encryption",
            "encryptor_thumbprint": None,
            "encryptor_type": None,
            "last_valid_restore_time": None,
        }
        row.update(extra)
        h.tables["backupset"].append(row)
        return sid

    d = "D:\\Backup\\Sales\\"
    full = add(
        "Sales", "D", lsn(VLF, 100, 1), lsn(VLF, 180, 1), lsn(VLF, 120, 37), lsn(VLF - 1, 50, 1), t0,
        [[d + "Sales_full.bak"]], begins_log_chain=0,
    )  # fmt: skip
    full_ckpt = lsn(VLF, 120, 37)
    add(
        "Sales", "L", lsn(VLF - 1, 900, 1), lsn(VLF, 200, 1), lsn(VLF, 120, 37), full_ckpt,
        t0 + timedelta(minutes=15), [[d + "Sales_log_1.trn"]],
    )  # fmt: skip
    add(
        "Sales", "I", lsn(VLF, 300, 1), lsn(VLF, 340, 1), lsn(VLF, 310, 9), full_ckpt,
        t0 + timedelta(hours=1), [[d + "Sales_diff_1of2.bak"], [d + "Sales_diff_2of2.bak"]],
        differential_base_lsn=full_ckpt, differential_base_guid=guid(full),
    )  # fmt: skip
    add(
        "Sales", "L", lsn(VLF, 200, 1), lsn(VLF, 400, 1), lsn(VLF, 310, 9), full_ckpt,
        t0 + timedelta(hours=1, minutes=15), [[d + "Sales_log_2.trn"]],
    )  # fmt: skip
    add(
        "Sales", "D", lsn(VLF, 500, 1), lsn(VLF, 560, 1), lsn(VLF, 520, 12), full_ckpt,
        t0 + timedelta(hours=2), [["\\\\nas1\\sql\\Sales_copy.bak"]], is_copy_only=1,
    )  # fmt: skip
    add(
        "Sales", "D", lsn(VLF + 1, 10, 1), lsn(VLF + 1, 90, 1), lsn(VLF + 1, 40, 5), full_ckpt,
        t0 + timedelta(days=1), [[d + "Sales_full_m0.bak", "\\\\nas2\\sql\\Sales_full_m1.bak"]],
        encryptor_thumbprint=bytes.fromhex("0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"),
        key_algorithm="AES_256", encryptor_type="CERTIFICATE",
    )  # fmt: skip
    add(
        "Sales", "L", lsn(VLF, 400, 1), lsn(VLF + 1, 100, 1), lsn(VLF + 1, 40, 5), lsn(VLF + 1, 40, 5),
        t0 + timedelta(days=1, minutes=15), [[d + "Sales_log_3.trn"]],
        last_valid_restore_time=t0 + timedelta(days=1, minutes=17),
    )  # fmt: skip
    hr = add(
        "HR", "D", lsn(77, 10, 1), lsn(77, 20, 1), lsn(77, 15, 1), 0, t0 + timedelta(hours=3),
        [["E:\\bk\\HR.bak"]], family_guid=guid(950), database_guid=guid(951), first_recovery_fork_guid=guid(952),
        last_recovery_fork_guid=guid(952), server_name="SQL02", recovery_model="SIMPLE",
    )  # fmt: skip
    for set_id in range(1, sid + 1):
        db = "HR" if set_id == hr else "Sales"
        h.tables["backupfile"].append(
            {"backup_set_id": set_id, "file_number": 1, "file_type": "D", "logical_name": db,
             "physical_name": f"D:\\Data\\{db}.mdf", "state": 0}
        )  # fmt: skip
        h.tables["backupfile"].append(
            {"backup_set_id": set_id, "file_number": 2, "file_type": "L", "logical_name": f"{db}_log",
             "physical_name": f"L:\\Log\\{db}_log.ldf", "state": 0}
        )  # fmt: skip
        h.tables["backupfile"].append(
            {"backup_set_id": set_id, "file_number": 3, "file_type": "D", "logical_name": f"{db}_old",
             "physical_name": f"D:\\Data\\{db}_old.ndf", "state": 8}
        )  # fmt: skip
    h.tables["logmarkhistory"].append(
        {"database_name": "Sales", "mark_name": "before_price_update", "description": "release 42",
         "user_name": "CORP\\app", "lsn": lsn(VLF, 350, 2), "mark_time": t0 + timedelta(hours=1, minutes=5)}
    )  # fmt: skip
    # restorehistory: the latest restore into each database is read (VERIFYONLY restores nothing)
    # (and a restore whose type msdb left NULL still counts)
    for rid, days, kind, name in ((1, 1, "D", "Sales_copy"), (2, 2, "D", "Sales_copy"), (3, 3, "V", "Sales_copy"),
                                  (4, 4, None, "Sales_copy2")):
        h.tables["restorehistory"].append(
            {"restore_history_id": rid, "restore_date": t0 + timedelta(days=days),
             "destination_database_name": name, "backup_set_id": 5, "restore_type": kind}
        )  # fmt: skip
    return h


def sql_literal(value: Any, dialect: str) -> str:
    """A literal for the test loader (trusted, generated data only)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value) if dialect == "postgresql" else f"'{value}'"
    if isinstance(value, bytes):
        return (
            f"decode('{value.hex()}', 'hex')"
            if dialect == "postgresql"
            else f"'0x{value.hex().upper()}'"
        )
    if isinstance(value, datetime):
        return "'" + value.isoformat(sep=" ") + "'"
    return "'" + str(value).replace("'", "''") + "'"


def create_statements(
    history: History,
    dialect: str,
    schema: str | None,
    drop_columns: dict[str, set[str]] | None = None,
) -> list[str]:
    """CREATE TABLE and INSERT statements for one dialect."""
    drop_columns = drop_columns or {}
    out = []
    for table, cols in SCHEMA.items():
        keep = [c for c in cols if c[0] not in drop_columns.get(table, set())]
        name = f"{schema}.{table}" if schema else table
        col_sql = ", ".join(
            f"{c} {pg if dialect == 'postgresql' else lite}" for c, pg, lite in keep
        )
        out.append(f"CREATE TABLE {name} ({col_sql})")
        for row in history.tables[table]:
            vals = ", ".join(sql_literal(row.get(c), dialect) for c, _, _ in keep)
            out.append(f"INSERT INTO {name} ({', '.join(c for c, _, _ in keep)}) VALUES ({vals})")
    return out
