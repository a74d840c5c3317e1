-- The schema: tables, view and the partition helper. Plain SQL, so it
-- installs without the extension too (Aurora/RDS: `loader schema`, which
-- puts its schema in place of @extschema@); the extension runs it on
-- CREATE EXTENSION. Functions pin their search_path and qualify names, so
-- objects a caller puts earlier in their search_path change nothing.

-- Raw flights as the loader COPYs them, one partition per year so a year
-- can be replaced atomically (see flights_partition).
CREATE TABLE flights (
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
    source_file        text
) PARTITION BY RANGE (fl_date);

COMMENT ON TABLE flights IS 'Raw flight rows, partitioned by year (flights_yYYYY); filled by the loader.';

-- The year's partition, created if missing, owned by airline_writer when
-- that role exists (so every writer can replace it). Returns its name.
CREATE FUNCTION flights_partition(year integer) RETURNS regclass
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

-- One row per airport and day: what Superset and the old system's users read.
CREATE TABLE airport_daily_summary (
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
    PRIMARY KEY (date, origin_airport)
);

-- One row per airport and year: the model behind the flags, or why there is none.
CREATE TABLE airport_models (
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
CREATE VIEW airport_daily_dashboard AS
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
FROM airport_daily_summary s;

-- When each year of flights last received data (the loader records it on
-- every load) and was last refreshed (refresh_year and loader detect record
-- it): the years refresh_pending() refreshes.
CREATE TABLE flight_years (
    year          integer PRIMARY KEY,
    loaded_at     timestamptz,
    refreshed_at  timestamptz
);

-- Malformed rows the loader could not load, kept with where they came from.
CREATE TABLE flight_rejects (
    source_file  text        NOT NULL,
    line         bigint      NOT NULL,   -- 1-based line number in the (decompressed) file
    reason       text        NOT NULL,
    raw          text        NOT NULL,   -- the row's fields, re-joined as CSV
    loaded_at    timestamptz NOT NULL DEFAULT now()
);
