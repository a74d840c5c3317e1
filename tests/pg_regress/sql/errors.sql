-- Every error a caller can cause: its SQLSTATE, message and hint.

-- Series arguments.
SELECT regress_error($$SELECT arima_fit(ARRAY[]::float8[])$$);
SELECT regress_error($$SELECT * FROM arima_detect(ARRAY[1, 2]::float8[])$$);
SELECT regress_error($$SELECT arima_fit(ARRAY[1, NULL, 3, 4]::float8[])$$);
SELECT regress_error($$SELECT arima_fit(ARRAY[1, 'NaN', 3, 4]::float8[])$$);
SELECT regress_error($$SELECT arima_fit(ARRAY[1, 'Infinity', 3, 4]::float8[])$$);
SELECT regress_error($$SELECT arima_fit(ARRAY[2, 2, 2, 2]::float8[])$$);
SELECT regress_error($$SELECT arima_fit(array_fill(1.5::float8, ARRAY[100001]))$$);
SELECT regress_error($$SELECT * FROM arima_detect(array_fill(1.5::float8, ARRAY[100001]))$$);
SELECT regress_error($$SELECT * FROM arima_detect(ARRAY[1, 2, 3, NULL]::float8[])$$);

-- Orders and levels.
SELECT regress_error($$SELECT arima_fit(ARRAY[1,3,2,5,4,6]::float8[], -1, 1, 1)$$);
SELECT regress_error($$SELECT arima_fit(ARRAY[1,3,2,5,4,6]::float8[], 21, 1, 1)$$);
SELECT regress_error($$SELECT arima_fit(ARRAY[1,3,2,5,4,6]::float8[], 1, 3, 1)$$);
SELECT regress_error($$SELECT arima_fit(ARRAY[1,3,2,5,4,6]::float8[], 1, 1, 11)$$);
SELECT regress_error($$SELECT arima_fit(ARRAY[1, 3]::float8[], 0, 2, 0)$$);
SELECT regress_error($$SELECT * FROM arima_detect(ARRAY[1,3,2,5,4,6]::float8[], level => 1)$$);
SELECT regress_error($$SELECT * FROM arima_detect(ARRAY[1,3,2,5,4,6]::float8[], level => 'NaN')$$);
SELECT regress_error($$SELECT * FROM refresh_year(2013, level => 0)$$);
SELECT regress_error($$SELECT * FROM arima_anomalies('AAA', 2013, p => -2)$$);

-- Forecasts.
SELECT regress_error($$SELECT * FROM arima_forecast(arima_fit(ARRAY[1,3,2,5,4,6]::float8[], 1, 0, 0), -1)$$);
SELECT regress_error($$SELECT * FROM arima_forecast(arima_fit(ARRAY[1,3,2,5,4,6]::float8[], 1, 0, 0), 100001)$$);
SELECT regress_error($$SELECT * FROM arima_forecast(arima_fit(ARRAY[1,3,2,5,4,6]::float8[], 1, 0, 0), 2147483647)$$);
SELECT regress_error($$SELECT * FROM arima_forecast('{"order": 1}', 3)$$);
SELECT regress_error($$SELECT * FROM arima_forecast(jsonb_set(arima_fit(ARRAY[1,3,2,5,4,6]::float8[], 1, 0, 0), '{params,ar}', '[]'), 3)$$);
SELECT regress_error($$SELECT * FROM arima_forecast(arima_fit(ARRAY[1,3,2,5,4,6]::float8[], 1, 0, 0), 3, level => 2)$$);

-- The flights functions.
SELECT regress_error($$SELECT * FROM refresh_year(1999)$$);
SELECT regress_error($$SELECT flights_partition(0)$$);
SELECT regress_error($$SELECT flights_partition(10000)$$);

-- No message names a Rust source file.
SELECT count(*) AS rust_paths FROM (VALUES
    (regress_error($$SELECT arima_fit(ARRAY[1, 'NaN']::float8[])$$)),
    (regress_error($$SELECT * FROM arima_forecast('{}', 3)$$)),
    (regress_error($$SELECT * FROM refresh_year(1999)$$))) v(e)
WHERE e ~ '\.rs\M';
