-- The regression database: the extension, a small deterministic year of
-- flights (AAA: 60 days with a storm on day 40; BBB: 2 days, too few to
-- model), and a helper that shows an error's SQLSTATE, message and hint.
CREATE EXTENSION airline_anomalies;
SELECT flights_partition(2013);
INSERT INTO flights (fl_date, op_carrier, origin, dest, dep_delay, source_file)
SELECT make_date(2013, 1, 1) + i, 'XX', 'AAA', 'ORD',
       10 + 5 * sin(i) + (i % 7) + CASE WHEN i = 40 THEN 60 ELSE 0 END + k, 'regress'
FROM generate_series(0, 59) i, generate_series(-1, 1) k;
INSERT INTO flights (fl_date, op_carrier, origin, dest, dep_delay, source_file)
VALUES ('2013-01-01', 'XX', 'BBB', 'ORD', 5, 'regress'), ('2013-01-02', 'XX', 'BBB', 'ORD', 7, 'regress');

CREATE FUNCTION regress_error(query text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    state text;
    message text;
    hint text;
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RETURN state || ': ' || message || CASE WHEN hint <> '' THEN E'\nHINT: ' || hint ELSE '' END;
END
$$;
