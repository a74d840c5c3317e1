-- Day rows of year $1 in one statement ($2 a JSON array of them, keys
-- named as the columns). Days of the year not among them are removed, for
-- the airports in $3 (NULL: every airport; empty: none); rows that would
-- not change are not rewritten.
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
    dep_delay_lower_ci = EXCLUDED.dep_delay_lower_ci,
    dep_delay_source = EXCLUDED.dep_delay_source,
    flights_scheduled = EXCLUDED.flights_scheduled,
    flights_cancelled = EXCLUDED.flights_cancelled,
    flights_diverted = EXCLUDED.flights_diverted,
    carrier_delay_minutes = EXCLUDED.carrier_delay_minutes,
    weather_delay_minutes = EXCLUDED.weather_delay_minutes,
    nas_delay_minutes = EXCLUDED.nas_delay_minutes,
    security_delay_minutes = EXCLUDED.security_delay_minutes,
    late_aircraft_delay_minutes = EXCLUDED.late_aircraft_delay_minutes,
    dep_delay_residual = EXCLUDED.dep_delay_residual,
    dep_delay_outside = EXCLUDED.dep_delay_outside
WHERE s IS DISTINCT FROM EXCLUDED
