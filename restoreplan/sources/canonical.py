"""Canonical rows (msdb column names, one row per media file) -> BackupSet values.

Histories of never-purged msdb databases hold millions of rows, so the builder keeps its cost
linear and its memory compact. Rows arrive in chunks and are parsed a column at a time
(``rowplan``); a row becomes a pair of its own values and a template of the values it shares
with its neighbours, and each template becomes one BackupTraits, shared by its sets. A set under
construction keeps its first row's place as (origin, row) rather than a formatted string.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import compress, count, islice, repeat
from operator import itemgetter
from typing import Any

from restoreplan.core.errors import InputError
from restoreplan.core.model import TRAIT_FIELDS, BackupSet, BackupTraits, DatabaseFile, MediaFile
from restoreplan.sources import values as v
from restoreplan.sources.columns import REQUIRED
from restoreplan.sources.rowplan import (
    N_OWN_SET,
    OWN,
    OWN_SLOT,
    SHARED,
    SHARED_SLOT,
    LsnColumns,
    NotFast,
    RowPlan,
    Template,
    readers,
)

_S = SHARED_SLOT
_TYPE, _DB_LSN, _POSITION = _S["type"], _S["database_backup_lsn"], _S["position"]
_BASE_LSN, _BASE_GUID = _S["differential_base_lsn"], _S["differential_base_guid"]
_FAMILY_COUNT, _MIRROR_COUNT = _S["media_family_count"], _S["mirror_count"]
_DEVICE, _FAMILY, _MIRROR, _DEVICE_TYPE = (
    OWN_SLOT["physical_device_name"], OWN_SLOT["family_sequence_number"], OWN_SLOT["mirror"],
    OWN_SLOT["device_type"],
)
_TRAIT_SLOTS = tuple(_S[name] for name in TRAIT_FIELDS)
_BOOL_TRAITS = tuple(i for i, name in enumerate(TRAIT_FIELDS) if SHARED[name] is v.parse_bool)
_TIME_ZONE = TRAIT_FIELDS.index("time_zone")
_REQUIRED_AT = tuple(
    (name, OWN_SLOT.get(name), SHARED_SLOT.get(name)) for name in REQUIRED
)  # (name, slot in own or None, slot in a template or None)
CHUNK = 4096  # rows parsed together, a column at a time


class _Acc:
    """A backup set being assembled from its media-file rows."""

    __slots__ = ("own", "template", "origin", "row", "files", "places")

    def __init__(
        self, own: Sequence[Any], template: Template, origin: str, row: int | None
    ) -> None:
        self.own = own
        self.template = template
        self.origin = origin
        self.row = row
        self.files: list[MediaFile] | None = None  # None: the first row's file only
        self.places: list[str] = []  # where each of ``files`` was read

    @property
    def where(self) -> str:
        return _where(self.origin, self.row)


def _where(origin: str, row: int | None) -> str:
    return origin if row is None else f"{origin}, row {row}"


def _problem(origin: str, row: int | None, column: str, exc: Exception) -> InputError:
    return InputError(
        f"{_where(origin, row)}, column {column}: {exc}",
        hint="fix the value or export the history again with `restoreplan export-query`",
    )


def _media(own: Sequence[Any]) -> MediaFile:
    return MediaFile(own[_DEVICE], own[_FAMILY] or 1, own[_MIRROR] or 0, own[_DEVICE_TYPE])


def _traits(template: Template) -> BackupTraits:
    made: BackupTraits | None = template.made
    if made is None:
        values = [template.values[slot] for slot in _TRAIT_SLOTS]
        for i in _BOOL_TRAITS:
            values[i] = bool(values[i])
        if values[_TIME_ZONE] == 127:  # msdb's "unknown"
            values[_TIME_ZONE] = None
        made = template.made = BackupTraits(*values)
    return made


def _file(media: MediaFile) -> str:
    kind = "" if media.device_type is None else f" (device_type {media.device_type})"
    return f"{media.physical_device_name!r}{kind}"


def _another_mirror(acc: _Acc, own: Sequence[Any]) -> MediaFile:
    """A further file of a family, without its mirror number: the next one (mirrors of a
    family are interchangeable); a file already listed keeps its number."""
    assert acc.files is not None
    family, device = own[_FAMILY], own[_DEVICE]
    same = [m for m in acc.files if m.family_sequence_number == family]
    for old in same:
        if old.physical_device_name == device:
            return MediaFile(device, family, old.mirror, own[_DEVICE_TYPE])
    return MediaFile(device, family, len(same), own[_DEVICE_TYPE])


def _unnumbered(acc: _Acc, own: Sequence[Any], template: Template, where: str) -> MediaFile:
    """A further file of a set whose rows carry no family_sequence_number: its place from
    media_family_count and mirror_count (a file already listed keeps its place). Several
    files of one set are stripes or mirrors: without those counts that is a guess, refused."""
    assert acc.files is not None
    device, mirror = own[_DEVICE], own[_MIRROR]
    for old in acc.files:
        if old.physical_device_name == device:  # the same file again (or a conflict)
            return MediaFile(
                device, old.family_sequence_number, old.mirror if mirror is None else mirror,
                own[_DEVICE_TYPE],
            )
    families, mirrors = template.values[_FAMILY_COUNT], template.values[_MIRROR_COUNT]
    n = len(acc.files)
    if families == 1:  # all mirrors of one family
        return MediaFile(device, 1, n if mirror is None else mirror, own[_DEVICE_TYPE])
    if families is not None and families > 1 and mirrors == 1 and n < families:
        return MediaFile(device, n + 1, mirror or 0, own[_DEVICE_TYPE])
    counts = (
        "its media_family_count and mirror_count do not place it"
        if families is not None and mirrors is not None
        else "the history has no media_family_count and mirror_count either"
    )
    raise InputError(
        f"{where}: backup set {own[0]} has several files ({acc.files[0].physical_device_name!r} "
        f"at {acc.places[0]}, {device!r} here) but no family_sequence_number column (or value): "
        f"stripes cannot be told from mirrors, and {counts}",
        hint="export the history with family_sequence_number and mirror "
        "(the SQL printed by `restoreplan export-query` has them)",
        backup_set_uuid=own[0],
    )


def check_names(columns: Sequence[str], origin: str) -> list[str]:
    """The column names in lower case (SQL Server compares them case-insensitively); a name
    given twice is refused, since either could be the one meant."""
    low = [str(c).strip().lower() for c in columns]
    named = [c for c in low if c]  # columns without a name (trailing delimiters) name nothing
    if len(set(named)) != len(named):
        counts = Counter(named)
        twice = [c for c in counts if counts[c] > 1]
        raise InputError(
            f"{origin}: column(s) named more than once: {', '.join(twice)}",
            hint="column names are compared case-insensitively; keep one of each",
        )
    return low


def check_header(columns: Sequence[str], origin: str) -> None:
    """The required columns are there, and no column is named twice (``check_names``)."""
    low = check_names(columns, origin)
    missing = [c for c in REQUIRED if c not in low]
    if missing:
        raise InputError(
            f"{origin}: missing required column(s) {', '.join(missing)}",
            hint="export with the SQL printed by `restoreplan export-query` (or pass --input-format)",
        )


class SetBuilder:
    """Accumulates canonical rows from any number of inputs and builds BackupSets.

    Identical rows are merged; a row that disagrees with an earlier row of the same backup set
    is an error naming both places.
    """

    def __init__(self, skim_for: str | None = None) -> None:
        """``skim_for``: a database name whose lineages alone will be built (``build``'s
        ``database``). Rows of other lineages are then set aside after their shared columns
        and GUID, without parsing the rest; ``skimmed_too_much`` says when that guess
        dropped something the build needs, and the inputs must be read again without it."""
        # a set seen in one row: (own, template, origin, row); in more: an _Acc
        self._sets: dict[str, tuple[Any, ...] | _Acc] = {}
        self._skim_for = skim_for.casefold() if skim_for else None
        self._named: set[str] = set()  # lineage keys seen with that name
        self._set_aside: set[str] = set()  # lineage keys of the rows set aside
        self._set_aside_uuids: set[str] = set()
        self._db_files: dict[str, list[DatabaseFile]] = {}
        self._built: list[BackupSet] | None = None
        self.rows_read = 0
        # files a scan could not read, listed in its JSON output beside the sets: (file, why)
        self.unreadable: list[tuple[str, str]] = []
        self._readers = readers()
        self._lsns = LsnColumns()

    def plan(self, columns: Sequence[str], *, typed: bool = False) -> RowPlan:
        """How rows under ``columns`` are parsed (pass it to ``add_chunk``)."""
        return RowPlan(columns, self._readers, typed=typed, lsns=self._lsns)

    def add_rows(
        self, columns: Sequence[str], rows: Iterable[Sequence[Any]], origin: str, first_row: int = 1
    ) -> None:
        """Add positional rows under ``columns``, the first numbered ``first_row``."""
        check_header(columns, origin)
        plan = self.plan(columns)
        width = len(columns)
        numbers = count(first_row)
        chunk: list[Sequence[Any]] = []
        for row in rows:
            chunk.append(row if len(row) >= width else [*row, *([None] * (width - len(row)))])
            if len(chunk) == CHUNK:
                self.add_chunk(plan, chunk, origin, [next(numbers) for _ in chunk])
                chunk = []
        if chunk:
            self.add_chunk(plan, chunk, origin, [next(numbers) for _ in chunk])

    def add_chunk(
        self, plan: RowPlan, rows: Sequence[Sequence[Any]], origin: str, row_numbers: Sequence[int]
    ) -> None:
        """Add rows of one width (at least the plan's columns), numbered ``row_numbers``."""
        if self._built is not None:
            raise RuntimeError("rows added to a SetBuilder after build()")
        if not rows:
            return
        width = len(plan.columns)
        if set(map(len, rows)) != {width}:
            rows = [row[:width] for row in rows]
        n = len(rows)
        try:
            cols: Sequence[Sequence[Any]] = list(zip(*rows, strict=True))
            templates = plan.chunk_templates(cols, n)
            if self._skim_for is not None:
                keep = self._skim(plan, cols, templates)
                if keep is not None:
                    rows, row_numbers = list(compress(rows, keep)), list(compress(row_numbers, keep))
                    if not rows:
                        self.rows_read += n
                        return
                    cols = [list(compress(col, keep)) for col in cols]
                    templates = list(compress(templates, keep))
            owns = plan.chunk_owns(cols, len(templates))
        except NotFast:  # the rows (those kept) a row at a time, to name the bad cell
            self.rows_read += n - len(rows)
            for row, row_no in zip(rows, row_numbers, strict=True):
                self._add_row(plan, row, origin, row_no)
            return
        self.rows_read += n - len(owns)
        uuids = list(map(itemgetter(0), owns))
        sets = self._sets
        entries = zip(uuids, zip(owns, templates, repeat(origin), row_numbers), strict=False)
        if len(set(uuids)) == len(uuids) and sets.keys().isdisjoint(uuids):  # all new sets
            sets.update(entries)
        else:  # a stripe, a mirror or a set seen before: those rows merge, the others go at once
            again = {u for u, k in Counter(uuids).items() if k > 1 or u in sets}
            done = 0
            for n in [n for n, u in enumerate(uuids) if u in again]:
                sets.update(islice(entries, n - done))
                self._put(owns[n], templates[n], origin, row_numbers[n], plan.columns)
                next(entries)
                done = n + 1
            sets.update(entries)
        self.rows_read += len(owns)

    def _skim(
        self, plan: RowPlan, cols: Sequence[Sequence[Any]], templates: list[Template]
    ) -> list[bool] | None:
        """Which rows of the chunk to keep (None: all): not those of lineages not (yet) seen
        under the wanted name, whose lineage keys and GUIDs are noted for
        ``skimmed_too_much``."""
        decided: dict[int, bool] = {}
        keep = []
        for template in templates:
            k = decided.get(id(template))
            if k is None:
                k = decided[id(template)] = self._wanted(template)
            keep.append(k)
        if all(keep):
            return None
        self._set_aside_uuids.update(compress(plan.chunk_uuids(cols), map(operator.not_, keep)))
        return keep

    def _wanted(self, template: Template) -> bool:
        traits = _traits(template)
        key = traits.lineage_key
        if key in self._named:
            return True
        if traits.database_name.casefold() == self._skim_for:
            self._named.add(key)
            return True
        self._set_aside.add(key)
        return False

    @property
    def skimmed_too_much(self) -> bool:
        """Did skimming set aside rows the build needs? Rows of a lineage that later showed
        the wanted name (a renamed database), a GUID also seen in a kept row (which would
        be a conflict), or every row (no lineage had the name: every lineage is built)."""
        if not self._set_aside:
            return False
        return (
            not self._named
            or not self._set_aside.isdisjoint(self._named)
            or not self._set_aside_uuids.isdisjoint(self._sets)
        )

    def _put(
        self,
        own: tuple[Any, ...],
        template: Template,
        origin: str,
        row_no: int | None,
        names: Sequence[str],
    ) -> None:
        """One parsed row: a set's first (kept as a tuple) or a further one (merged into it)."""
        seen = self._sets.get(own[0])
        if seen is None:
            self._sets[own[0]] = (own, template, origin, row_no)
            return
        if isinstance(seen, tuple):
            seen = self._sets[own[0]] = _Acc(*seen)
        self._again(seen, own, template, origin, row_no, names)

    def _add_row(
        self,
        plan: RowPlan,
        row: Sequence[Any],
        origin: str,
        row_no: int | None,
        missing: Sequence[str] = (),
    ) -> None:
        try:
            own, template = plan.parse(row)
        except v.ColumnProblem as exc:
            raise _problem(origin, row_no, exc.column, exc) from None
        except v.ValueProblem:
            name, problem = plan.first_problem(row)
            raise _problem(origin, row_no, name, problem) from None
        if missing:
            raise InputError(f"{_where(origin, row_no)}: missing key(s) {', '.join(missing)}")
        for name, own_slot, shared_slot in _REQUIRED_AT:
            if own_slot is not None:
                value = own[own_slot]
            else:
                assert shared_slot is not None
                value = template.values[shared_slot]
            if value is None:
                raise InputError(
                    f"{_where(origin, row_no)}, column {name}: value is missing",
                    hint="this column is required",
                )
        self._put(own, template, origin, row_no, plan.columns)
        self.rows_read += 1

    def add_mappings(
        self,
        rows: Iterable[Mapping[str, Any]],
        origin: str,
        row_numbers: Sequence[int] | None = None,
    ) -> None:
        """Add rows given as mappings keyed by canonical column names (in any case).

        Consecutive rows with the same keys (all of them, in a JSON export) go through the
        chunk parser together. ``row_numbers``: each row's row in its file, for messages
        (default 1, 2, ...; HEADERONLY and dbatools rows pass theirs).
        """
        if self._built is not None:
            raise RuntimeError("rows added to a SetBuilder after build()")
        plans: dict[tuple[str, ...], tuple[RowPlan, list[str]]] = {}  # by the row's keys
        chunk: list[list[Any]] = []
        first_no = 1
        names: tuple[str, ...] = ()
        for row_no, row in enumerate(rows, start=1):
            if row_no == 1:
                check_header(list(row.keys()), origin)
            keys = tuple(row)
            if keys != names or len(chunk) == CHUNK:
                self._add_mapped(plans, names, chunk, origin, first_no, row_numbers)
                chunk, first_no, names = [], row_no, keys
            chunk.append(list(row.values()))
        self._add_mapped(plans, names, chunk, origin, first_no, row_numbers)

    def _add_mapped(
        self,
        plans: dict[tuple[str, ...], tuple[RowPlan, list[str]]],
        names: tuple[str, ...],
        chunk: list[list[Any]],
        origin: str,
        first_no: int,
        row_numbers: Sequence[int] | None = None,
    ) -> None:
        """Rows of mappings that share ``names``, the first the ``first_no``-th (numbered
        ``row_numbers[first_no - 1]`` when given, else ``first_no``)."""
        if not chunk:
            return
        known = plans.get(names)
        if known is None:
            if len(plans) >= 64:
                plans.clear()
            check_names(names, origin)
            low = {str(name).lower() for name in names}
            known = plans[names] = (
                self.plan(names, typed=True),
                [c for c in REQUIRED if c not in low],
            )
        plan, missing = known
        numbers: Sequence[int] = (
            range(first_no, first_no + len(chunk))
            if row_numbers is None
            else row_numbers[first_no - 1 : first_no - 1 + len(chunk)]
        )
        if missing:  # each row says what it lacks, after what does not parse
            for row, row_no in zip(chunk, numbers, strict=True):
                self._add_row(plan, row, origin, row_no, missing)
        else:
            self.add_chunk(plan, chunk, origin, numbers)

    def add_database_files(self, backup_set_uuid: str, files: Iterable[DatabaseFile]) -> None:
        if self._built is not None:
            raise RuntimeError("database files added to a SetBuilder after build()")
        self._db_files.setdefault(backup_set_uuid, []).extend(files)

    def _again(
        self,
        acc: _Acc,
        own: Sequence[Any],
        template: Template,
        origin: str,
        row_no: int | None,
        names: Iterable[str],
    ) -> None:
        """A further row of a set seen before: another file of it, or the same row again."""
        if acc.files is None:
            acc.files = [_media(acc.own)]
            acc.places = [acc.where]
        where = _where(origin, row_no)
        if acc.own[:N_OWN_SET] != own[:N_OWN_SET] or (
            acc.template is not template
            and acc.template.values != template.values
        ):
            self._merge(acc, own, template, where, names)
        if own[_FAMILY] is None:
            media = _unnumbered(acc, own, template, where)
        elif own[_MIRROR] is None:
            media = _another_mirror(acc, own)
        else:
            media = _media(own)
        for old, place in zip(acc.files, acc.places, strict=True):
            if (old.family_sequence_number, old.mirror) == (media.family_sequence_number, media.mirror):
                if old != media:
                    raise InputError(
                        f"conflicting rows for backup set {own[0]}: family "
                        f"{media.family_sequence_number} mirror {media.mirror} is "
                        f"{_file(old)} at {place} but {_file(media)} at {where}",
                        hint="the inputs disagree; drop the stale export",
                        backup_set_uuid=own[0],
                    )
                return
        acc.files.append(media)
        acc.places.append(where)

    @staticmethod
    def _merge(
        acc: _Acc, own: Sequence[Any], template: Template, where: str, names: Iterable[str]
    ) -> None:
        """Fill in what the set's earlier rows left null; a different value is a conflict.

        Columns are compared in the input's order, so the first conflicting one is reported.
        """
        known_own = list(acc.own)
        known = acc.template.values.copy()  # templates are shared: change a copy
        for name in dict.fromkeys(names):
            if OWN_SLOT.get(name, N_OWN_SET) < N_OWN_SET:
                values, new, slot = known_own, own, OWN_SLOT[name]
            elif name in SHARED_SLOT:
                values, new, slot = known, template.values, SHARED_SLOT[name]
            else:
                continue
            val, old = new[slot], values[slot]
            if val is None or old == val:
                continue
            if old is None:
                values[slot] = val
                continue
            uuid = known_own[0]
            raise InputError(
                f"conflicting rows for backup set {uuid}: {name} is {old} at {acc.where} "
                f"but {val} at {where}",
                hint="the inputs disagree; drop the stale export",
                backup_set_uuid=uuid,
            )
        acc.own = tuple(known_own)
        if known != acc.template.values:
            acc.template = Template(known)

    def _lineages_named(self, database: str) -> set[str] | None:
        """The lineage keys whose sets carry ``database`` (casefolded), or None when none do."""
        wanted = database.casefold()
        named: set[str] = set()
        seen: set[int] = set()
        for entry in self._sets.values():
            template = entry.template if isinstance(entry, _Acc) else entry[1]
            if id(template) not in seen:
                seen.add(id(template))
                traits = _traits(template)
                if traits.database_name.casefold() == wanted:
                    named.add(traits.lineage_key)
        return named or None

    def build(self, database: str | None = None) -> list[BackupSet]:
        """The backup sets, in the order they were first seen.

        With ``database``, only the sets of the lineages that ever carried that name (matched
        as History.lineages_named matches it), when there are any: a plan for one database of
        a large msdb need not build the others. Building hands the sets over: each one's
        accumulated rows are released as it is built, so a history never sits in memory
        twice. Calling build again returns the same sets; adding rows after building is an
        error.
        """
        if self._built is not None:
            return list(self._built)
        out: list[BackupSet] = []
        sets, db_files = self._sets, self._db_files
        wanted = self._lineages_named(database) if database else None
        for uuid in list(sets):
            entry = sets.pop(uuid)
            if type(entry) is tuple:
                own, template, origin, row_no = entry
                files = None
            else:
                assert isinstance(entry, _Acc)
                own, template, origin, row_no, files = (
                    entry.own, entry.template, entry.origin, entry.row, entry.files
                )
            if wanted is not None and _traits(template).lineage_key not in wanted:
                continue
            (_, set_id, media_set_id, start, finish, size, csize, valid, first, last, ckpt) = own[
                :N_OWN_SET
            ]
            if finish < start:
                raise InputError(
                    f"{_where(origin, row_no)}: backup_finish_date {finish} is before "
                    f"backup_start_date {start}",
                    backup_set_uuid=uuid,
                )
            if last.value < first.value:
                raise InputError(
                    f"{_where(origin, row_no)}: last_lsn {last} is before first_lsn {first}",
                    backup_set_uuid=uuid,
                )
            t = template.values
            if files is None:
                media: tuple[MediaFile, ...] = (_media(own),)
            else:
                media = tuple(sorted(files, key=lambda m: (m.family_sequence_number, m.mirror)))
            out.append(
                BackupSet(
                    uuid,
                    t[_TYPE],
                    _traits(template),
                    first,
                    last,
                    ckpt,
                    t[_DB_LSN],
                    start,
                    finish,
                    media,
                    set_id,
                    media_set_id,
                    t[_POSITION] or 1,
                    t[_BASE_LSN],
                    t[_BASE_GUID],
                    valid,
                    size,
                    csize,
                    tuple(db_files[uuid]) if uuid in db_files else (),
                )
            )
        self._built = out
        return list(out)


assert tuple(OWN)[:N_OWN_SET] == (
    "backup_set_uuid",
    "backup_set_id",
    "media_set_id",
    "backup_start_date",
    "backup_finish_date",
    "backup_size",
    "compressed_backup_size",
    "last_valid_restore_time",
    "first_lsn",
    "last_lsn",
    "checkpoint_lsn",
)  # fmt: skip  (the unpacking in build)
assert set(SHARED) >= set(TRAIT_FIELDS)
