#!/usr/bin/env bash
# The db image's entrypoint: continuous WAL archiving with pgBackRest when a
# repository is configured (PGBACKREST_REPO1_S3_BUCKET, or PGBACKREST_REPO1_PATH
# for a local one), then the official image's entrypoint. Without one nothing
# is archived, so WAL never piles up waiting for a repository that is not there.
set -euo pipefail
if [ -n "${PGBACKREST_REPO1_S3_BUCKET:-}${PGBACKREST_REPO1_PATH:-}" ] && [ "${1:-}" = postgres ]; then
    set -- "$@" -c archive_mode=on -c "archive_command=pgbackrest archive-push %p" -c archive_timeout=300
fi
exec docker-entrypoint.sh "$@"
