#!/usr/bin/env bash
# Runs once, when the postgres service starts on an EMPTY data volume (the official image's
# /docker-entrypoint-initdb.d). Creates the two databases of the deployment, each owned by its own login role:
#   $DAGSTER_POSTGRES_DB    Dagster's runs, event logs, schedules (owner $DAGSTER_POSTGRES_USER)
#   $RETAIL_WAREHOUSE_DB    the warehouse (owner $RETAIL_WAREHOUSE_USER; the platform's migrations create the
#                           schemas raw, clean, marts, ops, meta on first use)
# the NOLOGIN roles retail_reader (the marts) and retail_monitor (the dashboard's Data health views) that the
# migrations grant read access to, so the warehouse owner needs no CREATEROLE, and the dashboard's login
# $RETAIL_DASHBOARD_USER, a member of those two roles and nothing else (the warehouse owner is a member too, so
# that code running as the owner can read as a reader).
# Changing a password later: ALTER ROLE ... PASSWORD ..., then update .env.
# No `set -u`: the entrypoint SOURCES a script that lost its executable bit, and -u would leak into it.
set -eo pipefail

psql --no-psqlrc -v ON_ERROR_STOP=1 \
    --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v dagster_user="${DAGSTER_POSTGRES_USER:?DAGSTER_POSTGRES_USER is not set}" \
    -v dagster_password="${DAGSTER_POSTGRES_PASSWORD:?DAGSTER_POSTGRES_PASSWORD is not set}" \
    -v dagster_db="${DAGSTER_POSTGRES_DB:?DAGSTER_POSTGRES_DB is not set}" \
    -v retail_user="${RETAIL_WAREHOUSE_USER:?RETAIL_WAREHOUSE_USER is not set}" \
    -v retail_password="${RETAIL_WAREHOUSE_PASSWORD:?RETAIL_WAREHOUSE_PASSWORD is not set}" \
    -v retail_db="${RETAIL_WAREHOUSE_DB:?RETAIL_WAREHOUSE_DB is not set}" \
    -v dashboard_user="${RETAIL_DASHBOARD_USER:?RETAIL_DASHBOARD_USER is not set}" \
    -v dashboard_password="${RETAIL_DASHBOARD_PASSWORD:?RETAIL_DASHBOARD_PASSWORD is not set}" <<'SQL'
CREATE ROLE :"dagster_user" LOGIN PASSWORD :'dagster_password';
CREATE DATABASE :"dagster_db" OWNER :"dagster_user";
CREATE ROLE :"retail_user" LOGIN PASSWORD :'retail_password';
CREATE DATABASE :"retail_db" OWNER :"retail_user";
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'retail_reader') THEN
        CREATE ROLE retail_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'retail_monitor') THEN
        CREATE ROLE retail_monitor NOLOGIN;
    END IF;
END
$$;
-- The owner may step down to the readers (SET ROLE): the analysis notebook asset reads the marts as
-- retail_reader through the owner's URL; membership gives the owner nothing it does not own already.
GRANT retail_reader, retail_monitor TO :"retail_user";
CREATE ROLE :"dashboard_user" LOGIN PASSWORD :'dashboard_password' IN ROLE retail_reader, retail_monitor;
GRANT CONNECT ON DATABASE :"retail_db" TO :"dashboard_user";
SQL
