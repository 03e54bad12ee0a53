-- The warehouse's layers, as in dbt's jaffle_shop: raw (as loaded), clean (typed and flagged), marts (read by
-- analysts and the web application), ops (the platform's own bookkeeping).
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS clean;
CREATE SCHEMA IF NOT EXISTS marts;
CREATE SCHEMA IF NOT EXISTS ops;

-- Read-only role for analysts and the shop's web application: NOLOGIN, grant it to real users.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'retail_reader') THEN
        CREATE ROLE retail_reader NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA marts, clean TO retail_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA marts GRANT SELECT ON TABLES TO retail_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA clean GRANT SELECT ON TABLES TO retail_reader;
