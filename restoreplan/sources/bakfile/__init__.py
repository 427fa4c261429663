"""Offline reader of SQL Server backup file headers (.bak/.trn): MTF and MSSQLBAK containers."""

from restoreplan.sources.bakfile.reader import FileScan, read_backup_file
from restoreplan.sources.bakfile.source import BytesSource, LocalFile, RangeReader

__all__ = ["BytesSource", "FileScan", "LocalFile", "RangeReader", "read_backup_file"]
