#!/bin/sh
# The loader image's entrypoint. The image connects with sslmode=verify-full
# (its PGSSLMODE), which needs the database's CA certificate as a file
# (PGSSLROOTCERT). ECS can only hand it over as text in the environment
# (DB_CA_PEM, from the SSM parameter the db host publishes), so it is written
# to that file here; then the loader. tests/deploy.sh runs this script.
set -eu
if [ -n "${DB_CA_PEM:-}" ]; then
    printf '%s\n' "$DB_CA_PEM" >"${PGSSLROOTCERT:?PGSSLROOTCERT: where DB_CA_PEM is written}"
fi
exec loader "$@"
