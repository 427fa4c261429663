"""Typed errors. Each carries what a DBA needs: the backup set, the LSN and a hint.

The CLI turns them into one line and an exit code; nothing in the core exits or prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class RestorePlanError(Exception):
    """Base of every error restoreplan reports to a user."""

    exit_code = 2
    code = "ERROR"

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        backup_set_uuid: str | None = None,
        lsn: object | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.backup_set_uuid = backup_set_uuid
        self.lsn = lsn
        if code is not None:
            self.code = code

    def one_line(self) -> str:
        parts = [self.message]
        if self.backup_set_uuid:
            parts.append(f"backup set {self.backup_set_uuid}")
        if self.lsn is not None:
            parts.append(f"LSN {self.lsn}")
        line = "; ".join(parts)
        if self.hint:
            line += f" (hint: {self.hint})"
        # one line whatever a name or path holds (a newline in an S3 key, a tab in a name)
        return "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message, "hint": self.hint}
        if self.backup_set_uuid:
            out["backup_set_uuid"] = self.backup_set_uuid
        if self.lsn is not None:
            out["lsn"] = str(self.lsn)
        return out


class InputError(RestorePlanError):
    """Bad input: a missing column, an unparseable value, a corrupt file (exit 2)."""

    code = "BAD_INPUT"


class UsageError(RestorePlanError):
    """Bad arguments or a combination the target cannot take (exit 2)."""

    code = "USAGE"


@dataclass(frozen=True, slots=True)
class PointInfo:
    """A reachable point offered as an alternative (server-local and UTC strings)."""

    local: str
    utc: str | None
    lsn: str | None = None


class NotRecoverable(RestorePlanError):
    """The target cannot be reached: the reason and the nearest reachable points (exit 3)."""

    exit_code = 3
    code = "NOT_RECOVERABLE"

    def __init__(
        self,
        message: str,
        *,
        nearest_before: PointInfo | None = None,
        nearest_after: PointInfo | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.nearest_before = nearest_before
        self.nearest_after = nearest_after

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        for key, point in (("nearest_before", self.nearest_before), ("nearest_after", self.nearest_after)):
            out[key] = None if point is None else {"local": point.local, "utc": point.utc, "lsn": point.lsn}
        return out
