-- airline_anomalies 0.1.0 -> 0.2.0, written by hand (ALTER EXTENSION
-- airline_anomalies UPDATE). What changes:
--  * every function pins its search_path; the trigger and the partition
--    helper qualify names;
--  * nothing is executable by PUBLIC; the roles airline_reader and
--    airline_writer, and their grants;
--  * airline_writer owns flights and its partitions (a load swaps them);
--    op_carrier and dest may be NULL (a blank one no longer rejects a row);
--  * pg_dump keeps the results and the rejects;
--  * flight_years and refresh_pending(): the nightly job refreshes only
--    the years that received data;
--  * online flags: refresh_year(..., refit => false) and the trigger mark
--    new days from the stored model, and airport_daily_summary says what
--    made each prediction (dep_delay_source; NULL on rows made by 0.1.0).
-- Every row is kept. tests/upgrade.sh checks that an
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
-- refresh_year gains refit: a new signature, so it is dropped and created
-- (its 0.1.0 entry point stays in the library for databases not yet updated).
DROP FUNCTION @extschema@.refresh_year(integer, integer, integer, integer, double precision, boolean);
CREATE FUNCTION @extschema@.refresh_year(
    "year" INT,
    "p" INT DEFAULT 5,
    "d" INT DEFAULT 1,
    "q" INT DEFAULT 1,
    "level" double precision DEFAULT 0.8,
    "grid_search" bool DEFAULT false,
    "refit" bool DEFAULT true
) RETURNS TABLE (
    "year" INT,
    "airports_fitted" INT,
    "airports_skipped" INT,
    "days" bigint,
    "anomalies" bigint,
    "seconds" double precision
)
STRICT
SET search_path TO pg_catalog, @extschema@, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'refresh_wrapper';

-- A row with a blank carrier or destination loads (the rule uses neither).
ALTER TABLE @extschema@.flights ALTER COLUMN op_carrier DROP NOT NULL, ALTER COLUMN dest DROP NOT NULL;

-- What made each prediction; rows made by 0.1.0 keep NULL (unknown).
ALTER TABLE @extschema@.airport_daily_summary
    ADD COLUMN dep_delay_source text CHECK (dep_delay_source IN ('fit', 'online', 'previous_year'));
CREATE OR REPLACE VIEW @extschema@.airport_daily_dashboard AS
SELECT s.date::timestamp AS date,
       s.origin_airport,
       s.average_dep_delay,
       s.flights,
       s.dep_delay_anomaly,
       CASE WHEN s.dep_delay_anomaly THEN 'anomaly' ELSE 'normal' END AS dep_delay_anomaly_label,
       s.dep_delay_pred,
       s.dep_delay_higher_ci,
       s.dep_delay_lower_ci,
       s.dep_delay_source
FROM @extschema@.airport_daily_summary s;

-- The year's partition, created if missing, owned by airline_writer when
-- that role exists (so every writer can replace it). Returns its name.
CREATE OR REPLACE FUNCTION @extschema@.flights_partition(year integer) RETURNS regclass
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
        EXECUTE format('CREATE INDEX ON %s USING brin (fl_date)', part);  -- the days after a date
        IF to_regrole('airline_writer') IS NOT NULL AND pg_has_role('airline_writer', 'MEMBER') THEN
            EXECUTE format('ALTER TABLE %s OWNER TO airline_writer', part);
        END IF;
    END IF;
    RETURN part::regclass;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.airport_daily_summary_mark_anomaly() RETURNS trigger
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
            NEW.dep_delay_source    := 'online';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

-- When each year of flights last received data (the loader records it on
-- every load) and was last refreshed (refresh_year and loader detect record
-- it): the years refresh_pending() refreshes.
CREATE TABLE @extschema@.flight_years (
    year          integer PRIMARY KEY,
    loaded_at     timestamptz,
    refreshed_at  timestamptz
);

-- Refreshes every year whose flights changed since its last refresh (a load
-- recorded after it in flight_years, or a partition of flights never
-- refreshed), oldest first: what the nightly pg_cron job runs, so a job
-- over historical data refreshes nothing and errs on nothing. Online flags
-- by default (refit => false): a year still receiving data keeps its
-- stored model; pass refit => true for years that are complete.
CREATE FUNCTION @extschema@.refresh_pending(refit boolean DEFAULT false)
RETURNS TABLE (year integer, airports_fitted integer, airports_skipped integer, days bigint,
               anomalies bigint, seconds double precision)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    y integer;
BEGIN
    FOR y IN
        SELECT p.y
        FROM (SELECT substring(c.relname FROM '^flights_y([0-9]+)$')::int AS y
              FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = '@extschema@.flights'::regclass) p
        LEFT JOIN @extschema@.flight_years f ON f.year = p.y
        WHERE p.y IS NOT NULL AND (f.refreshed_at IS NULL OR f.loaded_at > f.refreshed_at)
        ORDER BY p.y
    LOOP
        IF EXISTS (SELECT 1 FROM @extschema@.flights
                   WHERE fl_date >= make_date(y, 1, 1) AND fl_date < make_date(y + 1, 1, 1)) THEN
            RETURN QUERY SELECT * FROM @extschema@.refresh_year(y, refit => refresh_pending.refit);
        END IF;
    END LOOP;
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
    @extschema@.airport_daily_dashboard, @extschema@.flights, @extschema@.flight_years TO airline_reader;
GRANT EXECUTE ON FUNCTION @extschema@.arima_anomalies, @extschema@.arima_fit, @extschema@.arima_forecast,
    @extschema@.arima_detect, @extschema@.arima_next_day TO airline_reader;

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

-- Partitions made by 0.1.0 belong to whoever made them; under 0.2.0 a
-- writer replaces them, so airline_writer owns them. They also get the
-- BRIN index on fl_date that the online update reads recent days by.
DO $$
DECLARE
    part regclass;
BEGIN
    FOR part IN SELECT inhrelid::regclass FROM pg_catalog.pg_inherits
                WHERE inhparent = '@extschema@.flights'::regclass
    LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO airline_writer', part);
        EXECUTE format('CREATE INDEX ON %s USING brin (fl_date)', part);
    END LOOP;
END
$$;
