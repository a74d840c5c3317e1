-- 0.2.0's daily series (flights without the 0.3.0 columns): what the library
-- runs on a database not yet updated. See daily.sql.
-- The year's daily series per origin ($1 year, $2 origin or NULL for all,
-- $3 only the days after this date or NULL for the whole year), as one JSON
-- array of {origin, date, mean_delay, flights} ordered by origin and date
-- (NULL when there is none). Only delays in the loader's physical range
-- count (NULL, NaN, ±Infinity and absurd values alike); a day without one is not a point. With $3, the
-- partitions' BRIN index on fl_date reads only the recent blocks.
SELECT json_agg(json_build_object('origin', origin, 'date', fl_date, 'mean_delay', mean_delay, 'flights', flights)
                ORDER BY origin, fl_date)::text
FROM (
    SELECT origin, fl_date, avg(dep_delay)::float8 AS mean_delay, count(*)::int8 AS flights
    FROM @extschema@.flights
    WHERE fl_date >= make_date($1::int, 1, 1) AND fl_date < make_date($1::int + 1, 1, 1)
      AND ($3::date IS NULL OR fl_date > $3::date)
      AND ($2::text IS NULL OR origin = $2::text)
      AND dep_delay BETWEEN -1440 AND 7200  -- the loader's physical range (daily.sql)
    GROUP BY origin, fl_date
) days
