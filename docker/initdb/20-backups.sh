#!/usr/bin/env bash
# Runs once, on the first start of an empty data volume, after the schema:
# creates pgBackRest's stanza in the configured repository and checks that
# WAL reaches it. Nothing when no repository is configured.
set -euo pipefail
if [ -n "${PGBACKREST_REPO1_S3_BUCKET:-}${PGBACKREST_REPO1_PATH:-}" ]; then
    pgbackrest stanza-create
    pgbackrest check
fi
