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


def test_restorehistory_rows_are_read_strictly() -> None:
    rows = [
        {"destination_database_name": "db", "restore_date": "2026-01-05 10:20:00.000", "restore_type": "d",
         "recovery": "1", "stop_at": "", "server_name": "SQL01"},
        {"destination_database_name": "db", "restore_date": "2026-01-05 10:25:00", "restore_type": "V"},
    ]
    [event] = restore_events(rows, "restores.csv")  # VERIFYONLY restores nothing
    assert event == RestoreEvent("db", datetime(2026, 1, 5, 10, 20), "D", True, None, "SQL01")
    for bad, said in [({"restore_type": "D", "restore_date": "2026-01-05"}, "row 2: destination_database_name missing"),
                      ({"destination_database_name": "db", "restore_type": "X", "restore_date": "2026-01-05"},
                       "unknown restore_type 'X'"),
                      ({"destination_database_name": "db", "restore_type": "D", "restore_date": "2026-02-30"},
                       "row 2"),
                      ({"destination_database_name": "db", "restore_type": "D",
                        "restore_date": "2026-01-05T10:00:00+02:00"}, "offset")]:
        with pytest.raises(InputError) as err:
            restore_events([bad], "restores.csv")
        assert said in err.value.message and err.value.message.startswith("restores.csv, row 2")


def test_validate_warns_of_a_restore_since_the_last_backup() -> None:
    from restoreplan.core.findings import Severity
    from restoreplan.core.validate import validate_history

    [lf] = validate_history(_history(_restore("10:20", recovery=True)))
    [f] = [f for f in lf.findings if f.code == "RESTORED_SINCE_BACKUP"]
    assert f.severity is Severity.WARNING and "WITH RECOVERY" in f.text
    [lf] = validate_history(_history(_restore("09:50")))
    assert not [f for f in lf.findings if f.code == "RESTORED_SINCE_BACKUP"]

