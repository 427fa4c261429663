"""Property test: the audit's worst case is what the planner does at that instant, and no
instant inside the windows needs more restore steps."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restoreplan.core.audit import audit_lineage
from restoreplan.core.errors import NotRecoverable
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from tests.core.test_property_planner import EVENTS, START, built

NO_TAIL = PlanOptions(tail="never")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=st.lists(st.sampled_from(EVENTS), min_size=1, max_size=24),
    offsets=st.lists(st.integers(0, 260), max_size=8),
)
def test_worst_case_is_the_planners(events, offsets):
    found = built(events)
    if found is None:
        return
    h, lin = found
    a = audit_lineage(lin)
    for worst in (a.worst_steps, a.worst_bytes):
        if worst is None:
            assert not a.windows
            continue
        plan = plan_restore(h, "db", RecoveryTarget.at(worst.at.local), NO_TAIL)
        assert (len(plan.restore_steps), plan.bytes_read) == (worst.steps, worst.bytes)
    for offset in offsets:
        try:
            plan = plan_restore(h, "db", RecoveryTarget.at(START + timedelta(minutes=offset)), NO_TAIL)
        except NotRecoverable:
            continue
        assert a.worst_steps is not None and len(plan.restore_steps) <= a.worst_steps.steps
        assert a.worst_bytes is not None and plan.bytes_read <= a.worst_bytes.bytes
