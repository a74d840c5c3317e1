-- The login role the loader connects as: a member of airline_writer (made
-- by CREATE EXTENSION airline_anomalies; README, "Roles"), so it loads
-- (staging tables and partitions in airline_partitions), runs
-- refresh_year, writes `loader detect`'s rows and reads for `loader plot`;
-- not a superuser, no CREATEDB or CREATEROLE. A load holds two connections
-- whatever the number of years in its files (one COPYs every row, one keeps
-- the rejects and swaps), `loader detect` and `loader plot` one each. Run as
-- a superuser (or a role with CREATEROLE) in the extension's database; set
-- the password apart:
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
-- No wait of the loader's is endless. Its only long waits are for another
-- load's (or refresh_year's) transaction on the same years: a load takes
-- its years' locks in ascending order in its final transaction, which
-- swaps a prepared year in within seconds and merges a year's rows (at
-- most a year's, ~6M: a minute or two); refresh_year refits a year in
-- seconds, minutes with a grid search. 10 minutes is several times that,
-- and as long as an idle transaction may hold a lock anyway; a wait past it
-- fails with "canceling statement due to lock timeout" and changes nothing.
ALTER ROLE airline_loader SET lock_timeout = '10min';
-- Its longest statements are its COPYs, each one file long (a year, 6M rows,
-- is about a minute from a local disk, longer from S3 over a slow link),
-- and refresh_year with a grid search. An hour is far above either, and
-- still ends a statement that is stuck.
ALTER ROLE airline_loader SET statement_timeout = '1h';
