"""Marks on forked histories: the mark a plan says it stops at is where SQL Server's STOPATMARK
stops on the logs it restores, and it is the first mark of the name in the live fork's history
(restore-rules B.6, B.11)."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restoreplan.core.errors import NotRecoverable
from restoreplan.core.history import History
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from tests.core.mark_oracle import (
    add_marks,
    branching_history,
    claimed_lsn,
    in_history,
    live_of,
    reachable,
    replay_mark,
)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), use_after=st.booleans())
def test_stopatmark_stops_where_the_plan_says_on_the_live_history(seed: int, use_after: bool) -> None:
    rnd = random.Random(seed)
    sets = branching_history(rnd)
    marks = add_marks(rnd, sets)
    if not marks:
        return
    after = None
    if use_after and len(marks) > 1:
        after = rnd.choice(marks)[0].mark_time
    h = History.from_sets(sets, marks=tuple(m for m, _ in marks))
    live = live_of(sets)
    named = sorted(((m, f) for m, f in marks if after is None or m.mark_time >= after), key=lambda mf: mf[0].lsn)
    on_live = [(m, f) for m, f in named if in_history(sets, live, f, m.lsn.value)]
    try:
        p = plan_restore(h, "db", RecoveryTarget.at_mark("m", after), PlanOptions(tail="never"))
    except NotRecoverable as err:
        if on_live:
            m, f = on_live[0]
            assert not reachable(sets, m.lsn.value, f), f"refused the reachable live mark {m.lsn} on {f}: {err.code}"
        return
    err, stop = replay_mark(p, marks, "m", after)
    assert err is None, err
    assert stop[1] == claimed_lsn(p), f"SQL Server stops at {stop}, the plan says LSN {claimed_lsn(p)}"
    if on_live:
        m, f = on_live[0]
        assert stop == (f, m.lsn.value), f"stopped at {stop}, the first mark in the live history is {(f, m.lsn.value)}"
