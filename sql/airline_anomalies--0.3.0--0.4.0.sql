-- airline_anomalies 0.3.0 -> 0.4.0, written by hand (ALTER EXTENSION
-- airline_anomalies UPDATE). What changes, so that no role that can create
-- objects can turn the extension against whoever runs it:
--  * every function runs with search_path = pg_catalog, pg_temp and names
--    the extension's objects qualified (the C functions' statements too);
--  * the yearly partitions of flights and the loader's staging tables move
--    to a schema of their own, airline_partitions; airline_writer creates
--    there and loses CREATE on the extension's schema;
--  * refresh_pending() refreshes each year on its own and reports a year
--    that failed in a new `error` column (a new return type: dropped and
--    created);
--  * the NOTIFY payload's airport is capped, so it stays under 8000 bytes.
-- The script stops, changing nothing, if the extension's schema holds
-- objects that neither the extension nor a superuser made (a writer could
-- create there until now): they are listed, to be dropped first.
-- tests/upgrade.sh checks that an updated database equals a fresh 0.4.0.
\echo Use "ALTER EXTENSION airline_anomalies UPDATE TO '0.4.0'" to load this file. \quit

-- Nothing below resolves a name through a schema: our objects are named
-- @extschema@-qualified. (Undone when the script ends.)
SET search_path = pg_catalog, pg_temp;

-- extension only: begin
DO $$
DECLARE
    foreign_objects text;
    how_many bigint;
BEGIN
    WITH ext AS (
        SELECT e.oid, e.extnamespace FROM pg_catalog.pg_extension e WHERE e.extname = 'airline_anomalies'
    ), members AS (
        SELECT d.classid, d.objid FROM pg_catalog.pg_depend d, ext
        WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
    ), candidates AS (
        SELECT 'pg_catalog.pg_proc'::regclass AS classid, p.oid AS objid, p.proowner AS owner
        FROM pg_catalog.pg_proc p, ext WHERE p.pronamespace = ext.extnamespace
        UNION ALL
        SELECT 'pg_catalog.pg_operator'::regclass, o.oid, o.oprowner
        FROM pg_catalog.pg_operator o, ext WHERE o.oprnamespace = ext.extnamespace
        UNION ALL  -- types of their own (not a table's row type or an array)
        SELECT 'pg_catalog.pg_type'::regclass, t.oid, t.typowner
        FROM pg_catalog.pg_type t, ext
        WHERE t.typnamespace = ext.extnamespace AND t.typrelid = 0 AND t.typelem = 0
        UNION ALL  -- tables, views and the rest, but partitions of flights, staging tables and what they own
        SELECT 'pg_catalog.pg_class'::regclass, c.oid, c.relowner
        FROM pg_catalog.pg_class c, ext
        WHERE c.relnamespace = ext.extnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i
                          WHERE i.inhrelid = c.oid AND i.inhparent = '@extschema@.flights'::regclass)
          AND c.relname !~ '^flights_load_[0-9]+$'
        UNION ALL
        SELECT 'pg_catalog.pg_collation'::regclass, c.oid, c.collowner
        FROM pg_catalog.pg_collation c, ext WHERE c.collnamespace = ext.extnamespace
        UNION ALL
        SELECT 'pg_catalog.pg_opfamily'::regclass, f.oid, f.opfowner
        FROM pg_catalog.pg_opfamily f, ext WHERE f.opfnamespace = ext.extnamespace
        UNION ALL  -- casts from or to a type of the schema
        SELECT 'pg_catalog.pg_cast'::regclass, c.oid, 0
        FROM pg_catalog.pg_cast c, ext
        WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_type t
                      WHERE t.oid IN (c.castsource, c.casttarget) AND t.typnamespace = ext.extnamespace)
    )
    SELECT pg_catalog.string_agg(f.object, ', ' ORDER BY f.object) FILTER (WHERE f.i <= 10), pg_catalog.count(*)
    INTO foreign_objects, how_many
    FROM (SELECT o.object, pg_catalog.row_number() OVER (ORDER BY o.object) AS i
          FROM (SELECT pg_catalog.pg_describe_object(c.classid, c.objid, 0) AS object
                FROM candidates c
                WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.classid = c.classid AND m.objid = c.objid)
                  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid = c.owner AND r.rolsuper)) o) f;
    IF how_many > 0 THEN
        RAISE EXCEPTION 'schema @extschema@ holds % objects the extension did not make: %', how_many,
            foreign_objects || CASE WHEN how_many > 10 THEN ', ...' ELSE '' END
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Until 0.4.0, airline_writer could create objects there, and one named like a function the extension calls could run as whoever calls it.',
                  HINT = 'Read and drop them (or move them to another schema), then run ALTER EXTENSION airline_anomalies UPDATE again.';
    END IF;
END
$$;
-- extension only: end

-- The partitions and staging tables' schema; writers create there, not in
-- the extension's schema.
CREATE SCHEMA airline_partitions;
COMMENT ON SCHEMA airline_partitions IS 'airline_anomalies: the yearly partitions of flights and the loader''s staging tables';
DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT i.inhrelid::regclass FROM pg_catalog.pg_inherits i
             WHERE i.inhparent = '@extschema@.flights'::regclass
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s SET SCHEMA airline_partitions', t);
    END LOOP;
    FOR t IN SELECT c.oid::regclass FROM pg_catalog.pg_class c
             WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind = 'r'
               AND c.relname ~ '^flights_load_[0-9]+$'
    LOOP
        EXECUTE pg_catalog.format('DROP TABLE %s', t);  -- a staging table a killed load left behind
    END LOOP;
END
$$;
COMMENT ON TABLE @extschema@.flights IS 'Raw flight rows, partitioned by year (airline_partitions.flights_yYYYY); filled by the loader.';

CREATE OR REPLACE FUNCTION @extschema@.flights_partition(year integer) RETURNS regclass
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    part text := 'airline_partitions.' || quote_ident(format('flights_y%s', year));
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

CREATE OR REPLACE FUNCTION @extschema@.airport_daily_summary_notify() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_notify('airline_anomalies', json_build_object(
        -- An airport code is 3 letters; whatever got into the table, the
        -- payload stays under NOTIFY's 8000-byte limit.
        'airport', left(NEW.origin_airport, 64), 'date', NEW.date, 'observed', NEW.average_dep_delay,
        'predicted', NEW.dep_delay_pred, 'band', json_build_array(NEW.dep_delay_lower_ci, NEW.dep_delay_higher_ci),
        'residual', NEW.dep_delay_residual, 'direction', e.direction, 'sentence', e.sentence)::text)
    FROM @extschema@.anomaly_explanation(NEW) e;
    RETURN NULL;
END
$$;

-- extension only: begin
DROP FUNCTION @extschema@.refresh_pending(boolean);
-- The C functions read their statements' names qualified; their search_path is pinned as the SQL ones'.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT d.objid::regprocedure
             FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
             JOIN pg_catalog.pg_proc p ON p.oid = d.objid
             WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND e.extname = 'airline_anomalies'
               AND d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e'
               AND p.prolang = (SELECT l.oid FROM pg_catalog.pg_language l WHERE l.lanname = 'c')
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp', f);
    END LOOP;
END
$$;

-- Refreshes every year whose flights changed since its last refresh (a load
-- recorded after it in flight_years, or a partition of flights never
-- refreshed), oldest first: what the nightly pg_cron job runs, so a job
-- over historical data refreshes nothing and errs on nothing. Online flags
-- by default (refit => false): a year still receiving data keeps its
-- stored model; pass refit => true for years that are complete.
-- Each year is refreshed on its own (a subtransaction): a year that fails
-- is rolled back alone, reported in its row's `error` and as a WARNING in
-- the log, and the other years are kept. A cancel still stops the call.
CREATE FUNCTION @extschema@.refresh_pending(refit boolean DEFAULT false)
RETURNS TABLE (year integer, airports_fitted integer, airports_skipped integer, days bigint,
               anomalies bigint, seconds double precision, error text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    y integer;
    started timestamptz;
    message text;
    state text;
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
            started := clock_timestamp();
            BEGIN
                RETURN QUERY SELECT r.*, NULL::text FROM @extschema@.refresh_year(y, refit => refresh_pending.refit) r;
            EXCEPTION WHEN OTHERS THEN  -- not query_canceled: OTHERS leaves it to stop the call
                GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
                RAISE WARNING 'refresh_pending: year % not refreshed: %', y, message
                    USING DETAIL = format('SQLSTATE %s; the other years are refreshed', state);
                RETURN QUERY SELECT y, NULL::integer, NULL::integer, NULL::bigint, NULL::bigint,
                    extract(epoch FROM clock_timestamp() - started)::float8, format('%s (SQLSTATE %s)', message, state);
            END;
        END IF;
    END LOOP;
END
$$;

-- Grants as a fresh install's (sql/privileges.sql).
REVOKE ALL ON FUNCTION @extschema@.refresh_pending(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.refresh_pending(boolean) TO airline_writer;
REVOKE CREATE ON SCHEMA @extschema@ FROM airline_writer;
GRANT USAGE, CREATE ON SCHEMA airline_partitions TO airline_writer;
DO $$
DECLARE
    writers text;
BEGIN
    SELECT pg_catalog.string_agg(r.rolname, ', ' ORDER BY r.rolname) INTO writers
    FROM pg_catalog.pg_roles r, pg_catalog.pg_namespace n
    WHERE n.oid = '@extschema@'::regnamespace AND NOT r.rolsuper
      AND pg_catalog.has_schema_privilege(r.oid, n.oid, 'CREATE')
      AND NOT pg_catalog.pg_has_role(r.oid, n.nspowner, 'MEMBER');
    IF writers IS NOT NULL THEN
        RAISE EXCEPTION 'roles other than the owner of schema @extschema@ may create objects in it: %', writers
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'REVOKE CREATE ON SCHEMA @extschema@ FROM PUBLIC (and those roles), then update again.';
    END IF;
END
$$;
-- extension only: end
