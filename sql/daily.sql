-- The year's daily series per origin ($1 year, $2 origin or NULL for all,
-- $3 only the days after this date or NULL for the whole year), as one JSON
-- array of DayPoints ordered by origin and date (NULL when there is none).
-- Only values in the loader's physical range count (loader/src/columns.rs:
-- delays -1440..7200 minutes, cause minutes 0..7200), so NULL, NaN,
-- ±Infinity and absurd values typed into flights by hand are all left out
-- alike and no sum can overflow. The mean and `flights` count the usable
-- delays, and a day without one is not a point; the other counts and the
-- cause minutes are over every flight of the day. With $3, the partitions'
-- BRIN index on fl_date reads only the recent blocks.
SELECT json_agg(days ORDER BY days.origin, days.date)::text
FROM (
    SELECT origin, fl_date AS date,
           avg(dep_delay) FILTER (WHERE usable)::float8 AS mean_delay,
           count(*) FILTER (WHERE usable) AS flights,
           count(*) AS flights_scheduled,
           count(*) FILTER (WHERE cancelled) AS flights_cancelled,
           count(*) FILTER (WHERE diverted) AS flights_diverted,
           sum(carrier_delay) FILTER (WHERE carrier_delay BETWEEN 0 AND 7200) AS carrier_delay_minutes,
           sum(weather_delay) FILTER (WHERE weather_delay BETWEEN 0 AND 7200) AS weather_delay_minutes,
           sum(nas_delay) FILTER (WHERE nas_delay BETWEEN 0 AND 7200) AS nas_delay_minutes,
           sum(security_delay) FILTER (WHERE security_delay BETWEEN 0 AND 7200) AS security_delay_minutes,
           sum(late_aircraft_delay) FILTER (WHERE late_aircraft_delay BETWEEN 0 AND 7200) AS late_aircraft_delay_minutes
    FROM (SELECT f.*, (f.dep_delay BETWEEN -1440 AND 7200) IS TRUE AS usable
          FROM @extschema@.flights f
          WHERE f.fl_date >= make_date($1::int, 1, 1) AND f.fl_date < make_date($1::int + 1, 1, 1)
            AND ($3::date IS NULL OR f.fl_date > $3::date)
            AND ($2::text IS NULL OR f.origin = $2::text)) rows
    GROUP BY origin, fl_date
    HAVING count(*) FILTER (WHERE usable) > 0  -- the same aggregate as `flights`, computed once
) days
