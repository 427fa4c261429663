"""The simulator against hand computations on a small synthetic database.

Workload for every test: a 1000-byte database, change rate r = 0.1/day (compounding), 4 log bytes
per hour, no compression, restore at 10 bytes/s; retention R = 7 days; logs every 6 hours at
00:00, 06:00, 12:00, 18:00 (so each log holds 6 * 4 = 24 bytes); fulls and differentials at 00:00.
Differential sizes, N days after a Monday full: 1000 * (1 - 0.9^N):
    N=1: 100, N=2: 190, N=3: 271, N=4: 343.9, N=5: 409.51, N=6: 468.559  (sum 1782.969)
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from restoreplan.core.strategy.schedule import parse_schedule
from restoreplan.core.strategy.simulate import Workload, simulate

W = Workload(database_bytes=1000, change_rate=0.1, log_bytes_per_hour=4, restore_rate=10)
R = timedelta(days=7)
DIFFS = [1000 * (1 - 0.9**n) for n in range(1, 7)]


def run(spec: str, workload: Workload = W, retention: timedelta = R):
    return simulate(parse_schedule(spec), workload, retention)


def test_daily_full_plus_logs() -> None:
    o = run("full=daily 00:00; log=6h")
    # a day: one full (1000) and four logs (4 * 24); a week: 7 * 1000 + 28 * 24 = 7672
    assert o.written_per_week == 7 * 1000 + 28 * 24
    assert o.backups_per_week == (7, 0, 28)
    # a point in (18:00, 24:00] needs the 00:00 full and the logs of 06, 12, 18 and 24:00: 5 steps
    assert o.worst_steps == 1 + 4
    # the four 6-hour slots need 2, 3, 4, 5 steps
    assert o.average_steps == pytest.approx((2 + 3 + 4 + 5) / 4)
    assert o.worst_restore_bytes == 1000 + 4 * 24
    assert o.worst_restore_seconds == pytest.approx((1000 + 4 * 24) / 10)
    # held at T in slot k of a day: F0 = the full 7 days before that day's 00:00, so 8 fulls, and
    # the logs after F0: 28 + k.  Peak at k = 3: 8000 + 31 * 24 = 8744; average k = 1.5
    assert o.peak_storage == 8 * 1000 + 31 * 24
    assert o.average_storage == round(8 * 1000 + 29.5 * 24)
    assert o.rpo == timedelta(hours=6)


def test_weekly_full_plus_logs() -> None:
    o = run("full=mon 00:00; log=6h")
    assert o.written_per_week == 1000 + 28 * 24
    # the worst point, just before the next Monday: the full and all 28 logs of the week
    assert o.worst_steps == 1 + 28
    assert o.average_steps == pytest.approx(sum(range(2, 30)) / 28)  # 434 / 28 = 15.5
    assert o.worst_restore_bytes == 1000 + 28 * 24
    # held in slot k (0..27) of the week: 2 fulls (the one at or before T - R and this week's)
    # and the logs after the older one: 28 + k.  Peak 2000 + 55 * 24 = 3320; average k = 13.5
    assert o.peak_storage == 2 * 1000 + 55 * 24
    assert o.average_storage == round(2 * 1000 + (28 + 13.5) * 24)


def test_weekly_full_daily_diff_plus_logs() -> None:
    o = run("full=mon 00:00; diff=daily 00:00; log=6h")
    assert o.backups_per_week == (1, 6, 28)  # no differential on Monday: the full takes the slot
    assert o.written_per_week == round(1000 + sum(DIFFS) + 28 * 24)  # 3454.969
    # worst: (18:00, 24:00] of a day with a differential: full + diff + 4 logs
    assert o.worst_steps == 1 + 1 + 4
    # Monday: 2..5 steps (3.5 on average); Tuesday..Sunday: 3..6 (4.5)
    assert o.average_steps == pytest.approx((3.5 + 6 * 4.5) / 7)
    # the most bytes: Sunday's differential (N=6) + full + 4 logs = 1564.559
    assert o.worst_restore_bytes == round(1000 + DIFFS[5] + 4 * 24)
    # held at day j (0 = Monday), slot k: 2 fulls; last week's differentials of days j..6 and this
    # week's of days 1..j (day j's counted twice when j >= 1): sum(DIFFS) + D_j; logs after
    # last week's day-j base: 28 + k.  Peak j = 6, k = 3: 2000 + 1782.969 + 468.559 + 31 * 24
    assert o.peak_storage == round(2000 + sum(DIFFS) + DIFFS[5] + 31 * 24)  # 4995.528
    assert o.average_storage == round(2000 + sum(DIFFS) + sum(DIFFS) / 7 + 29.5 * 24)  # 4745.68


def test_without_logs_points_restore_to_the_last_data_backup() -> None:
    o = run("full=mon 00:00; diff=daily 00:00")
    assert o.worst_steps == 2
    assert o.average_steps == pytest.approx((1 + 6 * 2) / 7)
    assert o.rpo == timedelta(days=1)
    assert o.peak_storage == round(2000 + sum(DIFFS) + DIFFS[5])
    assert o.written_per_week == round(1000 + sum(DIFFS))


def test_daily_full_without_logs_holds_retention_plus_one_full() -> None:
    o = run("full=daily 00:00", retention=timedelta(days=3))
    # at T: the full at or before T - 3d and the 3 after it
    assert (o.peak_storage, o.average_storage, o.worst_steps) == (4000, 4000, 1)


def test_compression_scales_disk_bytes_not_restore_time() -> None:
    w = Workload(database_bytes=1000, log_bytes_per_hour=4, full_ratio=0.5, log_ratio=0.25, restore_rate=10)
    o = run("full=daily 00:00; log=6h", workload=w)
    assert o.peak_storage == 8 * 500 + 31 * 6
    assert o.worst_restore_bytes == 500 + 4 * 6
    assert o.worst_restore_seconds == pytest.approx(109.6)  # logical bytes / rate


def test_log_and_full_at_the_same_instant() -> None:
    # the log at 00:00 covers the evening before the full: 4 logs after the full, not 3
    o = run("full=daily 00:00; log=6h")
    assert o.worst_steps == 5


def test_points_just_before_a_full_need_the_log_after_it() -> None:
    # full at 03:00, logs at 00, 06, 12, 18: a point at 02:00 cannot use the 03:00 full; it needs
    # yesterday's 03:00 full and the logs of 06, 12, 18, 00 and today's 06:00: 6 steps
    o = run("full=daily 03:00; log=6h")
    assert o.worst_steps == 1 + 5
    # slots: (03, 06] 2, (06, 12] 3, (12, 18] 4, (18, 24] 5, (00, 03) 6 -> weighted by hours
    assert o.average_steps == pytest.approx((3 * 2 + 6 * 3 + 6 * 4 + 6 * 5 + 3 * 6) / 24)
    assert o.worst_restore_bytes == 1000 + 5 * 24
