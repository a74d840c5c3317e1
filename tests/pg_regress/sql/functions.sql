-- What every function returns, pinned (rounded to 6 decimals).

-- arima_fit: the model as jsonb.
SELECT m->'order' AS "order", jsonb_array_length(m->'param_names') AS params, m->'param_names' AS names,
       round((m->>'loglike')::numeric, 6) AS loglike, m->'nobs' AS nobs
FROM arima_fit(ARRAY[1,3,2,5,4,6,5,8,7,9,8,10]::float8[], 1, 1, 0) m;

-- arima_forecast: steps with the 80 % band, then 95 %.
SELECT step, round(forecast::numeric, 6) AS forecast, round(lower::numeric, 6) AS lower, round(upper::numeric, 6) AS upper
FROM arima_forecast(arima_fit(ARRAY[1,3,2,5,4,6,5,8,7,9,8,10]::float8[], 1, 1, 0), 3);
SELECT step, round(lower::numeric, 6) AS lower, round(upper::numeric, 6) AS upper
FROM arima_forecast(arima_fit(ARRAY[1,3,2,5,4,6,5,8,7,9,8,10]::float8[], 1, 1, 0), 2, level => 0.95);
SELECT count(*) AS rows FROM arima_forecast(arima_fit(ARRAY[1,3,2,5,4,6,5,8,7,9,8,10]::float8[], 1, 1, 0), 0);

-- arima_detect: the anomaly rule on any series; the spike at i = 9 is flagged.
SELECT i, value, round(predicted::numeric, 6) AS predicted, round(lower::numeric, 6) AS lower,
       round(upper::numeric, 6) AS upper, anomaly
FROM arima_detect(ARRAY[1,3,2,5,4,6,5,8,7,40,8,10,9,11,10,12]::float8[], 1, 0, 0);

-- refresh_year: AAA modelled, BBB skipped (2 days).
SELECT year, airports_fitted, airports_skipped, days, anomalies FROM refresh_year(2013);
SELECT origin_airport, year, p, d, q, points, grid_searched, converged, level, skip_reason
FROM airport_models ORDER BY origin_airport;
SELECT date, origin_airport, round(average_dep_delay::numeric, 6) AS observed, flights, dep_delay_anomaly,
       round(dep_delay_pred::numeric, 6) AS predicted
FROM airport_daily_summary WHERE dep_delay_anomaly OR origin_airport = 'BBB' ORDER BY date, origin_airport;

-- A re-run changes nothing.
SELECT year, airports_fitted, airports_skipped, days, anomalies FROM refresh_year(2013);

-- arima_anomalies: the same rows, computed, written nowhere.
SELECT count(*) AS days, count(*) FILTER (WHERE dep_delay_anomaly) AS anomalies
FROM arima_anomalies('AAA', 2013);
SELECT count(*) = 0 AS differs_nowhere
FROM arima_anomalies('AAA', 2013) a
JOIN airport_daily_summary s USING (date, origin_airport)
WHERE (a.dep_delay_pred, a.dep_delay_anomaly) IS DISTINCT FROM (s.dep_delay_pred, s.dep_delay_anomaly);
SELECT count(*) AS rows FROM arima_anomalies('BBB', 2013);
SELECT count(*) AS rows FROM arima_anomalies('ZZZ', 2013);

-- arima_next_day and the trigger: a new day marked from the stored model.
SELECT round(dep_delay_pred::numeric, 6) AS predicted, round(dep_delay_lower_ci::numeric, 6) AS lower,
       round(dep_delay_higher_ci::numeric, 6) AS upper
FROM arima_next_day('AAA', '2013-03-02');
SELECT count(*) AS rows FROM arima_next_day('BBB', '2013-01-03');
INSERT INTO airport_daily_summary (date, origin_airport, average_dep_delay, flights)
VALUES ('2013-03-02', 'AAA', 95, 3), ('2013-01-03', 'BBB', 6, 1);
SELECT date, origin_airport, dep_delay_anomaly, round(dep_delay_pred::numeric, 6) AS predicted
FROM airport_daily_summary WHERE date IN ('2013-03-02', '2013-01-03') ORDER BY date;

-- flights_partition: created once, then returned.
SELECT flights_partition(2014), flights_partition(2014);

-- Online flags: refresh_year(..., refit => false) writes only new days, each
-- marked by the stored model from the days before it; a re-run writes none.
INSERT INTO flights (fl_date, op_carrier, origin, dest, dep_delay, source_file)
SELECT make_date(2013, 3, 3) + i, 'XX', 'AAA', 'ORD', 12 + 4 * i + k, 'regress'
FROM generate_series(0, 2) i, generate_series(-1, 1) k;
SELECT year, airports_fitted, airports_skipped, days, anomalies FROM refresh_year(2013, refit => false);
SELECT date, dep_delay_anomaly, round(dep_delay_pred::numeric, 6) AS predicted, dep_delay_source
FROM airport_daily_summary WHERE origin_airport = 'AAA' AND date >= '2013-03-01' ORDER BY date;
SELECT year, airports_fitted, airports_skipped, days, anomalies FROM refresh_year(2013, refit => false);
SELECT count(*) AS fitted_rows_untouched FROM airport_daily_summary WHERE dep_delay_source = 'fit';

-- A new year before its own fit: the previous year's model, said so.
SELECT flights_partition(2014);
INSERT INTO flights (fl_date, op_carrier, origin, dest, dep_delay, source_file)
VALUES ('2014-01-01', 'XX', 'AAA', 'ORD', 14, 'regress'), ('2014-01-02', 'XX', 'AAA', 'ORD', 90, 'regress'),
       ('2014-01-01', 'XX', 'CCC', 'ORD', 5, 'regress');
SELECT year, airports_fitted, airports_skipped, days, anomalies FROM refresh_year(2014, refit => false);
SELECT date, origin_airport, dep_delay_anomaly, round(dep_delay_pred::numeric, 6) AS predicted, dep_delay_source
FROM airport_daily_summary WHERE date >= '2014-01-01' ORDER BY date, origin_airport;

-- refresh_pending: the years loaded since their last refresh, and no other.
SELECT year, loaded_at IS NOT NULL AS loaded, refreshed_at IS NOT NULL AS refreshed FROM flight_years ORDER BY year;
SELECT count(*) AS pending FROM refresh_pending();
UPDATE flight_years SET loaded_at = clock_timestamp() WHERE year = 2014;
SELECT year, airports_fitted, airports_skipped, days, anomalies FROM refresh_pending();
SELECT count(*) AS pending FROM refresh_pending();
