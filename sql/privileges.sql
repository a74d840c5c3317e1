-- Who may do what (README, "Roles"), and what pg_dump keeps. Runs last at
-- CREATE EXTENSION, so the grants are the extension's initial privileges
-- (pg_init_privs) and pg_dump writes only later changes to them.

-- Two group roles, created if missing. Roles belong to the cluster, not
-- the database, so they outlive DROP EXTENSION and are shared by every
-- database that installs the extension.
DO $$
BEGIN
    IF to_regrole('airline_reader') IS NULL THEN
        CREATE ROLE airline_reader NOLOGIN;
    END IF;
    IF to_regrole('airline_writer') IS NULL THEN
        CREATE ROLE airline_writer NOLOGIN;
    END IF;
END
$$;
COMMENT ON ROLE airline_reader IS 'airline_anomalies: reads results and flights, runs the bounded read-only functions';
COMMENT ON ROLE airline_writer IS 'airline_anomalies: loads flights and refreshes results; also a reader';
GRANT airline_reader TO airline_writer;

-- Nothing of the extension is open to PUBLIC: every function is revoked,
-- then granted by name below.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT d.objid::regprocedure
             FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
             WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND e.extname = 'airline_anomalies'
               AND d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e'
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END
$$;

-- Readers: the results, the raw flights (arima_anomalies reads them) and
-- the bounded read-only functions.
GRANT USAGE ON SCHEMA @extschema@ TO airline_reader;
GRANT SELECT ON @extschema@.airport_daily_summary, @extschema@.airport_models,
    @extschema@.airport_daily_dashboard, @extschema@.airport_anomaly_explanations,
    @extschema@.flights, @extschema@.flight_years TO airline_reader;
GRANT EXECUTE ON FUNCTION @extschema@.arima_anomalies, @extschema@.arima_fit, @extschema@.arima_forecast,
    @extschema@.arima_detect, @extschema@.arima_next_day,
    @extschema@.anomaly_explanation, @extschema@.explain_anomalies TO airline_reader;

-- Writers: refresh and load. A load builds staging tables and swaps a
-- year's partition of flights, which takes CREATE on the schema and
-- ownership of flights.
GRANT INSERT, UPDATE, DELETE ON @extschema@.airport_daily_summary, @extschema@.airport_models TO airline_writer;
GRANT SELECT, INSERT, DELETE ON @extschema@.flight_rejects TO airline_writer;
GRANT INSERT, UPDATE ON @extschema@.flight_years TO airline_writer;
GRANT EXECUTE ON FUNCTION @extschema@.refresh_year, @extschema@.refresh_pending, @extschema@.flights_partition
    TO airline_writer;
GRANT CREATE ON SCHEMA @extschema@ TO airline_writer;
ALTER TABLE @extschema@.flights OWNER TO airline_writer;

-- pg_dump skips the tables an extension script creates unless they are
-- marked: these hold the results, the rejects and the load record. (flights has no rows of
-- its own: its partitions are ordinary tables, dumped as such.)
SELECT pg_catalog.pg_extension_config_dump('@extschema@.airport_daily_summary', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.airport_models', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.flight_rejects', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.flight_years', '');
