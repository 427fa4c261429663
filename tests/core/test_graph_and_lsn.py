"""The restore graph's edges follow the rules; the LSN value type parses and prints both forms."""

from __future__ import annotations

import pytest

from restoreplan.core.errors import InputError
from restoreplan.core.graph import graph_dot, graph_json, restore_graph
from restoreplan.core.lsn import LSN
from tests.builders import FAMILY, diff, full, history, log


def test_graph_edges_follow_the_rules():
    f = full("10:00", 100, 120)
    c = full("10:20", 125, 140, is_copy_only=True)
    d = diff("11:00", 200, 220, f)
    simple = full("09:00", 10, 20, recovery_model="SIMPLE")
    l1, l2 = log("10:15", 110, 150), log("11:15", 150, 250)
    g = restore_graph(history(f, c, d, simple, l1, l2).lineages[FAMILY])
    assert g.has_edge(f.backup_set_uuid, d.backup_set_uuid)
    assert not g.has_edge(c.backup_set_uuid, d.backup_set_uuid)  # copy-only: never a base
    runs = [n for n, a in g.nodes(data=True) if a["kind"] == "log_run"]
    assert len(runs) == 1 and g.nodes[runs[0]]["logs"] == 2  # one node for the whole run
    assert g.has_edge(f.backup_set_uuid, runs[0]) and g.has_edge(d.backup_set_uuid, runs[0])
    assert g.has_edge(c.backup_set_uuid, runs[0])
    assert not g.has_edge(simple.backup_set_uuid, runs[0])  # SIMPLE: no log may follow
    assert graph_json(g)["nodes"] and graph_dot(g).startswith('digraph "db"')


def test_lsn_forms():
    lsn = LSN.parse("0000001a:000000f0:0001")
    assert lsn.value == 26 * 10**15 + 240 * 10**5 + 1
    assert str(lsn) == "26000000024000001" and lsn.hex == "0000001a:000000f0:0001"
    assert LSN.parse("19000000021500001").parts == (19, 215, 1)
    assert LSN.parse("9" * 25).value == 10**25 - 1
    assert LSN.parse("100.0") == LSN(100)
    assert LSN(1) < LSN(2)


@pytest.mark.parametrize("bad", ["", "12x", "1" * 26, "1:2", "zz:1:1", "-5", "1e5"])
def test_bad_lsns_are_input_errors(bad):
    with pytest.raises(InputError):
        LSN.parse(bad)
