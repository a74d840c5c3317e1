-- airline_anomalies 0.2.0 -> 0.3.0, written by hand (ALTER EXTENSION
-- airline_anomalies UPDATE). What changes:
--  * flights keeps what explains a day: arr_delay, the five delay-cause
--    columns and cancellation_code (NULL on rows loaded before);
--  * airport_daily_summary gains the day's counts (scheduled, cancelled,
--    diverted), its cause minutes, and for modelled days the standardised
--    residual and the minutes outside the band (NULL on rows written
--    before: refresh_year fills them);
--  * anomaly_explanation(), the view airport_anomaly_explanations and
--    explain_anomalies(origin, year);
--  * NOTIFY airline_anomalies for each day newly flagged online;
--  * arima_next_day also returns the prediction's standard deviation, so
--    the insert trigger sets the residual (a new signature: dropped and
--    created; 0.2.0's entry point stays in the library).
-- Every row is kept; adding nullable columns rewrites no table.
-- tests/upgrade.sh checks that an updated database equals a fresh 0.3.0.
-- A schema installed without the extension (`loader schema`) is updated by
-- `loader schema --upgrade`, which runs this script without its
-- "extension only" parts (tests/loader.sh checks it equals a fresh one).
\echo Use "ALTER EXTENSION airline_anomalies UPDATE TO '0.3.0'" to load this file. \quit

ALTER TABLE @extschema@.flights
    ADD COLUMN arr_delay float8,
    ADD COLUMN carrier_delay float8,
    ADD COLUMN weather_delay float8,
    ADD COLUMN nas_delay float8,
    ADD COLUMN security_delay float8,
    ADD COLUMN late_aircraft_delay float8,
    ADD COLUMN cancellation_code text;

ALTER TABLE @extschema@.airport_daily_summary
    ADD COLUMN flights_scheduled bigint,
    ADD COLUMN flights_cancelled bigint,
    ADD COLUMN flights_diverted bigint,
    ADD COLUMN carrier_delay_minutes float8,
    ADD COLUMN weather_delay_minutes float8,
    ADD COLUMN nas_delay_minutes float8,
    ADD COLUMN security_delay_minutes float8,
    ADD COLUMN late_aircraft_delay_minutes float8,
    ADD COLUMN dep_delay_residual float8,
    ADD COLUMN dep_delay_outside float8;

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
       s.dep_delay_source,
       CASE WHEN s.dep_delay_anomaly THEN s.average_dep_delay END AS anomalous_dep_delay,
       s.dep_delay_residual,
       s.dep_delay_outside,
       s.flights_scheduled,
       s.flights_cancelled
FROM @extschema@.airport_daily_summary s;

-- extension only: begin
-- arima_next_day with the standard deviation.
DROP FUNCTION @extschema@.arima_next_day(text, date);
CREATE FUNCTION @extschema@.arima_next_day(
    "origin" TEXT,
    "day" date
) RETURNS TABLE (
    "dep_delay_pred" double precision,
    "dep_delay_lower_ci" double precision,
    "dep_delay_higher_ci" double precision,
    "dep_delay_sd" double precision
)
STRICT
SET search_path TO pg_catalog, @extschema@, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'next_day_wrapper';

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
            NEW.dep_delay_residual  := CASE WHEN r.dep_delay_sd > 0 AND r.dep_delay_sd < 'Infinity'
                                            THEN (NEW.average_dep_delay - r.dep_delay_pred) / r.dep_delay_sd END;
            NEW.dep_delay_outside   := greatest(r.dep_delay_lower_ci - NEW.average_dep_delay,
                                                NEW.average_dep_delay - r.dep_delay_higher_ci, 0);
        END IF;
    END IF;
    RETURN NEW;
END
$$;

-- extension only: end

-- Why a flagged day stands out, in the flight files' own terms: which way
-- it missed the band, the cause with the most delay minutes (ties: the
-- first in column order) and its share of the day's cause minutes, and one
-- sentence saying so with the day's cancellations. Days without cause
-- minutes (files without those columns) say so and still count cancellations.
CREATE FUNCTION @extschema@.anomaly_explanation(s @extschema@.airport_daily_summary,
    OUT direction text, OUT dominant_cause text, OUT dominant_cause_share float8, OUT sentence text)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN s.average_dep_delay > s.dep_delay_higher_ci THEN 'later'
            WHEN s.average_dep_delay < s.dep_delay_lower_ci THEN 'earlier' END,
       CASE WHEN top.total > 0 THEN top.cause END,
       CASE WHEN top.total > 0 THEN top.minutes / top.total END,
       concat_ws('; ',
           CASE WHEN top.total > 0 THEN format('%s %s %% of delay minutes', top.cause, round(100 * top.minutes / top.total))
                WHEN top.total = 0 THEN 'no delay minutes by cause'
                ELSE 'delay causes not reported' END,
           CASE WHEN s.flights_cancelled > 0
                THEN format('%s of %s flights cancelled (%s %%)', s.flights_cancelled, s.flights_scheduled,
                            round(100.0 * s.flights_cancelled / s.flights_scheduled))
                WHEN s.flights_scheduled IS NOT NULL THEN format('none of %s flights cancelled', s.flights_scheduled) END)
FROM (SELECT c.cause, c.minutes, sum(c.minutes) OVER () AS total
      FROM (VALUES (1, 'carrier', s.carrier_delay_minutes), (2, 'weather', s.weather_delay_minutes),
                   (3, 'NAS', s.nas_delay_minutes), (4, 'security', s.security_delay_minutes),
                   (5, 'late aircraft', s.late_aircraft_delay_minutes)) c(i, cause, minutes)
      ORDER BY c.minutes DESC NULLS LAST, c.i
      LIMIT 1) top
$$;

-- The flagged days with their explanation: what explain_anomalies returns
-- for one airport-year, and what Superset's table of anomalies reads.
CREATE VIEW @extschema@.airport_anomaly_explanations AS
SELECT s.date,
       s.origin_airport,
       e.direction,
       s.average_dep_delay,
       s.dep_delay_pred,
       s.dep_delay_lower_ci,
       s.dep_delay_higher_ci,
       s.dep_delay_residual,
       s.dep_delay_outside,
       e.dominant_cause,
       e.dominant_cause_share,
       s.flights_scheduled,
       s.flights_cancelled,
       s.flights_diverted,
       e.sentence,
       s.dep_delay_source
FROM @extschema@.airport_daily_summary s
CROSS JOIN LATERAL @extschema@.anomaly_explanation(s) e
WHERE s.dep_delay_anomaly;

-- One airport-year's flagged days, explained, in date order.
CREATE FUNCTION @extschema@.explain_anomalies(origin text, year integer)
RETURNS SETOF @extschema@.airport_anomaly_explanations
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT * FROM @extschema@.airport_anomaly_explanations e
WHERE e.origin_airport = explain_anomalies.origin
  AND e.date >= make_date(explain_anomalies.year, 1, 1) AND e.date < make_date(explain_anomalies.year + 1, 1, 1)
ORDER BY e.date
$$;

-- NOTIFY airline_anomalies with a JSON payload for each day newly flagged
-- by an online prediction (the insert trigger, refresh_year(refit =>
-- false)). A refit re-flags whole years at once and stays silent: its
-- news is the table itself.
CREATE FUNCTION @extschema@.airport_daily_summary_notify() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_notify('airline_anomalies', json_build_object(
        'airport', NEW.origin_airport, 'date', NEW.date, 'observed', NEW.average_dep_delay,
        'predicted', NEW.dep_delay_pred, 'band', json_build_array(NEW.dep_delay_lower_ci, NEW.dep_delay_higher_ci),
        'residual', NEW.dep_delay_residual, 'direction', e.direction, 'sentence', e.sentence)::text)
    FROM @extschema@.anomaly_explanation(NEW) e;
    RETURN NULL;
END
$$;

CREATE TRIGGER notify_anomaly
    AFTER INSERT ON @extschema@.airport_daily_summary
    FOR EACH ROW WHEN (NEW.dep_delay_anomaly AND NEW.dep_delay_source <> 'fit')
    EXECUTE FUNCTION @extschema@.airport_daily_summary_notify();
CREATE TRIGGER notify_anomaly_change
    AFTER UPDATE ON @extschema@.airport_daily_summary
    FOR EACH ROW WHEN (NEW.dep_delay_anomaly AND NEW.dep_delay_source <> 'fit' AND OLD.dep_delay_anomaly IS NOT TRUE)
    EXECUTE FUNCTION @extschema@.airport_daily_summary_notify();

-- extension only: begin
-- Grants as a fresh install's (sql/privileges.sql): nothing for PUBLIC.
REVOKE ALL ON FUNCTION @extschema@.arima_next_day(text, date), @extschema@.anomaly_explanation(@extschema@.airport_daily_summary),
    @extschema@.explain_anomalies(text, integer), @extschema@.airport_daily_summary_notify() FROM PUBLIC;
GRANT SELECT ON @extschema@.airport_anomaly_explanations TO airline_reader;
GRANT EXECUTE ON FUNCTION @extschema@.arima_next_day(text, date), @extschema@.anomaly_explanation(@extschema@.airport_daily_summary),
    @extschema@.explain_anomalies(text, integer) TO airline_reader;
-- extension only: end
