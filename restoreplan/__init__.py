"""restoreplan: restore planning for Microsoft SQL Server backups."""

__version__ = "0.1.0"
