"""The restore graph (networkx): who may be restored directly after whom.

Nodes are data backups (stripes grouped, mirrors collapsed: one node per backup set) and log runs
(one node per unbroken run of consecutive logs, so a database with 100,000 logs stays small).
Edges follow restore-rules B.2-B.6:

- full -> differential: the differential's ``differential_base_guid`` is the full's uuid (never a
  copy-only full);
- data backup -> run: the run holds a log with ``first_lsn <= P < last_lsn`` (P = the data
  backup's ``last_lsn``) on a matching fork, and the data backup was not taken in SIMPLE recovery;
- run -> run: the end of one run (or a point inside it where another run takes over, or the first
  LSN of a log that switches recovery fork) lies inside the other.

The planner answers queries with the indexes in ``history``; the graph is the same structure in a
form that can be inspected, exported (DOT, node-link JSON) and checked.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from restoreplan.core.history import Lineage
from restoreplan.core.model import BackupType
from restoreplan.core.windows import data_starts


def restore_graph(lin: Lineage) -> nx.DiGraph:
    g = nx.DiGraph(lineage=lin.key, database=lin.database_name)
    ids = {id(run): f"run:{n}" for n, run in enumerate(lin.runs)}
    for run in lin.runs:
        first, last = run.logs[0], run.logs[-1]
        g.add_node(ids[id(run)], kind="log_run", logs=len(run.logs), first_lsn=str(first.first_lsn),
                   last_lsn=str(last.last_lsn), start=first.backup_start_date.isoformat(sep=" "),
                   finish=last.backup_finish_date.isoformat(sep=" "), fork=run.exit_fork,
                   first_uuid=first.backup_set_uuid, last_uuid=last.backup_set_uuid)
    for full, diff in data_starts(lin):
        for bs in (full, diff):
            if bs is not None and bs.backup_set_uuid not in g:
                g.add_node(bs.backup_set_uuid, kind=bs.type.label, first_lsn=str(bs.first_lsn),
                           last_lsn=str(bs.last_lsn), finish=bs.backup_finish_date.isoformat(sep=" "),
                           copy_only=bs.is_copy_only, recovery_model=bs.recovery_model)
        if diff is not None:
            g.add_edge(full.backup_set_uuid, diff.backup_set_uuid, rule="differential_base_guid (B.4)")
    for node, data in list(g.nodes(data=True)):
        if data["kind"] == "log_run":
            continue
        bs = lin.by_uuid[node]
        if bs.type is not BackupType.LOG and not bs.is_simple:
            p = bs.last_lsn.value
            for run, i in lin.runs_containing(p):
                if run.accepts(i, p, bs.last_recovery_fork_guid):
                    g.add_edge(node, ids[id(run)], rule="first_lsn <= P < last_lsn (B.2, B.3)", entry=i)
    for run in lin.runs:
        exits = [(len(run.logs) - 1, run.end, run.exit_fork)]
        exits += [(j, run.last[j], run.logs[j].last_recovery_fork_guid) for j in lin.branch_points(run, 0, len(run.logs) - 2)]
        for span in lin.spanning:
            j = run.index_containing(span.first_lsn.value)
            if j is not None and run.first[j] != span.first_lsn.value:
                exits.append((j, span.first_lsn.value, run.logs[j].last_recovery_fork_guid))
        for j, p, fork in exits:
            for other, i in lin.runs_containing(p):
                if other is run or not other.accepts(i, p, fork) or (i == 0 and other.logs[0].begins_log_chain):
                    continue
                g.add_edge(ids[id(run)], ids[id(other)], rule="log chain (B.2, B.5, B.6)", exit=j, entry=i)
    return g


def graph_json(g: nx.DiGraph) -> dict[str, Any]:
    return nx.node_link_data(g, edges="edges")  # type: ignore[no-any-return]


def graph_dot(g: nx.DiGraph) -> str:
    """Graphviz DOT text (every label quoted and escaped)."""

    def q(text: object) -> str:
        return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'

    lines = [f"digraph {q(g.graph.get('database', 'restore'))} {{", "  rankdir=LR;"]
    for node, data in g.nodes(data=True):
        if data["kind"] == "log_run":
            label = f"{data['logs']} logs\\n{data['start']} .. {data['finish']}"
            shape = "box"
        else:
            label = f"{data['kind']}\\n{data['finish']}"
            shape = "ellipse"
        lines.append(f"  {q(node)} [label={q(label).replace(chr(92) * 2 + 'n', chr(92) + 'n')}, shape={shape}];")
    for a, b in g.edges():
        lines.append(f"  {q(a)} -> {q(b)};")
    lines.append("}")
    return "\n".join(lines) + "\n"
