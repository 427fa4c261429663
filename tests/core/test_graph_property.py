"""Property test: every plan walks edges of the restore graph (the graph `restoreplan graph`
shows is the structure the planner searches)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restoreplan.core.errors import NotRecoverable
from restoreplan.core.graph import restore_graph
from restoreplan.core.plan import Action
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.target import RecoveryTarget
from tests.core.test_property_planner import EVENTS, START, built


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(st.sampled_from(EVENTS), min_size=1, max_size=20), offset=st.integers(0, 220))
def test_every_plan_walks_edges_of_the_restore_graph(events, offset):
    found = built(events)
    if found is None:
        return
    h, lin = found
    try:
        p = plan_restore(h, "db", RecoveryTarget.at(START + timedelta(minutes=offset)), PlanOptions(tail="never"))
    except NotRecoverable:
        return
    g = restore_graph(lin)
    run_of: dict[str, tuple[str, int]] = {}
    for n, run in enumerate(lin.runs):
        for k, log in enumerate(run.logs):
            run_of[log.backup_set_uuid] = (f"run:{n}", k)
    nodes: list[str] = []  # the plan as graph nodes: data backups, then log runs
    prev_k = -1
    for s in p.steps:
        if s.backup is None:
            continue
        if s.action is Action.RESTORE_DATABASE:
            nodes.append(s.backup.backup_set_uuid)
        else:
            rid, k = run_of[s.backup.backup_set_uuid]
            if nodes and nodes[-1] == rid and k == prev_k + 1:
                prev_k = k
                continue
            nodes.append(rid)
            prev_k = k
    for a, b in zip(nodes, nodes[1:], strict=False):
        assert g.has_edge(a, b), (a, b, nodes, events, offset)
