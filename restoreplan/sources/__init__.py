"""Sources turn the outside world (exports, msdb, backup files, S3, RDS) into model values."""
