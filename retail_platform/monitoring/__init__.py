"""Operations: alerts in ``ops.alerts`` with webhook delivery, and the health summary. No Dagster wiring."""
