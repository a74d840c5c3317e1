-- Records that year $1 was refreshed now (refresh_year, loader detect).
INSERT INTO @extschema@.flight_years AS y (year, refreshed_at) VALUES ($1::int, clock_timestamp())
ON CONFLICT (year) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at
