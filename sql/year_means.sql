-- The summarised days of year $1 per airport, for the online update: the
-- last summarised date of the year, and each airport's daily means in date
-- order, as JSON {"last": date, "airports": [{origin, means}]}.
SELECT json_build_object(
    'last', (SELECT max(s.date) FROM @extschema@.airport_daily_summary s
             WHERE s.date >= make_date($1::int, 1, 1) AND s.date < make_date($1::int + 1, 1, 1)),
    'airports', coalesce((
        SELECT json_agg(json_build_object('origin', origin_airport, 'means', means))
        FROM (SELECT origin_airport, array_agg(average_dep_delay ORDER BY date) AS means
              FROM @extschema@.airport_daily_summary
              WHERE date >= make_date($1::int, 1, 1) AND date < make_date($1::int + 1, 1, 1)
                AND average_dep_delay IS NOT NULL
              GROUP BY origin_airport) a), '[]'::json))::text
