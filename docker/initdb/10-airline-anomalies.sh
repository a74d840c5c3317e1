#!/usr/bin/env bash
# Runs once, on the first start of an empty data volume (the official
# image's /docker-entrypoint-initdb.d): the extension and its schema,
# pg_cron with a nightly refresh_pending() (only the years that received
# data since their last refresh; nothing, and no error, for historical
# data), and the read-only Superset role.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE EXTENSION IF NOT EXISTS airline_anomalies;
CREATE EXTENSION IF NOT EXISTS pg_cron;
SELECT cron.schedule('refresh-pending', '${REFRESH_SCHEDULE:-0 3 * * *}',
                     'SELECT count(*) FROM refresh_pending()');
SQL
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -f /usr/local/share/airline_anomalies/superset_role.sql
if [ -n "${SUPERSET_READER_PASSWORD:-}" ]; then
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
        -c "ALTER ROLE superset_reader PASSWORD '${SUPERSET_READER_PASSWORD//\'/\'\'}'"
fi
