"""Amazon RDS for SQL Server restore scripts: rds_restore_database / rds_restore_log / rds_finish_restore.

RDS restores are asynchronous tasks (restore-rules D.2, D.3): every call queues a task, and the
script waits for that task in ``msdb.dbo.rds_fn_task_status`` before it queues the next one. The
script is ONE batch (no GO), so a THROW stops everything in SSMS, Azure Data Studio and sqlcmd
alike. Everything RDS cannot do is refused before any script is written (docs/rds.md).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from restoreplan.core.errors import NotRecoverable, UsageError
from restoreplan.core.model import BackupSet, BackupType
from restoreplan.core.plan import Action, Plan, Step, StopKind
from restoreplan.core.target import TargetKind
from restoreplan.emit.quoting import Batch, comment_text, datetime_literal_text, sysname_length

MAX_FILES = 10  # "The Restore task is unable to restore from more than 10 backup file(s)" (D.2)
VOLUMES = ("D:", "H:", "I:", "J:")  # @data_file_volume / @log_file_volume (D.2)

_ARN_S3 = re.compile(r"^arn:(aws[a-z-]*):s3:([a-z0-9-]*):(\d*):(.+)$", re.IGNORECASE)
_ACCESS_POINT = re.compile(r"^(accesspoint/[^/]+)/object/(.+)$")
_HOST_REGION = re.compile(r"^(?:(?P<bucket>.+)\.)?s3[.-](?P<region>[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d)\.amazonaws\.com(?:\.cn)?$")
_HOST_GLOBAL = re.compile(r"^(?:(?P<bucket>.+)\.)?s3\.amazonaws\.com$")
_KMS_ARN = re.compile(r"^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:(key|alias)/\S+$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")


@dataclass(frozen=True, slots=True)
class S3Ref:
    """One S3 object as RDS names it: ``{base}{key}`` where base is ``arn:aws:s3:::bucket/``."""

    bucket: str
    key: str
    base: str  # the ARN text before the key
    region: str | None = None

    @property
    def arn(self) -> str:
        return self.base + self.key

    @property
    def container(self) -> str:
        return self.base


def parse_s3_name(name: str) -> S3Ref | None:
    """``s3://bucket/key``, regional ``s3://bucket.s3.region.amazonaws.com/key``, or an S3 ARN; else None."""
    text = name.strip()
    m = _ARN_S3.match(text)
    if m:
        partition, region, account, rest = m.groups()
        ap = _ACCESS_POINT.match(rest)
        if ap:  # arn:aws:s3:region:acct:accesspoint/name/object/key
            base = f"arn:{partition}:s3:{region}:{account}:{ap.group(1)}/object/"
            return S3Ref(ap.group(1).split("/", 1)[1], ap.group(2), base, region or None)
        if "/" not in rest or region or account:
            return None
        bucket, key = rest.split("/", 1)
        if not bucket or not key:
            return None
        return S3Ref(bucket, key, f"arn:{partition}:s3:::{bucket}/", None)
    low = text.lower()
    if low.startswith(("s3://", "https://")):
        rest = text.split("://", 1)[1]
        if "/" not in rest:
            return None
        host, path = rest.split("/", 1)
        host_low = host.lower().split(":", 1)[0]
        region = None
        for pattern in (_HOST_REGION, _HOST_GLOBAL):
            hm = pattern.match(host_low)
            if hm:
                region = hm.groupdict().get("region")
                if hm.group("bucket"):  # virtual-hosted style
                    bucket, key = host[: len(hm.group("bucket"))], path
                else:  # path style
                    if "/" not in path:
                        return None
                    bucket, key = path.split("/", 1)
                break
        else:
            if low.startswith("https://"):
                return None  # not S3 (e.g. Azure Blob)
            if "." in host_low and "/" in path and not _looks_like_bucket(host_low):
                return None
            bucket, key = host, path
        if not bucket or not key:
            return None
        return S3Ref(bucket, key, f"arn:aws:s3:::{bucket}/", region)
    return None


def _looks_like_bucket(host: str) -> bool:
    return re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", host) is not None


def normalize_volume(value: str | None, option: str) -> str | None:
    """``H``/``h:``/``H:\\`` -> ``H:``; anything else RDS does not offer is a usage error."""
    if value is None:
        return None
    v = value.strip().upper().rstrip("\\/")
    if len(v) == 1:
        v += ":"
    if v not in VOLUMES:
        raise UsageError(f"{option} {value!r} is not an RDS volume",
                         hint="RDS places files only on D:, H:, I: or J: (@data_file_volume / @log_file_volume)")
    return v


def check_rds_name(name: str) -> None:
    """RDS database name rules (restore-rules D.4 [S40])."""
    problems = []
    if name.lower().startswith("rdsadmin"):
        problems.append("it starts with 'rdsadmin'")
    if name != name.strip(" \t"):
        problems.append("it starts or ends with a space or tab")
    if "\n" in name or "\r" in name:
        problems.append("it contains a newline")
    if "'" in name:
        problems.append("it contains a single quote")
    if not name.strip():
        problems.append("it is empty")
    if sysname_length(name) > 128:
        problems.append("it is longer than 128 UTF-16 code units (sysname)")
    if problems:
        raise UsageError(f"RDS does not allow the database name {name!r}: " + "; ".join(problems),
                         hint="choose another --target-name", code="RDS_BAD_NAME")


@dataclass(frozen=True, slots=True)
class RdsOptions:
    """What the RDS script needs besides the plan."""

    target_name: str | None = None
    data_volume: str | None = None
    log_volume: str | None = None
    kms_key_arn: str | None = None
    instance_region: str | None = None
    no_recovery: bool = False
    poll_seconds: int = 30
    timeout_minutes: int = 1440
    # every S3 object known to exist (history, listing): a wildcard ARN must match only its own set
    known_objects: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RdsCall:
    """One planned RDS procedure call, checked and ready to render."""

    step_no: int
    step: Step
    proc: str
    params: tuple[tuple[str, str | int], ...]  # name, value (str -> N'..', int -> number)
    label: str
    objects: tuple[str, ...] = ()


def _set_refs(bs: BackupSet) -> list[S3Ref]:
    """One mirror per family, each an S3 object, or refuse (exit 3)."""
    if bs.position and bs.position > 1:
        raise NotRecoverable(
            f"{bs.type.label} backup set {bs.backup_set_uuid} is at position {bs.position} of its media: "
            "RDS restores one backup set per S3 object (the first), it has no FILE = n",
            hint="restore that backup elsewhere, or take a new native backup with rds_backup_database",
            backup_set_uuid=bs.backup_set_uuid, code="RDS_POSITION")
    missing = bs.missing_families
    if missing:
        raise NotRecoverable(f"backup set {bs.backup_set_uuid} lacks media families {list(missing)}",
                             backup_set_uuid=bs.backup_set_uuid, code="RDS_MISSING_FAMILY")
    families = bs.families
    if len(families) > MAX_FILES:
        raise NotRecoverable(
            f"{bs.type.label} backup set {bs.backup_set_uuid} has {len(families)} files: RDS restores at most "
            f"{MAX_FILES} files per backup (\"The Restore task is unable to restore from more than 10 backup file(s)\")",
            hint="restore it on SQL Server (EC2 or on premises) instead",
            backup_set_uuid=bs.backup_set_uuid, code="RDS_TOO_MANY_FILES")
    refs: list[S3Ref] = []
    for mirrors in families.values():
        chosen = None
        for m in mirrors:  # mirrored sets: the first mirror that lives in S3
            chosen = parse_s3_name(m.physical_device_name)
            if chosen is not None:
                break
        if chosen is None:
            raise NotRecoverable(
                f"{bs.type.label} backup set {bs.backup_set_uuid} is in {mirrors[0].physical_device_name!r}: "
                "RDS restores only from Amazon S3 objects, not from disk, share or Azure paths",
                hint="copy the file to S3 (aws s3 cp) and plan from a history that names the S3 object "
                     "(s3://bucket/key or arn:aws:s3:::bucket/key)",
                backup_set_uuid=bs.backup_set_uuid, code="RDS_NOT_S3")
        refs.append(chosen)
    bases = {r.base for r in refs}
    if len(bases) > 1:
        raise NotRecoverable(
            f"backup set {bs.backup_set_uuid} is spread over several buckets ({', '.join(sorted(bases))}): "
            "RDS takes one ARN (prefix + *) per backup",
            hint="copy all its files under one prefix of one bucket", backup_set_uuid=bs.backup_set_uuid,
            code="RDS_SPLIT_BUCKETS")
    return refs


def _wildcard_arn(bs: BackupSet, refs: list[S3Ref], known: Iterable[str]) -> str:
    """The ARN for the set: the object itself, or the common prefix of its objects + ``*``."""
    keys = [r.key for r in refs]
    base = refs[0].base
    if len(refs) == 1 and "*" not in keys[0]:
        return refs[0].arn
    prefix = os.path.commonprefix(keys)
    if "*" in prefix:
        prefix = prefix[: prefix.index("*")]
    if not prefix:
        raise NotRecoverable(
            f"backup set {bs.backup_set_uuid}: its files {keys} share no key prefix ('S3 ARN prefix cannot be empty')",
            hint="copy its files under one common prefix", backup_set_uuid=bs.backup_set_uuid, code="RDS_PREFIX")
    own = set(keys)
    others = sorted({k for k in _keys_under(known, base) if k.startswith(prefix) and k not in own})
    if others:
        raise NotRecoverable(
            f"backup set {bs.backup_set_uuid}: the ARN {base + prefix}* would also match {len(others)} other "
            f"object(s), e.g. {others[0]!r}; RDS would restore them as part of this backup",
            hint="move this set's files under their own prefix", backup_set_uuid=bs.backup_set_uuid,
            code="RDS_PREFIX_SHARED")
    return base + prefix + "*"


def _keys_under(known: Iterable[str], base: str) -> list[str]:
    out = []
    for name in known:
        ref = parse_s3_name(name)
        if ref is not None and ref.base == base:
            out.append(ref.key)
    return out


_NATIVE_ENCRYPTORS = ("CERTIFICATE", "ASYMMETRIC KEY")


def natively_encrypted(bs: BackupSet) -> bool:
    """SQL Server backup encryption (BACKUP ... WITH ENCRYPTION, a certificate or asymmetric key in master).

    msdb shows it as key_algorithm / encryptor_type / encryptor_thumbprint ('NO_Encryption' = none,
    restore-rules A.1). RDS's own KMS encryption of the S3 object (@kms_master_key_arn) is applied by
    RDS outside SQL Server and never appears in these columns.
    """
    algorithm = (bs.key_algorithm or "").strip()
    if algorithm and algorithm.upper() != "NO_ENCRYPTION":
        return True
    if (bs.encryptor_type or "").strip().upper() in _NATIVE_ENCRYPTORS:
        return True
    return bool((bs.encryptor_thumbprint or "").strip())


def check_args(opts: RdsOptions) -> None:
    """Argument-level refusals that need no plan."""
    if not opts.target_name:
        raise UsageError(
            "--target-name is required with --dialect rds: RDS cannot restore over an existing database "
            "(there is no REPLACE; names are unique regardless of case or accent)",
            hint="restore under a new name, e.g. --target-name Sales_restored", code="RDS_TARGET_NAME")
    check_rds_name(opts.target_name)
    normalize_volume(opts.data_volume, "--data-volume")
    normalize_volume(opts.log_volume, "--log-volume")
    if opts.instance_region and not _REGION.fullmatch(opts.instance_region):
        raise UsageError(f"--instance-region {opts.instance_region!r} is not an AWS region name",
                         hint="e.g. us-east-1")
    if opts.kms_key_arn:
        km = _KMS_ARN.fullmatch(opts.kms_key_arn)
        if not km:
            raise UsageError(f"--kms-key-arn {opts.kms_key_arn!r} is not a KMS key ARN",
                             hint="arn:aws:kms:region:account-id:key/key-id (a symmetric key)")
        if opts.instance_region and km.group(1) != opts.instance_region:
            raise UsageError(f"the KMS key is in {km.group(1)} but the instance is in {opts.instance_region}",
                             hint="use a key of the instance's region", code="RDS_REGION")


def build_calls(plan: Plan, options: RdsOptions) -> list[RdsCall]:
    """Check the plan against every RDS rule and turn it into procedure calls (no text yet)."""
    check_args(options)
    target = options.target_name
    assert target is not None
    if plan.target.kind in (TargetKind.LSN, TargetKind.MARK, TargetKind.BEFORE_MARK):
        raise UsageError(f"RDS cannot restore to {plan.target.describe()}: rds_restore_log has no STOPATMARK/STOPBEFOREMARK",
                         hint="use --at TIME or --latest", code="RDS_NO_MARKS")
    for step in plan.steps:
        if step.action is Action.BACKUP_TAIL_LOG or step.is_tail:
            raise UsageError(
                "the plan needs a tail-log backup, which RDS cannot take or restore (no native log backups on RDS)",
                hint="use --tail never, or a time covered by the existing backups (--latest)", code="RDS_TAIL")
        if step.stop is not None and step.stop.kind is not StopKind.STOPAT:
            raise UsageError("the plan stops at a mark or LSN, which rds_restore_log cannot do",
                             hint="use --at TIME or --latest", code="RDS_NO_MARKS")
    restore_steps = [s for s in plan.steps if s.backup is not None]
    all_refs: dict[str, list[S3Ref]] = {}
    for step in restore_steps:
        assert step.backup is not None
        all_refs[step.backup.backup_set_uuid] = _set_refs(step.backup)
    if options.instance_region:
        for uuid, refs in all_refs.items():
            for r in refs:
                if r.region and r.region != options.instance_region:
                    raise NotRecoverable(
                        f"backup set {uuid} is in {r.arn} (region {r.region}) but the instance is in "
                        f"{options.instance_region}: RDS native restore needs a bucket in the instance's region",
                        hint="copy the objects to a bucket in the instance's region", backup_set_uuid=uuid,
                        code="RDS_REGION")
    for step in restore_steps:
        bs = step.backup
        assert bs is not None
        if natively_encrypted(bs):
            raise NotRecoverable(
                f"{bs.type.label} backup set {bs.backup_set_uuid} is encrypted by SQL Server backup encryption "
                f"({bs.encryptor_type or 'encryptor'} {bs.key_algorithm or ''}".rstrip() + "): RDS native restore "
                "has no way to supply the certificate or asymmetric key it needs (it would have to be in the "
                "instance's master database); @kms_master_key_arn is RDS's own S3-object encryption, not this",
                hint="restore it on SQL Server (EC2 or on premises) that holds the certificate; for RDS, back the "
                     "database up again without WITH ENCRYPTION (protect the S3 object with S3/KMS encryption)",
                backup_set_uuid=bs.backup_set_uuid, code="RDS_NATIVE_ENCRYPTED")
        if step.action is Action.RESTORE_LOG and (len(all_refs[bs.backup_set_uuid]) > 1
                                                  or "*" in all_refs[bs.backup_set_uuid][0].key):
            refs = all_refs[bs.backup_set_uuid]
            raise NotRecoverable(
                f"log backup set {bs.backup_set_uuid} is striped over {len(refs)} files "
                f"({', '.join(r.arn for r in refs)})" if len(refs) > 1 else
                f"log backup set {bs.backup_set_uuid} is in {refs[0].arn}, whose key contains '*'",
                hint="rds_restore_log restores exactly one file per call (no wildcard, restore-rules D.3): restore "
                     "this log on SQL Server (EC2 or on premises), or restore only up to the log before it",
                backup_set_uuid=bs.backup_set_uuid, code="RDS_STRIPED_LOG")
    known = set(options.known_objects)
    for refs in all_refs.values():
        known.update(r.arn for r in refs)
    data_vol = normalize_volume(options.data_volume, "--data-volume")
    log_vol = normalize_volume(options.log_volume, "--log-volume")
    stop_text = plan.target_time.local_text if plan.target.kind is TargetKind.TIME and plan.target_time else None
    calls: list[RdsCall] = []
    logs = [s for s in plan.steps if s.action is Action.RESTORE_LOG]
    first_data = True
    for n, step in enumerate(plan.steps, start=1):
        bs = step.backup
        if step.action is Action.RECOVER:
            if options.no_recovery:
                continue
            calls.append(RdsCall(n, step, "msdb.dbo.rds_finish_restore", (("db_name", target),),
                                 "finish restore"))
            continue
        assert bs is not None
        refs = all_refs[bs.backup_set_uuid]
        arn = _wildcard_arn(bs, refs, known)
        params: list[tuple[str, str | int]] = [("restore_db_name", target), ("s3_arn_to_restore_from", arn)]
        if step.action is Action.RESTORE_DATABASE:
            if bs.type not in (BackupType.FULL, BackupType.DIFF):
                raise NotRecoverable(f"RDS restores only full and differential database backups, not {bs.type.label} "
                                     f"backup {bs.backup_set_uuid}", backup_set_uuid=bs.backup_set_uuid,
                                     code="RDS_BACKUP_TYPE")
            is_full = bs.type is BackupType.FULL
            params.append(("type", Keyword("FULL" if is_full else "DIFFERENTIAL")))
            params.append(("with_norecovery", 1))
            if is_full and first_data:
                if data_vol:
                    params.append(("data_file_volume", Keyword(data_vol)))
                if log_vol:
                    params.append(("log_file_volume", Keyword(log_vol)))
            first_data = False
            if options.kms_key_arn:  # the objects were KMS-encrypted by rds_backup_database: every one
                params.append(("kms_master_key_arn", options.kms_key_arn))
            proc = "msdb.dbo.rds_restore_database"
            label = f"{bs.type.label} backup"
        else:
            params.append(("with_norecovery", 1))
            if options.kms_key_arn:
                params.append(("kms_master_key_arn", options.kms_key_arn))
            stop = step.stop.value if step.stop is not None else None
            if stop is None and stop_text is not None and step is logs[-1]:
                stop = stop_text  # @stopat on the last log even when it ends exactly at T
            if stop is not None:  # never rounded later than asked (datetime ticks), in the AWS examples' form
                params.append(("stopat", datetime_literal_text(stop, " ") or stop))
            proc = "msdb.dbo.rds_restore_log"
            label = "log backup"
        calls.append(RdsCall(n, step, proc, tuple(params), label, tuple(r.arn for r in refs)))
    return calls


class Keyword(str):
    """A fixed ASCII value from a closed set (FULL, DIFFERENTIAL, D:): written as '...' like the RDS docs."""

    __slots__ = ()


def _param_value(batch: Batch, value: str | int) -> str:
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, Keyword) and re.fullmatch(r"[A-Z:]+", value):
        return f"'{value}'"
    return batch.literal(value)


class RdsEmitter:
    """Turns checked calls into one T-SQL batch that queues each task and waits for it."""

    def __init__(self, plan: Plan, options: RdsOptions) -> None:
        self.plan = plan
        self.opts = options
        self.batch = Batch()

    def _wait(self, call: RdsCall, label_lit: str, db_lit: str) -> list[str]:
        n = call.step_no
        return [
            f"SET @step = {label_lit};",
            "SET @task_id = NULL;",
            "SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)",
            f"    WHERE task_id > @before AND database_name = {db_lit};",
            "IF @task_id IS NULL",
            "BEGIN",
            "    SET @msg = @step + N': no RDS task was queued (see the error above)';",
            f"    THROW {50100 + n}, @msg, 1;",
            "END;",
            "SELECT @waited_since = SYSUTCDATETIME(), @last = N'';",
            "WHILE 1 = 1",
            "BEGIN",
            "    SELECT @lifecycle = lifecycle, @task_info = task_info, @pct = [% complete]",
            "        FROM msdb.dbo.rds_fn_task_status(NULL, @task_id);",
            "    IF @lifecycle = N'SUCCESS' BREAK;",
            "    IF @lifecycle IN (N'ERROR', N'CANCELLED', N'CANCEL_REQUESTED')",
            "    BEGIN",
            "        SET @msg = LEFT(@step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' ended ' + @lifecycle",
            "            + N': ' + ISNULL(@task_info, N'(no task_info)'), 2000);",
            f"        THROW {50100 + n}, @msg, 1;",
            "    END;",
            "    IF DATEDIFF(MINUTE, @waited_since, SYSUTCDATETIME()) >= @timeout_minutes",
            "    BEGIN",
            "        SET @msg = @step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' still '",
            "            + ISNULL(@lifecycle, N'not listed') + N' after ' + CAST(@timeout_minutes AS nvarchar(10))",
            "            + N' minutes; nothing more was queued (exec msdb.dbo.rds_task_status @task_id = '",
            "            + CAST(@task_id AS nvarchar(20)) + N')';",
            f"        THROW {50100 + n}, @msg, 1;",
            "    END;",
            "    IF ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'') <> @last",
            "    BEGIN",
            "        SET @last = ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'');",
            "        SET @pct = ISNULL(@pct, 0);",
            "        RAISERROR(N'%s: task %d %s, %d%% complete', 0, 1, @step, @task_id, @lifecycle, @pct) WITH NOWAIT;",
            "    END;",
            "    WAITFOR DELAY @poll_delay;",
            "END;",
            "RAISERROR(N'%s: task %d SUCCESS', 0, 1, @step, @task_id) WITH NOWAIT;",
        ]

    def render(self, calls: list[RdsCall]) -> str:
        p, o = self.plan, self.opts
        target = o.target_name or p.database_name
        db_lit = self.batch.literal(target, "sysname")
        body: list[str] = []
        total = len(calls)
        for i, call in enumerate(calls, start=1):
            step = call.step
            body.append(f"-- Step {i} of {total}: {comment_text(step.why)}")
            bs = step.backup
            if bs is not None:
                body.append(
                    f"-- {bs.type.label} backup set {comment_text(bs.backup_set_uuid)}, finished "
                    f"{bs.backup_finish_date:%Y-%m-%d %H:%M:%S} (server-local), "
                    f"LSN {comment_text(str(bs.first_lsn))} .. {comment_text(str(bs.last_lsn))}")
                if len(call.objects) > 1 or any("*" in c for c in call.objects):
                    body.append(f"-- {len(call.objects)} file(s): " + ", ".join(comment_text(x) for x in call.objects))
            if step.stop is not None and step.stop.utc:
                body.append(f"-- @stopat is the source server's local time; {comment_text(step.stop.value)} = "
                            f"{comment_text(step.stop.utc)} UTC")
            label_lit = self.batch.literal(f"step {i} of {total} ({call.label})")
            args = [f"@{name} = {_param_value(self.batch, value)}" for name, value in call.params]
            body.append("SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);")
            body.append(f"exec {call.proc}\n    " + ",\n    ".join(args) + ";")
            body.extend(self._wait(call, label_lit, db_lit))
            body.append("")
        if o.no_recovery:
            body.append("-- --no-recovery: the database is left RESTORING; to bring it online later run:")
            body.append(f"-- exec msdb.dbo.rds_finish_restore @db_name = {comment_text(db_lit)};")
        regions = sorted({r for c in calls for r in [_bucket_of(c)] if r})
        head = [
            "-- restoreplan: Amazon RDS for SQL Server restore script (SSMS, Azure Data Studio, or sqlcmd). The "
            "file is UTF-8: ODBC sqlcmd needs -f 65001 (sqlcmd -b -f 65001 -i this.sql); go-sqlcmd reads it as it is",
            f"-- source database: {comment_text(p.database_name)} (family_guid {comment_text(p.family_guid or p.lineage_key)})",
            f"-- restore as: {comment_text(target)}",
            f"-- target: {comment_text(p.target.describe())}",
            f"-- recovery point: {comment_text(p.recovery_point)}",
        ]
        head += [f"-- warning: {comment_text(w)}" for w in p.warnings]
        head += [
            "-- needs: the SQLSERVER_BACKUP_RESTORE option with an IAM role that can read "
            + (", ".join(comment_text(r) for r in regions) or "the bucket") + " (same region as the instance)",
            "-- RDS tasks run asynchronously: each call queues a task and the script waits for it to succeed",
            "-- (msdb.dbo.rds_fn_task_status) before queuing the next; any failure stops the whole script.",
            "-- One batch on purpose: do not insert GO. Run it outside a transaction.",
            "SET NOCOUNT ON;",
            "SET DATEFORMAT ymd;  -- so @stopat (yyyy-mm-dd hh:mi:ss) reads the same under every login language",
            f"DECLARE @poll_delay char(8) = '{_delay(o.poll_seconds)}';  -- between status checks",
            f"DECLARE @timeout_minutes int = {int(o.timeout_minutes)};  -- per task",
            "DECLARE @before int, @task_id int, @pct int, @lifecycle nvarchar(60), @task_info nvarchar(max),",
            "        @step nvarchar(200), @last nvarchar(100), @msg nvarchar(2048), @waited_since datetime2;",
        ]
        head += self.batch.declarations
        head += [
            "IF @@TRANCOUNT > 0",
            "    THROW 50001, N'RDS restore procedures cannot run inside a transaction: commit or roll back first', 1;",
            f"IF DB_ID({db_lit}) IS NOT NULL",
            "BEGIN",
            "    SET @msg = N'a database named ' + " + db_lit + " + N' already exists on this instance: RDS cannot "
            "restore over it (drop it with msdb.dbo.rds_drop_database or choose another --target-name)';",
            "    THROW 50002, @msg, 1;",
            "END;",
            "",
        ]
        return "\n".join(head + body).rstrip() + "\n"


def _bucket_of(call: RdsCall) -> str | None:
    for obj in call.objects:
        ref = parse_s3_name(obj)
        if ref is not None:
            return ref.base.rstrip("/")
    return None


def _delay(seconds: int) -> str:
    s = max(1, min(int(seconds), 3600))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def render_rds(plan: Plan, options: RdsOptions) -> str:
    """The RDS restore script for ``plan``; raises UsageError / NotRecoverable for what RDS cannot do."""
    calls = build_calls(plan, options)
    return RdsEmitter(plan, options).render(calls)


def options_from_args(args: argparse.Namespace, known_objects: tuple[str, ...] = ()) -> RdsOptions:
    return RdsOptions(
        target_name=getattr(args, "target_name", None),
        data_volume=getattr(args, "data_volume", None),
        log_volume=getattr(args, "log_volume", None),
        kms_key_arn=getattr(args, "kms_key_arn", None),
        instance_region=getattr(args, "instance_region", None),
        no_recovery=bool(getattr(args, "no_recovery", False)),
        known_objects=known_objects,
    )


def refuse_args(args: argparse.Namespace) -> None:
    """Refusals decided by the arguments alone (exit 2), before any history is read."""
    if getattr(args, "data_dir", None) or getattr(args, "log_dir", None):
        raise UsageError("RDS cannot relocate files (--data-dir/--log-dir): there is no MOVE on RDS",
                         hint="use --data-volume / --log-volume (D:, H:, I: or J:)", code="RDS_NO_MOVE")
    if getattr(args, "replace", False):
        raise UsageError("RDS cannot restore over an existing database (--replace): there is no REPLACE on RDS",
                         hint="drop it first (exec msdb.dbo.rds_drop_database) or restore under another --target-name",
                         code="RDS_NO_REPLACE")
    if getattr(args, "standby", None):
        raise UsageError("RDS cannot leave a database in STANDBY (--standby)",
                         hint="use --no-recovery to leave it RESTORING", code="RDS_NO_STANDBY")
    if getattr(args, "lsn", None) or getattr(args, "mark", None) or getattr(args, "before_mark", None):
        raise UsageError("RDS cannot stop at an LSN or a mark: rds_restore_log takes only @stopat (a time)",
                         hint="use --at TIME or --latest", code="RDS_NO_MARKS")
    if getattr(args, "tail_file", None):
        raise UsageError("RDS cannot take or restore a tail-log backup (--tail-file)",
                         hint="use --tail never", code="RDS_TAIL")
    check_args(options_from_args(args))


def _history_objects(args: argparse.Namespace) -> tuple[str, ...]:
    """Every S3 object the history names (for the wildcard-prefix check)."""
    from restoreplan.cli.common import load_from_args

    loaded = load_from_args(args, whole=True)  # other databases' objects share prefixes too
    return tuple(f.physical_device_name for bs in loaded.history.all_sets() for f in bs.files)


def run_rds_script(args: argparse.Namespace, make_plan: Callable[[argparse.Namespace], Plan]) -> int:
    """`restoreplan script --dialect rds`: print the script, or raise the refusal."""
    refuse_args(args)
    plan = make_plan(args)
    needs_prefix = any(s.backup is not None and (len(s.backup.families) > 1 or
                                                 any("*" in f.physical_device_name for f in s.backup.files))
                       for s in plan.steps)
    known = _history_objects(args) if needs_prefix else ()
    sys.stdout.write(render_rds(plan, options_from_args(args, known)))
    return 0
