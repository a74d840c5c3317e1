-- airport_models rows ($1 a JSON array of them, keys named as the
-- columns; fitted_at is set here). A row whose values would not change is
-- not rewritten, so fitted_at says when the model last changed.
INSERT INTO @extschema@.airport_models AS m (origin_airport, year, p, d, q, param_names, params, sigma2,
    loglike, aic, points, grid_searched, converged, level, lower_clip, upper_clip, skip_reason)
SELECT origin_airport, year, p, d, q, param_names, params, sigma2,
       loglike, aic, points, grid_searched, converged, level, lower_clip, upper_clip, skip_reason
FROM json_populate_recordset(NULL::@extschema@.airport_models, $1::text::json)
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
