"""Property tests of core/families.py: a family's sets become lineages without loss or mixing.

Whatever the names, database_guids, forks and times: every set is in exactly one lineage as its
own; a lineage split out of a family holds one name; a family stays whole only when its names
follow one another in time; a lineage borrows nothing but base fulls of its own differentials.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from restoreplan.core.families import apart
from restoreplan.core.model import BackupType
from tests.builders import DAY, FAMILY, FORK_A, FORK_B, diff, full, log

NAMES = ["Sales", "SALES", "Sales_Copy", "Archive"]
GUIDS = [None, "d1d1d1d1-0000-4000-8000-000000000001", "d2d2d2d2-0000-4000-8000-000000000002"]

database = st.tuples(
    st.sampled_from(NAMES), st.sampled_from(GUIDS), st.sampled_from([FORK_A, FORK_B]),
    st.integers(0, 20), st.integers(1, 6), st.booleans(),
)  # fmt: skip  (name, database_guid, fork, start hour, backups, first differential on the other's full)


def _family(dbs):
    sets, fulls = [], []
    for n, (name, dbg, fork, start, count, borrows) in enumerate(dbs):
        kw = dict(name=name, database_guid=dbg, fork=fork)
        t = DAY + timedelta(hours=start)
        lsn = 1000 * (n + 1)
        for k in range(count):
            finish = t + timedelta(minutes=15 * k)
            if k == 0 and borrows and fulls:
                sets.append(diff(finish, lsn, lsn + 10, fulls[0], **kw))
            elif k == 0:
                f = full(finish, lsn, lsn + 10, **kw)
                fulls.append(f)
                sets.append(f)
            else:
                sets.append(log(finish, lsn + 10 * k, lsn + 10 * (k + 1), **kw))
    return sets


@settings(max_examples=300, deadline=None)
@given(st.lists(database, min_size=1, max_size=4))
def test_no_set_lost_or_mixed(dbs):
    sets = _family(dbs)
    parts = apart(FAMILY, sets)
    own = [s for _, part, _, borrowed in parts for s in part if s.backup_set_uuid not in borrowed]
    assert sorted(s.backup_set_uuid for s in own) == sorted(s.backup_set_uuid for s in sets)
    assert len({key for key, _, _, _ in parts}) == len(parts)
    if len(parts) == 1:
        key, part, copies, borrowed = parts[0]
        assert key == FAMILY and copies == [] and not borrowed
        spans = {}
        for s in sets:
            lo, hi = spans.get(s.database_name.casefold(), (s.backup_start_date, s.backup_finish_date))
            spans[s.database_name.casefold()] = (min(lo, s.backup_start_date), max(hi, s.backup_finish_date))
        ordered = sorted(spans.values())
        assert all(b[0] >= a[1] for a, b in zip(ordered, ordered[1:], strict=False))  # one after another
        return
    for key, part, copies, borrowed in parts:
        names = {s.database_name.casefold() for s in part if s.backup_set_uuid not in borrowed}
        assert len(names) == 1 and key == f"{FAMILY}|{names.pop()}"
        assert copies and all(c.casefold() not in key.rsplit("|", 1)[1:] for c in copies)
        bases = {s.differential_base_guid for s in part if s.type is BackupType.DIFF}
        for s in part:
            if s.backup_set_uuid in borrowed:
                assert s.type is BackupType.FULL and s.backup_set_uuid in bases
