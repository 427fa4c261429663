"""Quoting in one place: identifiers like QUOTENAME, literals as N'...', no sqlcmd injection.

sqlcmd substitutes ``$(name)`` everywhere in a script, string literals included. A value that
contains ``$(`` is therefore never written inline: it is assembled in a T-SQL variable from
pieces that each hold no ``$(`` (``N'...$' + N'(...'``), and the statement uses the variable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def quote_identifier(name: str) -> str:
    """QUOTENAME: [name] with ] doubled."""
    return "[" + name.replace("]", "]]") + "]"


def _raw_literal(text: str) -> str:
    return "N'" + text.replace("'", "''") + "'"


def sqlcmd_safe(text: str) -> bool:
    """True when sqlcmd would pass the text through unchanged inside a script."""
    return "$(" not in text and not _CONTROL.search(text)


def setvar_safe(text: str) -> bool:
    """True when the text can be the value of ``:setvar Name "value"``."""
    return sqlcmd_safe(text) and '"' not in text and "$" not in text


def comment_text(text: str) -> str:
    """Text safe inside a -- comment: one line, no sqlcmd variable."""
    return _CONTROL.sub("?", text).replace("$(", "$ (")


def split_expression(text: str) -> str:
    """A T-SQL expression equal to ``text`` in which no piece contains ``$(``."""
    pieces: list[str] = []
    rest = text
    while "$(" in rest:
        cut = rest.index("$(") + 1
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    out = []
    for p in pieces:
        # control characters become NCHAR(n) so the script stays one statement per line
        chunk = []
        buf = ""
        for ch in p:
            if _CONTROL.match(ch):
                if buf:
                    chunk.append(_raw_literal(buf))
                    buf = ""
                chunk.append(f"NCHAR({ord(ch)})")
            else:
                buf += ch
        if buf or not chunk:
            chunk.append(_raw_literal(buf))
        out.extend(chunk)
    return " + ".join(out)


@dataclass(slots=True)
class Batch:
    """One sqlcmd batch: declarations for unsafe values, then a single statement."""

    declarations: list[str] = field(default_factory=list)
    _n: int = 0

    def literal(self, text: str, sql_type: str = "nvarchar(4000)") -> str:
        """N'...' inline, or a variable when sqlcmd would alter the text."""
        if sqlcmd_safe(text):
            return _raw_literal(text)
        self._n += 1
        var = f"@v{self._n}"
        self.declarations.append(f"DECLARE {var} {sql_type} = {split_expression(text)};")
        return var

    def identifier(self, name: str) -> str:
        """[name], or a sysname variable when sqlcmd would alter it (RESTORE accepts @db)."""
        if sqlcmd_safe(name):
            return quote_identifier(name)
        return self.literal(name, "sysname")
