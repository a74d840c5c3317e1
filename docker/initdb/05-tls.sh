#!/usr/bin/env bash
# Runs once, on the first start of an empty data volume, before the other
# init scripts (the official image runs them as postgres, in $PGDATA's
# owner's name): TLS on, and nothing but TLS from the network.
#
# The server's certificate is the deployment's when it gives one
# (DB_TLS_CERT_FILE and DB_TLS_KEY_FILE, mounted files). Otherwise it is made
# here: a CA of the server's own signs a certificate for DB_TLS_NAMES (the
# names clients connect to, comma separated, DNS names or IP addresses), the
# CA's certificate is kept as db-ca.crt in the data directory (what clients
# give as sslrootcert, with sslmode=verify-full; the db host publishes it),
# and the CA's key is thrown away, so nothing can sign another certificate
# with it. A new certificate is a new CA: run this again on the volume.
#
# pg_hba.conf: TCP only over TLS and with a password (scram); the
# container's own socket stays trusted, as in the official image (the init
# scripts, pgBackRest and `docker exec` use it; nothing outside reaches it).
# Settings only: they take effect when the entrypoint starts the real server.
# tests/deploy.sh runs this on a cluster and connects with verify-full.
set -euo pipefail
cd "$PGDATA"
umask 077

if [ -n "${DB_TLS_CERT_FILE:-}" ]; then
    cp "$DB_TLS_CERT_FILE" server.crt
    cp "${DB_TLS_KEY_FILE:?DB_TLS_KEY_FILE: the key of DB_TLS_CERT_FILE}" server.key
else
    : "${DB_TLS_NAMES:?DB_TLS_NAMES: the names clients connect to (the certificate carries them), or DB_TLS_CERT_FILE}"
    san="" first=""
    IFS=, read -ra names <<<"$DB_TLS_NAMES"
    for name in "${names[@]}"; do
        [ -n "$name" ] || continue
        first=${first:-$name}
        if [[ "$name" =~ ^[0-9.]+$ || "$name" == *:* ]]; then san+=",IP:$name"; else san+=",DNS:$name"; fi
    done
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
    openssl req -x509 "${ec[@]}" -days 3650 -subj "/CN=airline-anomalies database CA" \
        -keyout "$work/ca.key" -out db-ca.crt \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req "${ec[@]}" -subj "/CN=$first" -keyout server.key -out "$work/server.csr" 2>/dev/null
    printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n' "${san#,}" >"$work/ext"
    openssl x509 -req -in "$work/server.csr" -CA db-ca.crt -CAkey "$work/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
        -days 3650 -extfile "$work/ext" -out server.crt 2>/dev/null
    chmod 0644 db-ca.crt
fi
chmod 0600 server.key
chmod 0644 server.crt

cat >>postgresql.conf <<'CONF'

# docker/initdb/05-tls.sh: TLS, with the certificate in the data directory.
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
ssl_min_protocol_version = 'TLSv1.2'
CONF

cat >pg_hba.conf <<'HBA'
# docker/initdb/05-tls.sh: over the network, TLS and a password or nothing.
# TYPE    DATABASE  USER  ADDRESS  METHOD
local     all       all            trust
hostssl   all       all   all      scram-sha-256
hostnossl all       all   all      reject
HBA
