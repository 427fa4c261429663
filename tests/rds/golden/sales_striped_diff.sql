-- restoreplan: Amazon RDS for SQL Server restore script (SSMS, Azure Data Studio, or sqlcmd). The file is UTF-8: ODBC sqlcmd needs -f 65001 (sqlcmd -b -f 65001 -i this.sql); go-sqlcmd reads it as it is
-- source database: Sales (family_guid 47eaa099-2cb6-416d-86dc-283cf0480ff9)
-- restore as: Sales_copy
-- target: time 2026-11-17 22:50:00
-- recovery point: 2026-11-17 22:50:00 server-local (2026-11-18 03:50:00Z): the latest commit at or before it
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
IF DB_ID(N'Sales_copy') IS NOT NULL
BEGIN
    SET @msg = N'a database named ' + N'Sales_copy' + N' already exists on this instance: RDS cannot restore over it (drop it with msdb.dbo.rds_drop_database or choose another --target-name)';
    THROW 50002, @msg, 1;
END;

-- Step 1 of 7: full backup finished 2026-11-15 22:40:00; the base of the differential below
-- full backup set d6469791-0bc3-453d-8f6a-e3542afbbf1a, finished 2026-11-15 22:40:00 (server-local), LSN 63000000090300001 .. 63000000098500001
-- 4 file(s): arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_FULL_20261115_220000_1.bak, arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_FULL_20261115_220000_2.bak, arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_FULL_20261115_220000_3.bak, arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_FULL_20261115_220000_4.bak
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_restore_database
    @restore_db_name = N'Sales_copy',
    @s3_arn_to_restore_from = N'arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_FULL_20261115_220000_*',
    @type = 'FULL',
    @with_norecovery = 1,
    @data_file_volume = 'H:',
    @log_file_volume = 'I:',
    @kms_master_key_arn = N'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
SET @step = N'step 1 of 7 (full backup)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_copy';
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

-- Step 2 of 7: latest usable differential on that full (differential_base_guid = d6469791-0bc3-453d-8f6a-e3542afbbf1a); differentials are cumulative, so only one is needed
-- differential backup set 50ed7a0a-cf0e-4a6c-a41a-6b7fc444eaa1, finished 2026-11-17 22:06:00 (server-local), LSN 70000000306400001 .. 70000000307800001
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_restore_database
    @restore_db_name = N'Sales_copy',
    @s3_arn_to_restore_from = N'arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_DIFF_20261117_220000.dif',
    @type = 'DIFFERENTIAL',
    @with_norecovery = 1,
    @kms_master_key_arn = N'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
SET @step = N'step 2 of 7 (differential backup)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_copy';
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

-- Step 3 of 7: first log after the differential backup: it contains LSN 70000000307800001, the redo point
-- log backup set ff88a8e7-1564-4055-b0d9-f68539dcebaa, finished 2026-11-17 22:15:20 (server-local), LSN 70000000303700001 .. 70000000315900001
-- @stopat is the source server's local time; 2026-11-17 22:50:00 = 2026-11-18 03:50:00Z UTC
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_restore_log
    @restore_db_name = N'Sales_copy',
    @s3_arn_to_restore_from = N'arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_LOG_20261117_221500.trn',
    @with_norecovery = 1,
    @kms_master_key_arn = N'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    @stopat = N'2026-11-17 22:50:00';
SET @step = N'step 3 of 7 (log backup)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_copy';
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

-- Step 4 of 7: next log in the chain (first_lsn 70000000315900001)
-- log backup set 69639760-1cdf-4900-a4eb-8c1e8b1be474, finished 2026-11-17 22:30:20 (server-local), LSN 70000000315900001 .. 70000000353000001
-- @stopat is the source server's local time; 2026-11-17 22:50:00 = 2026-11-18 03:50:00Z UTC
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_restore_log
    @restore_db_name = N'Sales_copy',
    @s3_arn_to_restore_from = N'arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_LOG_20261117_223000.trn',
    @with_norecovery = 1,
    @kms_master_key_arn = N'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    @stopat = N'2026-11-17 22:50:00';
SET @step = N'step 4 of 7 (log backup)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_copy';
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

-- Step 5 of 7: next log in the chain (first_lsn 70000000353000001)
-- log backup set b256e291-2714-41cd-9972-7d8a45af5734, finished 2026-11-17 22:45:20 (server-local), LSN 70000000353000001 .. 70000000368100001
-- @stopat is the source server's local time; 2026-11-17 22:50:00 = 2026-11-18 03:50:00Z UTC
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_restore_log
    @restore_db_name = N'Sales_copy',
    @s3_arn_to_restore_from = N'arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_LOG_20261117_224500.trn',
    @with_norecovery = 1,
    @kms_master_key_arn = N'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    @stopat = N'2026-11-17 22:50:00';
SET @step = N'step 5 of 7 (log backup)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_copy';
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

-- Step 6 of 7: next log in the chain (first_lsn 70000000368100001); the first log whose coverage reaches the target, so nothing is restored after it
-- log backup set f608d2e9-9b51-4a82-997d-c5d85c924dec, finished 2026-11-17 23:00:20 (server-local), LSN 70000000368100001 .. 70000000396700001
-- @stopat is the source server's local time; 2026-11-17 22:50:00 = 2026-11-18 03:50:00Z UTC
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_restore_log
    @restore_db_name = N'Sales_copy',
    @s3_arn_to_restore_from = N'arn:aws:s3:::prod-backups/Sales/SQLPROD01_Sales_LOG_20261117_230000.trn',
    @with_norecovery = 1,
    @kms_master_key_arn = N'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    @stopat = N'2026-11-17 22:50:00';
SET @step = N'step 6 of 7 (log backup)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_copy';
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

-- Step 7 of 7: bring the database online (RESTORE ... WITH RECOVERY)
SELECT @before = ISNULL(MAX(task_id), 0) FROM msdb.dbo.rds_fn_task_status(NULL, 0);
exec msdb.dbo.rds_finish_restore
    @db_name = N'Sales_copy';
SET @step = N'step 7 of 7 (finish restore)';
SET @task_id = NULL;
SELECT @task_id = MIN(task_id) FROM msdb.dbo.rds_fn_task_status(NULL, 0)
    WHERE task_id > @before AND database_name = N'Sales_copy';
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
