"""Chain validation: findings with a stable code, a severity and a hint (restore-rules B, F.8).

Pure: a lineage in, findings out. Linear in the history: one pass over the sets, one sweep over
the logs (sorted by first_lsn), the recoverable windows once per lineage (shared with the planner)
for time ranges, and a bisection per log to find the logs no chain reaches (time lost is always an
error finding). The planner is never called.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from restoreplan.core.findings import Finding, LineageFindings, Severity
from restoreplan.core.history import History, Lineage, as_it_stood
from restoreplan.core.model import BackupSet, BackupType
from restoreplan.core.refusals import unusable_fulls
from restoreplan.core.restores import describe, restored_since
from restoreplan.core.target import Clock, ResolvedTime, clock_of, fmt_time
from restoreplan.core.windows import Window, data_starts, explored, lineage_windows


@dataclass(frozen=True, slots=True)
class ValidateOptions:
    """Thresholds; ``as_of`` is naive server-local, or aware (converted per lineage)."""

    max_full_age: timedelta | None = None
    max_log_age: timedelta | None = None
    as_of: datetime | None = None
    # the ages count only the backups finished by as_of (a past --as-of); False when as_of is
    # merely now, where a backup "after" it is a clock or time-zone skew, not the future
    until_as_of: bool = True


def as_of_key(lin: Lineage, clock: Clock, when: datetime) -> datetime:
    """``when`` on the lineage's compare clock. An aware time on a lineage without time zones is
    taken as the wall-clock time in its own offset (the best guess for server-local)."""
    if when.tzinfo is not None and not lin.utc:
        return when.replace(tzinfo=None)
    return clock.resolve(when).key


def _t(bs: BackupSet) -> str:
    return fmt_time(bs.backup_finish_date) or ""


class _Collector:
    def __init__(self, lin: Lineage, windows: list[Window]) -> None:
        self.lin = lin
        self._clock: Clock | None = None
        self.windows = windows
        self.window_starts = [w.start for w in windows]
        self.window_ends = [w.end for w in windows]
        self.out: list[Finding] = []
        self.newest_log: BackupSet | None = None  # the usable log with the newest end
        self._points: dict[str | None, list[tuple[int, datetime, BackupSet]]] | None = None
        self._on_fork: dict[str | None, tuple[list[int], list[tuple[int, datetime, BackupSet]]]] = {}

    @property
    def clock(self) -> Clock:
        if self._clock is None:
            self._clock = clock_of(self.lin)
        return self._clock

    def add(self, code: str, text: str, hint: str, bs: BackupSet | None = None, **kw: object) -> None:
        self.out.append(Finding(code, text, hint, bs, **kw))  # type: ignore[arg-type]

    def points_on(self, fork: str | None) -> list[tuple[int, datetime, BackupSet]]:
        """The data backups a log chain of ``fork`` can follow, by redo point (_data_points)."""
        return self._by_lsn(fork)[1]

    def data_between(self, fork: str | None, low: int, high: int) -> list[tuple[int, datetime, BackupSet]]:
        """Those whose redo point lies strictly between two LSNs (a bisection: a history with many
        breaks stays linear)."""
        lsns, pts = self._by_lsn(fork)
        return pts[bisect.bisect_right(lsns, low):bisect.bisect_left(lsns, high)]

    def _by_lsn(self, fork: str | None) -> tuple[list[int], list[tuple[int, datetime, BackupSet]]]:
        found = self._on_fork.get(fork)
        if found is None:
            if self._points is None:
                self._points = _data_points(self.lin)
            pts = sorted(_points_on(self._points, fork), key=lambda p: p[0])
            found = self._on_fork[fork] = ([p[0] for p in pts], pts)
        return found

    def covered(self, key: datetime) -> bool:
        """Is the compare key inside a recoverable window?"""
        i = bisect.bisect_left(self.window_ends, key)
        return i < len(self.windows) and self.windows[i].start <= key

    def before(self, key: datetime) -> datetime:
        """The end of the last window that ends at or before ``key`` (``key`` itself if none)."""
        i = bisect.bisect_right(self.window_ends, key)
        return self.window_ends[i - 1] if i > 0 else key

    def lost_range(self, after: datetime, upto: datetime, *, skip_points: bool = False
                   ) -> tuple[ResolvedTime, ResolvedTime | None] | None:
        """The stretch lost after ``after`` on the way to ``upto`` (where the chain resumes): from
        the end of the window holding ``after`` (or ``after``) to the next recoverable point (with
        ``skip_points``: the next window longer than a point). None when the windows run on
        through ``upto``: another chain of backups covers the range."""
        i = bisect.bisect_right(self.window_starts, after)
        start = after
        if i > 0 and self.windows[i - 1].end >= after:
            start = self.windows[i - 1].end
        if start >= upto:
            return None
        while skip_points and i < len(self.windows) and self.windows[i].start == self.windows[i].end:
            i += 1
        nxt = self.windows[i].start if i < len(self.windows) else None
        return self.clock.from_key(start), (self.clock.from_key(nxt) if nxt is not None else None)


def _lost_text(rng: tuple[ResolvedTime, ResolvedTime | None] | None, points: bool = False) -> str:
    if rng is None:
        return "No point in time is lost: another chain of backups covers this range."
    start, end = rng
    extra = " (except the end points of data backups in between)" if points else ""
    if end is None:
        return f"Nothing after {start.local_text} can be recovered{extra}."
    return f"Times from {start.local_text} to {end.local_text} cannot be recovered{extra}."


def _set_findings(c: _Collector) -> None:
    lin = c.lin
    thumbs: dict[str, list[BackupSet]] = {}
    copy_logs: list[BackupSet] = []
    for bs in lin.sets:
        reason = lin.unavailable.get(bs.backup_set_uuid, "")
        t = bs.traits
        if not (reason or t.is_damaged or t.has_incomplete_metadata or t.has_bulk_logged_data
                or t.encryptor_thumbprint or t.is_copy_only or bs.type is BackupType.DIFF
                or (t.media_family_count or 0) > 1):
            continue  # the common case, kept cheap
        what = f"{bs.type.label} backup {bs.backup_set_uuid} (finished {_t(bs)})"
        if bs.missing_families:
            nums = ", ".join(str(n) for n in bs.missing_families)
            c.add("MISSING_STRIPE", f"{what} was striped over {bs.media_family_count} media families, "
                  f"but family {nums} is not recorded; RESTORE fails with error 3132.",
                  "find the missing stripe file(s) and add them to the history, or take a new backup.", bs)
        if reason.startswith("missing file(s):"):
            c.add("MISSING_FILE", f"{what}: {reason} (no complete mirror of that media family is on disk).",
                  "copy the file back from archive or tape, or take a new backup.", bs)
        if bs.is_damaged:
            c.add("DAMAGED_BACKUP", f"{what} is marked damaged (taken WITH CONTINUE_AFTER_ERROR); "
                  "RESTORE fails with error 3182 unless CONTINUE_AFTER_ERROR is used, and then only salvages data.",
                  "run DBCC CHECKDB on the database and take a new full backup.", bs)
        if bs.has_incomplete_metadata:
            c.add("INCOMPLETE_METADATA", f"{what} has incomplete metadata (a tail-log of a damaged database); "
                  "the log itself is usable but file details may be missing.",
                  "check the file list with RESTORE FILELISTONLY before relying on it.", bs)
        if bs.has_bulk_logged_data and bs.type is BackupType.LOG:
            c.add("BULK_LOGGED", f"{what} holds bulk-logged changes: no point-in-time stop inside it "
                  "(error 4341); only its start and end are reachable.",
                  "switch to FULL recovery after bulk loads and take a log backup right after each load.", bs)
        if bs.encryptor_thumbprint:
            thumbs.setdefault(bs.encryptor_thumbprint, []).append(bs)
        if bs.is_copy_only and bs.type is BackupType.FULL:
            c.add("COPY_ONLY", f"{what} is copy-only: it can start a restore with logs but is never a "
                  "differential base; later differentials belong to the previous regular full.",
                  "keep the regular full backups too; do not delete them because a copy-only full is newer.", bs)
        elif bs.is_copy_only and bs.type is BackupType.LOG:
            copy_logs.append(bs)
        if bs.type is BackupType.DIFF:
            _diff_findings(c, bs, what)
    _copy_log_finding(c, copy_logs)
    for thumb, sets in thumbs.items():
        last = sets[-1]
        c.add("ENCRYPTED", f"{len(sets)} backup(s) are encrypted ({last.key_algorithm or 'algorithm unknown'}, "
              f"{last.encryptor_type or 'encryptor unknown'}) with the certificate or key of thumbprint {thumb}; "
              f"the latest is {last.backup_set_uuid} (finished {_t(last)}).",
              f"make sure the target server has the certificate or asymmetric key with thumbprint {thumb} "
              "(and its private key) before you need to restore.", last, count=len(sets))


def _copy_log_finding(c: _Collector, logs: list[BackupSet]) -> None:
    """Copy-only logs: one finding for all of a lineage's (a tool may take one every hour)."""
    if not logs:
        return
    last = logs[-1]
    if len(logs) == 1:
        c.add("COPY_ONLY", f"{last.type.label} backup {last.backup_set_uuid} (finished {_t(last)}) is a copy-only "
              "log: it does not truncate the log and is not part of the regular chain; it can only be the last "
              "log of a restore.", "keep the regular log backups; the copy-only log does not replace any of them.",
              last)
        return
    c.add("COPY_ONLY", f"{len(logs)} log backups, finished {_t(logs[0])} to {_t(last)}, are copy-only: they do "
          "not truncate the log and are not part of the regular chain; each can only be the last log of a "
          f"restore. The latest is {last.backup_set_uuid}.",
          "keep the regular log backups; copy-only logs do not replace any of them.", last, count=len(logs))


def _diff_findings(c: _Collector, bs: BackupSet, what: str) -> None:
    lin = c.lin
    base_id = bs.differential_base_guid
    base = lin.base_of(bs)
    if base is None:
        detail = (f"its base full {base_id} is not in the history" if base_id
                  else "it names no differential base (multibased differential or an incomplete export)")
        c.add("ORPHAN_DIFFERENTIAL", f"{what} cannot be restored: {detail}; RESTORE would fail with error 3136.",
              "load the history that holds the base full (a longer --since, another server) or take a new full backup.", bs)
        return
    base_reason = lin.unavailable.get(base.backup_set_uuid)
    if base_reason and base.type is BackupType.FULL:
        c.add("UNRESTORABLE_BASE", f"{what} is based on full {base.backup_set_uuid} (finished {_t(base)}), "
              f"which this tool cannot restore: {base_reason}.",
              "restore the base with the tool that took it (VSS / snapshot software), or take a regular "
              "(non-snapshot) full backup so later differentials have a usable base.", bs)


def _data_points(lin: Lineage) -> dict[str | None, list[tuple[int, datetime, BackupSet]]]:
    """Per recovery fork, the redo points (last_lsn) of the restorable data backups a log chain
    can follow (not SIMPLE: B.7.1), with when each finished, by LSN."""
    out: dict[str | None, list[tuple[int, datetime, BackupSet]]] = {}
    for full, diff in data_starts(lin):
        last = diff or full
        if last.is_simple:
            continue
        out.setdefault(last.last_recovery_fork_guid, []).append((last.last_lsn.value, lin.finish_key(last), last))
    for points in out.values():
        points.sort(key=lambda p: p[0])
    return out


def _points_on(points: dict[str | None, list[tuple[int, datetime, BackupSet]]], fork: str | None
               ) -> list[tuple[int, datetime, BackupSet]]:
    if fork is None:
        return [p for ps in points.values() for p in ps]
    return points.get(fork, []) + points.get(None, [])


def _log_findings(c: _Collector) -> None:
    """The per-fork sweep over logs by first_lsn: LOG_GAP, CHAIN_RESTART. Copy-only logs overlap
    the regular chain (they never truncate the log), so they are neither gaps nor bridges.

    The first log of a fork must follow a data backup of that fork (its redo point inside the
    log) or a log that spans onto the fork; a data backup whose redo point no log holds, with
    logs after it, is a gap too. Then the windows decide: a regular log that no chain reaches
    (its end outside every window, after the first recoverable point) is lost time, always an
    error finding: a chain restart that no data backup started is a LOG_GAP, not a warning, and
    a loss no sweep finding explains gets a LOG_GAP of its own."""
    lin = c.lin
    ends: dict[str | None, int] = {}  # exit fork -> greatest last_lsn so far
    holder: dict[str | None, BackupSet] = {}  # exit fork -> the log that ends there
    entered = {s.last_recovery_fork_guid for s in lin.spanning}
    lost, c.newest_log = _log_cover(c)
    first_data = min((lin.finish_key(f) for f in lin.fulls), default=None)
    for log in lin.logs:
        t = log.traits
        if t.is_copy_only:
            continue
        first_fork, last_fork = t.first_recovery_fork_guid, t.last_recovery_fork_guid
        entry = first_fork or last_fork
        exit_ = last_fork or first_fork
        if entry is None:
            prev_fork = max(ends, key=lambda k: ends[k], default=None) if ends else None
        else:
            prev_fork = entry if ends.get(entry, -1) >= ends.get(None, -1) else None
        prev_end = ends.get(prev_fork, -1)
        first = log.first_lsn.value
        if t.begins_log_chain:
            _chain_restart(c, log, holder.get(prev_fork) if prev_end >= 0 else None, id(log) in lost)
        elif 0 <= prev_end < first:
            _log_gap(c, log, holder[prev_fork])
        elif prev_end < 0:
            _first_log(c, log, entry, c.points_on(entry), entered, first_data)
        last = log.last_lsn.value
        if last > ends.get(exit_, -1):
            ends[exit_] = last
            holder[exit_] = log
    _unexplained_losses(c, lost)


def _first_log(c: _Collector, log: BackupSet, fork: str | None, points: list[tuple[int, datetime, BackupSet]],
               entered: set[str | None], first_data: datetime | None) -> None:
    """The first regular log of a fork: it must hold the redo point of a data backup before it."""
    first, last = log.first_lsn.value, log.last_lsn.value
    below = [p for p in points if p[0] < first]
    if below:  # a data backup ends before the log begins: the log(s) after it are missing
        _, _, data = min(below, key=lambda p: p[1])
        _log_gap(c, log, data)
        return
    if any(first <= p[0] < last for p in points):
        return  # the chain starts at that data backup
    start = c.lin.start_key(log)
    if fork is None or fork in entered or first_data is None or first_data >= start:
        return  # logs before the first full (a shorter history), or no fork to speak of
    _fork_gap(c, log, fork)


def _log_cover(c: _Collector) -> tuple[dict[int, BackupSet], BackupSet | None]:
    """The regular logs whose end no window covers, after the first recoverable point (by id),
    and the usable log with the newest end. A run at a time: a run whose first and last ends lie
    in one window is covered whole (the common case, one bisection), else log by log."""
    lost: dict[int, BackupSet] = {}
    newest: BackupSet | None = None
    newest_key: datetime | None = None
    windows = c.windows
    if not windows:
        return lost, None
    w0 = windows[0].start
    ends = c.window_ends
    for run in c.lin.runs:
        reach = run.reach
        i = bisect.bisect_left(ends, reach[0])
        if i < len(windows) and windows[i].start <= reach[0] and reach[-1] <= ends[i]:
            if newest_key is None or reach[-1] > newest_key:
                newest, newest_key = run.logs[-1], reach[-1]
            continue
        copy_only = run.logs[0].traits.is_copy_only  # a copy-only log is a run of its own
        for k, r in enumerate(reach):
            if c.covered(r):
                if newest_key is None or r > newest_key:
                    newest, newest_key = run.logs[k], r
            elif r >= w0 and not copy_only:
                lost[id(run.logs[k])] = run.logs[k]
    return lost, newest


def _unexplained_losses(c: _Collector, lost: dict[int, BackupSet]) -> None:
    """A LOG_GAP for each lost stretch no error finding explains (the safety net: validate never
    says OK while a log backup cannot be reached)."""
    if not lost:
        return
    ranges = [(f.lost_from.key, f.lost_to.key if f.lost_to else datetime.max) for f in c.out
              if f.severity is Severity.ERROR and f.lost_from is not None]
    lin = c.lin
    for log in sorted(lost.values(), key=lin.reach_key):
        r = lin.reach_key(log)
        if any(a <= r <= b for a, b in ranges):
            continue
        rng = c.lost_range(c.before(lin.start_key(log)), r)
        f = _unreached(c, log, rng)
        if f.lost_from is not None:
            ranges.append((f.lost_from.key, f.lost_to.key if f.lost_to else datetime.max))
        else:
            ranges.append((r, r))


def _what_log(log: BackupSet) -> str:
    return f"log backup {log.backup_set_uuid} (first_lsn {log.first_lsn}, started {fmt_time(log.backup_start_date)})"


def _range_kw(rng: tuple[ResolvedTime, ResolvedTime | None] | None) -> dict[str, object]:
    return {"lost_from": rng[0] if rng else None, "lost_to": rng[1] if rng else None}


def _chain_restart(c: _Collector, log: BackupSet, prev: BackupSet | None, lost: bool) -> None:
    lin = c.lin
    start = lin.start_key(log)
    after = lin.reach_key(prev) if prev is not None else None
    if after is None:
        for s in lin.sets:  # sorted by finish: stop at the log
            if lin.finish_key(s) >= start:
                break
            if s.is_simple:
                after = lin.finish_key(s)
                break
    if lost:  # no data backup started the new chain: its logs cannot be restored (B.7.1)
        rng = c.lost_range(after if after is not None else c.before(start), lin.reach_key(log))
        c.add("LOG_GAP", f"{_what_log(log)} begins a new log chain (begins_log_chain: the database was in "
              "SIMPLE recovery or was recreated), but no usable full or differential backup in the history starts "
              f"that chain, so neither it nor the logs after it can be restored (RESTORE LOG fails with error "
              f"4305 after any earlier backup). {_lost_text(rng)}",
              "find the full or differential backup taken when the database went back to FULL recovery "
              "(BACKUP LOG is refused without one, error 4214); if it is gone, take a full or differential "
              "backup now.", log, lsn=log.first_lsn, kind="simple_recovery", **_range_kw(rng))
        return
    if after is None:
        return  # the first log chain of the database: nothing was broken
    rng = c.lost_range(after, lin.reach_key(log), skip_points=True)
    c.add("CHAIN_RESTART", f"{_what_log(log)} begins a new log chain (begins_log_chain: the database was in "
          f"SIMPLE recovery or was recreated); no log before it can be chained to it. {_lost_text(rng, True)}",
          "keep the database in FULL recovery; after a switch back from SIMPLE take a full or "
          "differential backup at once.", log, kind="simple_recovery", **_range_kw(rng))


def _log_gap(c: _Collector, log: BackupSet, prev: BackupSet) -> None:
    """A break before ``log``: ``prev`` (a log, or a data backup) ends at an LSN no log holds.

    Data backups after ``prev`` that end before the log begins are stranded by the break too:
    each one's end starts a lost stretch of its own (up to the next one, the last up to where a
    chain resumes), with its own LSN to find, so every stretch is named exactly once."""
    t = log.traits
    stranded = c.data_between(t.first_recovery_fork_guid or t.last_recovery_fork_guid,
                              prev.last_lsn.value, log.first_lsn.value)
    if not stranded:
        _broken_after(c, log, prev, c.lin.reach_key(log))
        return
    ordered = [pt[2] for pt in sorted(stranded, key=lambda pt: (pt[1], pt[0]))]
    named = False
    for here, upto in zip([prev, *ordered], [*ordered, None], strict=True):
        # a stretch another chain covers (a copy-only log's) is no loss of its own
        named |= _broken_after(c, log, here, c.lin.reach_key(log) if upto is None else c.lin.finish_key(upto),
                               only_lost=True)
    if not named:
        _broken_after(c, log, prev, c.lin.reach_key(log))


def _broken_after(c: _Collector, log: BackupSet, prev: BackupSet, upto: datetime, *,
                  only_lost: bool = False) -> bool:
    """The LOG_GAP of one stretch: ``prev`` ends at an LSN no log holds, so times from it up to
    ``upto`` (where the next backup or the log's chain resumes) are lost. With ``only_lost``,
    nothing when no time is lost there. Was a finding added?"""
    lin = c.lin
    p = prev.last_lsn
    is_log = prev.type is BackupType.LOG
    rng = c.lost_range(lin.reach_key(prev) if is_log else lin.finish_key(prev), upto)
    if only_lost and rng is None:
        return False
    holders = [s for s in lin.sets if s.type is BackupType.LOG and s.backup_set_uuid in lin.unavailable
               and s.first_lsn <= p < s.last_lsn] if lin.unavailable else []
    cause = (f" Log {holders[-1].backup_set_uuid} holds that LSN but is unusable: "
             f"{lin.unavailable[holders[-1].backup_set_uuid]}." if holders else
             " No log backup in the history holds it (deleted, never recorded, or taken elsewhere).")
    before = (f"the previous log {prev.backup_set_uuid} ends at LSN {p} (finished {_t(prev)})" if is_log else
              f"the {prev.type.label} backup {prev.backup_set_uuid} before it ends at LSN {p} (finished "
              f"{_t(prev)}) and no log backup follows it")
    c.add("LOG_GAP", f"the log chain is broken before {_what_log(log)}: no earlier log backup ends at or after "
          f"LSN {log.first_lsn}; {before}. RESTORE LOG fails with error 4305: an earlier log backup that "
          f"includes LSN {p} is needed.{cause} {_lost_text(rng)}",
          f"find the log backup that contains LSN {p} (backup folders, archive, other servers); "
          "if it is gone, take a full or differential backup now so the chain is recoverable again.",
          log, lsn=p, kind="log_gap", **_range_kw(rng))
    return True


def _fork_gap(c: _Collector, log: BackupSet, fork: str) -> None:
    """The first log of a recovery fork that no log spans onto and no data backup of it precedes."""
    lin = c.lin
    rng = c.lost_range(c.before(lin.start_key(log)), lin.reach_key(log))
    c.add("LOG_GAP", f"{_what_log(log)} is the first log of recovery fork {fork}, and no backup leads onto that "
          "fork: no log in the history spans the fork (the database was restored WITH RECOVERY) and no full or "
          "differential backup of the fork comes before it, so the fork's logs cannot be restored (error 4330 "
          f"after backups of the old fork; 4305 otherwise). {_lost_text(rng)}",
          f"find the log backup that spans onto fork {fork} (the first log after the restore) or a full backup "
          "taken on it; otherwise take a full or differential backup now.",
          log, lsn=log.first_lsn, kind="recovery_fork", **_range_kw(rng))


def _unreached(c: _Collector, log: BackupSet, rng: tuple[ResolvedTime, ResolvedTime | None] | None) -> Finding:
    """A lost log the sweep found no break for: no chain from a data backup reaches it."""
    c.add("LOG_GAP", f"no chain of backups from a full or differential reaches {_what_log(log)} (on recovery "
          f"fork {log.last_recovery_fork_guid or 'unknown'}): a restore cannot apply it, whatever comes before "
          f"(errors 4305 / 4330). {_lost_text(rng)}",
          f"find the backups that lead to LSN {log.first_lsn} (a log that holds it, or a full or differential "
          "taken just before it); otherwise take a full or differential backup now.",
          log, lsn=log.first_lsn, kind="log_gap", **_range_kw(rng))
    return c.out[-1]


def _fork_findings(c: _Collector) -> None:
    lin = c.lin
    entered = {s.last_recovery_fork_guid for s in lin.spanning}
    seen: set[str] = set()
    current: str | None = None
    for bs in lin.sets:
        fork = bs.last_recovery_fork_guid
        if fork == current and bs.first_recovery_fork_guid == fork:
            continue  # the common case: same fork as the previous set
        current = fork
        if bs.spans_fork:
            c.add("RECOVERY_FORK", f"log backup {bs.backup_set_uuid} (finished {_t(bs)}) spans a recovery fork: "
                  f"the database was restored WITH RECOVERY at LSN {bs.fork_point_lsn} and continued on fork "
                  f"{fork}. Logs of the old fork after that LSN are on another recovery path (error 4330).",
                  "plan restores after the fork from backups of the new fork; use --at times after the fork.", bs)
        elif fork and fork not in seen and seen and fork not in entered:
            c.add("RECOVERY_FORK", f"{bs.type.label} backup {bs.backup_set_uuid} (finished {_t(bs)}) is the first "
                  f"on recovery fork {fork}; no log records the switch (the database was restored WITH RECOVERY).",
                  "restores to times after the switch must start from backups of the new fork.", bs)
        if fork:
            seen.add(fork)


def _age_findings(c: _Collector, opts: ValidateOptions) -> tuple[timedelta | None, timedelta | None]:
    lin = c.lin
    if opts.as_of is None:
        return None, None
    now = as_of_key(lin, c.clock, opts.as_of)
    # a past --as-of judges the lineage as the backups finished by then left it
    # (log: the newest a restore can reach; a log after a break is no recovery point)
    past = as_it_stood(lin, now) if opts.until_as_of else lin
    full: BackupSet | None
    log: BackupSet | None
    newest: BackupSet | None
    if past is None:
        full = log = newest = None
    elif past is lin:
        full, log, newest = max(lin.fulls, key=lin.finish_key, default=None), c.newest_log, lin.sets[-1]
    else:
        full, newest = max(past.fulls, key=past.finish_key, default=None), past.sets[-1]
        _, log = _log_cover(_Collector(past, explored(past).windows))
    full_age = now - lin.finish_key(full) if full else None
    # since the log backup finished (as for the full): its last commit (last_valid_restore_time)
    # can be hours older on an idle database whose log-backup job runs on time
    log_age = now - lin.finish_key(log) if log else None
    if opts.max_full_age is not None and full is not None and full_age is not None and full_age > opts.max_full_age:
        c.add("STALE_FULL", f"the newest restorable full backup {full.backup_set_uuid} finished {_t(full)}, "
              f"{_age(full_age)} before {c.clock.from_key(now).local_text}; the limit is {_age(opts.max_full_age)}.",
              "check the full-backup job (schedule, failures, disk space) and run it now.", full)
    if opts.max_log_age is not None and newest is not None and not newest.is_simple:
        if log is None:
            c.add("STALE_LOG", "the database has no usable log backup at all; point-in-time recovery is impossible.",
                  "schedule log backups (e.g. every 15 minutes) or set the database to SIMPLE recovery "
                  "if point-in-time recovery is not needed.")
        elif log_age is not None and log_age > opts.max_log_age:
            c.add("STALE_LOG", f"the newest usable log backup {log.backup_set_uuid} finished {_t(log)}, {_age(log_age)} "
                  f"before {c.clock.from_key(now).local_text}; the limit is {_age(opts.max_log_age)}. Everything "
                  "since then would be lost if the server failed now.",
                  "check the log-backup job and run it now.", log)
    return full_age, log_age


def _age(d: timedelta) -> str:
    s = int(d.total_seconds())
    sign = "-" if s < 0 else ""
    s = abs(s)
    days, s = divmod(s, 86400)
    hours, s = divmod(s, 3600)
    minutes = s // 60
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes}m"
    return f"{sign}{minutes}m"


def _restore_findings(c: _Collector) -> None:
    restored = restored_since(c.lin)
    if restored is not None:
        c.add("RESTORED_SINCE_BACKUP", f"{c.lin.database_name} was {describe(restored)}, after its last backup: no "
              "backup records the database as it is now, and a tail-log backup would not continue the chain its "
              "backups form (plan refuses a plan through the tail).",
              "take a full or log backup of the database now.")


def _lineage_findings(c: _Collector) -> None:
    lin = c.lin
    if not lin.fulls:
        fulls = [s for s in lin.sets if s.type is BackupType.FULL]
        c.add("NO_FULL_BACKUP", f"{lin.database_name} has no restorable full backup in the history"
              f"{unusable_fulls(lin)}; "
              "nothing can be restored.",
              "take a full backup now (and check the history covers the last full: --since, retention).",
              fulls[-1] if fulls else None)
    if lin.copies:
        others = ", ".join(lin.copies)
        c.add("SHARED_FAMILY", f"family_guid {lin.family} is shared with {others}: a copy restored under "
              f"another name keeps the family_guid but is another database, so its backups are kept apart "
              f"(never restored for {lin.database_name}, never counted in its audit).",
              "nothing to do; plan a copy by its own name (--database).")
    if lin.servers_apart:
        pairs = "; ".join(f"{a} and {b}" for a, b in lin.servers_apart[:3])
        c.add("COPY_ON_OTHER_SERVER", f"backups of {lin.database_name} from servers {pairs} ran at the same time on "
              "different recovery forks: two databases of that name (a copy restored on another server?) are in "
              "one history, and a plan may restore either's backups.",
              "read one server's history at a time (--server-name SERVER).")
    diffs = [s for s in lin.sets if s.type is BackupType.DIFF and s.backup_set_uuid not in lin.unavailable]
    if diffs:
        diff = diffs[-1]
        base = lin.base_of(diff)
        if base is not None and base.backup_size and diff.backup_size and diff.backup_size * 2 > base.backup_size:
            pct = 100 * diff.backup_size // base.backup_size
            c.add("DIFF_TOO_LARGE", f"the latest differential {diff.backup_set_uuid} (finished {_t(diff)}) is "
                  f"{pct}% of its base full {base.backup_set_uuid}; a restore reads both.",
                  "take a new full backup: differentials keep growing until the next full.", diff)


def validate_lineage(lin: Lineage, opts: ValidateOptions | None = None,
                     windows: list[Window] | None = None, *, superseded: bool = False) -> LineageFindings:
    """Every finding of one lineage (``windows`` may be passed when already computed). A
    ``superseded`` lineage (an older incarnation of a dropped and recreated name) is not
    checked for stale backups."""
    opts = opts or ValidateOptions()
    if superseded:
        opts = ValidateOptions()
    c = _Collector(lin, lineage_windows(lin) if windows is None else windows)
    _lineage_findings(c)
    if not superseded:  # an older incarnation: a restore into its name after it is the newer one
        _restore_findings(c)
    _set_findings(c)
    _log_findings(c)
    _fork_findings(c)
    full_age, log_age = _age_findings(c, opts)
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    findings = sorted(c.out, key=lambda f: (order[f.severity], f.backup.backup_finish_date if f.backup
                                            else datetime.min, f.code))
    return LineageFindings(lin, tuple(findings), full_age, log_age)


def lineages_for(history: History, database: str | None) -> list[Lineage]:
    """The lineages to check, in name then time order."""
    lins: Iterable[Lineage] = history.lineages_named(database) if database else history.lineages.values()
    return sorted(lins, key=lambda lin: (lin.database_name.casefold(), lin.finish_key(lin.sets[-1])))


def superseded(lins: list[Lineage]) -> set[str]:
    """Keys of lineages whose name was later reused by a newer lineage (dropped and recreated)."""
    newest: dict[str, Lineage] = {}
    for lin in lins:
        name = lin.database_name.casefold()
        cur = newest.get(name)
        if cur is None or lin.sets[-1].backup_finish_date > cur.sets[-1].backup_finish_date:
            newest[name] = lin
    keep = {lin.key for lin in newest.values()}
    return {lin.key for lin in lins if lin.key not in keep}


def validate_history(history: History, opts: ValidateOptions | None = None,
                     database: str | None = None) -> list[LineageFindings]:
    """Findings of every lineage (or of the lineages named ``database``)."""
    lins = lineages_for(history, database)
    old = superseded(lins)
    return [validate_lineage(lin, opts, superseded=lin.key in old) for lin in lins]
