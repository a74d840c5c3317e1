#!/usr/bin/env bash
# Imports the dashboard bundle (superset/bundle) into a running Superset.
#   DB_PASSWORD_FILE=FILE [ADMIN_PASSWORD_FILE=FILE] \
#       superset/import.sh SUPERSET_URL DB_HOST DB_PORT DB_NAME [ADMIN_USER]
# Passwords come from files (a trailing newline is dropped), never from the
# command line, and go to curl as files too, so no `ps` shows them. The
# database URI is filled in here (user superset_reader, see
# sql/superset_role.sql) with sslmode=verify-full and the database's CA where
# the deployment's superset_config.py writes it (DB_SSLMODE and
# DB_SSLROOTCERT change them; DB_HOST must be a name the certificate
# carries); the password is passed apart, never written to the bundle.
# ADMIN_USER: an account allowed to create database connections (an admin);
# without one the caller must already be allowed. tests/deploy.sh checks
# the command lines it runs; tests/superset.sh imports into a real Superset.
set -euo pipefail
url=$1 host=$2 port=$3 dbname=$4 user=${5:-}
sslmode=${DB_SSLMODE:-verify-full}
rootcert=${DB_SSLROOTCERT:-/app/superset_home/db-ca.crt}
: "${DB_PASSWORD_FILE:?DB_PASSWORD_FILE: a file holding the password of superset_reader}"
[ -z "$user" ] || : "${ADMIN_PASSWORD_FILE:?ADMIN_PASSWORD_FILE: a file holding the password of $user}"
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
query="sslmode=$sslmode"
[[ "$sslmode" == verify-* ]] && query+="&sslrootcert=$rootcert"
cp -r "$here/bundle" "$work/airline_anomalies_dashboard"
# (Not sed: the query's & would mean "the match" in its replacement.)
python3 - "$work/airline_anomalies_dashboard/databases/airline.yaml" \
    "postgresql+psycopg2://superset_reader:XXXXXXXXXX@$host:$port/$dbname?$query" <<'PY'
import re, sys
path, uri = sys.argv[1:]
text = open(path, encoding="utf-8").read()
with open(path, "w", encoding="utf-8") as f:
    f.write(re.sub(r"(?m)^sqlalchemy_uri: .*$", lambda _: "sqlalchemy_uri: " + uri, text))
PY
(cd "$work" && python3 -m zipfile -c bundle.zip airline_anomalies_dashboard)
# The import's `passwords` field, as a file (read by curl's -F name=<file).
python3 - "$DB_PASSWORD_FILE" "$work/passwords.json" <<'PY'
import json, sys
password = open(sys.argv[1], encoding="utf-8").read().rstrip("\n")
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump({"databases/airline.yaml": password}, f)
PY
jar=(-c "$work/cookies" -b "$work/cookies")
if [ -n "$user" ]; then
    # A session login (the login form), so the import runs as that user even
    # where the public role may call the API too. The password is read by
    # printf, a builtin, into a file curl reads (--data-urlencode name@file).
    printf '%s' "$(<"$ADMIN_PASSWORD_FILE")" >"$work/admin.pw"
    form_csrf=$(curl -sf "${jar[@]}" "$url/login/" | grep -o 'name="csrf_token"[^>]*value="[^"]*"' | sed 's/.*value="//; s/"$//' || true)
    curl -sf "${jar[@]}" -o /dev/null -X POST "$url/login/" --data-urlencode "username=$user" \
        --data-urlencode "password@$work/admin.pw" --data-urlencode "csrf_token=$form_csrf"
    curl -sf "${jar[@]}" "$url/api/v1/me/" | grep -q "\"username\": *\"$user\"" || { echo "login as $user failed" >&2; exit 1; }
fi
# A CSRF token where Superset asks for one (the default); none where it is off.
csrf=$(curl -sf "${jar[@]}" "$url/api/v1/security/csrf_token/" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["result"])' 2>/dev/null || true)
curl -sS "${jar[@]}" -H "X-CSRFToken: $csrf" -H "Referer: $url" \
    -F "formData=@$work/bundle.zip" -F "overwrite=true" -F "passwords=<$work/passwords.json" \
    "$url/api/v1/dashboard/import/"
echo
