-- Refreshes every year whose flights changed since its last refresh (a load
-- recorded after it in flight_years, or a partition of flights never
-- refreshed), oldest first: what the nightly pg_cron job runs, so a job
-- over historical data refreshes nothing and errs on nothing. Online flags
-- by default (refit => false): a year still receiving data keeps its
-- stored model; pass refit => true for years that are complete.
CREATE FUNCTION refresh_pending(refit boolean DEFAULT false)
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
