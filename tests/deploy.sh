#!/usr/bin/env bash
# The deployment's private defaults, run here without Docker or AWS:
#  1. TLS. The db image's init scripts (docker/initdb: 05-tls.sh makes the
#     server's certificate and a CA of its own, TLS-only pg_hba.conf) on a
#     fresh cluster, restarted as the image's entrypoint does. Then the
#     loader (through the loader image's entrypoint, and by DATABASE_URL),
#     psql, and Superset's two connections (superset_config.py's URI, and the
#     one superset/import.sh writes into the bundle) with sslmode=verify-full
#     and the CA the script kept; plaintext, a wrong name and another CA are
#     refused.
#  2. The db host's boot script, taken from infra/database.yaml's UserData,
#     with fake aws, docker and curl: the passwords are fetched at every boot
#     (a reboot empties /run), readable by the container's postgres only; the
#     container is created once; the CA certificate is published.
#  3. No password on a command line: every program superset/import.sh and the
#     boot script start is traced (strace, execve) and its arguments searched.
# Needs the extension installed and target/release/loader (scripts/test.sh's build step).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh
source tests/lib.sh

ROOT=$PWD/target/deploy-test
WORK=$PWD/target/deploy-work  # outside ROOT, which test_cluster empties
PORT=${DEPLOY_PG_PORT:-25345}
LOADER=${LOADER:-$PWD/target/release/loader}
VENV=$PWD/target/venv-deploy  # SQLAlchemy and psycopg2, as Superset connects
[ -x "$LOADER" ] || fail "no $LOADER: cargo build --release -p loader"
command -v strace >/dev/null || apt-get install -y -qq strace >/dev/null
if ! "$VENV/bin/python" -c "import sqlalchemy, psycopg2" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "SQLAlchemy==1.4.54" "psycopg2-binary==2.9.10"
fi
rm -rf "$WORK" && mkdir -p "$WORK/secrets"

# ---- 1. TLS through the image's init scripts -------------------------------
# Passwords as the host hands them over: files only the postgres user reads.
printf "loader-%s\n" "$RANDOM$RANDOM" >"$WORK/secrets/loader"  # a trailing newline, as `aws --output text` writes
printf "it's-reader-%s" "$RANDOM$RANDOM" >"$WORK/secrets/superset_reader"
printf "meta-%s" "$RANDOM$RANDOM" >"$WORK/secrets/superset_metadata"
chmod 0400 "$WORK/secrets"/*
[ "$(id -u)" = 0 ] && chown -R postgres "$WORK/secrets"
loader_pw=$(<"$WORK/secrets/loader") reader_pw=$(<"$WORK/secrets/superset_reader") meta_pw=$(<"$WORK/secrets/superset_metadata")

settings=(-c shared_preload_libraries=pg_cron -c cron.database_name=postgres -c cron.use_background_workers=on
    -c max_worker_processes=16)
test_cluster "$ROOT" "$PORT" "${settings[@]}"
# As the official entrypoint runs them: as postgres, in order, over the
# socket, on a cluster just made; 05-tls.sh names the server 127.0.0.1.
for script in docker/initdb/*.sh; do
    as_pg env PGDATA="$ROOT/pg" PGHOST="$ROOT/pg" PGPORT="$PORT" POSTGRES_USER=postgres POSTGRES_DB=postgres \
        AIRLINE_SQL_DIR="$PWD/sql" DB_TLS_NAMES=127.0.0.1,localhost \
        LOADER_PASSWORD_FILE="$WORK/secrets/loader" SUPERSET_READER_PASSWORD_FILE="$WORK/secrets/superset_reader" \
        SUPERSET_METADATA_PASSWORD_FILE="$WORK/secrets/superset_metadata" bash "$script" >/dev/null
done
# The entrypoint then starts the real server, which reads the new settings.
pg_stop "$ROOT/pg"
pg_start "$ROOT/pg" "$PORT" "${settings[@]}"
export PGHOST=$ROOT/pg  # the superuser through the socket, as in the container
[ "$(sql -c "SHOW ssl")" = on ] || fail "ssl is not on after the init scripts"
[ "$(grep -rl -- "PRIVATE KEY" "$ROOT/pg" | grep -v '/server.key$' || true)" = "" ] || fail "a key besides the server's was kept"
[ "$(stat -c %a "$ROOT/pg/server.key")" = 600 ] || fail "server.key is not 0600"
cp "$ROOT/pg/db-ca.crt" "$WORK/db-ca.crt"
pass "the image's init scripts: TLS on, a certificate for 127.0.0.1 from a CA of its own (its key not kept)"

# psql (libpq) as airline_loader, its password from a file (PGPASSFILE).
printf '127.0.0.1:%s:*:airline_loader:%s\n' "$PORT" "$loader_pw" >"$WORK/pgpass" && chmod 600 "$WORK/pgpass"
conn="host=127.0.0.1 port=$PORT user=airline_loader dbname=postgres"
as_loader_psql() { PGPASSFILE=$WORK/pgpass psql -X -qAt "$@"; }
[ "$(as_loader_psql "$conn sslmode=verify-full sslrootcert=$WORK/db-ca.crt" \
    -c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")" = t ] || fail "psql verify-full: no TLS"
expect_error 2 "no encryption" as_loader_psql "$conn sslmode=disable" -c "SELECT 1"
expect_error 2 "does not match host name" as_loader_psql \
    "hostaddr=127.0.0.1 host=db.invalid port=$PORT user=airline_loader dbname=postgres sslmode=verify-full sslrootcert=$WORK/db-ca.crt" \
    -c "SELECT 1"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=another CA" \
    -keyout "$WORK/other.key" -out "$WORK/other.crt" 2>/dev/null
expect_error 2 "certificate verify failed" as_loader_psql "$conn sslmode=verify-full sslrootcert=$WORK/other.crt" -c "SELECT 1"
pass "psql: verify-full connects over TLS; plaintext, another name and another CA are refused"

# The loader as the ECS task runs it: the image's entrypoint writes the CA
# it gets as text (DB_CA_PEM) to PGSSLROOTCERT; verify-full (the image's default).
mkdir -p "$WORK/task-bin" && ln -sf "$LOADER" "$WORK/task-bin/loader"  # where the image has it: on PATH
loader_task() {
    PATH=$WORK/task-bin:$PATH DB_CA_PEM=$(<"$WORK/db-ca.crt") PGSSLMODE=verify-full \
        PGSSLROOTCERT=$WORK/task-ca.crt PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=airline_loader PGDATABASE=postgres \
        PGPASSWORD=$loader_pw sh docker/loader-entrypoint.sh "$@"
}
loader_task load data/sample/nycflights13-2013.csv.gz --then-refresh >/dev/null 2>"$WORK/task.err" ||
    fail "the loader task cannot load over verify-full: $(cat "$WORK/task.err")"
cmp -s "$WORK/task-ca.crt" "$WORK/db-ca.crt" || fail "the entrypoint did not write the CA"
[ "$(sql -c "SELECT count(*) FROM airport_daily_summary")" = 1095 ] || fail "the loader task loaded nothing"
url_pw=$(printf '%s' "$loader_pw" | python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read(), safe=""))')
DATABASE_URL="postgres://airline_loader:$url_pw@127.0.0.1:$PORT/postgres?sslmode=verify-full&sslrootcert=$WORK/db-ca.crt" \
    "$LOADER" detect --year 2013 --airport EWR --out "$WORK/ewr.csv" >/dev/null 2>"$WORK/detect.err" ||
    fail "loader, DATABASE_URL verify-full: $(cat "$WORK/detect.err")"
DATABASE_URL="postgres://airline_loader:$url_pw@127.0.0.1:$PORT/postgres?sslmode=disable" \
    expect_error 1 "no encryption" "$LOADER" detect --year 2013 --airport EWR --out "$WORK/ewr.csv"
pass "the loader: its image's entrypoint and DATABASE_URL connect with verify-full; sslmode=disable is refused"

# Superset's metadata connection: superset_config.py's URI, as the Superset
# task's environment gives it (the CA as text in DB_CA_PEM).
superset_tls=$(SUPERSET_SECRET_KEY=x SUPERSET_METADATA_HOST=127.0.0.1 SUPERSET_METADATA_PORT=$PORT \
    SUPERSET_METADATA_PASSWORD=$meta_pw DB_CA_PEM=$(<"$WORK/db-ca.crt") PGSSLROOTCERT=$WORK/superset-ca.crt \
    "$VENV/bin/python" - superset/superset_config.py <<'PY'
import sys
import sqlalchemy
config = {}
exec(open(sys.argv[1]).read(), config)
uri = config["SQLALCHEMY_DATABASE_URI"]
assert "sslmode=verify-full" in uri, uri
with sqlalchemy.create_engine(uri).connect() as c:
    print(c.execute(sqlalchemy.text("SELECT current_user || ' ' || ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).scalar())
PY
) || fail "superset_config.py's URI does not connect"
[ "$superset_tls" = "superset_metadata true" ] || fail "Superset's metadata connection: $superset_tls"
pass "Superset's metadata connection (superset_config.py): verify-full over TLS"

# superset/import.sh against a fake Superset (a curl that answers as one and
# keeps what would be uploaded), traced: no password in any program's arguments.
mkdir -p "$WORK/fake-bin" "$WORK/uploaded"
cat >"$WORK/fake-bin/curl" <<'SH'
#!/bin/bash
# Superset's answers to import.sh; the files a form would upload are kept.
for arg in "$@"; do
    case "$arg" in *=@* | *=\<* | password@*) f=${arg#*[@<]}; cp "$f" "$UPLOADED/$(basename "$f")" ;; esac
done
case "$*" in
*"-X POST"*/login/*) ;;
*/login/*) echo '<input id="csrf_token" name="csrf_token" type="hidden" value="form-token">' ;;
*/api/v1/me/*) echo '{"result": {"username": "admin"}}' ;;
*/api/v1/security/csrf_token/*) echo '{"result": "api-token"}' ;;
*/api/v1/dashboard/import/*) echo '{"message": "OK"}' ;;
*) exit 22 ;;
esac
SH
chmod +x "$WORK/fake-bin/curl"
printf 'admin-%s\n' "$RANDOM$RANDOM" >"$WORK/admin.pw"
admin_pw=$(<"$WORK/admin.pw")
out=$(PATH=$WORK/fake-bin:$PATH UPLOADED=$WORK/uploaded DB_PASSWORD_FILE=$WORK/secrets/superset_reader \
    ADMIN_PASSWORD_FILE=$WORK/admin.pw DB_SSLROOTCERT=$WORK/superset-ca.crt \
    strace -f -qq -e trace=execve -s 4096 -o "$WORK/import.trace" \
    bash superset/import.sh https://superset.invalid 127.0.0.1 "$PORT" postgres admin)
grep -q '"message": "OK"' <<<"$out" || fail "import.sh: $out"
grep -q 'superset/import.sh' "$WORK/import.trace" || fail "the trace is empty"
if grep -F -e "$reader_pw" -e "$admin_pw" "$WORK/import.trace"; then fail "a password is on a command line of import.sh"; fi
[ "$(<"$WORK/uploaded/admin.pw")" = "$admin_pw" ] || fail "import.sh did not send the admin's password"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["databases/airline.yaml"] == sys.argv[2]' \
    "$WORK/uploaded/passwords.json" "$reader_pw" || fail "import.sh did not send the reader's password"
pass "superset/import.sh: passwords from files, none on a command line"

# The dashboard's connection, as import.sh wrote it into the bundle, with the
# password Superset would put in: verify-full over TLS, as superset_reader.
reader_tls=$("$VENV/bin/python" - "$WORK/uploaded/bundle.zip" "$WORK/secrets/superset_reader" <<'PY'
import re, sys, zipfile
import sqlalchemy
from sqlalchemy.engine import make_url
text = zipfile.ZipFile(sys.argv[1]).read("airline_anomalies_dashboard/databases/airline.yaml").decode()
uri = re.search(r"^sqlalchemy_uri: (.*)$", text, re.M).group(1)
assert "sslmode=verify-full" in uri and "XXXXXXXXXX" in uri, uri
url = make_url(uri).set(password=open(sys.argv[2]).read().rstrip("\n"))
with sqlalchemy.create_engine(url).connect() as c:
    print(c.execute(sqlalchemy.text("SELECT current_user || ' ' || ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).scalar())
PY
) || fail "the bundle's URI does not connect"
[ "$reader_tls" = "superset_reader true" ] || fail "the dashboard's connection: $reader_tls"
pass "the dashboard's connection (import.sh's URI): verify-full over TLS"

# ---- 2. The db host's boot script, with fake aws, docker and curl ----------
boot=$WORK/airline-db-boot
# The script as the UserData writes it (between <<'BOOT' and BOOT), unindented.
awk '/<<.BOOT.$/ {on = 1; match($0, /^ */); cut = RLENGTH; next} on && $1 == "BOOT" {exit} on {print substr($0, cut + 1)}' \
    infra/database.yaml >"$boot"
[ -s "$boot" ] || fail "no boot script in infra/database.yaml's UserData"
for line in 'ExecStartPre=/usr/local/sbin/airline-db-boot prepare' 'WantedBy=multi-user.target' \
    'systemctl enable --now airline-db.service'; do
    grep -q "^ *$line" infra/database.yaml || fail "the boot unit is not run at every boot: no '$line'"
done
mkdir -p "$WORK/host/bin" "$WORK/host/pgdata" && H=$WORK/host
cat >"$H/bin/aws" <<'SH'
#!/bin/bash
# Secrets Manager gives "secret-of-<id>", SSM records the parameter.
echo "aws $*" >>"$HOST_LOG"
case "$1 $2" in
"secretsmanager get-secret-value")
    [ -e "$HOST/secrets-down" ] && exit 255
    while [ "$1" != --secret-id ]; do shift; done; echo "secret-of-$2" ;;
"ssm put-parameter") while [ "$1" != --value ]; do shift; done; cp "${2#file://}" "$HOST/published-ca" ;;
"ecr get-login-password") echo ecr-token ;;
*) exit 1 ;;
esac
SH
cat >"$H/bin/docker" <<'SH'
#!/bin/bash
echo "docker $*" >>"$HOST_LOG"
case "$1" in
container) [ -e "$HOST/container" ] ;;
create) touch "$HOST/container" ;;
login) cat >/dev/null ;;
esac
SH
cat >"$H/bin/curl" <<'SH'
#!/bin/bash
case "$*" in
*/latest/api/token) echo imds-token ;;
*/meta-data/local-hostname) echo ip-10-40-2-15.ec2.internal ;;
*/meta-data/local-ipv4) echo 10.40.2.15 ;;
*) exit 22 ;;
esac
SH
chmod +x "$H/bin"/*
printf 'postgres arn:secret:db-postgres\nloader arn:secret:db-loader\n' >"$H/secrets"
# The unit's environment (/etc/airline-db/boot.env), pointed here.
boot_run() {
    PATH=$H/bin:$PATH HOST=$H HOST_LOG=$H/log REGION=test-1 DB_IMAGE=registry.invalid/p-db:v1 \
        CA_PARAMETER=/p/db-ca-certificate SECRETS_LIST=$H/secrets SECRETS_DIR=$H/run/airline-secrets \
        PGDATA_DIR=$H/pgdata PGBACKREST_ENV=/dev/null IMDS=http://imds.invalid \
        strace -f -qq -e trace=execve -s 4096 -o "$H/trace.$1" bash "$boot" "$@"
}
boot_run prepare || fail "boot script: prepare failed"
[ "$(cat "$H/run/airline-secrets/loader")" = "secret-of-arn:secret:db-loader" ] || fail "the loader's password was not fetched"
[ "$(stat -c '%u %a' "$H/run/airline-secrets/postgres")" = "999 400" ] || fail "a password file is not the container's postgres's only"
[ "$(stat -c '%u %a' "$H/run/airline-secrets")" = "999 700" ] || fail "the passwords' directory is open"
grep -q -- "docker create --name db --restart no .*DB_TLS_NAMES=ip-10-40-2-15.ec2.internal,10.40.2.15 " "$H/log" ||
    fail "the container is not created (restart no, the host's names for its certificate): $(cat "$H/log")"
# A reboot: /run is empty again, the container is there.
rm -rf "$H/run" && : >"$H/log"
boot_run prepare || fail "boot script: prepare after a reboot failed"
[ -s "$H/run/airline-secrets/postgres" ] || fail "the passwords were not fetched again after a reboot"
! grep -q "docker create" "$H/log" || fail "the container was created twice"
# Secrets Manager out of reach: the script fails (systemd tries again), the db is not started without passwords.
rm -rf "$H/run" && touch "$H/secrets-down"
boot_run prepare 2>/dev/null && fail "prepare succeeded without the passwords"
rm "$H/secrets-down"
grep -q "get-secret-value" "$H/trace.prepare" || fail "the trace is empty"
if grep -h -e "secret-of-" "$H"/trace.*; then fail "a password is on a command line of the boot script"; fi
pass "boot script: the passwords fetched into /run at every boot (0400, uid 999), the container created once, none on a command line"
cp "$WORK/db-ca.crt" "$H/pgdata/db-ca.crt"
boot_run publish-ca || fail "boot script: publish-ca failed"
cmp -s "$H/published-ca" "$WORK/db-ca.crt" || fail "the CA certificate was not published"
grep -q "ssm put-parameter --region test-1 --name /p/db-ca-certificate --type String --overwrite" "$H/log" ||
    fail "published elsewhere: $(cat "$H/log")"
pass "boot script: the database's CA certificate published to SSM for the loader and Superset"
echo "deploy: all passed"
