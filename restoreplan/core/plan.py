"""The plan: an ordered list of steps, each saying why it is there."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from restoreplan.core.model import BackupSet
from restoreplan.core.target import RecoveryTarget, ResolvedTime


class Action(StrEnum):
    BACKUP_TAIL_LOG = "backup_tail_log"
    RESTORE_DATABASE = "restore_database"
    RESTORE_LOG = "restore_log"
    RECOVER = "recover"


class StopKind(StrEnum):
    STOPAT = "STOPAT"
    STOPATMARK = "STOPATMARK"
    STOPBEFOREMARK = "STOPBEFOREMARK"


@dataclass(frozen=True, slots=True)
class Stop:
    """A stop clause: STOPAT = 'local time', STOPATMARK = 'mark' | 'lsn:n' [AFTER 'time']."""

    kind: StopKind
    value: str  # server-local time text, a mark name, or lsn:n
    after: str | None = None
    utc: str | None = None

    def text(self) -> str:
        return self.value + (f" AFTER {self.after}" if self.after else "")


@dataclass(frozen=True, slots=True)
class Step:
    action: Action
    backup: BackupSet | None
    why: str
    stop: Stop | None = None
    is_tail: bool = False


@dataclass(frozen=True, slots=True)
class Plan:
    database_name: str
    lineage_key: str
    family_guid: str | None
    target: RecoveryTarget
    target_time: ResolvedTime | None
    steps: tuple[Step, ...]
    recovery_point: str
    recovery_time: ResolvedTime | None
    warnings: tuple[str, ...]
    bytes_read: int

    @property
    def restore_steps(self) -> list[Step]:
        return [s for s in self.steps if s.action in (Action.RESTORE_DATABASE, Action.RESTORE_LOG)]
