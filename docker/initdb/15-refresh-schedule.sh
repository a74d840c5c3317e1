#!/usr/bin/env bash
# Runs once, on the first start of an empty data volume, after the schema:
# pg_cron with a nightly refresh_pending() run as airline_loader (only the
# years that received data since their last refresh; nothing, and no
# error, for historical data).
set -euo pipefail
psql -X -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -q \
    -v schedule="${REFRESH_SCHEDULE:-0 3 * * *}" <<'SQL'
CREATE EXTENSION IF NOT EXISTS pg_cron;
SELECT cron.schedule_in_database('refresh-pending', :'schedule', 'SELECT count(*) FROM refresh_pending()',
                                 current_database(), 'airline_loader');
SQL
