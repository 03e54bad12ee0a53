"""The shop's transactional (OLTP) database: its schema, a simulator that writes orders as the web application
would, and the incremental extract into ``raw.transactions``. Pure Python and SQL, no Dagster."""
