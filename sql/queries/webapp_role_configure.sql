-- The web application's login role (retail_platform/warehouse/roles.py fills in the role as a quoted identifier
-- and the password as a literal SCRAM-SHA-256 verifier computed on the client: the password itself never reaches
-- the server, its logs or pg_stat_statements).
--
-- It reads what retail_reader reads (marts and clean) and nothing else: no privilege of its own, no raw, ops or
-- shop schema. Read-only twice over: no write privilege anywhere, and every transaction read-only by default.
ALTER ROLE {role} WITH LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD {verifier};
GRANT retail_reader TO {role};
ALTER ROLE {role} SET default_transaction_read_only = on;
ALTER ROLE {role} SET search_path = marts;
