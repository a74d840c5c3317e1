-- Who may do what (README, "Roles"), and what pg_dump keeps. Runs last at
-- CREATE EXTENSION, so the grants are the extension's initial privileges
-- (pg_init_privs) and pg_dump writes only later changes to them.

-- Two group roles, created if missing. Roles belong to the cluster, not
-- the database, so they outlive DROP EXTENSION and are shared by every
-- database that installs the extension.
-- A role of that name made before (by an earlier install, or by anyone
-- with CREATEROLE) is adopted only if it is what we would have made: a
-- group without login or any power of its own, a member of nothing but
-- (the writer) airline_reader. Anything else stops CREATE EXTENSION, since
-- granting our objects to it would hand them to whoever holds it.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT a.rolname, a.rolsuper, a.rolcreaterole, a.rolcreatedb, a.rolreplication,
                    a.rolbypassrls, a.rolcanlogin,
                    (SELECT pg_catalog.string_agg(g.rolname, ', ' ORDER BY g.rolname)
                     FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                     WHERE m.member OPERATOR(pg_catalog.=) a.oid
                       AND g.rolname OPERATOR(pg_catalog.<>) 'airline_reader'::name) AS member_of
             FROM pg_catalog.pg_roles a
             WHERE a.rolname OPERATOR(pg_catalog.=) ANY (ARRAY['airline_reader', 'airline_writer']::name[])
    LOOP
        IF r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls
           OR r.rolcanlogin OR r.member_of IS NOT NULL THEN
            RAISE EXCEPTION 'role % already exists with attributes or memberships the extension does not give it', r.rolname
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = pg_catalog.format('superuser %s, createrole %s, createdb %s, replication %s, bypassrls %s, login %s, member of %s',
                                                 r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls,
                                                 r.rolcanlogin, coalesce(r.member_of, 'nothing else')),
                      HINT = 'Drop the role, or make it NOLOGIN with no attributes and memberships, then create the extension again; members log in through roles of their own (sql/loader_role.sql).';
        END IF;
    END LOOP;
    IF pg_catalog.to_regrole('airline_reader') IS NULL THEN
        CREATE ROLE airline_reader NOLOGIN;
    END IF;
    IF pg_catalog.to_regrole('airline_writer') IS NULL THEN
        CREATE ROLE airline_writer NOLOGIN;
    END IF;
END
$$;
COMMENT ON ROLE airline_reader IS 'airline_anomalies: reads results and flights, runs the bounded read-only functions';
COMMENT ON ROLE airline_writer IS 'airline_anomalies: loads flights and refreshes results; also a reader';
GRANT airline_reader TO airline_writer;

-- Nothing of the extension is open to PUBLIC: every function is revoked,
-- then granted by name below.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT d.objid::regprocedure
             FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
             WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND e.extname = 'airline_anomalies'
               AND d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e'
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END
$$;

-- Readers: the results, the raw flights (arima_anomalies reads them) and
-- the bounded read-only functions.
GRANT USAGE ON SCHEMA @extschema@ TO airline_reader;
GRANT SELECT ON @extschema@.airport_daily_summary, @extschema@.airport_models,
    @extschema@.airport_daily_dashboard, @extschema@.airport_anomaly_explanations,
    @extschema@.flights, @extschema@.flight_years TO airline_reader;
GRANT EXECUTE ON FUNCTION @extschema@.arima_anomalies, @extschema@.arima_fit, @extschema@.arima_forecast,
    @extschema@.arima_detect, @extschema@.arima_next_day,
    @extschema@.anomaly_explanation, @extschema@.explain_anomalies TO airline_reader;

-- Writers: refresh and load. A load builds staging tables and swaps a
-- year's partition of flights, which takes CREATE on airline_partitions
-- (never on the extension's schema: see schema.sql) and ownership of flights.
GRANT INSERT, UPDATE, DELETE ON @extschema@.airport_daily_summary, @extschema@.airport_models TO airline_writer;
GRANT SELECT, INSERT, DELETE ON @extschema@.flight_rejects TO airline_writer;
GRANT INSERT, UPDATE ON @extschema@.flight_years TO airline_writer;
GRANT EXECUTE ON FUNCTION @extschema@.refresh_year, @extschema@.refresh_pending, @extschema@.flights_partition
    TO airline_writer;
GRANT USAGE, CREATE ON SCHEMA airline_partitions TO airline_writer;
ALTER TABLE @extschema@.flights OWNER TO airline_writer;

-- pg_dump skips the tables an extension script creates unless they are
-- marked: these hold the results, the rejects and the load record. (flights has no rows of
-- its own: its partitions are ordinary tables, dumped as such.)
SELECT pg_catalog.pg_extension_config_dump('@extschema@.airport_daily_summary', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.airport_models', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.flight_rejects', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.flight_years', '');

-- Nothing of ours searches a schema that others may write to, and this
-- script (and every later update script) runs with the extension's schema
-- on its search_path: so no role but superusers and the schema's owner may
-- create objects in it. (PostgreSQL 15 and later give PUBLIC no CREATE on
-- public; an older default, or a grant, stops the install here.)
DO $$
DECLARE
    writers text;
BEGIN
    SELECT pg_catalog.string_agg(r.rolname, ', ' ORDER BY r.rolname) INTO writers
    FROM pg_catalog.pg_roles r, pg_catalog.pg_namespace n
    WHERE n.oid OPERATOR(pg_catalog.=) '@extschema@'::regnamespace AND NOT r.rolsuper
      AND pg_catalog.has_schema_privilege(r.oid, n.oid, 'CREATE')
      AND NOT pg_catalog.pg_has_role(r.oid, n.nspowner, 'MEMBER');
    IF writers IS NOT NULL THEN
        RAISE EXCEPTION 'roles other than the owner of schema @extschema@ may create objects in it: %', writers
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'REVOKE CREATE ON SCHEMA @extschema@ FROM PUBLIC (and those roles), or install into a schema of its own: CREATE EXTENSION airline_anomalies SCHEMA ...';
    END IF;
END
$$;
