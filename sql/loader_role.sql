-- The login role the loader connects as: a member of airline_writer (made
-- by CREATE EXTENSION airline_anomalies; README, "Roles"), so it loads
-- (staging tables in the extension's schema, partitions it owns), runs
-- refresh_year, writes `loader detect`'s rows and reads for `loader plot`;
-- not a superuser, no CREATEDB or CREATEROLE. A load holds one connection
-- per year plus one. Run as a superuser (or a role with CREATEROLE) in the
-- extension's database; set the password apart:
--   ALTER ROLE airline_loader PASSWORD '...';
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'airline_loader') THEN
        CREATE ROLE airline_loader LOGIN;
    END IF;
    -- TEMPORARY: a load keeps its rejects in a temporary table until it commits.
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO airline_loader', current_database());
END
$$;
GRANT airline_writer TO airline_loader;
ALTER ROLE airline_loader CONNECTION LIMIT 20;
ALTER ROLE airline_loader SET idle_in_transaction_session_timeout = '10min';
