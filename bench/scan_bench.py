"""Benchmark: generate N synthetic backup files and time ``scan_sources`` over them.

Usage: python bench/scan_bench.py [N] [--compressed-every K]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from restoreplan.sources.backup_files import scan_sources  # noqa: E402
from tests.bakfile.mtf_writer import SetSpec, build_compressed, build_file  # noqa: E402


def generate(folder: Path, n: int, compressed_every: int) -> int:
    """Write n files (fulls, diffs, logs; every K-th compressed); returns total bytes."""
    total = 0
    lsn = 34000000006000065
    templates = {t: build_file([SetSpec(backup_type=t, data_len=64_000)]) for t in "DIL"}
    for i in range(n):
        kind = "D" if i % 50 == 0 else ("I" if i % 10 == 0 else "L")
        if compressed_every and i % compressed_every == 0:
            data = build_compressed(SetSpec(backup_type=kind, first_lsn=lsn, last_lsn=lsn + 10**5,
                                            backup_set_guid=uuid.uuid4(), data_len=64_000))  # fmt: skip
        else:
            data = templates[kind]
        path = folder / f"db{i % 20:02d}" / f"backup_{i:06d}.{'trn' if kind == 'L' else 'bak'}"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        total += len(data)
        lsn += 10**5
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("n", nargs="?", type=int, default=5000)
    ap.add_argument("--compressed-every", type=int, default=0, metavar="K")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        size = generate(folder, args.n, args.compressed_every)
        t1 = time.perf_counter()
        scans = scan_sources([str(folder)])
        t2 = time.perf_counter()
    bad = sum(1 for s in scans if s.error)
    read = sum(s.bytes_read for s in scans)
    secs = t2 - t1
    print(f"generated {args.n} files ({size / 1e6:.1f} MB) in {t1 - t0:.1f} s")
    print(f"scanned {len(scans)} files in {secs:.2f} s: {len(scans) / secs:.0f} files/s, "
          f"{read / 1e6:.1f} MB read ({100 * read / size:.1f}% of the bytes), {bad} unreadable")  # fmt: skip


if __name__ == "__main__":
    main()
