-- The summary rows of year $1 with a mean delay, as a JSON array ordered by
-- airport and date; only the airports in $2 unless it is empty.
SELECT json_agg(s ORDER BY s.origin_airport, s.date)::text
FROM @extschema@.airport_daily_summary s
WHERE s.date >= make_date($1::int, 1, 1) AND s.date < make_date($1::int + 1, 1, 1)
  AND s.average_dep_delay IS NOT NULL
  AND (cardinality($2::text[]) = 0 OR s.origin_airport = ANY ($2::text[]))
