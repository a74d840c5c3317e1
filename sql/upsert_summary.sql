-- All day rows of year $1 in one statement (arrays $2..$9 in the table's
-- column order). Days of the year not among them are removed, for the
-- airports in $10 (NULL: every airport); rows that would not change are
-- not rewritten.
WITH new AS (
    SELECT * FROM unnest($2::date[], $3::text[], $4::float8[], $5::int8[],
                         $6::bool[], $7::float8[], $8::float8[], $9::float8[])
        AS n(date, origin_airport, average_dep_delay, flights,
             dep_delay_anomaly, dep_delay_pred, dep_delay_higher_ci, dep_delay_lower_ci)
), gone AS (
    DELETE FROM airport_daily_summary s
    WHERE s.date >= make_date($1::int, 1, 1) AND s.date < make_date($1::int + 1, 1, 1)
      AND ($10::text[] IS NULL OR s.origin_airport = ANY ($10::text[]))
      AND NOT EXISTS (SELECT 1 FROM new n WHERE n.date = s.date AND n.origin_airport = s.origin_airport)
)
INSERT INTO airport_daily_summary AS s SELECT * FROM new
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
