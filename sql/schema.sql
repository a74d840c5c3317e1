-- The schema: tables, view and the partition helper. Plain SQL, so it
-- installs without the extension too (Aurora/RDS: `loader schema`, which
-- puts its schema in place of @extschema@); the extension runs it on
-- CREATE EXTENSION. Functions pin their search_path and qualify names, so
-- objects a caller puts earlier in their search_path change nothing.

-- The partitions of flights and the loader's staging tables live in a
-- schema of their own: writers create tables there, and nothing of ours
-- ever searches it (every statement names its objects, and runs with
-- search_path = pg_catalog, pg_temp), so what they create there can never
-- stand in for a function, operator or table of ours. The extension's own
-- schema stays writable by its owner only.
CREATE SCHEMA airline_partitions;
COMMENT ON SCHEMA airline_partitions IS 'airline_anomalies: the yearly partitions of flights and the loader''s staging tables';

-- Raw flights as the loader COPYs them, one partition per year so a year
-- can be replaced atomically (see flights_partition).
CREATE TABLE @extschema@.flights (
    fl_date            date    NOT NULL,
    op_carrier         text,             -- NULL when the file leaves it blank (the rule does not use it)
    op_carrier_fl_num  integer,
    origin             text    NOT NULL,
    dest               text,             -- NULL when blank, as op_carrier
    crs_dep_time       integer,          -- scheduled departure, hhmm
    dep_time           integer,          -- actual departure, hhmm
    dep_delay          float8,           -- minutes; NULL when missing (e.g. cancelled)
    cancelled          boolean NOT NULL DEFAULT false,
    diverted           boolean NOT NULL DEFAULT false,
    source_file        text,
    -- Since 0.3.0, what explains a day (NULL where a file lacks them).
    arr_delay            float8,         -- arrival delay, minutes
    carrier_delay        float8,         -- delay minutes by cause: BTS fills them
    weather_delay        float8,         --   for arrivals 15+ minutes late, and
    nas_delay            float8,         --   they sum to arr_delay; nas: the
    security_delay       float8,         --   national air system
    late_aircraft_delay  float8,
    cancellation_code    text            -- A carrier, B weather, C national air system, D security
) PARTITION BY RANGE (fl_date);

COMMENT ON TABLE @extschema@.flights IS 'Raw flight rows, partitioned by year (airline_partitions.flights_yYYYY); filled by the loader.';

-- The year's partition, created if missing, owned by airline_writer when
-- that role exists (so every writer can replace it). Returns its name.
CREATE FUNCTION @extschema@.flights_partition(year integer) RETURNS regclass
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

-- One row per airport and day: what Superset and the old system's users read.
CREATE TABLE @extschema@.airport_daily_summary (
    date                 date    NOT NULL,
    origin_airport       text    NOT NULL,
    average_dep_delay    float8,           -- mean of the day's non-null departure delays
    flights              bigint  NOT NULL, -- number of non-null departure delays
    dep_delay_anomaly    boolean,          -- NULL when the airport-year was not modelled
    dep_delay_pred       float8,           -- one-step-ahead ARIMA prediction
    dep_delay_higher_ci  float8,           -- upper band, clipped at its 99th percentile
    dep_delay_lower_ci   float8,           -- lower band, clipped at its 1st percentile
    dep_delay_source     text              -- what made the prediction (NULL: not modelled):
        CHECK (dep_delay_source IN ('fit', 'online', 'previous_year')),
                                           -- fit: the year's fitted model, in-sample (refresh_year);
                                           -- online: the year's stored model over the days before;
                                           -- previous_year: last year's model, a new year's first days
    -- Since 0.3.0 (NULL on rows written before: refresh the year to fill them):
    -- the day's other facts, over every flight of the day, cancelled ones included,
    flights_scheduled            bigint,
    flights_cancelled            bigint,
    flights_diverted             bigint,
    carrier_delay_minutes        float8,  -- sums of flights' cause minutes, NULL when
    weather_delay_minutes        float8,  -- no flight has one (files without them)
    nas_delay_minutes            float8,
    security_delay_minutes       float8,
    late_aircraft_delay_minutes  float8,
    -- and, for modelled days, how far from the prediction:
    dep_delay_residual           float8,  -- (observed - predicted) / the prediction's sd
    dep_delay_outside            float8,  -- minutes outside the band, 0 inside
    PRIMARY KEY (date, origin_airport)
);

-- One row per airport and year: the model behind the flags, or why there is none.
CREATE TABLE @extschema@.airport_models (
    origin_airport  text        NOT NULL,
    year            integer     NOT NULL,
    p               integer,
    d               integer,
    q               integer,
    param_names     text[],                -- statsmodels' names: const, ar.L1.., ma.L1.., sigma2
    params          float8[],
    sigma2          float8,
    loglike         float8,
    aic             float8,
    points          integer     NOT NULL,  -- days in the series
    grid_searched   boolean     NOT NULL,  -- whether a grid search chose the order
    converged       boolean,
    level           float8      NOT NULL,  -- interval level of the band
    lower_clip      float8,                -- 1st percentile of the raw lower band
    upper_clip      float8,                -- 99th percentile of the raw upper band
    fitted_at       timestamptz NOT NULL DEFAULT now(),
    skip_reason     text,                  -- set when no model could be fitted
    PRIMARY KEY (origin_airport, year)
);

-- What dashboards read: a timestamp date and a readable anomaly label.
CREATE VIEW @extschema@.airport_daily_dashboard AS
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
        -- An airport code is 3 letters; whatever got into the table, the
        -- payload stays under NOTIFY's 8000-byte limit.
        'airport', left(NEW.origin_airport, 64), 'date', NEW.date, 'observed', NEW.average_dep_delay,
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

-- When each year of flights last received data (the loader records it on
-- every load) and was last refreshed (refresh_year and loader detect record
-- it): the years refresh_pending() refreshes.
CREATE TABLE @extschema@.flight_years (
    year          integer PRIMARY KEY,
    loaded_at     timestamptz,
    refreshed_at  timestamptz
);

-- Malformed rows the loader could not load, kept with where they came from.
CREATE TABLE @extschema@.flight_rejects (
    source_file  text        NOT NULL,
    line         bigint      NOT NULL,   -- 1-based line number in the (decompressed) file
    reason       text        NOT NULL,
    raw          text        NOT NULL,   -- the row's fields, re-joined as CSV
    loaded_at    timestamptz NOT NULL DEFAULT now()
);
