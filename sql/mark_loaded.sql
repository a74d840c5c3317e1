-- Records that year $1 received data now (the loader, in its load's transaction).
INSERT INTO @extschema@.flight_years AS y (year, loaded_at) VALUES ($1::int, clock_timestamp())
ON CONFLICT (year) DO UPDATE SET loaded_at = EXCLUDED.loaded_at
