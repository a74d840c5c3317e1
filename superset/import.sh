#!/usr/bin/env bash
# Imports the dashboard bundle (superset/bundle) into a running Superset.
#   superset/import.sh SUPERSET_URL DB_HOST DB_PORT DB_NAME DB_PASSWORD [USER PASSWORD]
# The database URI is filled in here (user superset_reader, see
# sql/superset_role.sql); the password is passed apart, never written to the
# bundle. USER/PASSWORD: an account allowed to create database connections
# (an admin); without them the caller must already be allowed.
set -euo pipefail
url=$1 host=$2 port=$3 dbname=$4 dbpass=$5 user=${6:-} pass=${7:-}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here/bundle" "$work/airline_anomalies_dashboard"
sed -i "s|^sqlalchemy_uri: .*|sqlalchemy_uri: postgresql+psycopg2://superset_reader:XXXXXXXXXX@$host:$port/$dbname|" \
    "$work/airline_anomalies_dashboard/databases/airline.yaml"
(cd "$work" && python3 -m zipfile -c bundle.zip airline_anomalies_dashboard)
jar=(-c "$work/cookies" -b "$work/cookies")
if [ -n "$user" ]; then
    # A session login (the login form), so the import runs as that user even
    # where the public role may call the API too.
    form_csrf=$(curl -sf "${jar[@]}" "$url/login/" | grep -o 'name="csrf_token"[^>]*value="[^"]*"' | sed 's/.*value="//; s/"$//' || true)
    curl -sf "${jar[@]}" -o /dev/null -X POST "$url/login/" --data-urlencode "username=$user" \
        --data-urlencode "password=$pass" --data-urlencode "csrf_token=$form_csrf"
    curl -sf "${jar[@]}" "$url/api/v1/me/" | grep -q "\"username\": *\"$user\"" || { echo "login as $user failed" >&2; exit 1; }
fi
# A CSRF token where Superset asks for one (the default); none where it is off.
csrf=$(curl -sf "${jar[@]}" "$url/api/v1/security/csrf_token/" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["result"])' 2>/dev/null || true)
passwords=$(python3 -c 'import json,sys; print(json.dumps({"databases/airline.yaml": sys.argv[1]}))' "$dbpass")
curl -sS "${jar[@]}" -H "X-CSRFToken: $csrf" -H "Referer: $url" \
    -F "formData=@$work/bundle.zip" -F "overwrite=true" -F "passwords=$passwords" \
    "$url/api/v1/dashboard/import/"
echo
