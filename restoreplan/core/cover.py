"""A lower bound on the log backups a restore needs: what lets a plan search stop early.

A log applies only when it holds the redo point (first_lsn <= P < last_lsn), which then moves
to its last LSN. Taking each time the log that moves the redo point furthest needs the fewest
logs to get anywhere, and whatever else a real path must respect (forks, bulk-logged data, a
log that begins a chain) only rules paths out. So the count this greedy walk gives is never
more than the logs of any real path: a search may drop a start whose bound is already too
high.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate

from restoreplan.core.history import Lineage


@dataclass(frozen=True, slots=True)
class LogCover:
    """The lineage's usable logs by first LSN, with what the greedy walk needs of them."""

    firsts: list[int]  # first_lsn, ascending
    furthest: list[int]  # the furthest last_lsn among the logs up to this one
    latest: list[datetime]  # the latest reach key (time covered up to) among them

    @classmethod
    def of(cls, lin: Lineage) -> LogCover:
        if len(lin.runs) == 1:  # ascending already, in every list
            [run] = lin.runs
            return cls(run.first, run.last, run.reach)
        rows = sorted(
            (f, last, reach)
            for run in lin.runs
            for f, last, reach in zip(run.first, run.last, run.reach, strict=True)
        )
        return cls(
            [f for f, _, _ in rows],
            list(accumulate((last for _, last, _ in rows), max)),
            list(accumulate((reach for _, _, reach in rows), max)),
        )

    def needs_at_least(self, p: int, t: datetime, n: int) -> bool:
        """Does restoring from redo point ``p`` to time key ``t`` take ``n`` logs or more?

        The last log must reach ``t`` and start at or before the redo point: until one does,
        one more greedy step is needed. (Not asking that it also end after the redo point keeps
        the bound lower for a higher redo point, which is what lets a search drop every older
        start at once on the bound of the furthest one.)
        """
        logs = 0
        while logs < n:
            a = bisect.bisect_right(self.firsts, p) - 1
            if a < 0:
                return True  # no log holds the redo point: no path at all
            if self.latest[a] >= t:
                return logs + 1 >= n
            if self.furthest[a] <= p:
                return True
            p = self.furthest[a]
            logs += 1
        return True


def cover_of(lin: Lineage) -> LogCover:
    """The lineage's LogCover, built on first use."""
    return lin.memo("cover", lambda: LogCover.of(lin))
