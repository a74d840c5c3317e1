-- The airport_models row of one airport-year as JSON ($1 origin, $2 year);
-- one row always, NULL when there is none.
SELECT (SELECT row_to_json(m)::text FROM @extschema@.airport_models m WHERE m.origin_airport = $1::text AND m.year = $2::int)
