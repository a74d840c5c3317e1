//! `#[pg_test]`s: each runs inside a real Postgres with the extension
//! installed, in a transaction rolled back afterwards.
//!
//! The flights fixture: one flight per day whose delay is the real 2013
//! daily mean of EWR, JFK or LGA (the statsmodels fixtures' series), so the
//! summary's daily mean is that value and statsmodels' numbers apply.

use pgrx::prelude::*;

#[pg_schema]
mod tests {
    use pgrx::prelude::*;
    use serde_json::Value;

    const FITS: &str = include_str!("../crates/arima/tests/fixtures/fits.json");

    fn fixtures() -> Value {
        serde_json::from_str(FITS).expect("fixture is JSON")
    }

    fn series(doc: &Value, name: &str) -> Vec<f64> {
        doc["series"][name]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    }

    /// statsmodels' result for `name` with order (5,1,1).
    fn sm_case<'a>(doc: &'a Value, name: &str) -> &'a Value {
        doc["fits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["series"] == name && c["order"] == serde_json::json!([5, 1, 1]))
            .unwrap()
    }

    fn floats(v: &Value) -> Vec<f64> {
        v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
    }

    /// Loads one flight a day for `origin` in 2013, with `delays[i]` on day i.
    fn load_flights(origin: &str, delays: &[f64]) {
        Spi::run("SELECT flights_partition(2013)").unwrap();
        Spi::run_with_args(
            "INSERT INTO flights (fl_date, op_carrier, origin, dest, dep_delay, source_file)
             SELECT make_date(2013, 1, 1) + (i - 1)::int, 'XX', $1, 'ORD', d, 'fixture'
             FROM unnest($2::float8[]) WITH ORDINALITY AS u(d, i)",
            &[origin.into(), delays.to_vec().into()],
        )
        .unwrap();
    }

    fn load_nyc(doc: &Value) {
        for origin in ["EWR", "JFK", "LGA"] {
            load_flights(origin, &series(doc, &format!("nyc_{}_2013", origin.to_lowercase())));
        }
    }

    fn count(sql: &str) -> i64 {
        Spi::get_one::<i64>(sql).unwrap().unwrap()
    }

    /// A digest of the summary table, to compare states.
    fn summary_digest() -> String {
        Spi::get_one::<String>(
            "SELECT coalesce(md5(string_agg(s::text, ',' ORDER BY date, origin_airport)), '') FROM airport_daily_summary s",
        )
        .unwrap()
        .unwrap()
    }

    /// The summary rows of `origin` against reference bands and flags: bands
    /// within `band_tol` band widths from day `from` on, flags identical
    /// except days within 1e-3 band widths of a bound.
    fn assert_rows_match(origin: &str, y: &[f64], lo: &[f64], hi: &[f64], flags: &[bool], band_tol: f64, from: usize) {
        let rows: Vec<(f64, f64, bool)> = Spi::connect(|c| {
            c.select(
                "SELECT dep_delay_lower_ci, dep_delay_higher_ci, dep_delay_anomaly FROM airport_daily_summary
                 WHERE origin_airport = $1 ORDER BY date",
                None,
                &[origin.into()],
            )?
            .map(|r| Ok((r.get(1)?.unwrap(), r.get(2)?.unwrap(), r.get(3)?.unwrap())))
            .collect::<Result<Vec<_>, pgrx::spi::Error>>()
        })
        .unwrap();
        assert_eq!(rows.len(), y.len());
        for (t, (l, h, flag)) in rows.iter().enumerate().skip(from) {
            let width = hi[t] - lo[t];
            assert!(
                (l - lo[t]).abs() < band_tol * width && (h - hi[t]).abs() < band_tol * width,
                "{origin} day {t}"
            );
            if *flag != flags[t] {
                let margin = (y[t] - lo[t]).abs().min((y[t] - hi[t]).abs());
                assert!(
                    margin < 1e-3 * width,
                    "{origin} day {t}: flag differs away from a bound"
                );
            }
        }
    }

    /// `level => 0.95` gives the replaced system's stored output: it called
    /// `conf_int(0.2)`, a 95 % band (reference/old_system_fixtures.py).
    #[pg_test]
    fn level_095_reproduces_the_old_system() {
        const OLD: &str = include_str!("../crates/arima/tests/fixtures/old_system.json");
        let doc: Value = serde_json::from_str(OLD).unwrap();
        for case in doc["cases"].as_array().unwrap() {
            load_flights(case["origin"].as_str().unwrap(), &floats(&case["y"]));
        }
        Spi::run("SELECT refresh_year(2013, level => 0.95)").unwrap();
        for case in doc["cases"].as_array().unwrap() {
            let flags: Vec<bool> = case["flags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_bool().unwrap())
                .collect();
            let (lo, hi) = (floats(&case["lower"]), floats(&case["upper"]));
            // Day 0 (d = 1) has a diffuse band; our optimum is at or above
            // statsmodels', so bands agree to 1e-3 widths.
            assert_rows_match(
                case["origin"].as_str().unwrap(),
                &floats(&case["y"]),
                &lo,
                &hi,
                &flags,
                1e-3,
                1,
            );
        }
    }

    #[pg_test]
    fn refresh_year_matches_statsmodels() {
        let doc = fixtures();
        load_nyc(&doc);
        let (fitted, skipped, days) =
            Spi::get_three::<i32, i32, i64>("SELECT airports_fitted, airports_skipped, days FROM refresh_year(2013)")
                .unwrap();
        assert_eq!((fitted, skipped, days), (Some(3), Some(0), Some(3 * 365)));

        for origin in ["EWR", "JFK", "LGA"] {
            let name = format!("nyc_{}_2013", origin.to_lowercase());
            let sm = &sm_case(&doc, &name)["anomaly"];
            let flags: Vec<bool> = sm["flags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_bool().unwrap())
                .collect();
            let (lo, hi) = (floats(&sm["lower"]), floats(&sm["upper"]));
            assert_rows_match(origin, &series(&doc, &name), &lo, &hi, &flags, 1e-4, 0);
        }
        // The model table says how each airport was modelled.
        let (order, reason) = Spi::get_two::<String, String>(
            "SELECT format('(%s,%s,%s)', p, d, q), skip_reason FROM airport_models WHERE origin_airport = 'EWR' AND year = 2013",
        )
        .unwrap();
        assert_eq!((order.as_deref(), reason), (Some("(5,1,1)"), None));
    }

    #[pg_test]
    fn refresh_year_is_idempotent_and_follows_new_data() {
        let doc = fixtures();
        load_nyc(&doc);
        Spi::run("SELECT refresh_year(2013)").unwrap();
        let first = summary_digest();
        Spi::run("SELECT refresh_year(2013)").unwrap();
        assert_eq!(summary_digest(), first, "a re-run changes nothing");
        assert_eq!(count("SELECT count(*) FROM airport_daily_summary"), 3 * 365);
        assert_eq!(count("SELECT count(*) FROM airport_models"), 3);

        // New data: a storm day at JFK, and a day that loses its flights at LGA.
        Spi::run("INSERT INTO flights (fl_date, op_carrier, origin, dest, dep_delay) VALUES ('2013-07-04', 'XX', 'JFK', 'ORD', 500)").unwrap();
        Spi::run("DELETE FROM flights WHERE origin = 'LGA' AND fl_date = '2013-03-01'").unwrap();
        Spi::run("SELECT refresh_year(2013)").unwrap();
        assert_ne!(summary_digest(), first);
        assert_eq!(
            count("SELECT flights FROM airport_daily_summary WHERE origin_airport = 'JFK' AND date = '2013-07-04'"),
            2
        );
        assert_eq!(
            count("SELECT count(*) FROM airport_daily_summary WHERE origin_airport = 'LGA'"),
            364
        );
    }

    #[pg_test]
    fn arima_anomalies_computes_without_writing() {
        let doc = fixtures();
        load_nyc(&doc);
        let on_the_fly = Spi::get_one::<String>(
            "SELECT md5(string_agg(a::text, ',' ORDER BY date)) FROM arima_anomalies('JFK', 2013) a",
        )
        .unwrap();
        assert_eq!(count("SELECT count(*) FROM airport_daily_summary"), 0, "writes nothing");
        Spi::run("SELECT refresh_year(2013)").unwrap();
        let stored = Spi::get_one::<String>(
            "SELECT md5(string_agg((s.date, s.origin_airport, s.average_dep_delay, s.flights, s.dep_delay_anomaly,
                                    s.dep_delay_pred, s.dep_delay_higher_ci, s.dep_delay_lower_ci)::text, ',' ORDER BY date))
             FROM airport_daily_summary s WHERE origin_airport = 'JFK'",
        )
        .unwrap();
        assert_eq!(on_the_fly, stored, "same rows as refresh_year writes");
    }

    #[pg_test]
    fn unknown_airport_or_year_gives_no_rows() {
        let doc = fixtures();
        load_nyc(&doc);
        assert_eq!(count("SELECT count(*) FROM arima_anomalies('ZZZ', 2013)"), 0);
        assert_eq!(count("SELECT count(*) FROM arima_anomalies('JFK', 1999)"), 0);
    }

    #[pg_test(error = "no flights dated 1999")]
    fn refresh_of_an_empty_year_is_an_error() {
        Spi::run("SELECT refresh_year(1999)").unwrap();
    }

    #[pg_test(error = "level must be between 0 and 1 (exclusive), got 1.5")]
    fn bad_level_is_an_error() {
        Spi::run("SELECT * FROM arima_anomalies('JFK', 2013, level => 1.5)").unwrap();
    }

    #[pg_test]
    fn short_airports_are_skipped_with_a_reason() {
        let doc = fixtures();
        load_nyc(&doc);
        load_flights("ANC", &[12.0, 30.0]);
        let skipped = Spi::get_one::<i32>("SELECT airports_skipped FROM refresh_year(2013)").unwrap();
        assert_eq!(skipped, Some(1));
        let reason =
            Spi::get_one::<String>("SELECT skip_reason FROM airport_models WHERE origin_airport = 'ANC'").unwrap();
        assert_eq!(reason.as_deref(), Some("series has 2 points; at least 3 are needed"));
        assert_eq!(
            count(
                "SELECT count(*) FROM airport_daily_summary WHERE origin_airport = 'ANC' AND dep_delay_anomaly IS NULL"
            ),
            2
        );
        assert_eq!(
            count("SELECT count(*) FROM airport_daily_dashboard WHERE origin_airport = 'ANC' AND dep_delay_anomaly_label = 'normal'"),
            2
        );
    }

    #[pg_test]
    fn non_finite_delays_are_left_out() {
        load_flights("SFO", &[10.0, 20.0, 15.0, 30.0, 12.0]);
        Spi::run("INSERT INTO flights (fl_date, op_carrier, origin, dest, dep_delay) VALUES ('2013-01-02', 'XX', 'SFO', 'ORD', 'NaN'), ('2013-01-03', 'XX', 'SFO', 'ORD', 'Infinity')").unwrap();
        assert_eq!(
            count("SELECT sum(flights)::int8 FROM arima_anomalies('SFO', 2013, 1, 0, 0)"),
            5
        );
    }

    #[pg_test]
    fn trigger_marks_a_new_day_from_the_stored_model() {
        let doc = fixtures();
        let y = series(&doc, "nyc_ewr_2013");
        load_flights("EWR", &y[..364]);
        Spi::run("SELECT refresh_year(2013)").unwrap();
        // Dec 31 arrives as a summary row of an incremental load, unmarked.
        Spi::run_with_args(
            "INSERT INTO airport_daily_summary (date, origin_airport, average_dep_delay, flights) VALUES ('2013-12-31', 'EWR', $1, 1)",
            &[y[364].into()],
        )
        .unwrap();
        let (pred, lo, hi) = Spi::get_three::<f64, f64, f64>(
            "SELECT dep_delay_pred, dep_delay_lower_ci, dep_delay_higher_ci FROM airport_daily_summary WHERE date = '2013-12-31'",
        )
        .unwrap();
        let (pred, lo, hi) = (pred.unwrap(), lo.unwrap(), hi.unwrap());

        // The same from the core: the stored parameters run over the 364 earlier days.
        let params = Spi::get_one::<Vec<f64>>("SELECT params FROM airport_models WHERE origin_airport = 'EWR'")
            .unwrap()
            .unwrap();
        let order = arima::Order::DEFAULT;
        let fit =
            arima::FittedArima::from_params(order, arima::Params::from_slice(&order, &params), &y[..364]).unwrap();
        let next = fit.forecast(1);
        let (l, h) = next.interval(0.8).unwrap();
        let (lc, hc) =
            Spi::get_two::<f64, f64>("SELECT lower_clip, upper_clip FROM airport_models WHERE origin_airport = 'EWR'")
                .unwrap();
        assert!((pred - next.mean[0]).abs() < 1e-9);
        assert!((lo - l[0].max(lc.unwrap())).abs() < 1e-9 && (hi - h[0].min(hc.unwrap())).abs() < 1e-9);
        let flag =
            Spi::get_one::<bool>("SELECT dep_delay_anomaly FROM airport_daily_summary WHERE date = '2013-12-31'")
                .unwrap();
        assert_eq!(flag, Some(y[364] < lo || y[364] > hi));

        // A row that arrives already marked is left as it is.
        Spi::run("INSERT INTO airport_daily_summary VALUES ('2014-01-01', 'EWR', 99, 1, true, 1, 2, 0)").unwrap();
        assert_eq!(
            Spi::get_one::<f64>("SELECT dep_delay_pred FROM airport_daily_summary WHERE date = '2014-01-01'").unwrap(),
            Some(1.0)
        );
    }

    #[pg_test]
    fn generic_fit_and_forecast_match_statsmodels() {
        let doc = fixtures();
        let y = series(&doc, "nyc_jfk_2013");
        let sm = sm_case(&doc, "nyc_jfk_2013");
        let rows: Vec<(f64, f64, f64)> = Spi::connect(|c| {
            c.select(
                "SELECT forecast, lower, upper FROM arima_forecast(arima_fit($1, 5, 1, 1), 10, 0.8) ORDER BY step",
                None,
                &[y.clone().into()],
            )?
            .map(|r| Ok((r.get(1)?.unwrap(), r.get(2)?.unwrap(), r.get(3)?.unwrap())))
            .collect::<Result<Vec<_>, pgrx::spi::Error>>()
        })
        .unwrap();
        let (mean, lo, hi) = (
            floats(&sm["forecast"]["mean"]),
            floats(&sm["forecast"]["lower_0.8"]),
            floats(&sm["forecast"]["upper_0.8"]),
        );
        assert_eq!(rows.len(), 10);
        for (h, (f, l, u)) in rows.iter().enumerate() {
            let w = hi[h] - lo[h];
            assert!((f - mean[h]).abs() < 1e-4 * w && (l - lo[h]).abs() < 1e-4 * w && (u - hi[h]).abs() < 1e-4 * w);
        }
        let flagged = count("SELECT count(*) FILTER (WHERE anomaly) FROM arima_detect((SELECT array_agg(x) FROM generate_series(1, 40) x)::float8[] || '{500}'::float8[], 1, 1, 0)");
        assert!(flagged >= 1, "a jump of 460 after a straight line is flagged");
    }

    #[pg_test(error = "series[2] is NULL")]
    fn null_in_a_series_is_an_error() {
        Spi::run("SELECT arima_fit('{1, NULL, 3}'::float8[])").unwrap();
    }

    #[pg_test(error = "series[2] is NaN")]
    fn nan_in_a_series_is_an_error() {
        Spi::run("SELECT arima_fit('{1, NaN, 3, 4}'::float8[], 1, 0, 0)").unwrap();
    }

    #[pg_test(error = "cannot model series: constant series (every value is 7)")]
    fn constant_series_is_an_error() {
        Spi::run("SELECT arima_fit('{7, 7, 7, 7, 7}'::float8[], 1, 0, 0)").unwrap();
    }

    /// pgrx needs the defaults spelled out in each signature: they must be
    /// the core's.
    #[pg_test]
    fn sql_defaults_are_the_core_defaults() {
        let d = arima::DetectOptions::default();
        let (order, level) = (d.order, d.level);
        let has_order = [
            format!("p integer DEFAULT {}", order.p),
            format!("d integer DEFAULT {}", order.d),
            format!("q integer DEFAULT {}", order.q),
        ];
        for f in [
            "arima_anomalies",
            "refresh_year",
            "arima_detect",
            "arima_fit",
            "arima_forecast",
        ] {
            let args = Spi::get_one::<String>(&format!("SELECT pg_get_function_arguments('{f}'::regproc)"))
                .unwrap()
                .unwrap();
            if f != "arima_forecast" {
                for want in &has_order {
                    assert!(args.contains(want.as_str()), "{f}({args}) lacks {want}");
                }
            }
            if f != "arima_fit" {
                let want = format!("level double precision DEFAULT {level}");
                assert!(args.contains(&want), "{f}({args}) lacks {want}");
            }
            if f == "arima_anomalies" || f == "refresh_year" {
                assert!(args.contains("grid_search boolean DEFAULT false"), "{f}({args})");
            }
        }
    }

    /// The rest of a year arrives after a fit on its first 300 days:
    /// `refit => false` marks each new day with the one-step prediction from
    /// the days before it, exactly what the trigger's `arima_next_day` gives
    /// (band, residual, distance from the band), and leaves the fitted days
    /// and the model as they were.
    #[pg_test]
    fn online_flags_are_the_trigger_path() {
        let doc = fixtures();
        let y = series(&doc, "nyc_jfk_2013");
        load_flights("JFK", &y[..300]);
        Spi::run("SELECT refresh_year(2013)").unwrap();
        let fitted_at = Spi::get_one::<String>("SELECT fitted_at::text FROM airport_models").unwrap();
        Spi::run_with_args(
            "INSERT INTO flights (fl_date, op_carrier, origin, dest, dep_delay, source_file)
             SELECT make_date(2013, 1, 1) + 299 + i::int, 'XX', 'JFK', 'ORD', d, 'fixture'
             FROM unnest($1::float8[]) WITH ORDINALITY AS u(d, i)",
            &[y[300..].to_vec().into()],
        )
        .unwrap();
        let (fitted, days) =
            Spi::get_two::<i32, i64>("SELECT airports_fitted, days FROM refresh_year(2013, refit => false)").unwrap();
        assert_eq!((fitted, days), (Some(0), Some(65)));
        assert_eq!(
            count(
                "SELECT count(*) FROM airport_daily_summary WHERE dep_delay_source = 'online' AND date >= '2013-10-28'"
            ),
            65
        );
        assert_eq!(
            count("SELECT count(*) FROM airport_daily_summary WHERE dep_delay_source = 'fit'"),
            300
        );
        let off = count(
            "SELECT count(*) FROM airport_daily_summary s, arima_next_day(s.origin_airport, s.date) n
             WHERE s.dep_delay_source = 'online'
               AND (abs(s.dep_delay_pred - n.dep_delay_pred) > 1e-9
                    OR abs(s.dep_delay_lower_ci - n.dep_delay_lower_ci) > 1e-9
                    OR abs(s.dep_delay_higher_ci - n.dep_delay_higher_ci) > 1e-9
                    OR abs(s.dep_delay_residual - (s.average_dep_delay - n.dep_delay_pred) / n.dep_delay_sd) > 1e-9
                    OR s.dep_delay_outside <> greatest(s.dep_delay_lower_ci - s.average_dep_delay,
                                                       s.average_dep_delay - s.dep_delay_higher_ci, 0))",
        );
        assert_eq!(off, 0, "online rows differ from arima_next_day");
        assert_eq!(
            Spi::get_one::<String>("SELECT fitted_at::text FROM airport_models").unwrap(),
            fitted_at
        );
    }
}
