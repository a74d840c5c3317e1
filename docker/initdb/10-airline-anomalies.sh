#!/usr/bin/env bash
# Runs once, on the first start of an empty data volume (the official
# image's /docker-entrypoint-initdb.d): the extension and its schema; the
# login roles airline_loader (a writer) and superset_reader (a reader), their
# passwords read from files (never from the environment or a command line);
# pg_cron with a nightly refresh_pending() run as airline_loader (only the
# years that received data since their last refresh; nothing, and no error,
# for historical data). tests/integration.sh runs this script on a cluster.
set -euo pipefail
SQL_DIR=${AIRLINE_SQL_DIR:-/usr/local/share/airline_anomalies}
run() { psql -X -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" "$@"; }

run -q -c "CREATE EXTENSION IF NOT EXISTS airline_anomalies" -c "CREATE EXTENSION IF NOT EXISTS pg_cron"
run -q -f "$SQL_DIR/loader_role.sql" -f "$SQL_DIR/superset_role.sql"

# set_password ROLE FILE: the password goes through psql's stdin and
# environment, quoted by psql.
set_password() {
    [ -n "$2" ] || return 0
    [ -r "$2" ] || { echo "$1: password file $2 cannot be read" >&2; exit 1; }
    ROLE_PASSWORD=$(cat "$2") run -q <<SQL
\getenv pw ROLE_PASSWORD
ALTER ROLE $1 PASSWORD :'pw';
SQL
}
set_password airline_loader "${LOADER_PASSWORD_FILE:-}"
set_password superset_reader "${SUPERSET_READER_PASSWORD_FILE:-}"

run -q -v schedule="${REFRESH_SCHEDULE:-0 3 * * *}" <<'SQL'
SELECT cron.schedule_in_database('refresh-pending', :'schedule', 'SELECT count(*) FROM refresh_pending()',
                                 current_database(), 'airline_loader');
SQL
