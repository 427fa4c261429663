"""Property test: the audit's verdict on a backup agrees with what the planner does with it.

A backup judged restorable or usable can be planned to (the time it covers up to); one judged
unreachable or broken is never part of a plan to the time it finished; the latest plan ends
where the last recoverable window ends.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restoreplan.core.audit import Verdict, audit_lineage
from restoreplan.core.errors import NotRecoverable
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from tests.core.test_property_planner import EVENTS, built

NO_TAIL = PlanOptions(tail="never")
USABLE = (Verdict.RESTORABLE, Verdict.POINT_IN_TIME, Verdict.LIMITED)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(st.sampled_from(EVENTS), min_size=1, max_size=20))
def test_verdicts_agree_with_plans(events):
    found = built(events)
    if found is None:
        return
    h, lin = found
    for v in audit_lineage(lin).verdicts():
        bs = v.backup
        if v.verdict in USABLE:
            plan_restore(h, "db", RecoveryTarget.at(bs.last_valid_restore_time or bs.backup_finish_date), NO_TAIL)
        elif v.verdict in (Verdict.UNREACHABLE, Verdict.BROKEN):
            try:
                plan = plan_restore(h, "db", RecoveryTarget.at(bs.backup_finish_date), NO_TAIL)
            except NotRecoverable:
                continue
            assert bs.backup_set_uuid not in {s.backup.backup_set_uuid for s in plan.steps if s.backup}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(st.sampled_from(EVENTS), min_size=1, max_size=20))
def test_the_latest_plan_ends_where_the_last_window_ends(events):
    found = built(events)
    if found is None:
        return
    h, lin = found
    windows = audit_lineage(lin).windows
    try:
        plan = plan_restore(h, "db", RecoveryTarget.latest(), NO_TAIL)
    except NotRecoverable:
        assert not windows
        return
    assert windows and plan.recovery_time is not None
    assert plan.recovery_time.key == windows[-1][1].key
