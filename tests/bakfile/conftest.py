"""Shared fixtures: the real sample backups (outside the repository) and synthetic files."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "backups"


@pytest.fixture(scope="session")
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(
            f"sample backups not found at {SAMPLES} (they live beside the project, not in it)"
        )
    return SAMPLES
