-- restoreplan: Amazon RDS for SQL Server restore script (SSMS, Azure Data Studio, or sqlcmd). The file is UTF-8: ODBC sqlcmd needs -f 65001 (sqlcmd -b -f 65001 -i this.sql); go-sqlcmd reads it as it is
-- source database: Sales (family_guid 47eaa099-2cb6-416d-86dc-283cf0480ff9)
-- restore as: Sales_restored
-- target: time 2026-11-18 14:37:00
-- recovery point: 2026-11-18 14:37:00 server-local (2026-11-18 19:37:00Z): the latest commit at or before it
-- warning: the plan starts from copy-only full cce7ace8-deda-468b-afd0-2e444f7868fd
-- needs: the SQLSERVER_BACKUP_RESTORE option with an IAM role that can read arn:aws:s3:::prod-backups (same region as the instance)
-- RDS tasks run asynchronously: each call queues a task and the script waits for it to succeed
-- (msdb.dbo.rds_fn_task_status) before queuing the next; any failure stops the whole script.
-- One batch on purpose: do not insert GO. Run it outside a transaction.
SET NOCOUNT ON;
SET DATEFORMAT ymd;  -- so @stopat (yyyy-mm-dd hh:mi:ss) reads the same under every login language
DECLARE @poll_delay char(8) = '00:00:30';  -- between status checks
DECLARE @timeout_minutes int = 1440;  -- per task
DECLARE @before int, @task_id int, @pct int, @lifecycle nvarchar(60), @task_info nvarchar(max),
        @step nvarchar(200), @last nvarchar(100), @msg nvarchar(2048), @waited_since datetime2;
IF @@TRANCOUNT > 0
    THROW 50001, N'RDS restore procedures cannot run inside a transaction: commit or roll back first', 1;
IF DB_ID(N'Sales_restored') IS NOT NULL
BEGIN
    SET @msg = N'a database named ' + N'Sales_restored' + N' already exists on this instance: RDS cannot restore over it (drop it with msdb.dbo.rds_drop_database or choose another --target-name)';
    THROW 50002, @msg, 1;
END;

-- Step 1 of 14: full backup finished 2026-11-18 12:35:00 (copy-only: it starts the chain but is never a differential base)
-- full backup set cce7ace8-deda-468b-afd0-2e444f7868fd, finished 2026-11-18 12:35:00 (server-local), LSN 70000001481400001 .. 70000001496000001
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_restore_database
    @restore_db_name = N'Sales_restored',
    @s3_arn_to_restore_from = N'arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_FULL_COPY_ONLY_20261118_120000.bak',
    @type = 'FULL',
    @with_norecovery = 1;
SET @step = N'step 1 of 14 (full backup)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_restored';
IF @task_id IS NULL
BEGIN
    SET @msg = @step + N': no RDS task was queued (see the error above)';
    THROW 50101, @msg, 1;
END;
SELECT @waited_since = SYSUTCDATETIME(), @last = N'';
WHILE 1 = 1
BEGIN
    SELECT @lifecycle = lifecycle, @task_info = task_info, @pct = [% complete]
        FROM msdb.dbo.rds_fn_task_status(NULL, @task_id);
    IF @lifecycle = N'SUCCESS' BREAK;
    IF @lifecycle IN (N'ERROR', N'CANCELLED', N'CANCEL_REQUESTED')
    BEGIN
        SET @msg = LEFT(@step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' ended ' + @lifecycle
            + N': ' + ISNULL(@task_info, N'(no task_info)'), 2000);
        THROW 50101, @msg, 1;
    END;
    IF DATEDIFF(MINUTE, @waited_since, SYSUTCDATETIME()) >= @timeout_minutes
    BEGIN
        SET @msg = @step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' still '
            + ISNULL(@lifecycle, N'not listed') + N' after ' + CAST(@timeout_minutes AS nvarchar(10))
            + N' minutes; nothing more was queued (exec msdb.dbo.rds_task_status @task_id = '
            + CAST(@task_id AS nvarchar(20)) + N')';
        THROW 50101, @msg, 1;
    END;
    IF ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'') <> @last
    BEGIN
        SET @last = ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'');
        SET @pct = ISNULL(@pct, 0);
        RAISERROR(N'%s: task %d %s, %d%% complete', 0, 1, @step, @task_id, @lifecycle, @pct) WITH NOWAIT;
    END;
    WAITFOR DELAY @poll_delay;
END;
RAISERROR(N'%s: task %d SUCCESS', 0, 1, @step, @task_id) WITH NOWAIT;

-- Step 2 of 14: first log after the full backup: it contains LSN 70000001496000001, the redo point
-- log backup set 371da84a-bd7c-48a0-b18b-45a416e39f2b, finished 2026-11-18 12:01:20 (server-local), LSN 70000001477400001 .. 70000001521400001
-- @stopat is the source server's local time; 2026-11-18 14:37:00 = 2026-11-18 19:37:00Z UTC
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_restore_log
    @restore_db_name = N'Sales_restored',
    @s3_arn_to_restore_from = N'arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_LOG_20261118_120100.trn',
    @with_norecovery = 1,
    @stopat = N'2026-11-18 14:37:00';
SET @step = N'step 2 of 14 (log backup)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_restored';
IF @task_id IS NULL
BEGIN
    SET @msg = @step + N': no RDS task was queued (see the error above)';
    THROW 50102, @msg, 1;
END;
SELECT @waited_since = SYSUTCDATETIME(), @last = N'';
WHILE 1 = 1
BEGIN
    SELECT @lifecycle = lifecycle, @task_info = task_info, @pct = [% complete]
        FROM msdb.dbo.rds_fn_task_status(NULL, @task_id);
    IF @lifecycle = N'SUCCESS' BREAK;
    IF @lifecycle IN (N'ERROR', N'CANCELLED', N'CANCEL_REQUESTED')
    BEGIN
        SET @msg = LEFT(@step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' ended ' + @lifecycle
            + N': ' + ISNULL(@task_info, N'(no task_info)'), 2000);
        THROW 50102, @msg, 1;
    END;
    IF DATEDIFF(MINUTE, @waited_since, SYSUTCDATETIME()) >= @timeout_minutes
    BEGIN
        SET @msg = @step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' still '
            + ISNULL(@lifecycle, N'not listed') + N' after ' + CAST(@timeout_minutes AS nvarchar(10))
            + N' minutes; nothing more was queued (exec msdb.dbo.rds_task_status @task_id = '
            + CAST(@task_id AS nvarchar(20)) + N')';
        THROW 50102, @msg, 1;
    END;
    IF ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'') <> @last
    BEGIN
        SET @last = ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'');
        SET @pct = ISNULL(@pct, 0);
        RAISERROR(N'%s: task %d %s, %d%% complete', 0, 1, @step, @task_id, @lifecycle, @pct) WITH NOWAIT;
    END;
    WAITFOR DELAY @poll_delay;
END;
RAISERROR(N'%s: task %d SUCCESS', 0, 1, @step, @task_id) WITH NOWAIT;

-- Step 3 of 14: next log in the chain (first_lsn 70000001521400001)
-- log backup set a9b0e542-6291-4b55-9de8-7abe5ef9e8fc, finished 2026-11-18 12:15:20 (server-local), LSN 70000001521400001 .. 70000001557600001
-- @stopat is the source server's local time; 2026-11-18 14:37:00 = 2026-11-18 19:37:00Z UTC
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_restore_log
    @restore_db_name = N'Sales_restored',
    @s3_arn_to_restore_from = N'arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_LOG_20261118_121500.trn',
    @with_norecovery = 1,
    @stopat = N'2026-11-18 14:37:00';
SET @step = N'step 3 of 14 (log backup)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_restored';
IF @task_id IS NULL
BEGIN
    SET @msg = @step + N': no RDS task was queued (see the error above)';
    THROW 50103, @msg, 1;
END;
SELECT @waited_since = SYSUTCDATETIME(), @last = N'';
WHILE 1 = 1
BEGIN
    SELECT @lifecycle = lifecycle, @task_info = task_info, @pct = [% complete]
        FROM msdb.dbo.rds_fn_task_status(NULL, @task_id);
    IF @lifecycle = N'SUCCESS' BREAK;
    IF @lifecycle IN (N'ERROR', N'CANCELLED', N'CANCEL_REQUESTED')
    BEGIN
        SET @msg = LEFT(@step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' ended ' + @lifecycle
            + N': ' + ISNULL(@task_info, N'(no task_info)'), 2000);
        THROW 50103, @msg, 1;
    END;
    IF DATEDIFF(MINUTE, @waited_since, SYSUTCDATETIME()) >= @timeout_minutes
    BEGIN
        SET @msg = @step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' still '
            + ISNULL(@lifecycle, N'not listed') + N' after ' + CAST(@timeout_minutes AS nvarchar(10))
            + N' minutes; nothing more was queued (exec msdb.dbo.rds_task_status @task_id = '
            + CAST(@task_id AS nvarchar(20)) + N')';
        THROW 50103, @msg, 1;
    END;
    IF ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'') <> @last
    BEGIN
        SET @last = ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'');
        SET @pct = ISNULL(@pct, 0);
        RAISERROR(N'%s: task %d %s, %d%% complete', 0, 1, @step, @task_id, @lifecycle, @pct) WITH NOWAIT;
    END;
    WAITFOR DELAY @poll_delay;
END;
RAISERROR(N'%s: task %d SUCCESS', 0, 1, @step, @task_id) WITH NOWAIT;

-- Step 4 of 14: next log in the chain (first_lsn 70000001557600001)
-- log backup set 0d35ea3e-5ef7-40cb-aabf-e91ff519ca89, finished 2026-11-18 12:30:20 (server-local), LSN 70000001557600001 .. 70000001568800001
-- @stopat is the source server's local time; 2026-11-18 14:37:00 = 2026-11-18 19:37:00Z UTC
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_restore_log
    @restore_db_name = N'Sales_restored',
    @s3_arn_to_restore_from = N'arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_LOG_20261118_123000.trn',
    @with_norecovery = 1,
    @stopat = N'2026-11-18 14:37:00';
SET @step = N'step 4 of 14 (log backup)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_restored';
IF @task_id IS NULL
BEGIN
    SET @msg = @step + N': no RDS task was queued (see the error above)';
    THROW 50104, @msg, 1;
END;
SELECT @waited_since = SYSUTCDATETIME(), @last = N'';
WHILE 1 = 1
BEGIN
    SELECT @lifecycle = lifecycle, @task_info = task_info, @pct = [% complete]
        FROM msdb.dbo.rds_fn_task_status(NULL, @task_id);
    IF @lifecycle = N'SUCCESS' BREAK;
    IF @lifecycle IN (N'ERROR', N'CANCELLED', N'CANCEL_REQUESTED')
    BEGIN
        SET @msg = LEFT(@step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' ended ' + @lifecycle
            + N': ' + ISNULL(@task_info, N'(no task_info)'), 2000);
        THROW 50104, @msg, 1;
    END;
    IF DATEDIFF(MINUTE, @waited_since, SYSUTCDATETIME()) >= @timeout_minutes
    BEGIN
        SET @msg = @step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' still '
            + ISNULL(@lifecycle, N'not listed') + N' after ' + CAST(@timeout_minutes AS nvarchar(10))
            + N' minutes; nothing more was queued (exec msdb.dbo.rds_task_status @task_id = '
            + CAST(@task_id AS nvarchar(20)) + N')';
        THROW 50104, @msg, 1;
    END;
    IF ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'') <> @last
    BEGIN
        SET @last = ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'');
        SET @pct = ISNULL(@pct, 0);
        RAISERROR(N'%s: task %d %s, %d%% complete', 0, 1, @step, @task_id, @lifecycle, @pct) WITH NOWAIT;
    END;
    WAITFOR DELAY @poll_delay;
END;
RAISERROR(N'%s: task %d SUCCESS', 0, 1, @step, @task_id) WITH NOWAIT;

-- Step 5 of 14: next log in the chain (first_lsn 70000001568800001)
-- log backup set d0546756-9ebc-4789-aa6d-c3fa39609771, finished 2026-11-18 12:45:20 (server-local), LSN 70000001568800001 .. 70000001602900001
-- @stopat is the source server's local time; 2026-11-18 14:37:00 = 2026-11-18 19:37:00Z UTC
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_restore_log
    @restore_db_name = N'Sales_restored',
    @s3_arn_to_restore_from = N'arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_LOG_20261118_124500.trn',
    @with_norecovery = 1,
    @stopat = N'2026-11-18 14:37:00';
SET @step = N'step 5 of 14 (log backup)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_restored';
IF @task_id IS NULL
BEGIN
    SET @msg = @step + N': no RDS task was queued (see the error above)';
    THROW 50105, @msg, 1;
END;
SELECT @waited_since = SYSUTCDATETIME(), @last = N'';
WHILE 1 = 1
BEGIN
    SELECT @lifecycle = lifecycle, @task_info = task_info, @pct = [% complete]
        FROM msdb.dbo.rds_fn_task_status(NULL, @task_id);
    IF @lifecycle = N'SUCCESS' BREAK;
    IF @lifecycle IN (N'ERROR', N'CANCELLED', N'CANCEL_REQUESTED')
    BEGIN
        SET @msg = LEFT(@step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' ended ' + @lifecycle
            + N': ' + ISNULL(@task_info, N'(no task_info)'), 2000);
        THROW 50105, @msg, 1;
    END;
    IF DATEDIFF(MINUTE, @waited_since, SYSUTCDATETIME()) >= @timeout_minutes
    BEGIN
        SET @msg = @step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' still '
            + ISNULL(@lifecycle, N'not listed') + N' after ' + CAST(@timeout_minutes AS nvarchar(10))
            + N' minutes; nothing more was queued (exec msdb.dbo.rds_task_status @task_id = '
            + CAST(@task_id AS nvarchar(20)) + N')';
        THROW 50105, @msg, 1;
    END;
    IF ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'') <> @last
    BEGIN
        SET @last = ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'');
        SET @pct = ISNULL(@pct, 0);
        RAISERROR(N'%s: task %d %s, %d%% complete', 0, 1, @step, @task_id, @lifecycle, @pct) WITH NOWAIT;
    END;
    WAITFOR DELAY @poll_delay;
END;
RAISERROR(N'%s: task %d SUCCESS', 0, 1, @step, @task_id) WITH NOWAIT;

-- Step 6 of 14: next log in the chain (first_lsn 70000001602900001)
-- log backup set ea4e826e-073f-4c5f-8fc1-d8a0223f3e7f, finished 2026-11-18 13:00:20 (server-local), LSN 70000001602900001 .. 70000001641700001
-- @stopat is the source server's local time; 2026-11-18 14:37:00 = 2026-11-18 19:37:00Z UTC
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_restore_log
    @restore_db_name = N'Sales_restored',
    @s3_arn_to_restore_from = N'arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_LOG_20261118_130000.trn',
    @with_norecovery = 1,
    @stopat = N'2026-11-18 14:37:00';
SET @step = N'step 6 of 14 (log backup)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_restored';
IF @task_id IS NULL
BEGIN
    SET @msg = @step + N': no RDS task was queued (see the error above)';
    THROW 50106, @msg, 1;
END;
SELECT @waited_since = SYSUTCDATETIME(), @last = N'';
WHILE 1 = 1
BEGIN
    SELECT @lifecycle = lifecycle, @task_info = task_info, @pct = [% complete]
        FROM msdb.dbo.rds_fn_task_status(NULL, @task_id);
    IF @lifecycle = N'SUCCESS' BREAK;
    IF @lifecycle IN (N'ERROR', N'CANCELLED', N'CANCEL_REQUESTED')
    BEGIN
        SET @msg = LEFT(@step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' ended ' + @lifecycle
            + N': ' + ISNULL(@task_info, N'(no task_info)'), 2000);
        THROW 50106, @msg, 1;
    END;
    IF DATEDIFF(MINUTE, @waited_since, SYSUTCDATETIME()) >= @timeout_minutes
    BEGIN
        SET @msg = @step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' still '
            + ISNULL(@lifecycle, N'not listed') + N' after ' + CAST(@timeout_minutes AS nvarchar(10))
            + N' minutes; nothing more was queued (exec msdb.dbo.rds_task_status @task_id = '
            + CAST(@task_id AS nvarchar(20)) + N')';
        THROW 50106, @msg, 1;
    END;
    IF ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'') <> @last
    BEGIN
        SET @last = ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'');
        SET @pct = ISNULL(@pct, 0);
        RAISERROR(N'%s: task %d %s, %d%% complete', 0, 1, @step, @task_id, @lifecycle, @pct) WITH NOWAIT;
    END;
    WAITFOR DELAY @poll_delay;
END;
RAISERROR(N'%s: task %d SUCCESS', 0, 1, @step, @task_id) WITH NOWAIT;

-- Step 7 of 14: next log in the chain (first_lsn 70000001641700001)
-- log backup set 2a8b00e9-6f65-496b-91ed-76f0372462ec, finished 2026-11-18 13:15:20 (server-local), LSN 70000001641700001 .. 70000001674400001
-- @stopat is the source server's local time; 2026-11-18 14:37:00 = 2026-11-18 19:37:00Z UTC
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_restore_log
    @restore_db_name = N'Sales_restored',
    @s3_arn_to_restore_from = N'arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_LOG_20261118_131500.trn',
    @with_norecovery = 1,
    @stopat = N'2026-11-18 14:37:00';
SET @step = N'step 7 of 14 (log backup)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_restored';
IF @task_id IS NULL
BEGIN
    SET @msg = @step + N': no RDS task was queued (see the error above)';
    THROW 50107, @msg, 1;
END;
SELECT @waited_since = SYSUTCDATETIME(), @last = N'';
WHILE 1 = 1
BEGIN
    SELECT @lifecycle = lifecycle, @task_info = task_info, @pct = [% complete]
        FROM msdb.dbo.rds_fn_task_status(NULL, @task_id);
    IF @lifecycle = N'SUCCESS' BREAK;
    IF @lifecycle IN (N'ERROR', N'CANCELLED', N'CANCEL_REQUESTED')
    BEGIN
        SET @msg = LEFT(@step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' ended ' + @lifecycle
            + N': ' + ISNULL(@task_info, N'(no task_info)'), 2000);
        THROW 50107, @msg, 1;
    END;
    IF DATEDIFF(MINUTE, @waited_since, SYSUTCDATETIME()) >= @timeout_minutes
    BEGIN
        SET @msg = @step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' still '
            + ISNULL(@lifecycle, N'not listed') + N' after ' + CAST(@timeout_minutes AS nvarchar(10))
            + N' minutes; nothing more was queued (exec msdb.dbo.rds_task_status @task_id = '
            + CAST(@task_id AS nvarchar(20)) + N')';
        THROW 50107, @msg, 1;
    END;
    IF ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'') <> @last
    BEGIN
        SET @last = ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'');
        SET @pct = ISNULL(@pct, 0);
        RAISERROR(N'%s: task %d %s, %d%% complete', 0, 1, @step, @task_id, @lifecycle, @pct) WITH NOWAIT;
    END;
    WAITFOR DELAY @poll_delay;
END;
RAISERROR(N'%s: task %d SUCCESS', 0, 1, @step, @task_id) WITH NOWAIT;

-- Step 8 of 14: next log in the chain (first_lsn 70000001674400001)
-- log backup set bda4452d-e55c-4ae5-810b-102a35f169ce, finished 2026-11-18 13:30:20 (server-local), LSN 70000001674400001 .. 70000001698300001
-- @stopat is the source server's local time; 2026-11-18 14:37:00 = 2026-11-18 19:37:00Z UTC
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_restore_log
    @restore_db_name = N'Sales_restored',
    @s3_arn_to_restore_from = N'arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_LOG_20261118_133000.trn',
    @with_norecovery = 1,
    @stopat = N'2026-11-18 14:37:00';
SET @step = N'step 8 of 14 (log backup)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_restored';
IF @task_id IS NULL
BEGIN
    SET @msg = @step + N': no RDS task was queued (see the error above)';
    THROW 50108, @msg, 1;
END;
SELECT @waited_since = SYSUTCDATETIME(), @last = N'';
WHILE 1 = 1
BEGIN
    SELECT @lifecycle = lifecycle, @task_info = task_info, @pct = [% complete]
        FROM msdb.dbo.rds_fn_task_status(NULL, @task_id);
    IF @lifecycle = N'SUCCESS' BREAK;
    IF @lifecycle IN (N'ERROR', N'CANCELLED', N'CANCEL_REQUESTED')
    BEGIN
        SET @msg = LEFT(@step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' ended ' + @lifecycle
            + N': ' + ISNULL(@task_info, N'(no task_info)'), 2000);
        THROW 50108, @msg, 1;
    END;
    IF DATEDIFF(MINUTE, @waited_since, SYSUTCDATETIME()) >= @timeout_minutes
    BEGIN
        SET @msg = @step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' still '
            + ISNULL(@lifecycle, N'not listed') + N' after ' + CAST(@timeout_minutes AS nvarchar(10))
            + N' minutes; nothing more was queued (exec msdb.dbo.rds_task_status @task_id = '
            + CAST(@task_id AS nvarchar(20)) + N')';
        THROW 50108, @msg, 1;
    END;
    IF ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'') <> @last
    BEGIN
        SET @last = ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'');
        SET @pct = ISNULL(@pct, 0);
        RAISERROR(N'%s: task %d %s, %d%% complete', 0, 1, @step, @task_id, @lifecycle, @pct) WITH NOWAIT;
    END;
    WAITFOR DELAY @poll_delay;
END;
RAISERROR(N'%s: task %d SUCCESS', 0, 1, @step, @task_id) WITH NOWAIT;

-- Step 9 of 14: next log in the chain (first_lsn 70000001698300001)
-- log backup set 3af707e1-dfe9-44d4-9cc4-e002327616f3, finished 2026-11-18 13:45:20 (server-local), LSN 70000001698300001 .. 70000001736000001
-- @stopat is the source server's local time; 2026-11-18 14:37:00 = 2026-11-18 19:37:00Z UTC
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_restore_log
    @restore_db_name = N'Sales_restored',
    @s3_arn_to_restore_from = N'arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_LOG_20261118_134500.trn',
    @with_norecovery = 1,
    @stopat = N'2026-11-18 14:37:00';
SET @step = N'step 9 of 14 (log backup)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_restored';
IF @task_id IS NULL
BEGIN
    SET @msg = @step + N': no RDS task was queued (see the error above)';
    THROW 50109, @msg, 1;
END;
SELECT @waited_since = SYSUTCDATETIME(), @last = N'';
WHILE 1 = 1
BEGIN
    SELECT @lifecycle = lifecycle, @task_info = task_info, @pct = [% complete]
        FROM msdb.dbo.rds_fn_task_status(NULL, @task_id);
    IF @lifecycle = N'SUCCESS' BREAK;
    IF @lifecycle IN (N'ERROR', N'CANCELLED', N'CANCEL_REQUESTED')
    BEGIN
        SET @msg = LEFT(@step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' ended ' + @lifecycle
            + N': ' + ISNULL(@task_info, N'(no task_info)'), 2000);
        THROW 50109, @msg, 1;
    END;
    IF DATEDIFF(MINUTE, @waited_since, SYSUTCDATETIME()) >= @timeout_minutes
    BEGIN
        SET @msg = @step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' still '
            + ISNULL(@lifecycle, N'not listed') + N' after ' + CAST(@timeout_minutes AS nvarchar(10))
            + N' minutes; nothing more was queued (exec msdb.dbo.rds_task_status @task_id = '
            + CAST(@task_id AS nvarchar(20)) + N')';
        THROW 50109, @msg, 1;
    END;
    IF ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'') <> @last
    BEGIN
        SET @last = ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'');
        SET @pct = ISNULL(@pct, 0);
        RAISERROR(N'%s: task %d %s, %d%% complete', 0, 1, @step, @task_id, @lifecycle, @pct) WITH NOWAIT;
    END;
    WAITFOR DELAY @poll_delay;
END;
RAISERROR(N'%s: task %d SUCCESS', 0, 1, @step, @task_id) WITH NOWAIT;

-- Step 10 of 14: next log in the chain (first_lsn 70000001736000001)
-- log backup set c40ff681-8a59-4d94-8901-5ff59e3f83d2, finished 2026-11-18 14:00:20 (server-local), LSN 70000001736000001 .. 70000001755000001
-- @stopat is the source server's local time; 2026-11-18 14:37:00 = 2026-11-18 19:37:00Z UTC
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_restore_log
    @restore_db_name = N'Sales_restored',
    @s3_arn_to_restore_from = N'arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_LOG_20261118_140000.trn',
    @with_norecovery = 1,
    @stopat = N'2026-11-18 14:37:00';
SET @step = N'step 10 of 14 (log backup)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_restored';
IF @task_id IS NULL
BEGIN
    SET @msg = @step + N': no RDS task was queued (see the error above)';
    THROW 50110, @msg, 1;
END;
SELECT @waited_since = SYSUTCDATETIME(), @last = N'';
WHILE 1 = 1
BEGIN
    SELECT @lifecycle = lifecycle, @task_info = task_info, @pct = [% complete]
        FROM msdb.dbo.rds_fn_task_status(NULL, @task_id);
    IF @lifecycle = N'SUCCESS' BREAK;
    IF @lifecycle IN (N'ERROR', N'CANCELLED', N'CANCEL_REQUESTED')
    BEGIN
        SET @msg = LEFT(@step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' ended ' + @lifecycle
            + N': ' + ISNULL(@task_info, N'(no task_info)'), 2000);
        THROW 50110, @msg, 1;
    END;
    IF DATEDIFF(MINUTE, @waited_since, SYSUTCDATETIME()) >= @timeout_minutes
    BEGIN
        SET @msg = @step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' still '
            + ISNULL(@lifecycle, N'not listed') + N' after ' + CAST(@timeout_minutes AS nvarchar(10))
            + N' minutes; nothing more was queued (exec msdb.dbo.rds_task_status @task_id = '
            + CAST(@task_id AS nvarchar(20)) + N')';
        THROW 50110, @msg, 1;
    END;
    IF ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'') <> @last
    BEGIN
        SET @last = ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'');
        SET @pct = ISNULL(@pct, 0);
        RAISERROR(N'%s: task %d %s, %d%% complete', 0, 1, @step, @task_id, @lifecycle, @pct) WITH NOWAIT;
    END;
    WAITFOR DELAY @poll_delay;
END;
RAISERROR(N'%s: task %d SUCCESS', 0, 1, @step, @task_id) WITH NOWAIT;

-- Step 11 of 14: next log in the chain (first_lsn 70000001755000001)
-- log backup set f504dcce-cc27-4917-8dab-b4aec209b856, finished 2026-11-18 14:15:20 (server-local), LSN 70000001755000001 .. 70000001784300001
-- @stopat is the source server's local time; 2026-11-18 14:37:00 = 2026-11-18 19:37:00Z UTC
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_restore_log
    @restore_db_name = N'Sales_restored',
    @s3_arn_to_restore_from = N'arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_LOG_20261118_141500.trn',
    @with_norecovery = 1,
    @stopat = N'2026-11-18 14:37:00';
SET @step = N'step 11 of 14 (log backup)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_restored';
IF @task_id IS NULL
BEGIN
    SET @msg = @step + N': no RDS task was queued (see the error above)';
    THROW 50111, @msg, 1;
END;
SELECT @waited_since = SYSUTCDATETIME(), @last = N'';
WHILE 1 = 1
BEGIN
    SELECT @lifecycle = lifecycle, @task_info = task_info, @pct = [% complete]
        FROM msdb.dbo.rds_fn_task_status(NULL, @task_id);
    IF @lifecycle = N'SUCCESS' BREAK;
    IF @lifecycle IN (N'ERROR', N'CANCELLED', N'CANCEL_REQUESTED')
    BEGIN
        SET @msg = LEFT(@step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' ended ' + @lifecycle
            + N': ' + ISNULL(@task_info, N'(no task_info)'), 2000);
        THROW 50111, @msg, 1;
    END;
    IF DATEDIFF(MINUTE, @waited_since, SYSUTCDATETIME()) >= @timeout_minutes
    BEGIN
        SET @msg = @step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' still '
            + ISNULL(@lifecycle, N'not listed') + N' after ' + CAST(@timeout_minutes AS nvarchar(10))
            + N' minutes; nothing more was queued (exec msdb.dbo.rds_task_status @task_id = '
            + CAST(@task_id AS nvarchar(20)) + N')';
        THROW 50111, @msg, 1;
    END;
    IF ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'') <> @last
    BEGIN
        SET @last = ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'');
        SET @pct = ISNULL(@pct, 0);
        RAISERROR(N'%s: task %d %s, %d%% complete', 0, 1, @step, @task_id, @lifecycle, @pct) WITH NOWAIT;
    END;
    WAITFOR DELAY @poll_delay;
END;
RAISERROR(N'%s: task %d SUCCESS', 0, 1, @step, @task_id) WITH NOWAIT;

-- Step 12 of 14: next log in the chain (first_lsn 70000001784300001)
-- log backup set 7492c39a-ad61-4cb3-b249-528fe5b957da, finished 2026-11-18 14:30:20 (server-local), LSN 70000001784300001 .. 70000001804800001
-- @stopat is the source server's local time; 2026-11-18 14:37:00 = 2026-11-18 19:37:00Z UTC
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_restore_log
    @restore_db_name = N'Sales_restored',
    @s3_arn_to_restore_from = N'arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_LOG_20261118_143000.trn',
    @with_norecovery = 1,
    @stopat = N'2026-11-18 14:37:00';
SET @step = N'step 12 of 14 (log backup)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_restored';
IF @task_id IS NULL
BEGIN
    SET @msg = @step + N': no RDS task was queued (see the error above)';
    THROW 50112, @msg, 1;
END;
SELECT @waited_since = SYSUTCDATETIME(), @last = N'';
WHILE 1 = 1
BEGIN
    SELECT @lifecycle = lifecycle, @task_info = task_info, @pct = [% complete]
        FROM msdb.dbo.rds_fn_task_status(NULL, @task_id);
    IF @lifecycle = N'SUCCESS' BREAK;
    IF @lifecycle IN (N'ERROR', N'CANCELLED', N'CANCEL_REQUESTED')
    BEGIN
        SET @msg = LEFT(@step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' ended ' + @lifecycle
            + N': ' + ISNULL(@task_info, N'(no task_info)'), 2000);
        THROW 50112, @msg, 1;
    END;
    IF DATEDIFF(MINUTE, @waited_since, SYSUTCDATETIME()) >= @timeout_minutes
    BEGIN
        SET @msg = @step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' still '
            + ISNULL(@lifecycle, N'not listed') + N' after ' + CAST(@timeout_minutes AS nvarchar(10))
            + N' minutes; nothing more was queued (exec msdb.dbo.rds_task_status @task_id = '
            + CAST(@task_id AS nvarchar(20)) + N')';
        THROW 50112, @msg, 1;
    END;
    IF ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'') <> @last
    BEGIN
        SET @last = ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'');
        SET @pct = ISNULL(@pct, 0);
        RAISERROR(N'%s: task %d %s, %d%% complete', 0, 1, @step, @task_id, @lifecycle, @pct) WITH NOWAIT;
    END;
    WAITFOR DELAY @poll_delay;
END;
RAISERROR(N'%s: task %d SUCCESS', 0, 1, @step, @task_id) WITH NOWAIT;

-- Step 13 of 14: next log in the chain (first_lsn 70000001804800001); the first log whose coverage reaches the target, so nothing is restored after it
-- log backup set f8e25142-57f8-47e5-8ea0-cf3faf50533b, finished 2026-11-18 14:45:20 (server-local), LSN 70000001804800001 .. 70000001840200001
-- @stopat is the source server's local time; 2026-11-18 14:37:00 = 2026-11-18 19:37:00Z UTC
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_restore_log
    @restore_db_name = N'Sales_restored',
    @s3_arn_to_restore_from = N'arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_LOG_20261118_144500.trn',
    @with_norecovery = 1,
    @stopat = N'2026-11-18 14:37:00';
SET @step = N'step 13 of 14 (log backup)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_restored';
IF @task_id IS NULL
BEGIN
    SET @msg = @step + N': no RDS task was queued (see the error above)';
    THROW 50113, @msg, 1;
END;
SELECT @waited_since = SYSUTCDATETIME(), @last = N'';
WHILE 1 = 1
BEGIN
    SELECT @lifecycle = lifecycle, @task_info = task_info, @pct = [% complete]
        FROM msdb.dbo.rds_fn_task_status(NULL, @task_id);
    IF @lifecycle = N'SUCCESS' BREAK;
    IF @lifecycle IN (N'ERROR', N'CANCELLED', N'CANCEL_REQUESTED')
    BEGIN
        SET @msg = LEFT(@step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' ended ' + @lifecycle
            + N': ' + ISNULL(@task_info, N'(no task_info)'), 2000);
        THROW 50113, @msg, 1;
    END;
    IF DATEDIFF(MINUTE, @waited_since, SYSUTCDATETIME()) >= @timeout_minutes
    BEGIN
        SET @msg = @step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' still '
            + ISNULL(@lifecycle, N'not listed') + N' after ' + CAST(@timeout_minutes AS nvarchar(10))
            + N' minutes; nothing more was queued (exec msdb.dbo.rds_task_status @task_id = '
            + CAST(@task_id AS nvarchar(20)) + N')';
        THROW 50113, @msg, 1;
    END;
    IF ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'') <> @last
    BEGIN
        SET @last = ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'');
        SET @pct = ISNULL(@pct, 0);
        RAISERROR(N'%s: task %d %s, %d%% complete', 0, 1, @step, @task_id, @lifecycle, @pct) WITH NOWAIT;
    END;
    WAITFOR DELAY @poll_delay;
END;
RAISERROR(N'%s: task %d SUCCESS', 0, 1, @step, @task_id) WITH NOWAIT;

-- Step 14 of 14: bring the database online (RESTORE ... WITH RECOVERY)
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_finish_restore
    @db_name = N'Sales_restored';
SET @step = N'step 14 of 14 (finish restore)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_restored';
IF @task_id IS NULL
BEGIN
    SET @msg = @step + N': no RDS task was queued (see the error above)';
    THROW 50114, @msg, 1;
END;
SELECT @waited_since = SYSUTCDATETIME(), @last = N'';
WHILE 1 = 1
BEGIN
    SELECT @lifecycle = lifecycle, @task_info = task_info, @pct = [% complete]
        FROM msdb.dbo.rds_fn_task_status(NULL, @task_id);
    IF @lifecycle = N'SUCCESS' BREAK;
    IF @lifecycle IN (N'ERROR', N'CANCELLED', N'CANCEL_REQUESTED')
    BEGIN
        SET @msg = LEFT(@step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' ended ' + @lifecycle
            + N': ' + ISNULL(@task_info, N'(no task_info)'), 2000);
        THROW 50114, @msg, 1;
    END;
    IF DATEDIFF(MINUTE, @waited_since, SYSUTCDATETIME()) >= @timeout_minutes
    BEGIN
        SET @msg = @step + N': task ' + CAST(@task_id AS nvarchar(20)) + N' still '
            + ISNULL(@lifecycle, N'not listed') + N' after ' + CAST(@timeout_minutes AS nvarchar(10))
            + N' minutes; nothing more was queued (exec msdb.dbo.rds_task_status @task_id = '
            + CAST(@task_id AS nvarchar(20)) + N')';
        THROW 50114, @msg, 1;
    END;
    IF ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'') <> @last
    BEGIN
        SET @last = ISNULL(@lifecycle, N'') + N'/' + ISNULL(CAST(@pct AS nvarchar(10)), N'');
        SET @pct = ISNULL(@pct, 0);
        RAISERROR(N'%s: task %d %s, %d%% complete', 0, 1, @step, @task_id, @lifecycle, @pct) WITH NOWAIT;
    END;
    WAITFOR DELAY @poll_delay;
END;
RAISERROR(N'%s: task %d SUCCESS', 0, 1, @step, @task_id) WITH NOWAIT;
