"""`restoreplan graph`: the restore graph of a lineage, as a summary, JSON or Graphviz DOT."""

from __future__ import annotations

import argparse
import sys

from tabulate import tabulate

from restoreplan.cli.common import (
    EXIT_OK,
    add_history_args,
    load_from_args,
    print_json,
    select_lineages,
)

EXAMPLE = """examples:
  restoreplan graph --database Sales                         # nodes and edges, summarised
  restoreplan graph --database Sales --format dot | dot -Tsvg > sales.svg
  restoreplan graph --history msdb.csv --database Sales --format json
"""


def run(args: argparse.Namespace) -> int:
    # networkx takes a fifth of the start-up time of every other command
    from restoreplan.core.graph import graph_dot, graph_json, restore_graph

    lineages = select_lineages(load_from_args(args).history, args.database)
    graphs = [restore_graph(lin) for lin in lineages]
    if args.format == "json":
        print_json({"graphs": [graph_json(g) for g in graphs]})
    elif args.format == "dot":
        sys.stdout.write("".join(graph_dot(g) for g in graphs))
    else:
        rows = []
        for g in graphs:
            kinds: dict[str, int] = {}
            for _, data in g.nodes(data=True):
                kinds[data["kind"]] = kinds.get(data["kind"], 0) + 1
            rows.append([g.graph["database"], g.graph["lineage"], g.number_of_nodes(), g.number_of_edges(),
                         ", ".join(f"{v} {k}" for k, v in sorted(kinds.items()))])
        print(tabulate(rows, headers=["database", "family_guid", "nodes", "edges", "node kinds"]))
        print(f"{len(graphs)} lineage(s); a log run is one node however many logs it holds")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("graph", help="the restore graph: which backup may follow which",
                       epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database", "-d", help="only this database")
    p.add_argument("--format", choices=["text", "json", "dot"], default="text")
    add_history_args(p)
    p.set_defaults(func=run)
