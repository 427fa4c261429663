r"""Quoting in one place: identifiers like QUOTENAME, literals as N'...', no sqlcmd injection.

sqlcmd substitutes ``$(name)`` everywhere in a script, string literals included. A value that
contains ``$(`` is therefore never written inline: it is assembled in a T-SQL variable from
pieces that each hold no ``$(`` (``N'...$' + N'(...'``), and the statement uses the variable.

The batch lexers differ: SSMS and ODBC sqlcmd know ``[...]``, go-sqlcmd does not (a ``'``, ``"``,
``--`` or ``/*`` inside brackets opens a string or comment for it, so a later GO or ``$(var)`` is
missed), and go-sqlcmd before its PR #96 read ``\`` as an escape inside '...'. So an identifier
holding one of those is also written as a variable, and a ``\`` just before a quote (or at the
end of a piece) is written ``NCHAR(92)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# C0/C1 controls and the Unicode line breaks (editors and str.splitlines honour them)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_GO_LEXER_MARKS = ("'", '"', "--", "/*", "*/")
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,7}))?$")


def sysname_length(name: str) -> int:
    """The length SQL Server measures: UTF-16 code units (a character outside the Basic
    Multilingual Plane, such as an emoji, takes two of sysname's 128)."""
    return len(name.encode("utf-16-le", "surrogatepass")) // 2


def quote_identifier(name: str) -> str:
    """QUOTENAME: [name] with ] doubled."""
    return "[" + name.replace("]", "]]") + "]"


def _raw_literal(text: str) -> str:
    return "N'" + text.replace("'", "''") + "'"


def sqlcmd_safe(text: str) -> bool:
    """True when every sqlcmd passes the text through unchanged inside a '...' literal."""
    return "$(" not in text and not _CONTROL.search(text) and "\\'" not in text and not text.endswith("\\")


def identifier_safe(name: str) -> bool:
    """True when ``[name]`` lexes the same for every sqlcmd, [...]-aware or not."""
    return sqlcmd_safe(name) and not any(mark in name for mark in _GO_LEXER_MARKS)


def setvar_safe(text: str) -> bool:
    """True when the text can be the value of ``:setvar Name "value"``."""
    return sqlcmd_safe(text) and '"' not in text and "$" not in text


def comment_text(text: object) -> str:
    """Text safe inside a ``--`` comment: one line (no C0/C1 control, no Unicode line break), no
    sqlcmd variable, no block-comment marker (a lexer that misreads the ``--`` must not find one)."""
    return _CONTROL.sub("?", str(text)).replace("$(", "$ (").replace("/*", "/ *").replace("*/", "* /")


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
        # control characters become NCHAR(n) so the script stays one statement per line; so does a
        # backslash before a quote or at the end of a piece (an escape for old go-sqlcmd)
        # (the whole run of backslashes: an escaping lexer pairs them, so an odd run would still
        # swallow the closing quote)
        chunk = []
        buf = ""
        i = 0
        while i < len(p):
            ch = p[i]
            run = 1
            if ch == "\\":
                while p[i + run: i + run + 1] == "\\":
                    run += 1
            after = p[i + run: i + run + 1]
            if _CONTROL.match(ch) or (ch == "\\" and (after in ("", "'") or _CONTROL.match(after))):
                if buf:
                    chunk.append(_raw_literal(buf))
                    buf = ""
                chunk.extend([f"NCHAR({ord(ch)})"] * run)
            else:
                buf += ch * run
            i += run
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
        """[name], or a sysname variable when a sqlcmd would alter or mis-lex it (RESTORE accepts @db)."""
        if identifier_safe(name):
            return quote_identifier(name)
        self._n += 1
        var = f"@v{self._n}"
        self.declarations.append(f"DECLARE {var} sysname = {split_expression(name)};")
        return var


def datetime_literal_text(text: str, sep: str = "T") -> str | None:
    """``2026-11-19 09:20:00[.fff]`` as RESTORE reads it without rounding later than asked.

    STOPAT and AFTER are ``datetime``: 1/300 s ticks, and a literal is rounded to the *nearest*
    tick (``.005`` -> ``.007``, ``.999`` -> the next second), which could include a commit after the
    asked time. The fraction is floored to a tick and written as the literal that reads back as
    that tick (``.005`` -> ``.003``). ``sep`` ``T`` gives ISO 8601 (no SET DATEFORMAT can reorder
    it). None when the text is not that shape.
    """
    m = _DATETIME.match(text)
    if not m:
        return None
    day, clock, frac = m.groups()
    out = f"{day}{sep}{clock}"
    if frac and int(frac):
        micro = int((frac + "000000")[:6])
        ticks = micro * 300 // 1_000_000
        out += f".{round(ticks * 1000 / 300):03d}"
    return out
