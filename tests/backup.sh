#!/usr/bin/env bash
# Backup and restore as the db image does them (pgBackRest: a full backup
# plus continuous WAL archiving), against a local repository instead of
# S3: a loaded, refreshed cluster is backed up, changed afterwards (a new
# month loaded and the year refitted), then restored into a new data
# directory, replaying the archived WAL; every table must come back equal.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh
source tests/lib.sh

ROOT=$PWD/target/backup-test
REPO=$PWD/target/backup-repo  # outside ROOT, which test_cluster empties
LOADER=$PWD/target/release/loader
PORT=${BACKUP_PG_PORT:-25342}
rm -rf "$REPO" && mkdir -p "$REPO"
cat >"$REPO/pgbackrest.conf" <<EOF
[global]
repo1-path=$REPO/repo
repo1-retention-full=2
log-path=$REPO
lock-path=$REPO
start-fast=y
archive-async=n

[airline]
pg1-path=$ROOT/pg
pg1-port=$PORT
pg1-socket-path=$ROOT/pg
EOF
[ "$(id -u)" = 0 ] && chown -R postgres:postgres "$REPO"
backrest() { as_pg pgbackrest --config="$REPO/pgbackrest.conf" --stanza=airline "$@"; }

test_cluster "$ROOT" "$PORT" -c archive_mode=on -c wal_level=replica \
    -c "archive_command='pgbackrest --config=$REPO/pgbackrest.conf --stanza=airline archive-push %p'"
backrest stanza-create >/dev/null
backrest check >/dev/null || fail "pgbackrest check: WAL archiving does not work"

# A loaded, refreshed year; then the full backup.
sql -c "CREATE EXTENSION airline_anomalies"
$LOADER load data/sample/nycflights13-2013.csv.gz --then-refresh >/dev/null 2>&1
backrest backup --type=full >/dev/null 2>&1
pass "pgBackRest: stanza, archiving checked, full backup of a refreshed year"

# After the backup: December replaced and the year refitted, then one WAL switch
# so the last change is archived (archive_timeout does this in production).
python3 - "$ROOT/dec.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("FL_DATE,OP_CARRIER,ORIGIN,DEST,DEP_DELAY\n")
    f.writelines(f"2013-12-{1 + i % 31:02d},AA,EWR,LAX,{(i * 7) % 90}\n" for i in range(3100))
PY
$LOADER load "$ROOT/dec.csv" --then-refresh >/dev/null 2>&1
sql -c "SELECT pg_switch_wal()" >/dev/null
before=$(digest "$PGDATABASE")
backrest check >/dev/null  # waits until the switched segment is archived
pg_stop "$ROOT/pg"

# Restore into a new directory and start it: the backup, then the archived WAL replayed.
RESTORED=$ROOT/restored
mkdir -p "$RESTORED" && [ "$(id -u)" = 0 ] && chown postgres:postgres "$RESTORED"
backrest restore --pg1-path="$RESTORED" >/dev/null
rm -f "$RESTORED"/.s.PGSQL.*.lock  # the test's socket lives in the data directory; production's does not
pg_start "$RESTORED" "$PORT"
trap 'pg_stop "$RESTORED"' EXIT
for _ in $(seq 60); do [ "$(sql -c "SELECT pg_is_in_recovery()")" = f ] && break; sleep 1; done
[ "$(sql -c "SELECT pg_is_in_recovery()")" = f ] || fail "the restored cluster is still recovering"
after=$(digest "$PGDATABASE")
[ "$before" = "$after" ] || fail "the restore differs: $(diff <(echo "$before") <(echo "$after"))"
[ "$(sql -c "SELECT count(*) FROM flights WHERE source_file LIKE '%dec.csv'")" = 3100 ] ||
    fail "the change made after the backup was not replayed"
pass "restored from the full backup and the archived WAL: every table equal, the change after the backup included"
echo "backup: all passed"
