-- One absurd value never stops a year: NaN, ±Infinity and ±1e308 typed by
-- hand into every numeric column of flights are left out of the daily
-- aggregate (the loader's physical range: delays -1440..7200 minutes,
-- cause minutes 0..7200), so refresh_year neither overflows nor chokes.
SELECT flights_partition(2016);
INSERT INTO flights (fl_date, op_carrier, origin, dest, dep_delay, arr_delay, carrier_delay, weather_delay,
                     nas_delay, security_delay, late_aircraft_delay, source_file)
SELECT make_date(2016, 1, 1) + i, 'XX', 'DDD', 'ORD', 10 + (i % 5) + k, 12, 1, 2, 3, 0, 4, 'regress'
FROM generate_series(0, 29) i, generate_series(-1, 1) k;
-- On day 10, every numeric column of one flight gets each bad value in turn.
INSERT INTO flights (fl_date, op_carrier, origin, dest, dep_delay, arr_delay, carrier_delay, weather_delay,
                     nas_delay, security_delay, late_aircraft_delay, source_file)
SELECT '2016-01-11', 'XX', 'DDD', 'ORD', v, v, v, v, v, v, v, 'bad'
FROM unnest(ARRAY['NaN', 'Infinity', '-Infinity', '1e308', '-1e308', '7201', '-1441']::float8[]) v;
SELECT year, airports_fitted, airports_skipped, days, anomalies FROM refresh_year(2016);
-- Day 10's mean and counts are those of its three usable flights; the bad
-- rows still count as scheduled flights, their cause minutes count for nothing.
SELECT date, average_dep_delay, flights, flights_scheduled, carrier_delay_minutes, weather_delay_minutes,
       nas_delay_minutes, security_delay_minutes, late_aircraft_delay_minutes
FROM airport_daily_summary WHERE origin_airport = 'DDD' AND date IN ('2016-01-10', '2016-01-11') ORDER BY date;
SELECT count(*) AS rows_of_ddd FROM arima_anomalies('DDD', 2016);

-- refresh_pending refreshes each year on its own: a year that fails (here a
-- trigger refuses its rows) is reported in its row's error and a WARNING,
-- and the other years are refreshed and recorded.
CREATE FUNCTION regress_refuse_2016() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.date >= '2016-01-01' THEN
        RAISE EXCEPTION 'regress: 2016 refused';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER regress_refuse_2016 BEFORE INSERT OR UPDATE ON airport_daily_summary
    FOR EACH ROW EXECUTE FUNCTION regress_refuse_2016();
DELETE FROM airport_daily_summary WHERE date >= '2016-01-01';
UPDATE flight_years SET loaded_at = clock_timestamp();
INSERT INTO flight_years (year, loaded_at) SELECT 2016, clock_timestamp() WHERE NOT EXISTS (SELECT 1 FROM flight_years WHERE year = 2016);
SELECT year, airports_fitted, days, error FROM refresh_pending(refit => true) ORDER BY year;
SELECT year, refreshed_at > loaded_at AS refreshed FROM flight_years ORDER BY year;
DROP TRIGGER regress_refuse_2016 ON airport_daily_summary;
DROP FUNCTION regress_refuse_2016();
SELECT year, error FROM refresh_pending(refit => true) ORDER BY year;

-- A day flagged online NOTIFYs its airport capped at 64 characters, so even
-- an absurd origin keeps the payload under NOTIFY's 8000 bytes.
INSERT INTO airport_daily_summary (date, origin_airport, average_dep_delay, flights, dep_delay_anomaly,
                                   dep_delay_pred, dep_delay_lower_ci, dep_delay_higher_ci, dep_delay_source)
VALUES ('2016-02-01', repeat('X', 9000), 50, 3, true, 10, 0, 20, 'online');
SELECT count(*) AS long_origin_rows FROM airport_daily_summary WHERE length(origin_airport) = 9000;
DELETE FROM airport_daily_summary WHERE length(origin_airport) = 9000;
