"""Dagster wiring: assets, checks, jobs and resources. The analytics they call live outside this package."""
