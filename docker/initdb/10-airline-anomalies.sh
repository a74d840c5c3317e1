#!/usr/bin/env bash
# Runs once, on the first start of an empty data volume (the official
# image's /docker-entrypoint-initdb.d): the extension and its schema,
# pg_cron with a nightly refresh of the current year, and the read-only
# Superset role.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE EXTENSION IF NOT EXISTS airline_anomalies;
CREATE EXTENSION IF NOT EXISTS pg_cron;
SELECT cron.schedule('refresh-current-year', '${REFRESH_SCHEDULE:-0 3 * * *}',
                     'SELECT refresh_year(extract(year FROM now() - interval ''1 day'')::int)');
SQL
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -f /usr/local/share/airline_anomalies/superset_role.sql
if [ -n "${SUPERSET_READER_PASSWORD:-}" ]; then
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
        -c "ALTER ROLE superset_reader PASSWORD '${SUPERSET_READER_PASSWORD//\'/\'\'}'"
fi
