"""Expected outputs kept as JSON beside the tests: written when missing or with ``UPDATE_GOLDEN=1``
(a deliberate change), compared otherwise."""

from __future__ import annotations

import json
import os
from pathlib import Path


def check_golden(path: Path, got: object) -> None:
    if os.environ.get("UPDATE_GOLDEN") or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert got == json.loads(path.read_text(encoding="utf-8"))
