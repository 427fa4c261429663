"""CSV and JSON history files as real exports write them (SSMS, sqlcmd, dbatools, HEADERONLY)."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain, islice
from operator import itemgetter
from pathlib import Path
from typing import Any, TextIO

from restoreplan.core.errors import InputError
from restoreplan.sources import jsonstream
from restoreplan.sources.canonical import CHUNK, SetBuilder, check_header, check_names
from restoreplan.sources.rowplan import PARSERS

_DASHES = re.compile(r"^-+$")
_ROWS_AFFECTED = re.compile(r"^\(\d+ rows? affected\)$", re.IGNORECASE)


_NO_BOM = "UTF-16 without a byte-order mark: save as UTF-8 or UTF-16 with BOM"
_QUOTING = (
    "a quoted field is not closed (or a field holds a stray quote): check the export's "
    "quoting, or export again"
)


def _not_csv(origin: str, row: int, exc: csv.Error) -> InputError:
    """csv.reader's refusal of a record, as one line with the likely cause."""
    hint = _QUOTING
    if "field limit" in str(exc):
        hint = (f"no msdb column holds {csv.field_size_limit():,} characters: check the delimiter "
                "and the quoting of the export")
    return InputError(f"{origin}, row {row}: not valid CSV ({exc})", hint=hint)


def _nul_check(head: bytes, origin: str) -> None:
    """Text whose first bytes are a quarter NUL or more, without a BOM: UTF-16 that would
    otherwise be read as UTF-8 with a NUL in every other character."""
    if head and head.count(0) * 4 >= len(head):
        raise InputError(f"{origin}: {_NO_BOM}", hint="save as UTF-8, or UTF-16 with a BOM")


def decode(data: bytes, origin: str) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM."""
    if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        _nul_check(data[:64], origin)
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


_NAME_COLUMNS = frozenset({"database_name", "databasename", "database", "destination_database_name"})


def _name_columns(header: Sequence[str]) -> frozenset[int]:
    """The columns of a database name: a cell there keeps its leading whitespace for the parser
    to refuse (sqlcmd pads text on the right and numbers on the left; a name's leading space is
    data, and stripping it would name another database)."""
    return frozenset(i for i, c in enumerate(header) if c.strip().lower() in _NAME_COLUMNS)


def _cleaned(row: Sequence[str], names: frozenset[int]) -> list[str]:
    if not names:
        return [c.strip() for c in row]
    return [c.rstrip() if i in names else c.strip() for i, c in enumerate(row)]


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
    header, reader = _csv_start(_rejoined(chain([first], lines)), origin)

    def rows() -> Iterator[tuple[int, list[str]]]:
        names = _name_columns(header)
        for chunk, numbers in _csv_chunks(reader, len(header), origin, names):
            for number, row in zip(numbers, chunk, strict=True):
                yield number, _cleaned(row, names)

    return header, rows()


def _records(lines: Iterator[str], delimiter: str) -> Iterator[list[str]]:
    """The records csv.reader reads from ``lines`` (each holding at most its line break, at
    its end, as a file opened with ``newline=""`` gives them), at about twice its speed.

    A line without a quote is one whole record whose fields lie between the delimiters, so
    ``str.split`` reads it; a line with a quote (which may open a field spanning lines), a
    line of two characters or fewer (a blank line is the record ``[]``) and a line longer than
    csv's field limit are csv.reader's, which pulls the continuation lines it needs itself.
    """
    lines = iter(lines)  # one iterator, shared by the loop below and csv.reader's feed
    pending: list[str] = []

    def feed() -> Iterator[str]:
        while True:
            if pending:
                yield pending.pop()
            elif (line := next(lines, None)) is not None:
                yield line
            else:
                return

    reader = csv.reader(feed(), delimiter=delimiter)
    limit = csv.field_size_limit()
    for line in lines:
        if '"' in line or not 2 < len(line) <= limit:
            pending.append(line)
            yield next(reader)
        else:
            yield line.rstrip("\r\n").split(delimiter)


def _csv_start(lines: Iterator[str], origin: str) -> tuple[list[str], Iterator[list[str]]]:
    """The header and a reader of the rows after it, from CSV lines (with their line breaks)
    that begin at the first non-blank one; a PowerShell Export-Csv type line is skipped."""
    first = next(lines, "")
    if first.startswith("#TYPE"):
        first = next(lines, "")
    reader = _records(chain([first], lines), _sniff_delimiter(first))
    try:
        header = [h.strip() for h in next(reader, [])]
    except csv.Error as exc:
        raise _not_csv(origin, 1, exc) from None
    if not header:
        raise InputError(f"{origin}: the file is empty", hint="export the history again")
    if not any(header):
        raise InputError(f"{origin}: the header row names no column", hint="export with a header row")
    return header, reader


# the columns of export-query's other result sets (backupfile, logmarkhistory, restorehistory)
_OTHER_HEADERS = frozenset({
    "backup_set_uuid", "logical_name", "physical_name", "file_type", "database_name", "mark_name",
    "description", "lsn", "mark_time", "destination_database_name", "restore_date", "restore_type",
    "recovery", "stop_at", "server_name",
})


def _is_header(row: list[str]) -> bool:
    """Is this row the header of another export-query result set?"""
    cells = [c.strip().lower() for c in row if c.strip()]
    return len(cells) >= 2 and all(c in _OTHER_HEADERS or c in PARSERS for c in cells)


def _skipped(row: list[str]) -> bool:
    """Blank lines, sqlcmd's dash line and its "(N rows affected)" footer."""
    if not row or (len(row) == 1 and not row[0].strip()):
        return True
    if row[0].lstrip()[:1] in ("", "-") and _is_separator(row):
        return True
    return len(row) == 1 and bool(_ROWS_AFFECTED.match(row[0].strip()))


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


def _open_text(path: str, origin: str) -> io.TextIOWrapper:
    """A text file (UTF-8, or UTF-16 with a BOM) whose lines keep their line breaks."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - the caller closes the wrapper
    except OSError as exc:
        raise InputError(f"{origin}: cannot read ({exc.strerror})") from None
    try:
        head = fh.peek(64)[:64]  # not read(2) + seek(0): a pipe cannot seek
    except OSError as exc:  # a folder, a failing disk or network share
        fh.close()
        raise InputError(f"{origin}: cannot read ({exc.strerror or exc})") from None
    utf16 = head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    if not utf16:
        try:
            _nul_check(head, origin)
        except InputError:
            fh.close()
            raise
    return io.TextIOWrapper(fh, encoding="utf-16" if utf16 else "utf-8-sig", newline="")


@contextmanager
def _reading(path: str, origin: str) -> Iterator[None]:
    """Decoding and reading errors of a file read lazily, as one clear InputError."""
    try:
        yield
    except UnicodeDecodeError:
        decode(Path(path).read_bytes(), origin)  # raises the error with its offset in the file
        raise
    except OSError as exc:
        raise InputError(f"{origin}: cannot read ({exc.strerror})") from None


def _csv_chunks(
    reader: Iterator[list[str]], width: int, origin: str, names: frozenset[int] = frozenset()
) -> Iterator[tuple[list[list[str]], Sequence[int]]]:
    """Data rows in chunks with their record numbers (the header is record 1).

    A chunk of plain rows (all of the header's width, no first cell that is empty or starts
    with a dash or a space) passes as it is; others are cleaned a row at a time: ``_skipped``
    rows dropped, cells stripped (those of ``names``, database names, on the right only), a row
    of another width refused.
    """
    row_no = 1
    while True:
        chunk: list[list[str]] = []
        try:
            chunk.extend(islice(reader, CHUNK))  # keeps the rows read before an error
        except csv.Error as exc:
            raise _not_csv(origin, row_no + len(chunk) + 1, exc) from None
        if not chunk:
            break
        first = row_no + 1
        row_no += len(chunk)
        if set(map(len, chunk)) == {width} and min(map(itemgetter(0), chunk)) >= ".":
            yield chunk, range(first, row_no + 1)
            continue
        rows: list[list[str]] = []
        numbers: list[int] = []
        for number, row in enumerate(chunk, start=first):
            if _skipped(row):
                continue
            if len(row) != width:
                if _is_header(row):
                    raise InputError(
                        f"{origin}, row {number}: a second result set begins here (a header of "
                        f"{len(row)} columns): sqlcmd writes every query of a script into one file",
                        hint="export one query per file: restoreplan export-query --query history",
                    )
                raise InputError(
                    f"{origin}, row {number}: {len(row)} fields where the header has {width}",
                    hint="check the delimiter and quoting of the export",
                )
            rows.append(_cleaned(row, names))
            numbers.append(number)
        if rows:
            yield rows, numbers


def load_json(text: str, origin: str) -> list[dict[str, Any]]:
    """A list of objects, or an object holding one list (LSNs never pass through float)."""
    try:
        data = json.loads(text, parse_float=str, object_pairs_hook=jsonstream.unique_keys)
    except json.JSONDecodeError as exc:
        raise InputError(f"{origin}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except (ValueError, RecursionError) as exc:
        raise jsonstream.beyond_limits(origin, exc) from None
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


def read_history_file(
    path: str,
    builder: SetBuilder,
    input_format: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> str:
    """Read one history file into ``builder``; returns the format that was used.

    CSV files are read a chunk of rows at a time, so a history of millions of rows never sits
    in memory as text (``progress`` hears the rows read so far after each chunk); JSON and XML
    are parsed whole.
    """
    origin = path
    with _open_text(path, origin) as text, _reading(path, origin):
        # the first character that is not blank says what the file is; a character at a time,
        # since a JSON export may be a single line of a gigabyte
        blank = []
        while (first := text.read(1)).isspace():
            blank.append(first)
        if not first:
            raise InputError(f"{origin}: the file is empty", hint="export the history again")
        skipped = "".join(blank)
        head = skipped[max(skipped.rfind("\n"), skipped.rfind("\r")) + 1 :] + first
        if first == "[":
            line_no = 1 + skipped.count("\n")
            return _read_json_array(head, text, path, builder, input_format, progress, line_no)
        if first in "{<":  # the rest of the text, not the path again: it may be a pipe
            whole = head + text.read()
            text.close()
            return _read_document(whole, path, builder, input_format, is_json=first == "{")
        header, reader = _csv_start(chain([head + text.readline()], text), origin)
        fmt = input_format or _detect(header, is_json=False, origin=origin)
        if fmt == "msdb-csv":
            check_header(header, origin)
            plan = builder.plan(header)
            for rows, numbers in _csv_chunks(reader, len(header), origin, _name_columns(header)):
                builder.add_chunk(plan, rows, origin, numbers)
                if progress is not None:
                    progress(builder.rows_read)
            return fmt
        body: list[list[str]] = []
        row_numbers: list[int] = []  # each row's record number (the header is record 1)
        names = _name_columns(header)
        for rows, chunk_numbers in _csv_chunks(reader, len(header), origin, names):
            body += (_cleaned(row, names) for row in rows)
            row_numbers += chunk_numbers
    if fmt == "headeronly-csv":
        from restoreplan.sources import headeronly

        rows_out = headeronly.to_canonical(header, body, origin, row_numbers=row_numbers)
        builder.add_mappings(rows_out, origin, rows_out.row_numbers)
    elif fmt == "dbatools-csv":
        from restoreplan.sources import dbatools

        check_names(header, origin)
        records = [dict(zip(header, r, strict=False)) for r in body]
        rows_out = dbatools.to_canonical(
            records, origin, row_numbers=row_numbers, dates_as_text=True
        )
        builder.add_mappings(rows_out, origin, rows_out.row_numbers)
    else:
        raise InputError(f"{origin}: input format {fmt} does not match a CSV file")
    return fmt


def _read_json_array(
    head: str,
    text: TextIO,
    origin: str,
    builder: SetBuilder,
    fmt: str | None,
    progress: Callable[[int], None] | None,
    line_no: int,
) -> str:
    """A JSON array of records (``head`` on line ``line_no``, then ``text``), decoded and added
    a record at a time (msdb-json), so that an export of millions of rows never sits in memory
    as text or as one list."""
    records = jsonstream.array_objects(head, text, origin, line=line_no)
    first = next(records, None)
    if first is None:
        raise InputError(f"{origin}: the file holds no rows", hint="export the history again")
    fmt = fmt or _detect(list(first.keys()), is_json=True, origin=origin)
    rows: Iterator[dict[str, Any]] = chain([first], records)
    if fmt == "msdb-json":
        if progress is not None:
            rows = _reporting(rows, builder, progress)
        builder.add_mappings(_scanned_sets(rows, builder), origin)
    elif fmt == "dbatools-json":
        from restoreplan.sources import dbatools

        mapped = dbatools.to_canonical(list(rows), origin)
        builder.add_mappings(mapped, origin, mapped.row_numbers)
    else:
        raise InputError(f"{origin}: input format {fmt} does not match a JSON file")
    return fmt


def _scanned_sets(rows: Iterator[dict[str, Any]], builder: SetBuilder) -> Iterator[dict[str, Any]]:
    """The rows, less ``scan --format json``'s rows for files it could not read (an ``error``
    and no backup set): those go to ``builder.unreadable``, so the command names them as it
    does for ``--backups``, instead of refusing the file for a row that holds no backup."""
    for row in rows:
        error = row.get("error")
        if error and row.get("backup_set_uuid") is None:
            builder.unreadable.append((str(row.get("physical_device_name") or "?"), str(error)))
            continue
        yield row


def _reporting(
    rows: Iterator[dict[str, Any]], builder: SetBuilder, progress: Callable[[int], None]
) -> Iterator[dict[str, Any]]:
    """The rows, telling ``progress`` the rows read so far after each CHUNK of them."""
    for n, row in enumerate(rows, start=1):
        if n % CHUNK == 0:
            progress(builder.rows_read)
        yield row


def _read_document(
    text: str, origin: str, builder: SetBuilder, fmt: str | None, *, is_json: bool
) -> str:
    """A JSON or XML history file (its decoded text), parsed whole."""
    if is_json:
        records = load_json(text, origin)
        fmt = fmt or _detect(list(records[0].keys()), is_json=True, origin=origin)
        if fmt == "msdb-json":
            builder.add_mappings(records, origin)
        elif fmt == "dbatools-json":
            from restoreplan.sources import dbatools

            mapped = dbatools.to_canonical(records, origin)
            builder.add_mappings(mapped, origin, mapped.row_numbers)
        else:
            raise InputError(f"{origin}: input format {fmt} does not match a JSON file")
        return fmt
    if fmt not in (None, "dbatools-clixml"):
        raise InputError(f"{origin}: input format {fmt} does not match an XML file")
    from restoreplan.sources import dbatools

    reader = getattr(dbatools, "read_clixml", None)
    if reader is None:
        raise InputError(
            f"{origin}: dbatools Export-Clixml files are not supported yet",
            hint="use ConvertTo-Json",
        )
    mapped = reader(text, origin)
    builder.add_mappings(mapped, origin, getattr(mapped, "row_numbers", None))
    return "dbatools-clixml"


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
    # the lines keep their own breaks: a quoted "\r\n" (or U+2028) in a path stays as it is
    lines = iter(io.StringIO(text, newline=""))
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise InputError(f"{path}: the file is empty", hint="export the history again")
    header, reader = _csv_start(chain([first], lines), path)
    check_names(header, path)  # a column named twice (in any case): which one is meant?
    names = _name_columns(header)
    return [
        dict(zip(header, row, strict=True))
        for chunk, _ in _csv_chunks(reader, len(header), path, names)
        for row in (_cleaned(r, names) for r in chunk)
    ]
