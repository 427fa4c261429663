"""Validation findings as values: a stable code with a fixed severity, the text and hint, and the
backup, LSN and lost time range they concern (docs/validate-audit.md lists every code)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from restoreplan.core.history import Lineage
from restoreplan.core.lsn import LSN
from restoreplan.core.model import BackupSet
from restoreplan.core.target import ResolvedTime


class Severity(StrEnum):
    """How much a finding matters: an error fails validate (exit 1)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


#: every code and its fixed severity (docs/validate-audit.md explains each)
CODES: dict[str, Severity] = {
    "LOG_GAP": Severity.ERROR,
    "MISSING_STRIPE": Severity.ERROR,
    "MISSING_FILE": Severity.ERROR,
    "DAMAGED_BACKUP": Severity.ERROR,
    "ORPHAN_DIFFERENTIAL": Severity.ERROR,
    "UNRESTORABLE_BASE": Severity.ERROR,
    "NO_FULL_BACKUP": Severity.ERROR,
    "STALE_FULL": Severity.ERROR,
    "STALE_LOG": Severity.ERROR,
    "CHAIN_RESTART": Severity.WARNING,
    "BULK_LOGGED": Severity.WARNING,
    "INCOMPLETE_METADATA": Severity.WARNING,
    "DIFF_TOO_LARGE": Severity.WARNING,
    "RECOVERY_FORK": Severity.INFO,
    "ENCRYPTED": Severity.INFO,
    "COPY_ONLY": Severity.INFO,
    "SHARED_FAMILY": Severity.INFO,
    "COPY_ON_OTHER_SERVER": Severity.WARNING,
    "RESTORED_SINCE_BACKUP": Severity.WARNING,
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem or fact about a backup set (or a whole lineage when ``backup`` is None)."""

    code: str
    text: str
    hint: str
    backup: BackupSet | None = None
    lsn: LSN | None = None  # the LSN SQL Server names (for LOG_GAP: "a log that includes LSN ...")
    lost_from: ResolvedTime | None = None  # start of the time range that cannot be recovered
    lost_to: ResolvedTime | None = None  # its end (None: up to the end of the history)
    count: int = 1  # backups this finding stands for (ENCRYPTED groups by thumbprint)
    # for LOG_GAP / CHAIN_RESTART: what broke the chain, as audit's gap kinds name it (log_gap,
    # recovery_fork, simple_recovery)
    kind: str | None = None

    @property
    def severity(self) -> Severity:
        return CODES[self.code]

    @property
    def message(self) -> str:
        """The description, ending with the hint."""
        return f"{self.text} Hint: {self.hint}"


@dataclass(frozen=True, slots=True)
class LineageFindings:
    """The findings of one lineage (one database incarnation)."""

    lineage: Lineage = field(repr=False, compare=False)
    findings: tuple[Finding, ...]
    full_age: timedelta | None = None  # age of the newest restorable full at as_of
    log_age: timedelta | None = None  # age of the newest usable log at as_of

    @property
    def database_name(self) -> str:
        return self.lineage.database_name

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)
