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
