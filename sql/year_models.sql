-- The airport_models rows of year $1 as a JSON array; only the airports in
-- $2 unless it is empty.
SELECT json_agg(m ORDER BY m.origin_airport)::text
FROM @extschema@.airport_models m
WHERE m.year = $1::int AND (cardinality($2::text[]) = 0 OR m.origin_airport = ANY ($2::text[]))
