-- One airport_models row ($1 origin, $2 year, then the columns in order;
-- $17 the skip reason). A row whose values would not change is not
-- rewritten, so its fitted_at says when the model last changed.
INSERT INTO airport_models AS m (origin_airport, year, p, d, q, param_names, params, sigma2,
    loglike, aic, points, grid_searched, converged, level, lower_clip, upper_clip, fitted_at, skip_reason)
VALUES ($1::text, $2::int, $3::int, $4::int, $5::int, $6::text[], $7::float8[], $8::float8,
        $9::float8, $10::float8, $11::int, $12::bool, $13::bool, $14::float8, $15::float8,
        $16::float8, now(), $17::text)
ON CONFLICT (origin_airport, year) DO UPDATE SET
    p = EXCLUDED.p, d = EXCLUDED.d, q = EXCLUDED.q, param_names = EXCLUDED.param_names,
    params = EXCLUDED.params, sigma2 = EXCLUDED.sigma2, loglike = EXCLUDED.loglike,
    aic = EXCLUDED.aic, points = EXCLUDED.points, grid_searched = EXCLUDED.grid_searched,
    converged = EXCLUDED.converged, level = EXCLUDED.level, lower_clip = EXCLUDED.lower_clip,
    upper_clip = EXCLUDED.upper_clip, fitted_at = EXCLUDED.fitted_at,
    skip_reason = EXCLUDED.skip_reason
WHERE (m.p, m.d, m.q, m.param_names, m.params, m.sigma2, m.loglike, m.aic, m.points,
       m.grid_searched, m.converged, m.level, m.lower_clip, m.upper_clip, m.skip_reason)
      IS DISTINCT FROM
      (EXCLUDED.p, EXCLUDED.d, EXCLUDED.q, EXCLUDED.param_names, EXCLUDED.params, EXCLUDED.sigma2,
       EXCLUDED.loglike, EXCLUDED.aic, EXCLUDED.points, EXCLUDED.grid_searched, EXCLUDED.converged,
       EXCLUDED.level, EXCLUDED.lower_clip, EXCLUDED.upper_clip, EXCLUDED.skip_reason)
