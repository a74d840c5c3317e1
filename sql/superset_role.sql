-- A read-only role for Superset: it can read what the dashboard shows and
-- nothing else. Run as the database owner; set the password apart:
--   ALTER ROLE superset_reader PASSWORD '...';
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'superset_reader') THEN
        CREATE ROLE superset_reader LOGIN;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO superset_reader', current_database());
END
$$;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM superset_reader;
GRANT USAGE ON SCHEMA public TO superset_reader;
GRANT SELECT ON airport_daily_dashboard, airport_daily_summary, airport_models TO superset_reader;
