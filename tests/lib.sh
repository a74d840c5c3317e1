# shellcheck shell=bash
# Helpers shared by the shell tests (sourced after scripts/pg.sh). The
# caller sets PGHOST/PGPORT/PGUSER/PGDATABASE, and SERVER_LOG to have a
# failure print the server's last lines.

# sql ARGS...: psql, stopping at the first error, unaligned and quiet.
sql() { psql -X -v ON_ERROR_STOP=1 -qAt "$@"; }
fail() {
    echo "FAIL: $*" >&2
    if [ -n "${SERVER_LOG:-}" ] && [ -f "$SERVER_LOG" ]; then
        echo "--- server log:" >&2
        tail -30 "$SERVER_LOG" >&2
    fi
    exit 1
}
pass() { echo "ok: $*"; }

# expect_error STATUS MESSAGE COMMAND...: the command exits with STATUS
# (the loader: 1 failed, 2 refused) and says MESSAGE.
expect_error() {
    local want=$1 msg=$2; shift 2
    local out rc=0
    out=$("$@" 2>&1) || rc=$?
    [ "$rc" = "$want" ] || fail "expected exit status $want, got $rc: $*; said: $out"
    grep -qF -- "$msg" <<<"$out" || fail "expected '$msg' from: $*; got: $out"
}

# digest [DB]: one md5 per table of the extension's schema (public) and its
# partitions, wherever they are (name, row count, md5 of the rows in a fixed
# order), sorted.
digest() {
    sql -d "${1:-$PGDATABASE}" <<'SQL'
DO $$
DECLARE
    t record;
    line text;
BEGIN
    CREATE TEMP TABLE digests (line text);
    FOR t IN SELECT c.oid::regclass AS rel, c.relname FROM pg_class c
             WHERE c.relnamespace IN ('public'::regnamespace, to_regnamespace('airline_partitions')) AND c.relkind = 'r'
             ORDER BY c.relname
    LOOP
        EXECUTE format('SELECT %L || '' '' || count(*) || '' '' || coalesce(md5(string_agg(x::text, '','' ORDER BY x::text)), '''') FROM %s x', t.relname, t.rel)
            INTO line;
        INSERT INTO digests VALUES (line);
    END LOOP;
END
$$;
SELECT line FROM digests ORDER BY line;
SQL
}

# test_cluster DIR PORT [postgres -c settings...]: a fresh cluster in
# DIR/pg on 127.0.0.1:PORT, stopped when the script exits, with PG* set
# for it (user and database postgres; notices below warnings hidden) and
# SERVER_LOG set.
test_cluster() {
    local dir=$1 port=$2
    shift 2
    rm -rf "$dir"
    pg_start "$dir/pg" "$port" "$@"
    # shellcheck disable=SC2064 # the directory is fixed now, on purpose
    trap "pg_stop '$dir/pg'" EXIT
    export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres SERVER_LOG=$dir/pg/server.log
    export PGOPTIONS="-c client_min_messages=warning"
}
