"""CSV and JSON history files as real exports write them (SSMS, sqlcmd, dbatools, HEADERONLY)."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Generator, Iterator
from itertools import chain
from pathlib import Path
from typing import Any

from restoreplan.core.errors import InputError
from restoreplan.sources.canonical import SetBuilder

_DASHES = re.compile(r"^-+$")
_ROWS_AFFECTED = re.compile(r"^\(\d+ rows? affected\)$", re.IGNORECASE)


def decode(data: bytes, origin: str) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM."""
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{origin}: not valid UTF-16 ({exc.reason} at byte {exc.start})"
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{origin}: not valid UTF-8 ({exc.reason} at byte {exc.start})",
            hint="save the export as UTF-8 or UTF-16 with a BOM",
        ) from None


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def csv_rows(text: str, origin: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """Header and data rows, skipping sqlcmd's dash line, blank lines and row-count footers."""
    return _csv_records(iter(text.splitlines()), origin)


def _is_separator(row: list[str]) -> bool:
    """sqlcmd's ``----- ---`` line under the header: dashes only, in at least one cell."""
    cells = [c.strip() for c in row]
    return any(cells) and all(_DASHES.match(c) for c in cells if c)


def _csv_records(
    lines: Iterator[str], origin: str
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """csv_rows over an iterator of lines (without their line breaks), read lazily."""
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise InputError(f"{origin}: the file is empty", hint="export the history again")
    if first.startswith("#TYPE"):  # PowerShell Export-Csv type line
        first = next(lines, "")
    delimiter = _sniff_delimiter(first)
    reader = csv.reader(_rejoined(chain([first], lines)), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputError(f"{origin}: the file is empty") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        width = len(header)
        for row_no, row in enumerate(reader, start=2):
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if row[0].lstrip()[:1] in ("", "-") and _is_separator(row):
                continue
            if len(row) == 1 and _ROWS_AFFECTED.match(row[0].strip()):
                continue
            if len(row) != width:
                raise InputError(
                    f"{origin}, row {row_no}: {len(row)} fields where the header has {width}",
                    hint="check the delimiter and quoting of the export",
                )
            yield row_no, [c.strip() for c in row]

    return header, rows()


def _rejoined(lines: Iterator[str]) -> Iterator[str]:
    """The lines as csv.reader would read them from ``"\\n".join(lines)``.

    A quoted field keeps a line break only when its line still ends with one; a last empty
    line is no record.
    """
    prev = next(lines, "")
    for line in lines:
        yield prev + "\n"
        prev = line
    if prev:
        yield prev


def _text_lines(path: str, origin: str) -> Generator[str, None, None]:
    """The lines of a text file (UTF-8, or UTF-16 with a BOM), read as they are needed.

    Lines break where ``str.splitlines`` breaks them, exactly as when the whole file is decoded
    at once; a decoding error is reported with its byte offset in the file, as ``decode`` does.
    """
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below, when the lines are consumed
    except OSError as exc:
        raise InputError(f"{origin}: cannot read ({exc.strerror})") from None
    with fh:
        bom = fh.read(2)
        fh.seek(0)
        utf16 = bom in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        text = io.TextIOWrapper(fh, encoding="utf-16" if utf16 else "utf-8-sig", newline="")
        try:
            for physical in text:
                yield from physical.splitlines()
        except UnicodeDecodeError:
            decode(Path(path).read_bytes(), origin)  # raises the error with its offset in the file
            raise
        except OSError as exc:
            raise InputError(f"{origin}: cannot read ({exc.strerror})") from None


def load_json(text: str, origin: str) -> list[dict[str, Any]]:
    """A list of objects, or an object holding one list (LSNs never pass through float)."""
    try:
        data = json.loads(text, parse_float=str)
    except json.JSONDecodeError as exc:
        raise InputError(f"{origin}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            data = [data]
        else:
            data = lists[0]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputError(f"{origin}: expected a JSON list of objects")
    if not data:
        raise InputError(f"{origin}: the file holds no rows", hint="export the history again")
    return data


def read_history_file(path: str, builder: SetBuilder, input_format: str | None = None) -> str:
    """Read one history file into ``builder``; returns the format that was used.

    CSV files are read a line at a time, so a history of millions of rows never sits in
    memory as text; JSON and XML are parsed whole.
    """
    origin = path
    lines = _text_lines(path, origin)
    leading: list[str] = []
    for line in lines:
        if line.strip():
            break
        leading.append(line)
    else:
        raise InputError(f"{origin}: the file is empty", hint="export the history again")
    stripped = line.lstrip()
    is_json = stripped[0] in "[{"
    is_xml = stripped.startswith("<")
    fmt = input_format
    if is_json or is_xml:
        lines.close()
        text = decode(Path(path).read_bytes(), origin)
    if is_json:
        records = load_json(text, origin)
        fmt = fmt or _detect(list(records[0].keys()), is_json=True, origin=origin)
        if fmt == "msdb-json":
            builder.add_mappings(records, origin)
        elif fmt == "dbatools-json":
            from restoreplan.sources import dbatools

            builder.add_mappings(dbatools.to_canonical(records, origin), origin)
        else:
            raise InputError(f"{origin}: input format {fmt} does not match a JSON file")
        return fmt
    if is_xml:
        if fmt not in (None, "dbatools-clixml"):
            raise InputError(f"{origin}: input format {fmt} does not match an XML file")
        from restoreplan.sources import dbatools

        reader = getattr(dbatools, "read_clixml", None)
        if reader is None:
            raise InputError(
                f"{origin}: dbatools Export-Clixml files are not supported yet",
                hint="use ConvertTo-Json",
            )
        builder.add_mappings(reader(text, origin), origin)
        return "dbatools-clixml"
    header, rows = _csv_records(chain(leading, [line], lines), origin)
    fmt = fmt or _detect(header, is_json=False, origin=origin)
    if fmt == "msdb-csv":
        builder.add_rows(header, (r for _, r in rows), origin, first_row=2)
    elif fmt == "headeronly-csv":
        from restoreplan.sources import headeronly

        body = [r for _, r in rows]
        builder.add_mappings(headeronly.to_canonical(header, body, origin), origin)
    elif fmt == "dbatools-csv":
        from restoreplan.sources import dbatools

        records = [dict(zip(header, r, strict=False)) for _, r in rows]
        builder.add_mappings(dbatools.to_canonical(records, origin), origin)
    else:
        raise InputError(f"{origin}: input format {fmt} does not match a CSV file")
    return fmt


def _detect(keys: list[str], *, is_json: bool, origin: str) -> str:
    if "backup_set_uuid" in keys and "first_lsn" in keys:
        return "msdb-json" if is_json else "msdb-csv"
    try:
        from restoreplan.sources import detect
    except ImportError:
        detect = None  # type: ignore[assignment]
    if detect is not None:
        try:
            return detect.detect_format(keys, is_json=is_json)
        except InputError as exc:
            raise InputError(f"{origin}: {exc.message}", hint=exc.hint) from None
    # the canonical format is the fallback: its header check names what is missing
    return "msdb-json" if is_json else "msdb-csv"


def read_records(path: str) -> list[dict[str, Any]]:
    """A small CSV or JSON export (logmarkhistory, backupfile, RDS metadata) as a list of mappings."""
    try:
        text = decode(Path(path).read_bytes(), path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    if text.lstrip()[:1] in ("[", "{"):
        return load_json(text, path)
    header, rows = csv_rows(text, path)
    return [dict(zip(header, r, strict=False)) for _, r in rows]
