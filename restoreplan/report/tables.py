"""Long cells wrapped before tabulate sees them.

tabulate's ``maxcolwidths`` re-measures and re-wraps every cell of every table; an inventory's
report renders thousands of tables whose long texts (verdicts, causes, messages) repeat, so
they are wrapped here, each distinct text once, and tabulate only lays them out.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from functools import lru_cache
from typing import Any


def wrap_columns(rows: list[list[Any]], widths: Mapping[int, int]) -> list[list[Any]]:
    """The rows, with the texts of the given columns wrapped to at most their width."""
    for row in rows:
        for column, width in widths.items():
            text = row[column]
            if isinstance(text, str) and (len(text) > width or "\n" in text):
                row[column] = wrap(text, width)
    return rows


@lru_cache(maxsize=4096)
def wrap(text: str, width: int) -> str:
    """``text`` wrapped as tabulate's maxcolwidths wraps it (textwrap's defaults)."""
    return "\n".join(textwrap.wrap(text, width))
