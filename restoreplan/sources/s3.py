"""Amazon S3 (and S3-compatible storage) access: listing and ranged reads. boto3 is optional."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from restoreplan.core.errors import UsageError

RETRY_CONFIG: dict[str, Any] = {"max_attempts": 8, "mode": "adaptive"}
THROTTLING = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "503", "500"}
)


@dataclass(frozen=True, slots=True)
class S3Options:
    """Where and how to connect; None means the AWS defaults (environment, config, role)."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix); UsageError for anything else."""
    u = url.strip()
    if not u.lower().startswith("s3://"):
        raise UsageError(f"not an S3 URL: {url!r}", hint="use s3://bucket/prefix")
    rest = u[5:]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise UsageError(f"no bucket in {url!r}", hint="use s3://bucket/prefix")
    return bucket, prefix


def _boto3() -> Any:
    try:
        import boto3
    except ImportError:
        raise UsageError(
            "reading s3:// locations needs boto3", hint="pip install 'restoreplan[s3]'"
        ) from None
    return boto3


def make_client(options: S3Options | None = None) -> Any:
    """An S3 client with adaptive retries (throttling backs off exponentially)."""
    boto3 = _boto3()
    from botocore.config import Config

    opts = options or S3Options()
    setup_errors: tuple[type[Exception], ...] = (*_boto_errors(), ValueError)
    try:
        session = boto3.session.Session(profile_name=opts.profile, region_name=opts.region)
        return session.client("s3", endpoint_url=opts.endpoint_url, config=Config(retries=RETRY_CONFIG))
    except setup_errors as exc:  # an unknown profile, an endpoint that is no URL
        raise UsageError(f"cannot set up S3: {_describe(exc)}",
                         hint="check --profile, --region and --endpoint-url") from None


_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s\"']*@")  # to the last @ before the host


def mask_credentials(text: str) -> str:
    """``scheme://user:password@host`` with the user and password masked."""
    return _URL_USERINFO.sub(r"\1***@", text)


def _boto_errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def _describe(exc: Exception) -> str:
    """An error message without credentials or signatures."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        err = response.get("Error", {})
        return mask_credentials(f"{err.get('Code', type(exc).__name__)}: {err.get('Message', '')}".rstrip(": "))
    return mask_credentials(type(exc).__name__ + (f": {exc}" if "Signature" not in str(exc) else ""))


def _retry(call: Any, attempts: int = 5, base: float = 0.2) -> Any:
    """Run ``call``; back off exponentially on throttling beyond botocore's own retries."""
    for attempt in range(attempts):
        try:
            return call()
        except Exception as exc:
            response = getattr(exc, "response", None)
            code = (
                str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""
            )
            if code not in THROTTLING or attempt == attempts - 1:
                raise
            time.sleep(base * 2**attempt)
    raise AssertionError("unreachable")


def list_objects(
    url: str, options: S3Options | None = None, client: Any = None
) -> list[tuple[str, int]]:
    """(key, size) of every object under ``s3://bucket/prefix`` (all pages)."""
    bucket, prefix = parse_s3_url(url)
    c = client or make_client(options)
    out: list[tuple[str, int]] = []
    try:
        paginator = c.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            out.extend((str(o["Key"]), int(o["Size"])) for o in page.get("Contents", []))
    except _boto_errors() as exc:
        raise UsageError(
            f"cannot list {url}: {_describe(exc)}", hint="check the bucket, prefix and credentials"
        ) from None
    return out


class S3Object:
    """One S3 object as a ranged-read opener (``size``, ``read_range``); counts bytes fetched."""

    __slots__ = ("bucket", "key", "size", "bytes_fetched", "requests", "_client")

    def __init__(
        self,
        bucket: str,
        key: str,
        size: int | None = None,
        *,
        client: Any = None,
        options: S3Options | None = None,
    ) -> None:
        self.bucket = bucket
        self.key = key
        self._client = client or make_client(options)
        self.bytes_fetched = 0
        self.requests = 0
        if size is None:
            try:
                head = _retry(lambda: self._client.head_object(Bucket=bucket, Key=key))
            except _boto_errors() as exc:
                raise OSError(f"cannot read s3://{bucket}/{key}: {_describe(exc)}") from None
            size = int(head["ContentLength"])
        self.size = size

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def read_range(self, offset: int, length: int) -> bytes:
        """``length`` bytes at ``offset`` with one ranged GET; OSError on failure."""
        if length <= 0 or offset >= self.size:
            return b""
        end = min(offset + length, self.size) - 1
        try:
            resp = _retry(
                lambda: self._client.get_object(
                    Bucket=self.bucket, Key=self.key, Range=f"bytes={offset}-{end}"
                )
            )
            data = bytes(resp["Body"].read())
        except _boto_errors() as exc:
            raise OSError(f"cannot read {self.url}: {_describe(exc)}") from None
        self.requests += 1
        self.bytes_fetched += len(data)
        return data
