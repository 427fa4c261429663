"""The canonical history columns: msdb's own names (backupset ⨝ backupmediafamily ⨝ backupmediaset).

One row per backup media file. Every source (CSV/JSON export, live msdb, backup-file headers,
dbatools, HEADERONLY) produces rows keyed by these names; ``canonical.rows_to_sets`` turns them
into BackupSet values.
"""

from __future__ import annotations

REQUIRED: tuple[str, ...] = (
    "database_name",
    "backup_set_uuid",
    "type",
    "first_lsn",
    "last_lsn",
    "checkpoint_lsn",
    "database_backup_lsn",
    "backup_start_date",
    "backup_finish_date",
    "physical_device_name",
)

# (column, table alias in the msdb query, the SQL Server version that added it or None)
OPTIONAL: tuple[tuple[str, str, int | None], ...] = (
    ("backup_set_id", "bs", None),
    ("media_set_id", "bs", None),
    ("position", "bs", None),
    ("server_name", "bs", None),
    ("machine_name", "bs", None),
    ("family_guid", "bs", 9),
    ("database_guid", "bs", 9),
    ("database_creation_date", "bs", None),
    ("differential_base_lsn", "bs", 9),
    ("differential_base_guid", "bs", 9),
    ("first_recovery_fork_guid", "bs", 9),
    ("last_recovery_fork_guid", "bs", 9),
    ("fork_point_lsn", "bs", 9),
    ("time_zone", "bs", None),
    ("last_valid_restore_time", "bs", 16),
    ("recovery_model", "bs", 9),
    ("is_copy_only", "bs", 9),
    ("is_snapshot", "bs", 9),
    ("is_damaged", "bs", 9),
    ("has_bulk_logged_data", "bs", 9),
    ("begins_log_chain", "bs", 9),
    ("has_incomplete_metadata", "bs", 9),
    ("has_backup_checksums", "bs", 9),
    ("is_password_protected", "bs", 9),
    ("backup_size", "bs", None),
    ("compressed_backup_size", "bs", 10),
    ("key_algorithm", "bs", 12),
    ("encryptor_thumbprint", "bs", 12),
    ("encryptor_type", "bs", 12),
    ("software_major_version", "bs", None),
    ("device_type", "bmf", None),
    ("family_sequence_number", "bmf", None),
    ("mirror", "bmf", None),
    ("media_family_count", "bms", None),
    ("mirror_count", "bms", 9),
    ("is_compressed", "bms", 10),
)

ALL: tuple[str, ...] = REQUIRED + tuple(name for name, _, _ in OPTIONAL)

# Which features need which optional columns (documented in the README).
FEATURES: dict[str, tuple[str, ...]] = {
    "lineages (dropped and recreated databases)": ("family_guid",),
    "differential base matching": ("differential_base_guid",),
    "recovery forks": ("first_recovery_fork_guid", "last_recovery_fork_guid", "fork_point_lsn"),
    "UTC and --at with an offset": ("time_zone",),
    "striped and mirrored sets": ("family_sequence_number", "mirror", "media_family_count"),
    "FILE = n": ("position",),
    "copy-only / snapshot / damaged handling": ("is_copy_only", "is_snapshot", "is_damaged"),
    "bulk-logged refusal": ("has_bulk_logged_data",),
    "SIMPLE-period detection": ("recovery_model", "begins_log_chain"),
    "CHECKSUM in scripts": ("has_backup_checksums",),
    "byte tie-break and cost estimates": ("backup_size", "compressed_backup_size"),
}
