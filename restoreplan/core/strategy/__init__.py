"""Backup strategy what-if: measure a lineage, simulate schedules, advise on the next full."""
