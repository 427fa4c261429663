"""Each validate code: one test that provokes it, and the clean history that keeps it quiet."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from restoreplan.core.findings import CODES, Severity
from restoreplan.core.lsn import LSN
from restoreplan.core.model import MediaFile
from restoreplan.core.validate import ValidateOptions, validate_history
from tests.builders import FORK_A, FORK_B, diff, full, history, log, with_


def clean_sets():
    f = full("10:00", 100, 120, size=1000)
    return [f, log("10:15", 90, 150), log("10:30", 150, 180), diff("11:00", 185, 200, f, size=100),
            log("11:15", 180, 220), log("11:30", 220, 260)]


def codes(h, **opts):
    return [f.code for lf in validate_history(h, ValidateOptions(**opts)) for f in lf.findings]


def only(h, code, **opts):
    return [f for lf in validate_history(h, ValidateOptions(**opts)) for f in lf.findings if f.code == code]


def test_clean_history_has_no_finding_at_all():
    assert codes(history(*clean_sets())) == []


def test_clean_history_with_fresh_backups_is_not_stale():
    assert codes(history(*clean_sets()), max_full_age=timedelta(days=1), max_log_age=timedelta(hours=1),
                 as_of=datetime(2026, 1, 5, 11, 45)) == []


def test_missing_log_is_a_log_gap_naming_the_following_log_and_the_4305_lsn():
    sets = clean_sets()
    del sets[2]  # the 10:30 log (150..180)
    h = history(*sets)
    [gap] = only(h, "LOG_GAP")
    assert gap.severity is Severity.ERROR
    assert gap.backup is not None and gap.backup.first_lsn.value == 180  # the 11:15 log
    assert gap.lsn is not None and gap.lsn.value == 150
    assert "4305" in gap.message and "Hint:" in gap.message
    assert gap.lost_from is not None and gap.lost_from.local_text == "2026-01-05 10:15:00"
    assert gap.lost_to is not None and gap.lost_to.local_text == "2026-01-05 11:00:00"  # the diff bridges it


def test_damaged_log_is_damaged_backup_and_a_gap_that_names_it():
    sets = clean_sets()
    sets[2] = with_(sets[2], is_damaged=True)
    found = only(history(*sets), "LOG_GAP")
    assert len(found) == 1 and sets[2].backup_set_uuid in found[0].message
    assert "DAMAGED_BACKUP" in codes(history(*sets))


def test_overlapping_and_copy_only_logs_are_not_gaps():
    sets = clean_sets() + [log("10:20", 150, 160, is_copy_only=True), log("10:40", 170, 185)]
    assert "LOG_GAP" not in codes(history(*sets))


def test_logs_of_another_fork_are_not_gaps():
    f = full("10:00", 100, 120)
    sets = [f, log("10:15", 90, 150), log("10:30", 150, 180),
            log("11:00", 165, 300, first_recovery_fork_guid=FORK_A, last_recovery_fork_guid=FORK_B,
                fork_point_lsn=LSN(170)),
            log("11:15", 300, 340, fork=FORK_B), log("10:45", 180, 200)]  # old-fork log after the fork
    c = codes(history(*sets))
    assert "LOG_GAP" not in c and "RECOVERY_FORK" in c


def test_log_that_begins_a_new_chain_is_a_chain_restart_not_a_gap():
    f = full("10:00", 100, 120)
    simple = full("12:00", 400, 420, recovery_model="SIMPLE")
    f2 = full("13:00", 500, 520)
    sets = [f, log("10:15", 90, 150), simple, f2, log("13:15", 510, 560, begins_log_chain=True)]
    c = codes(history(*sets))
    assert "CHAIN_RESTART" in c and "LOG_GAP" not in c


def test_first_log_of_a_new_database_is_not_a_chain_restart():
    sets = clean_sets()
    sets[1] = with_(sets[1], begins_log_chain=True)
    assert codes(history(*sets)) == []


def test_missing_stripe():
    sets = clean_sets()
    sets[0] = with_(sets[0], files=(MediaFile("/b/f_1.bak", 1), MediaFile("/b/f_3.bak", 3)), media_family_count=3)
    [f] = only(history(*sets), "MISSING_STRIPE")
    assert "3132" in f.message and "family 2" in f.message


def test_missing_file_comes_from_the_loaders_check():
    sets = clean_sets()
    h = history(*sets, unavailable={sets[3].backup_set_uuid: "missing file(s): /b/x.dif"})
    assert [f.backup.backup_set_uuid for f in only(h, "MISSING_FILE")] == [sets[3].backup_set_uuid]


def test_orphan_differential():
    f = full("10:00", 100, 120)
    orphan = diff("11:00", 185, 200, f, differential_base_guid="99999999-9999-4999-8999-999999999999")
    assert "ORPHAN_DIFFERENTIAL" in codes(history(f, log("10:15", 90, 250), orphan))


@pytest.mark.parametrize("change", [dict(is_snapshot=True), dict(is_damaged=True),
                                    dict(files=(MediaFile("{guid}", 1, 0, 7),))])
def test_differential_on_a_snapshot_virtual_device_or_damaged_full_has_unrestorable_base(change):
    snap = with_(full("09:00", 50, 60), **change)
    sets = clean_sets() + [snap, diff("09:30", 70, 80, snap)]
    assert [f.backup.backup_set_uuid for f in only(history(*sets), "UNRESTORABLE_BASE")] == [sets[-1].backup_set_uuid]


def test_no_full_backup():
    f = full("10:00", 100, 120, is_damaged=True)
    [nf] = only(history(f, log("10:15", 90, 150)), "NO_FULL_BACKUP")
    assert nf.severity is Severity.ERROR


def test_bulk_logged_incomplete_metadata_and_encryption():
    sets = clean_sets()
    sets[2] = with_(sets[2], has_bulk_logged_data=True)
    sets[4] = with_(sets[4], has_incomplete_metadata=True)
    sets[0] = with_(sets[0], encryptor_thumbprint="0xABCDEF", key_algorithm="aes_256")
    sets[5] = with_(sets[5], encryptor_thumbprint="0xABCDEF")
    c = codes(history(*sets))
    assert {"BULK_LOGGED", "INCOMPLETE_METADATA", "ENCRYPTED"} <= set(c)
    [enc] = only(history(*sets), "ENCRYPTED")
    assert enc.count == 2 and "0xABCDEF" in enc.hint


def test_copy_only_full_is_info():
    sets = clean_sets() + [full("10:50", 175, 178, is_copy_only=True)]
    [f] = only(history(*sets), "COPY_ONLY")
    assert f.severity is Severity.INFO


def test_stale_full_and_log_at_as_of():
    h = history(*clean_sets())
    c = codes(h, max_full_age=timedelta(days=7), max_log_age=timedelta(minutes=15),
              as_of=datetime(2026, 1, 13, 12, 0))
    assert "STALE_FULL" in c and "STALE_LOG" in c


def test_as_of_with_an_offset_is_converted():
    h = history(*clean_sets())  # time_zone 0: UTC
    assert codes(h, max_log_age=timedelta(minutes=30), as_of=datetime.fromisoformat("2026-01-05T13:45:00+02:00")) == []


def test_latest_differential_over_half_its_base():
    f = full("10:00", 100, 120, size=1000)
    sets = [f, log("10:15", 90, 150), diff("11:00", 150, 170, f, size=600), log("11:15", 150, 200)]
    assert "DIFF_TOO_LARGE" in codes(history(*sets))


def test_every_code_has_a_severity():
    assert set(CODES.values()) <= set(Severity)


def test_bundled_sales_database_is_clean():
    from restoreplan.sources.load import LoadRequest, load

    lfs = validate_history(load(LoadRequest()).history, ValidateOptions(), "Sales")
    assert lfs and not any(f.severity is Severity.ERROR for lf in lfs for f in lf.findings)


def test_copy_only_logs_are_one_finding_per_lineage():
    # a tool taking a copy-only log every hour must not bury the report under one line each
    sets = clean_sets()
    [f0] = [s for s in sets if s.type.value == "L"][:1]
    copies = [log(f"11:{m:02d}", f0.first_lsn.value, f0.last_lsn.value - 1, is_copy_only=True) for m in (10, 20, 30)]
    [f] = only(history(*sets, *copies), "COPY_ONLY")
    assert f.count == 3 and f.backup is copies[-1] and f.text.startswith("3 log backups")
    [one] = only(history(*sets, copies[0]), "COPY_ONLY")
    assert one.count == 1 and "is a copy-only log" in one.text
