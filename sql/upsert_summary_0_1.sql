-- upsert_summary.sql as 0.1.0's table has it (no dep_delay_source): what
-- 0.1.0's refresh_year runs when this library serves a database whose
-- extension is not yet updated (ALTER EXTENSION airline_anomalies UPDATE).
WITH new AS (
    SELECT * FROM json_populate_recordset(NULL::@extschema@.airport_daily_summary, $2::text::json)
), gone AS (
    DELETE FROM @extschema@.airport_daily_summary s
    WHERE s.date >= make_date($1::int, 1, 1) AND s.date < make_date($1::int + 1, 1, 1)
      AND ($3::text[] IS NULL OR s.origin_airport = ANY ($3::text[]))
      AND NOT EXISTS (SELECT 1 FROM new n WHERE n.date = s.date AND n.origin_airport = s.origin_airport)
)
INSERT INTO @extschema@.airport_daily_summary AS s SELECT * FROM new
ON CONFLICT (date, origin_airport) DO UPDATE SET
    average_dep_delay = EXCLUDED.average_dep_delay,
    flights = EXCLUDED.flights,
    dep_delay_anomaly = EXCLUDED.dep_delay_anomaly,
    dep_delay_pred = EXCLUDED.dep_delay_pred,
    dep_delay_higher_ci = EXCLUDED.dep_delay_higher_ci,
    dep_delay_lower_ci = EXCLUDED.dep_delay_lower_ci
WHERE (s.average_dep_delay, s.flights, s.dep_delay_anomaly, s.dep_delay_pred,
       s.dep_delay_higher_ci, s.dep_delay_lower_ci)
      IS DISTINCT FROM
      (EXCLUDED.average_dep_delay, EXCLUDED.flights, EXCLUDED.dep_delay_anomaly,
       EXCLUDED.dep_delay_pred, EXCLUDED.dep_delay_higher_ci, EXCLUDED.dep_delay_lower_ci)
