-- The login role Superset connects as: a member of airline_reader (made by
-- CREATE EXTENSION airline_anomalies; README, "Roles"), so it reads the
-- results and runs the bounded read-only functions, arima_anomalies for
-- SQL Lab included, and nothing else. Its own statement_timeout and
-- connection limit keep one dashboard from holding the server. Run as a
-- superuser (or a role with CREATEROLE) in the extension's database; set
-- the password apart:
--   ALTER ROLE superset_reader PASSWORD '...';
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'superset_reader') THEN
        CREATE ROLE superset_reader LOGIN;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO superset_reader', current_database());
END
$$;
GRANT airline_reader TO superset_reader;
ALTER ROLE superset_reader CONNECTION LIMIT 20;
ALTER ROLE superset_reader SET statement_timeout = '30s';
ALTER ROLE superset_reader SET idle_in_transaction_session_timeout = '60s';
