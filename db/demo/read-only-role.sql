-- The embedded demo database's read-only role, txt2sql_ro: what `npm start` checks and runs the
-- model's SQL as (DATABASE_URL_READONLY). The rules docs/SECURITY.md asks of a production role,
-- applied on every start (so a demo database made by an older version gets them too):
-- it may log in and SELECT the business tables, nothing else — not a superuser, no membership in
-- the server-file roles, read-only transactions by default, a statement timeout (set by
-- scripts/demo-database.mjs to the limit the demo database enforces, since PGlite itself ignores
-- statement_timeout).
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'txt2sql_ro') THEN
    CREATE ROLE txt2sql_ro LOGIN;
  END IF;
END $$;
ALTER ROLE txt2sql_ro LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE txt2sql_ro SET default_transaction_read_only = on;
GRANT USAGE ON SCHEMA public TO txt2sql_ro;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO txt2sql_ro;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO txt2sql_ro;

-- Beyond the production recipe, because PGlite's one session belongs to the superuser and the
-- role is only switched to (SET SESSION AUTHORIZATION, tools/pglite-server/): a session of the
-- role could switch back by changing session_authorization. SQL cannot do that inside a query
-- except through set_config(), so nobody but a superuser may call it; and no temporary objects
-- (functions included) can be made by anyone else either.
REVOKE EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) FROM PUBLIC;
DO $$
BEGIN
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END $$;
