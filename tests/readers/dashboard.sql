-- One look at the Superset dashboard, as pgbench runs it for a member of
-- airline_reader (tests/readers.sh, scripts/bench_readers.sh): a random
-- airport of the year and a random month, the dashboard's three charts'
-- queries for them (as Superset sends them: superset/bundle/charts/), then
-- arima_anomalies(airport, year), all in one REPEATABLE READ transaction.
--
-- Variables (-D): year; airports, the number of airports; airport_list,
-- their codes quoted ('ATL','ORD'); check, 1 to check what the transaction
-- saw (the test) or 0 (the benchmark). With check=1 also flights_before,
-- flights_after, summary_before and summary_after: per airport, in the
-- order of airport_list, the airport's rows of the year in flights and the
-- sum of its summary's flights, before and after the round's load +
-- refresh; year_flights_before/after and year_summary_before/after, the
-- same for the whole year.
--
-- Run with -M simple: the variables are substituted as text (in quotes too).
\set i random(1, :airports)
\set m random(1, 12)
\set next_year :year + 1
SELECT (ARRAY[:airport_list])[:i] AS ap,
       make_date(:year, :m, 1) AS month_start,
       (make_date(:year, :m, 1) + interval '1 month')::date AS month_end \gset
\if :check
SELECT (ARRAY[:flights_before])[:i] AS f_before, (ARRAY[:flights_after])[:i] AS f_after,
       (ARRAY[:summary_before])[:i] AS s_before, (ARRAY[:summary_after])[:i] AS s_after \gset
\endif
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
-- "Daily flights": flights per day, split by anomaly.
SELECT DATE_TRUNC('day', date) AS date, dep_delay_anomaly_label AS dep_delay_anomaly_label, sum(flights) AS flights
FROM public.airport_daily_dashboard
WHERE date >= TO_TIMESTAMP(':month_start 00:00:00.000000', 'YYYY-MM-DD HH24:MI:SS.US')
  AND date < TO_TIMESTAMP(':month_end 00:00:00.000000', 'YYYY-MM-DD HH24:MI:SS.US')
  AND origin_airport IN (':ap')
GROUP BY DATE_TRUNC('day', date), dep_delay_anomaly_label
ORDER BY flights DESC
LIMIT 50000;
-- "Average departure delay": observed, predicted, the band, the anomalies.
SELECT DATE_TRUNC('day', date) AS date, AVG(average_dep_delay) AS average_dep_delay,
       AVG(dep_delay_pred) AS average_dep_delay__yhat, AVG(dep_delay_lower_ci) AS average_dep_delay__yhat_lower,
       AVG(dep_delay_higher_ci) AS average_dep_delay__yhat_upper, MAX(anomalous_dep_delay) AS anomaly
FROM public.airport_daily_dashboard
WHERE date >= TO_TIMESTAMP(':month_start 00:00:00.000000', 'YYYY-MM-DD HH24:MI:SS.US')
  AND date < TO_TIMESTAMP(':month_end 00:00:00.000000', 'YYYY-MM-DD HH24:MI:SS.US')
  AND origin_airport IN (':ap')
GROUP BY DATE_TRUNC('day', date)
LIMIT 50000;
-- "Anomalies explained": the flagged days and why.
SELECT date AS date, origin_airport AS origin_airport, direction AS direction, average_dep_delay AS average_dep_delay,
       dep_delay_pred AS dep_delay_pred, dep_delay_outside AS dep_delay_outside, dep_delay_residual AS dep_delay_residual,
       dominant_cause AS dominant_cause, flights_cancelled AS flights_cancelled, sentence AS sentence
FROM public.airport_anomaly_explanations
WHERE date >= TO_DATE(':month_start', 'YYYY-MM-DD') AND date < TO_DATE(':month_end', 'YYYY-MM-DD')
  AND origin_airport IN (':ap')
ORDER BY date DESC
LIMIT 50000;
-- The airport-year computed on the fly from flights (SQL Lab's call).
SELECT coalesce(sum(flights), 0) AS arima_flights, count(*) AS arima_days
FROM public.arima_anomalies(':ap', :year) \gset
\if :check
-- What this transaction saw of the year, in the same snapshot: its rows in
-- flights, and its summary's flights.
SELECT count(*) FILTER (WHERE origin = ':ap') AS f, count(*) AS f_year FROM public.flights
WHERE fl_date >= make_date(:year, 1, 1) AND fl_date < make_date(:next_year, 1, 1) \gset
SELECT coalesce(sum(flights) FILTER (WHERE origin_airport = ':ap'), 0) AS s, coalesce(sum(flights), 0) AS s_year
FROM public.airport_daily_summary
WHERE date >= make_date(:year, 1, 1) AND date < make_date(:next_year, 1, 1) \gset
-- flights is wholly before or after (and arima_anomalies read the same
-- version: its flights are that version's summary's); the summary is
-- wholly before or after; and never the summary after with flights before.
\set flights_old :f = :f_before and :f_year = :year_flights_before and :arima_flights = :s_before
\set flights_new :f = :f_after and :f_year = :year_flights_after and :arima_flights = :s_after
\set summary_old :s = :s_before and :s_year = :year_summary_before
\set summary_new :s = :s_after and :s_year = :year_summary_after
\set saw_before :flights_old and :summary_old
\set saw_loaded :flights_new and :summary_old
\set saw_after :flights_new and :summary_new
\if not (:saw_before or :saw_loaded or :saw_after)
SELECT ('mixed view of :year at :ap: flights :f rows (before :f_before, after :f_after), year :f_year '
        '(before :year_flights_before, after :year_flights_after); arima_anomalies :arima_flights; '
        'summary :s (before :s_before, after :s_after), year :s_year (before :year_summary_before, '
        'after :year_summary_after)')::int;
\endif
\endif
COMMIT;
\if :check
-- Which state each transaction saw, counted outside it (sequences: not
-- transactional, and no write inside the read-only transaction).
\if :saw_before
SELECT nextval('readers_test.saw_before');
\elif :saw_loaded
SELECT nextval('readers_test.saw_loaded');
\else
SELECT nextval('readers_test.saw_after');
\endif
\endif
