-- The year's daily series per origin ($1 year, $2 origin or NULL for all,
-- $3 only the days after this date or NULL for the whole year), as one JSON
-- array of DayPoints ordered by origin and date (NULL when there is none).
-- The mean and `flights` count only finite, non-null delays (NULL, NaN and
-- ±Infinity alike), and a day without one is not a point; the other counts
-- and the cause minutes are over every flight of the day. With $3, the
-- partitions' BRIN index on fl_date reads only the recent blocks.
SELECT json_agg(days ORDER BY days.origin, days.date)::text
FROM (
    SELECT origin, fl_date AS date,
           avg(dep_delay) FILTER (WHERE finite)::float8 AS mean_delay,
           count(*) FILTER (WHERE finite) AS flights,
           count(*) AS flights_scheduled,
           count(*) FILTER (WHERE cancelled) AS flights_cancelled,
           count(*) FILTER (WHERE diverted) AS flights_diverted,
           sum(carrier_delay) AS carrier_delay_minutes,
           sum(weather_delay) AS weather_delay_minutes,
           sum(nas_delay) AS nas_delay_minutes,
           sum(security_delay) AS security_delay_minutes,
           sum(late_aircraft_delay) AS late_aircraft_delay_minutes
    FROM (SELECT f.*, (f.dep_delay > '-Infinity'::float8 AND f.dep_delay < 'Infinity'::float8) IS TRUE AS finite
          FROM flights f
          WHERE f.fl_date >= make_date($1::int, 1, 1) AND f.fl_date < make_date($1::int + 1, 1, 1)
            AND ($3::date IS NULL OR f.fl_date > $3::date)
            AND ($2::text IS NULL OR f.origin = $2::text)) rows
    GROUP BY origin, fl_date
    HAVING count(*) FILTER (WHERE finite) > 0  -- the same aggregate as `flights`, computed once
) days
