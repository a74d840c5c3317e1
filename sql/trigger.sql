-- The insert trigger of the extension (it calls arima_next_day, so it is
-- not part of the plain schema).

-- Marks a newly inserted day from the stored model, without refitting:
-- see arima_next_day. The flag, residual and distance from the band follow
-- the rule of SummaryRow::modelled (crates/summary/src/rows.rs). Names are
-- qualified and the search_path pinned, so a caller's search_path cannot
-- redirect it.
CREATE FUNCTION @extschema@.airport_daily_summary_mark_anomaly() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    IF NEW.dep_delay_pred IS NULL AND NEW.average_dep_delay IS NOT NULL THEN
        SELECT * INTO r FROM @extschema@.arima_next_day(NEW.origin_airport, NEW.date);
        IF FOUND THEN
            NEW.dep_delay_pred      := r.dep_delay_pred;
            NEW.dep_delay_lower_ci  := r.dep_delay_lower_ci;
            NEW.dep_delay_higher_ci := r.dep_delay_higher_ci;
            NEW.dep_delay_anomaly   := NEW.average_dep_delay < r.dep_delay_lower_ci
                                    OR NEW.average_dep_delay > r.dep_delay_higher_ci;
            NEW.dep_delay_source    := 'online';
            NEW.dep_delay_residual  := CASE WHEN r.dep_delay_sd > 0 AND r.dep_delay_sd < 'Infinity'
                                            THEN (NEW.average_dep_delay - r.dep_delay_pred) / r.dep_delay_sd END;
            NEW.dep_delay_outside   := greatest(r.dep_delay_lower_ci - NEW.average_dep_delay,
                                                NEW.average_dep_delay - r.dep_delay_higher_ci, 0);
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER mark_anomaly
    BEFORE INSERT ON @extschema@.airport_daily_summary
    FOR EACH ROW EXECUTE FUNCTION @extschema@.airport_daily_summary_mark_anomaly();
