-- airline_anomalies 0.1.0 -> 0.2.0, written by hand (ALTER EXTENSION
-- airline_anomalies UPDATE). What changes:
--  * every function pins its search_path; the trigger and the partition
--    helper qualify names;
--  * nothing is executable by PUBLIC; the roles airline_reader and
--    airline_writer, and their grants;
--  * airline_writer owns flights and its partitions (a load swaps them);
--  * pg_dump keeps the results and the rejects.
-- The tables and their rows are unchanged. tests/upgrade.sh checks that an
-- updated database has the same functions, grants and dump settings as a
-- fresh 0.2.0 install.
\echo Use "ALTER EXTENSION airline_anomalies UPDATE TO '0.2.0'" to load this file. \quit

-- The functions of the shared library: a pinned search_path.
ALTER FUNCTION @extschema@.arima_anomalies(text, integer, integer, integer, integer, double precision, boolean)
    SET search_path = pg_catalog, @extschema@, pg_temp;
ALTER FUNCTION @extschema@.arima_detect(double precision[], integer, integer, integer, double precision)
    SET search_path = pg_catalog, @extschema@, pg_temp;
ALTER FUNCTION @extschema@.arima_fit(double precision[], integer, integer, integer)
    SET search_path = pg_catalog, @extschema@, pg_temp;
ALTER FUNCTION @extschema@.arima_forecast(jsonb, integer, double precision)
    SET search_path = pg_catalog, @extschema@, pg_temp;
ALTER FUNCTION @extschema@.arima_next_day(text, date)
    SET search_path = pg_catalog, @extschema@, pg_temp;
ALTER FUNCTION @extschema@.refresh_year(integer, integer, integer, integer, double precision, boolean)
    SET search_path = pg_catalog, @extschema@, pg_temp;

-- The year's partition, created if missing, owned by airline_writer when
-- that role exists (so every writer can replace it). Returns its name.
CREATE OR REPLACE FUNCTION flights_partition(year integer) RETURNS regclass
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    part text := '@extschema@.' || quote_ident(format('flights_y%s', year));
BEGIN
    IF year NOT BETWEEN 1 AND 9998 THEN
        RAISE EXCEPTION 'year % is out of range', year
            USING ERRCODE = 'invalid_parameter_value', HINT = 'A year is between 1 and 9998.';
    END IF;
    IF to_regclass(part) IS NULL THEN
        EXECUTE format(
            'CREATE TABLE %s PARTITION OF @extschema@.flights FOR VALUES FROM (%L) TO (%L)',
            part, make_date(year, 1, 1), make_date(year + 1, 1, 1));
        EXECUTE format('CREATE INDEX ON %s (origin, fl_date)', part);
        IF to_regrole('airline_writer') IS NOT NULL AND pg_has_role('airline_writer', 'MEMBER') THEN
            EXECUTE format('ALTER TABLE %s OWNER TO airline_writer', part);
        END IF;
    END IF;
    RETURN part::regclass;
END
$$;

CREATE OR REPLACE FUNCTION airport_daily_summary_mark_anomaly() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    IF NEW.dep_delay_pred IS NULL AND NEW.average_dep_delay IS NOT NULL THEN
        SELECT * INTO r FROM @extschema@.arima_next_day(NEW.origin_airport, NEW.date);
        IF FOUND THEN
            NEW.dep_delay_pred      := r.dep_delay_pred;
            NEW.dep_delay_lower_ci  := r.dep_delay_lower_ci;
            NEW.dep_delay_higher_ci := r.dep_delay_higher_ci;
            NEW.dep_delay_anomaly   := NEW.average_dep_delay < r.dep_delay_lower_ci
                                    OR NEW.average_dep_delay > r.dep_delay_higher_ci;
        END IF;
    END IF;
    RETURN NEW;
END
$$;

-- Roles, grants and dump settings: as sql/privileges.sql.
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
    @extschema@.airport_daily_dashboard, @extschema@.flights TO airline_reader;
GRANT EXECUTE ON FUNCTION @extschema@.arima_anomalies, @extschema@.arima_fit, @extschema@.arima_forecast,
    @extschema@.arima_detect, @extschema@.arima_next_day TO airline_reader;

-- Writers: refresh and load. A load builds staging tables and swaps a
-- year's partition of flights, which takes CREATE on the schema and
-- ownership of flights.
GRANT INSERT, UPDATE, DELETE ON @extschema@.airport_daily_summary, @extschema@.airport_models TO airline_writer;
GRANT SELECT, INSERT, DELETE ON @extschema@.flight_rejects TO airline_writer;
GRANT EXECUTE ON FUNCTION @extschema@.refresh_year, @extschema@.flights_partition TO airline_writer;
GRANT CREATE ON SCHEMA @extschema@ TO airline_writer;
ALTER TABLE @extschema@.flights OWNER TO airline_writer;

-- pg_dump skips the tables an extension script creates unless they are
-- marked: these hold the results and the rejects. (flights has no rows of
-- its own: its partitions are ordinary tables, dumped as such.)
SELECT pg_catalog.pg_extension_config_dump('@extschema@.airport_daily_summary', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.airport_models', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.flight_rejects', '');

-- Partitions made by 0.1.0 belong to whoever made them; under 0.2.0 a
-- writer replaces them, so airline_writer owns them.
DO $$
DECLARE
    part regclass;
BEGIN
    FOR part IN SELECT inhrelid::regclass FROM pg_catalog.pg_inherits
                WHERE inhparent = '@extschema@.flights'::regclass
    LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO airline_writer', part);
    END LOOP;
END
$$;
