"""Families into lineages: when databases sharing a family_guid are one database, and when not.

family_guid is "the unique ID of the original database at creation; it remains the same when the
database is restored, even to a different name". It tells a dropped-and-recreated database from
its predecessor (restore-rules B.7.3), but not a copy from its original.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter

from restoreplan.core.model import BackupSet, BackupType

_names = attrgetter("traits.database_name")


def apart(key: str, sets: list[BackupSet]) -> list[tuple[str, list[BackupSet], list[str], frozenset[str]]]:
    """A family's sets as lineages: (key, sets, the names of the family's other databases, the
    uuids of the sets it borrows from them).

    family_guid survives a restore, even under another name (restore-rules B.7.3), so a copy
    restored beside its original (Sales_Copy next to Sales) shares the original's family. Its
    backups are another database's: a plan for Sales must never restore them, and the audit of
    Sales must not count them (nor hide that Sales's own backups stopped). Names of one family
    are one lineage only when they are one database renamed: one name's backups end before the
    next name's begin, and they share a database_guid (a restore assigns a new one) or, without
    database_guids, a recovery fork (a restore WITH RECOVERY starts a new one). Otherwise each
    name is a lineage of its own (key ``family|name``). A copy's differentials taken before its
    own first full are based on the full it was restored from, a backup of the original: its
    lineage borrows that full (and takes neither its name nor anything else of the original).
    """
    names = set(map(_names, sets))
    if len(names) < 2 or len({n.casefold() for n in names}) < 2:
        return [(key, sets, [], frozenset())]
    groups: dict[str, list[BackupSet]] = {}
    for s in sets:
        groups.setdefault(s.database_name.casefold(), []).append(s)
    if _renamed(list(groups.values())):
        return [(key, sets, [], frozenset())]
    shown = {s.database_name.casefold(): s.database_name for s in sets}  # the spelling seen last
    bases = _bases(sets)
    out = []
    for folded, g in groups.items():
        own = {s.backup_set_uuid for s in g}
        borrowed = {
            base.backup_set_uuid: base
            for base in (bases(s) for s in g if s.type is BackupType.DIFF)
            if base is not None and base.backup_set_uuid not in own
        }
        others = sorted(shown[other] for other in groups if other != folded)
        out.append((f"{key}|{folded}", g + list(borrowed.values()), others, frozenset(borrowed)))
    return out


def _renamed(groups: list[list[BackupSet]]) -> bool:
    """Are these sets, one group per name, one database renamed (see ``apart``)?"""
    spans = sorted(
        ((min(s.backup_start_date for s in g), max(s.backup_finish_date for s in g), g) for g in groups),
        key=lambda span: span[:2],
    )
    for (_, end, g), (start, _, h) in zip(spans, spans[1:], strict=False):
        if start < end:
            return False  # backed up at the same time: two databases
        for name in ("database_guid", "last_recovery_fork_guid"):
            before, after = _values(g, name), _values(h, name)
            if before and after:
                if before.isdisjoint(after):
                    return False  # restored under the new name
                break
    return True


def _values(sets: list[BackupSet], name: str) -> set[str]:
    """The values of a traits field among the sets, less the unknown ones."""
    return set(filter(None, map(attrgetter(f"traits.{name}"), sets)))


def _bases(sets: list[BackupSet]) -> Callable[[BackupSet], BackupSet | None]:
    """The base full of a differential among ``sets``: by differential_base_guid, else by the
    secondary evidence of restore-rules B.4 (one regular full whose checkpoint_lsn is its
    database_backup_lsn). A copy's first differentials are based on the full it was restored
    from, a backup of the original: the copy's lineage borrows that full."""
    by_uuid = {s.backup_set_uuid: s for s in sets}
    by_checkpoint: dict[int, list[BackupSet]] = {}
    for s in sets:
        if s.type is BackupType.FULL and not s.is_copy_only:
            by_checkpoint.setdefault(s.checkpoint_lsn.value, []).append(s)

    def base(diff: BackupSet) -> BackupSet | None:
        if diff.differential_base_guid:
            return by_uuid.get(diff.differential_base_guid)
        found = by_checkpoint.get(diff.database_backup_lsn.value, [])
        return found[0] if len(found) == 1 else None

    return base


@dataclass(slots=True)
class _Span:
    start: datetime
    end: datetime
    servers: set[str]


def servers_apart(
    sets: list[BackupSet],
    start_key: Callable[[BackupSet], datetime],
    finish_key: Callable[[BackupSet], datetime],
) -> list[tuple[str, str]]:
    """Pairs of servers whose backups of one lineage ran at the same time on different
    recovery forks, and never on a common one.

    Replicas of an availability group back up one log chain, on one fork. Backups on two forks
    at once, from different servers, are two databases: most likely a copy restored under the
    same name on another server, whose history was read together with the original's. The
    family split (``apart``) cannot tell them apart by name; the planner's fork rules keep each
    plan's chain on one fork, but not on the fork the user means. Times are compared on the
    lineage's clock (``start_key``, ``finish_key``: UTC when every set has a time zone), since
    the servers may be in different zones.
    """
    if len(_values(sets, "last_recovery_fork_guid")) < 2 or len(_values(sets, "server_name")) < 2:
        return []
    spans: dict[str, _Span] = {}
    for s in sets:
        fork = s.last_recovery_fork_guid
        if not fork:
            continue
        start, finish = start_key(s), finish_key(s)
        span = spans.get(fork)
        if span is None:
            spans[fork] = _Span(start, finish, {s.server_name or ""})
        else:
            span.start = min(span.start, start)
            span.end = max(span.end, finish)
            span.servers.add(s.server_name or "")
    ordered = sorted(spans.values(), key=lambda span: span.start)
    pairs: set[tuple[str, str]] = set()
    for n, span in enumerate(ordered):
        for later in ordered[n + 1 :]:
            if later.start >= span.end:
                break  # sorted by start: none later overlaps either
            if span.servers.isdisjoint(later.servers):
                pairs.update((min(a, b), max(a, b)) for a in span.servers for b in later.servers)
    return sorted(pairs)
