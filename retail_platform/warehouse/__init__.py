"""The PostgreSQL warehouse: connection, embedded server, migrations and SQL files."""
