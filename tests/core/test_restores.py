"""A restore recorded after the last backup (restorehistory, rules-notes item 14): the database is
no longer on the chain its backups form, so a plan through the tail-log is refused with the
restore named and the latest point the backups reach; plans inside the backups say so."""

from __future__ import annotations

from datetime import datetime

import pytest

from restoreplan.core.errors import InputError, NotRecoverable
from restoreplan.core.history import History
from restoreplan.core.model import BackupSet, RestoreEvent
from restoreplan.core.planner import PlanOptions, plan_restore
from restoreplan.core.restores import restored_since
from restoreplan.core.target import RecoveryTarget
from restoreplan.sources.restores import restore_events
from tests.builders import full, log, when


def _sets(server: str | None = None) -> list[BackupSet]:
    kw = {"server_name": server} if server else {}
    return [full("09:10", 100, 110, **kw), log("09:30", 100, 200, **kw), log("10:00", 200, 300, **kw)]


def _history(*restores: RestoreEvent, server: str | None = None) -> History:
    return History.from_sets(_sets(server), restores=restores)


def _restore(at: str, name: str = "db", **kw: object) -> RestoreEvent:
    return RestoreEvent(name, when(at), kw.pop("restore_type", "D"), **kw)  # type: ignore[arg-type]


def _plan(h: History, at: str | None, **kw: object):  # type: ignore[no-untyped-def]
    target = RecoveryTarget.latest() if at is None else RecoveryTarget.at(when(at))
    return plan_restore(h, "db", target, PlanOptions(**kw))  # type: ignore[arg-type]


def test_a_restore_after_the_last_backup_refuses_a_plan_through_the_tail() -> None:
    h = _history(_restore("10:20", recovery=True, stop_at=when("09:45")))
    with pytest.raises(NotRecoverable) as err:
        _plan(h, "10:30", tail="auto")
    assert err.value.code == "RESTORED_SINCE_BACKUP"
    assert "WITH RECOVERY, STOPAT 2026-01-05 09:45:00" in err.value.message
    assert "2026-01-05 10:20:00" in err.value.message
    assert err.value.nearest_before is not None and err.value.nearest_before.local == "2026-01-05 10:00:00"
    with pytest.raises(NotRecoverable) as err:  # --latest with the tail
        _plan(h, None, tail="always")
    assert err.value.code == "RESTORED_SINCE_BACKUP"


def test_or_earlier_plans_to_the_last_point_the_backups_reach_and_says_why() -> None:
    h = _history(_restore("10:20", recovery=False))
    p = _plan(h, "10:30", tail="auto", or_earlier=True)
    assert not any(s.is_tail for s in p.steps)
    text = " ".join(p.warnings)
    assert "TARGET CHANGED" in text and "WITH NORECOVERY" in text


def test_a_plan_inside_the_backups_warns_that_the_database_changed_since() -> None:
    p = _plan(_history(_restore("10:20")), "09:45", tail="auto")
    assert any("after its last backup" in w and "not its current state" in w for w in p.warnings)


@pytest.mark.parametrize("restore", [
    _restore("09:50"),  # before the last backup: the backups since record what it became
    _restore("10:20", name="other"),  # another database
    _restore("10:20", server_name="DR01"),  # the name on another server: another database
])
def test_restores_that_do_not_touch_the_live_database_are_ignored(restore: RestoreEvent) -> None:
    h = _history(restore, server="SQL01")
    assert restored_since(h.lineages_named("db")[0]) is None
    p = _plan(h, "10:30", tail="auto")
    assert any(s.is_tail for s in p.steps) and not any("after its last backup" in w for w in p.warnings)


def test_the_server_and_the_name_compare_case_insensitively() -> None:
    h = _history(_restore("10:20", name="DB", server_name="sql01"), server="SQL01")
    with pytest.raises(NotRecoverable) as err:
        _plan(h, "10:30", tail="auto")
    assert err.value.code == "RESTORED_SINCE_BACKUP" and "on sql01" in err.value.message


def test_restorehistory_rows_are_read_as_msdb_allows() -> None:
    rows = [
        {"destination_database_name": "db", "restore_date": "2026-01-05 10:20:00.000", "restore_type": "d",
         "recovery": "1", "stop_at": "9999-12-31 23:59:59.000", "server_name": "SQL01"},  # STOPAT's idiom
        {"destination_database_name": "db", "restore_date": "2026-01-05 10:25:00", "restore_type": "V"},
        {"destination_database_name": "db", "restore_date": "2026-01-05 10:26:00", "restore_type": "R"},
        {"destination_database_name": "db", "restore_date": "2026-01-05 10:27:00", "restore_type": ""},
        {"destination_database_name": "", "restore_date": "2026-01-05 10:28:00", "restore_type": "D"},
        {"destination_database_name": "db", "restore_date": "NULL", "restore_type": "D"},
        {"destination_database_name": " db", "restore_date": "2026-01-05 10:29:00", "restore_type": "D"},
    ]
    events = restore_events(rows, "restores.csv")
    # VERIFYONLY restores nothing; a row without its database or its date names no database or moment
    assert [(e.database_name, e.restore_type) for e in events] == [("db", "D"), ("db", "R"), ("db", "?"), (" db", "D")]
    assert events[0] == RestoreEvent("db", datetime(2026, 1, 5, 10, 20), "D", True,
                                     datetime(9999, 12, 31, 23, 59, 59), "SQL01")
    for bad, said in [({"destination_database_name": "db", "restore_type": "D", "restore_date": "2026-02-30"},
                       "row 2"),
                      ({"destination_database_name": "db", "restore_type": "D",
                        "restore_date": "2026-01-05T10:00:00+02:00"}, "offset")]:
        with pytest.raises(InputError) as err:
            restore_events([bad], "restores.csv")
        assert said in err.value.message and err.value.message.startswith("restores.csv, row 2")


def test_a_revert_or_an_unknown_type_refuses_the_tail_too() -> None:
    for kind in ("R", "?"):
        with pytest.raises(NotRecoverable) as err:
            _plan(_history(_restore("10:20", restore_type=kind)), "10:30", tail="auto")
        assert err.value.code == "RESTORED_SINCE_BACKUP"


def test_validate_warns_of_a_restore_since_the_last_backup() -> None:
    from restoreplan.core.findings import Severity
    from restoreplan.core.validate import validate_history

    [lf] = validate_history(_history(_restore("10:20", recovery=True)))
    [f] = [f for f in lf.findings if f.code == "RESTORED_SINCE_BACKUP"]
    assert f.severity is Severity.WARNING and "WITH RECOVERY" in f.text
    [lf] = validate_history(_history(_restore("09:50")))
    assert not [f for f in lf.findings if f.code == "RESTORED_SINCE_BACKUP"]



def test_the_newest_backup_is_found_on_the_lineages_clock() -> None:
    """Replicas in two time zones: London's restore at 14:20 (UTC) precedes New York's log at
    09:30 local (14:30 UTC): no refusal (review: raw local times made it look later)."""
    lon = {"server_name": "SQLLON", "time_zone": 0}
    ny = {"server_name": "SQLNY", "time_zone": -20}
    sets = [full("13:00", 100, 110, **lon), log("13:30", 100, 200, **lon), log("14:00", 200, 300, **lon),
            log("09:15", 300, 400, **ny), log("09:30", 400, 500, **ny)]
    h = History.from_sets(sets, restores=[_restore("14:20", server_name="SQLLON")])
    assert restored_since(h.lineages_named("db")[0]) is None


def test_only_restores_into_the_newest_backups_name_count() -> None:
    """A renamed database: a restore into its old name (a new database under the freed name)
    is not this one (review)."""
    sets = [full("09:10", 100, 110, name="Sales"), log("09:30", 100, 200, name="Sales"),
            log("10:00", 200, 300, name="Sales_old")]
    h = History.from_sets(sets, restores=[_restore("10:20", name="Sales"), _restore("10:25", name=" Sales_old")])
    [lin] = h.lineages_named("Sales_old")
    assert restored_since(lin) is None  # ' Sales_old' (a leading space) is another name too
