-- Explanations: the day's counts and cause minutes, how far from the
-- prediction, and why (after functions.sql's state).

-- The storm day (AAA 2013-02-10) gets cause minutes, two cancelled flights
-- and a diverted one; the mean and `flights` count finite delays only.
UPDATE flights SET carrier_delay = 12, weather_delay = 64, nas_delay = 24, arr_delay = 100
WHERE origin = 'AAA' AND fl_date = '2013-02-10';
INSERT INTO flights (fl_date, op_carrier, origin, dest, dep_delay, cancelled, diverted, cancellation_code, source_file)
VALUES ('2013-02-10', 'XX', 'AAA', 'ORD', NULL, true, false, 'B', 'regress'),
       ('2013-02-10', 'XX', 'AAA', 'ORD', NULL, true, false, 'B', 'regress'),
       ('2013-02-10', 'XX', 'AAA', 'ORD', NULL, false, true, NULL, 'regress');
SELECT year, airports_fitted, airports_skipped, days, anomalies FROM refresh_year(2013);
SELECT date, round(average_dep_delay::numeric, 6) AS observed, flights, flights_scheduled, flights_cancelled,
       flights_diverted, carrier_delay_minutes, weather_delay_minutes, nas_delay_minutes, security_delay_minutes,
       late_aircraft_delay_minutes, round(dep_delay_residual::numeric, 6) AS residual,
       round(dep_delay_outside::numeric, 6) AS outside
FROM airport_daily_summary WHERE origin_airport = 'AAA' AND date = '2013-02-10';

-- A day is outside the band exactly when it is flagged, by the distance to
-- the nearer edge; the residual has the sign of the miss.
SELECT count(*) AS modelled,
       count(*) FILTER (WHERE (dep_delay_outside > 0) IS DISTINCT FROM dep_delay_anomaly) AS flag_mismatches,
       count(*) FILTER (WHERE dep_delay_outside <> greatest(dep_delay_lower_ci - average_dep_delay,
                                                          average_dep_delay - dep_delay_higher_ci, 0)) AS distance_mismatches,
       count(*) FILTER (WHERE sign(dep_delay_residual) <> sign(average_dep_delay - dep_delay_pred)) AS sign_mismatches
FROM airport_daily_summary WHERE dep_delay_pred IS NOT NULL;

-- explain_anomalies: the flagged days of an airport-year, explained.
SELECT date, direction, round(dep_delay_residual::numeric, 3) AS residual, round(dep_delay_outside::numeric, 3) AS outside,
       dominant_cause, round(dominant_cause_share::numeric, 3) AS share, flights_cancelled, sentence
FROM explain_anomalies('AAA', 2013);
SELECT count(*) AS rows FROM explain_anomalies('ZZZ', 2013);
SELECT count(*) = (SELECT count(*) FROM airport_daily_summary WHERE dep_delay_anomaly) AS view_has_every_flagged_day
FROM airport_anomaly_explanations;

-- anomaly_explanation on made-up days: the cause with most minutes (a tie
-- to the first), none reported, none at all, no cancellations, and a row
-- written before 0.3.0 (no counts). The same days as the Rust test of
-- SummaryRow::dominant_cause.
SELECT e.*
FROM (VALUES
        ('{"carrier_delay_minutes": 120, "weather_delay_minutes": 640, "nas_delay_minutes": 240,
           "late_aircraft_delay_minutes": 0, "flights_scheduled": 402, "flights_cancelled": 118}'),
        ('{"carrier_delay_minutes": 50, "nas_delay_minutes": 50, "flights_scheduled": 10, "flights_cancelled": 0}'),
        ('{"flights_scheduled": 300, "flights_cancelled": 3, "average_dep_delay": -9, "dep_delay_lower_ci": -5}'),
        ('{"carrier_delay_minutes": 0, "weather_delay_minutes": 0, "flights_scheduled": 1, "flights_cancelled": 1}'),
        ('{}')) v(j),
     anomaly_explanation(json_populate_record(NULL::airport_daily_summary,
         ('{"date": "2013-03-08", "origin_airport": "LGA", "average_dep_delay": 80, "flights": 300,
            "dep_delay_higher_ci": 30, "dep_delay_lower_ci": -5}'::jsonb || v.j::jsonb)::json)) e;

-- The insert trigger sets the residual and the distance from the band too.
INSERT INTO airport_daily_summary (date, origin_airport, average_dep_delay, flights, flights_scheduled, flights_cancelled)
VALUES ('2013-03-07', 'AAA', 140, 3, 5, 2);
SELECT s.dep_delay_anomaly, s.dep_delay_source,
       round(s.dep_delay_outside::numeric, 6) = round((s.average_dep_delay - s.dep_delay_higher_ci)::numeric, 6) AS outside_ok,
       round(s.dep_delay_residual::numeric, 6) = round(((s.average_dep_delay - n.dep_delay_pred) / n.dep_delay_sd)::numeric, 6) AS residual_ok,
       e.sentence
FROM airport_daily_summary s, arima_next_day('AAA', '2013-03-07') n, anomaly_explanation(s) e
WHERE s.origin_airport = 'AAA' AND s.date = '2013-03-07';
