-- The year's daily series per origin ($1 year, $2 origin or NULL for all),
-- as one JSON array of {origin, date, mean_delay, flights} ordered by
-- origin and date (NULL when there is none). Only finite, non-null delays
-- count (NULL, NaN and ±Infinity alike); a day without one is not a point.
SELECT json_agg(json_build_object('origin', origin, 'date', fl_date, 'mean_delay', mean_delay, 'flights', flights)
                ORDER BY origin, fl_date)::text
FROM (
    SELECT origin, fl_date, avg(dep_delay)::float8 AS mean_delay, count(*)::int8 AS flights
    FROM flights
    WHERE fl_date >= make_date($1::int, 1, 1) AND fl_date < make_date($1::int + 1, 1, 1)
      AND ($2::text IS NULL OR origin = $2::text)
      AND dep_delay > '-Infinity'::float8 AND dep_delay < 'Infinity'::float8
    GROUP BY origin, fl_date
) days
