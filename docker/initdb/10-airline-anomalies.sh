#!/usr/bin/env bash
# Runs once, on the first start of an empty data volume (the official
# image's /docker-entrypoint-initdb.d): the extension and its schema; the
# login roles airline_loader (a writer) and superset_reader (a reader); and
# Superset's own metadata database, owned by superset_metadata. Passwords
# are read from files (never from the environment or a command line).
# tests/integration.sh and tests/superset.sh run this script on a cluster.
set -euo pipefail
SQL_DIR=${AIRLINE_SQL_DIR:-/usr/local/share/airline_anomalies}
run() { psql -X -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" "$@"; }

run -q -c "CREATE EXTENSION IF NOT EXISTS airline_anomalies"
run -q -f "$SQL_DIR/loader_role.sql" -f "$SQL_DIR/superset_role.sql"
# Superset's dashboards, charts and users live here, not in the container.
run -q <<'SQL'
SELECT 'CREATE ROLE superset_metadata LOGIN'
WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'superset_metadata') \gexec
SELECT 'CREATE DATABASE superset OWNER superset_metadata'
WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'superset') \gexec
SQL

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
set_password superset_metadata "${SUPERSET_METADATA_PASSWORD_FILE:-}"
