"""dbatools exports, HEADERONLY CSVs and format detection."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import pytest

from restoreplan.core.errors import InputError
from restoreplan.core.lsn import LSN
from restoreplan.core.model import BackupSet, BackupType
from restoreplan.sources import dbatools, headeronly
from restoreplan.sources.canonical import SetBuilder
from restoreplan.sources.detect import detect_format

G1 = "0b2c7c2e-1f7e-4a55-9a7e-111111111111"
G2 = "0b2c7c2e-1f7e-4a55-9a7e-222222222222"
FORK = "0b2c7c2e-1f7e-4a55-9a7e-333333333333"
FIRST = 4294967000000000010000001  # 25 digits: a float would round it
LAST = 4294967000000000018000001
CKPT = 4294967000000000012000037


def build(rows: list[dict[str, Any]]) -> list[BackupSet]:
    b = SetBuilder()
    b.add_mappings(rows, "test")
    return sorted(b.build(), key=lambda s: s.backup_set_uuid)


# -- HEADERONLY --------------------------------------------------------------------------------------

HEADER = [
    "BackupName", "BackupType", "Position", "DeviceType", "ServerName", "DatabaseName", "FirstLSN",
    "LastLSN", "CheckpointLSN", "DatabaseBackupLSN", "BackupStartDate", "BackupFinishDate", "MachineName",
    "Flags", "BindingID", "RecoveryForkID", "FamilyGUID", "IsCopyOnly", "FirstRecoveryForkID",
    "RecoveryModel", "DifferentialBaseGUID", "BackupSetGUID", "CompressedBackupSize", "BackupSize",
    "TimeZone", "BackupPath",
]  # fmt: skip


def header_row(guid: str, btype: str, path: str, **over: str) -> list[str]:
    row = {
        "BackupName": "x", "BackupType": btype, "Position": "1", "DeviceType": "2", "ServerName": "SQL01",
        "DatabaseName": "Sales", "FirstLSN": str(FIRST), "LastLSN": str(LAST), "CheckpointLSN": str(CKPT),
        "DatabaseBackupLSN": "0", "BackupStartDate": "2024-03-01 22:00:00.123",
        "BackupFinishDate": "2024-03-01 22:03:07.123", "MachineName": "SQL01", "Flags": "528",
        "BindingID": G2, "RecoveryForkID": FORK, "FamilyGUID": G2, "IsCopyOnly": "False",
        "FirstRecoveryForkID": FORK, "RecoveryModel": "FULL", "DifferentialBaseGUID": "NULL",
        "BackupSetGUID": guid, "CompressedBackupSize": "1000", "BackupSize": "5000", "TimeZone": "+01:00",
        "BackupPath": path,
    }  # fmt: skip
    row.update(over)
    return [row[c] for c in HEADER]


def test_headeronly_csv_stripes_types_and_exact_lsns() -> None:
    rows = [
        header_row(G1, "1", r"D:\b\full_1.bak"),
        header_row(G1, "1", r"D:\b\full_2.bak"),
        header_row(G2, "2", r"D:\b\log.trn", FirstLSN=str(LAST), LastLSN=str(LAST + 100000)),
    ]
    sets = build(headeronly.to_canonical(HEADER, rows, "h.csv"))
    full, log = sets
    assert full.type is BackupType.FULL and log.type is BackupType.LOG
    assert full.first_lsn == LSN(FIRST) and full.checkpoint_lsn == LSN(CKPT)
    assert [(f.family_sequence_number, f.mirror) for f in full.files] == [(1, 0), (2, 0)]
    assert full.database_guid == G2 and full.last_recovery_fork_guid == FORK
    assert full.has_backup_checksums and not full.has_bulk_logged_data  # Flags 528 = 512 + 16
    assert full.time_zone == 4 and full.backup_size == 5000 and full.compressed_backup_size == 1000
    assert full.backup_start_date == datetime(2024, 3, 1, 22, 0, 0, 123000)


def test_headeronly_labelonly_families_and_mirrors() -> None:
    cols = [*HEADER, "FamilyCount", "FamilySequenceNumber", "MirrorCount"]
    rows = [
        header_row(G1, "5", r"D:\a\d1.bak") + ["2", "1", "2"],
        header_row(G1, "5", r"\\nas\d1.bak") + ["2", "1", "2"],
        header_row(G1, "5", r"D:\a\d2.bak") + ["2", "2", "2"],
    ]
    (diff,) = build(headeronly.to_canonical(cols, rows, "h.csv"))
    assert diff.type is BackupType.DIFF and diff.media_family_count == 2 and diff.mirror_count == 2
    assert [(f.family_sequence_number, f.mirror) for f in diff.files] == [(1, 0), (1, 1), (2, 0)]
    assert diff.missing_families == ()


@pytest.mark.parametrize(
    ("over", "column"),
    [
        ({"BackupType": "3"}, "BackupType"),
        ({"FirstLSN": "12a"}, "FirstLSN"),
        ({"BackupSetGUID": "nope"}, "BackupSetGUID"),
    ],
)
def test_headeronly_errors_name_file_row_column(over: dict[str, str], column: str) -> None:
    rows = [header_row(G1, "1", "a.bak"), header_row(G2, "1", "b.bak", **over)]
    with pytest.raises(InputError) as info:
        headeronly.to_canonical(HEADER, rows, "hdr.csv", first_row=2)
    assert info.value.message.startswith(f"hdr.csv, row 3, column {column}:")


def test_headeronly_needs_a_path_column() -> None:
    cols = HEADER[:-1]
    with pytest.raises(InputError, match="BackupPath"):
        headeronly.to_canonical(cols, [header_row(G1, "1", "a.bak")[:-1]], "h.csv")


# -- dbatools JSON ----------------------------------------------------------------------------------

HISTORY_JSON = """[
 {"ComputerName": "SQL01", "InstanceName": "MSSQLSERVER", "SqlInstance": "SQL01",
  "AvailabilityGroupName": "", "Database": "Sales", "UserName": "CORP\\\\dba",
  "Start": "\\/Date(1709330400123)\\/", "End": "\\/Date(1709330587123)\\/",
  "Duration": {"Ticks": 1870000000}, "Path": ["D:\\\\b\\\\full_1.bak", "D:\\\\b\\\\full_2.bak"],
  "TotalSize": {"Byte": 123456789012, "Kilobyte": 120563270.5}, "CompressedBackupSize": {"Byte": 23456789012},
  "CompressionRatio": 5.26, "Type": "Full", "BackupSetId": 4711, "DeviceType": "Disk",
  "Software": "Microsoft SQL Server", "FullName": ["D:\\\\b\\\\full_1.bak", "D:\\\\b\\\\full_2.bak"],
  "FileList": [{"FileType": "D", "LogicalName": "Sales", "PhysicalName": "D:\\\\d\\\\Sales.mdf"}],
  "Position": 1, "FirstLsn": 4294967000000000010000001, "DatabaseBackupLsn": 0,
  "CheckpointLsn": 4294967000000000012000037, "LastLsn": 4294967000000000018000001,
  "SoftwareVersionMajor": 16, "IsCopyOnly": false,
  "LastRecoveryForkGUID": "0b2c7c2e-1f7e-4a55-9a7e-333333333333", "RecoveryModel": "FULL",
  "KeyAlgorithm": null, "EncryptorThumbprint": null, "EncryptorType": null},
 {"ComputerName": "SQL01", "SqlInstance": "SQL01", "Database": "Sales",
  "Start": "2024-03-01T22:15:00", "End": "2024-03-01T22:15:02.5+01:00", "Path": ["D:\\\\b\\\\log.trn"],
  "TotalSize": null, "Type": "Transaction Log", "BackupSetId": "0b2c7c2e-1f7e-4a55-9a7e-222222222222",
  "Position": 1, "FirstLsn": 4294967000000000018000001, "DatabaseBackupLsn": 4294967000000000012000037,
  "CheckpointLsn": 4294967000000000012000037, "LastLsn": 4294967000000000020000001,
  "IsCopyOnly": false, "RecoveryModel": ["FULL"], "DeviceType": "Disk"}
]"""


def test_dbatools_json_utf16_history_and_backup_information() -> None:
    data = HISTORY_JSON.encode("utf-16")  # with BOM, as Out-File writes it
    records = dbatools.read_json_text(data, "h.json")
    assert detect_format(list(records[0]), is_json=True) == "dbatools-json"
    rows = dbatools.to_canonical(records, "h.json")
    full_uuid = str(uuid.uuid5(dbatools.DBATOOLS_NAMESPACE, "sql01|4711"))
    sets = {s.backup_set_uuid: s for s in build(rows)}
    full, log = sets[full_uuid], sets[G2]
    assert full.type is BackupType.FULL and log.type is BackupType.LOG
    assert full.first_lsn == LSN(FIRST) and log.last_lsn == LSN(4294967000000000020000001)
    assert full.backup_start_date == datetime(2024, 3, 1, 22, 0, 0, 123000)  # wall clock, naive
    assert log.backup_finish_date == datetime(2024, 3, 1, 22, 15, 2, 500000)
    assert full.devices() == ("D:\\b\\full_1.bak", "D:\\b\\full_2.bak")
    assert full.backup_size == 123456789012 and full.compressed_backup_size == 23456789012
    assert full.last_recovery_fork_guid == FORK and log.recovery_model == "FULL"
    assert full.server_name == "SQL01" and full.files[0].device_type == 2


def test_dbatools_json_refuses_lost_digits() -> None:
    doc = json.loads(HISTORY_JSON)
    doc[0]["FirstLsn"] = {
        "IsPowerOfTwo": False,
        "IsZero": False,
        "IsOne": False,
        "IsEven": False,
        "Sign": 1,
    }
    with pytest.raises(InputError) as info:
        dbatools.to_canonical(doc, "h.json")
    assert info.value.message.startswith("h.json, row 1, column firstlsn:")
    text = HISTORY_JSON.replace("4294967000000000010000001", "4.294967E+24")
    with pytest.raises(InputError, match="row 1, column firstlsn"):
        dbatools.to_canonical(dbatools.read_json_text(text.encode(), "h.json"), "h.json")


def test_dbatools_json_value_count_wrapper_and_single_object() -> None:
    doc = json.loads(HISTORY_JSON)
    wrapped = json.dumps({"value": doc, "Count": 2}).encode("utf-8-sig")
    assert len(dbatools.read_json_text(wrapped, "w.json")) == 2
    assert len(dbatools.read_json_text(json.dumps(doc[1]).encode(), "one.json")) == 1


def test_read_dbabackupheader_json() -> None:
    rec = dict(zip(HEADER, header_row(G1, "1", r"D:\b\full.bak"), strict=True))
    rec["BackupStartDate"] = "/Date(1709330400123)/"
    rec["BackupSize"] = {"Byte": 5000, "Megabyte": 0.0}  # type: ignore[assignment]
    rec["FirstLSN"] = FIRST  # type: ignore[assignment]
    assert detect_format(list(rec), is_json=True) == "dbatools-json"
    (s,) = build(dbatools.to_canonical([rec], "hdr.json"))
    assert s.first_lsn == LSN(FIRST) and s.backup_size == 5000
    assert s.backup_start_date == datetime(2024, 3, 1, 22, 0, 0, 123000)


# -- dbatools CSV -----------------------------------------------------------------------------------

RAW_CSV = """#TYPE Selected.System.Data.DataRow
"Server","Database","Start","End","Path","Type","TotalSize","MediaSetId","BackupSetID","position","FirstLSN","DatabaseBackupLsn","CheckpointLsn","LastLsn","is_copy_only","last_recovery_fork_guid","recovery_model","FullName"
"SQL01","Sales","3/1/2024 10:00:00 PM","3/1/2024 10:03:07 PM","D:\\b\\d1.bak","Differential","5000","9","12","1","4294967000000000030000001","4294967000000000012000037","4294967000000000031000009","4294967000000000034000001","0","0b2c7c2e-1f7e-4a55-9a7e-333333333333","FULL","D:\\b\\d1.bak"
"SQL01","Sales","3/1/2024 10:00:00 PM","3/1/2024 10:03:07 PM","D:\\b\\d2.bak","Differential","5000","9","12","1","4294967000000000030000001","4294967000000000012000037","4294967000000000031000009","4294967000000000034000001","0","0b2c7c2e-1f7e-4a55-9a7e-333333333333","FULL","D:\\b\\d2.bak"
"""


def test_dbatools_raw_csv_groups_stripes() -> None:
    cols, rows = dbatools.read_csv_text(RAW_CSV, "raw.csv")
    assert detect_format(RAW_CSV.splitlines()[0].split(","), is_json=False) == "dbatools-csv"
    assert detect_format(cols, is_json=False) == "dbatools-csv"
    (diff,) = build(dbatools.csv_to_canonical(cols, rows, "raw.csv", first_row=2))
    assert diff.type is BackupType.DIFF
    assert [f.family_sequence_number for f in diff.files] == [1, 2]
    assert diff.checkpoint_lsn == LSN(4294967000000000031000009)
    assert diff.backup_start_date == datetime(2024, 3, 1, 22, 0)


def test_dbatools_csv_array_column_is_refused() -> None:
    text = RAW_CSV.replace('"D:\\b\\d2.bak","Differential"', '"System.String[]","Differential"')
    cols, rows = dbatools.read_csv_text(text, "grouped.csv")
    with pytest.raises(InputError) as info:
        dbatools.csv_to_canonical(cols, rows, "grouped.csv", first_row=2)
    assert info.value.message.startswith("grouped.csv, row 3, column path:")


# -- Export-Clixml ----------------------------------------------------------------------------------

CLIXML = """<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">
  <Obj RefId="0">
    <TN RefId="0"><T>Dataplat.Dbatools.Database.BackupHistory</T><T>System.Object</T></TN>
    <ToString>Dataplat.Dbatools.Database.BackupHistory</ToString>
    <Props>
      <S N="ComputerName">SQL01</S>
      <S N="SqlInstance">SQL01</S>
      <S N="Database">Sales</S>
      <DT N="Start">2024-03-01T22:00:00.123+01:00</DT>
      <DT N="End">2024-03-01T22:03:07.123+01:00</DT>
      <Obj N="Path" RefId="1"><TN RefId="1"><T>System.String[]</T></TN><LST><S>D:\\b\\full.bak</S></LST></Obj>
      <Obj N="TotalSize" RefId="2"><TN RefId="2"><T>Dataplat.Dbatools.Utility.Size</T></TN>
        <ToString>4.77 KB</ToString><Props><I64 N="Byte">5000</I64><Db N="Kilobyte">4.8828125</Db></Props></Obj>
      <S N="Type">Full</S>
      <S N="BackupSetId">0b2c7c2e-1f7e-4a55-9a7e-111111111111</S>
      <I32 N="Position">1</I32>
      <Obj N="FirstLsn" RefId="3"><TN RefId="3"><T>System.Numerics.BigInteger</T></TN>
        <ToString>4294967000000000010000001</ToString>
        <Props><B N="IsPowerOfTwo">false</B><B N="IsZero">false</B><I32 N="Sign">1</I32></Props></Obj>
      <Obj N="DatabaseBackupLsn" RefId="4"><TNRef RefId="3" /><ToString>0</ToString>
        <Props><B N="IsPowerOfTwo">false</B><I32 N="Sign">0</I32></Props></Obj>
      <Obj N="CheckpointLsn" RefId="5"><TNRef RefId="3" /><ToString>4294967000000000012000037</ToString>
        <Props><B N="IsPowerOfTwo">false</B><I32 N="Sign">1</I32></Props></Obj>
      <Obj N="LastLsn" RefId="6"><TNRef RefId="3" /><ToString>4294967000000000018000001</ToString>
        <Props><B N="IsPowerOfTwo">false</B><I32 N="Sign">1</I32></Props></Obj>
      <B N="IsCopyOnly">true</B>
      <G N="LastRecoveryForkGUID">0b2c7c2e-1f7e-4a55-9a7e-333333333333</G>
      <Nil N="KeyAlgorithm" />
    </Props>
  </Obj>
</Objs>"""


def test_clixml() -> None:
    assert detect_format(["<Objs Version"], is_json=False) == "dbatools-clixml"
    assert dbatools.read_clixml(CLIXML, "h.xml") == dbatools.read_clixml(
        CLIXML.encode("utf-16"), "h.xml"
    )
    (s,) = build(dbatools.read_clixml(CLIXML.encode("utf-16"), "h.xml"))
    assert s.backup_set_uuid == G1 and s.first_lsn == LSN(FIRST) and s.checkpoint_lsn == LSN(CKPT)
    assert s.is_copy_only and s.backup_size == 5000 and s.last_recovery_fork_guid == FORK
    assert s.backup_start_date == datetime(2024, 3, 1, 22, 0, 0, 123000)


def test_clixml_refuses_dtd() -> None:
    evil = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Objs>&a;</Objs>'
    with pytest.raises(InputError, match="DTD"):
        dbatools.read_clixml(evil.encode(), "evil.xml")


# -- detection --------------------------------------------------------------------------------------


def test_detect_formats() -> None:
    from restoreplan.sources.columns import ALL, REQUIRED

    assert detect_format(list(REQUIRED), is_json=False) == "msdb-csv"
    assert detect_format(list(ALL), is_json=True) == "msdb-json"
    assert detect_format(HEADER, is_json=False) == "headeronly-csv"
    assert (
        detect_format(["#TYPE Dataplat.Dbatools.Database.BackupHistory"], is_json=False)
        == "dbatools-csv"
    )
    with pytest.raises(InputError) as info:
        detect_format(["a", "b"], is_json=False, origin="weird.csv")
    assert info.value.message.startswith("weird.csv: unknown history format")
    with pytest.raises(InputError, match="^unknown history format"):
        detect_format([], is_json=True)


@pytest.mark.parametrize("position", ["abc", "", "9" * 5000])
def test_clixml_number_that_is_no_number_is_an_input_error(position: str) -> None:
    """<I32> holding text was a ValueError traceback (robustness review)."""
    bad = CLIXML.replace('<I32 N="Position">1</I32>', f'<I32 N="Position">{position}</I32>')
    with pytest.raises(InputError, match="h.xml, object 1: <I32> holds"):
        dbatools.read_clixml(bad, "h.xml")


def test_clixml_nested_too_deeply_is_an_input_error() -> None:
    deep = '<Obj N="Deep"><Props>' * 3000 + "</Props></Obj>" * 3000
    bad = CLIXML.replace('<I32 N="Position">1</I32>', deep)
    with pytest.raises(InputError, match="nested too deeply"):
        dbatools.read_clixml(bad, "h.xml")
