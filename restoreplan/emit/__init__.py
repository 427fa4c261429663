"""Emitters: plans in, scripts out (T-SQL for sqlcmd/SSMS, Amazon RDS procedures)."""
