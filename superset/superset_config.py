"""Superset's configuration in the deployment (the Dockerfile's `superset`
target puts it on the image's PYTHONPATH). Superset's own metadata, the
dashboards, charts, users and the database connection, lives in a Postgres
database on the db host (`superset`, owned by `superset_metadata`, made by
the db image's init script), not in SQLite inside the container, where a
task restart would lose it. tests/superset.sh runs Superset with this file.

The connection is TLS with the server's certificate and name checked
(sslmode=verify-full) against the database's CA: ECS hands its certificate
over as text (DB_CA_PEM, the SSM parameter the db host publishes) and libpq
wants a file, so it is written to PGSSLROOTCERT here, where the dashboard's
connection (superset/import.sh) finds it too. tests/deploy.sh connects with
this URI to a TLS-only server.
"""

import os

from sqlalchemy.engine import URL

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]

DB_ROOT_CERT = os.environ.get("PGSSLROOTCERT", "/app/superset_home/db-ca.crt")
if os.environ.get("DB_CA_PEM"):
    # Every worker runs this: write aside, then rename, so none reads half a file.
    with open(f"{DB_ROOT_CERT}.{os.getpid()}", "w", encoding="ascii") as f:
        f.write(os.environ["DB_CA_PEM"].strip() + "\n")
    os.replace(f"{DB_ROOT_CERT}.{os.getpid()}", DB_ROOT_CERT)

# verify-full unless told otherwise (tests/superset.sh: a local cluster without TLS).
_sslmode = os.environ.get("SUPERSET_METADATA_SSLMODE", "verify-full")
SQLALCHEMY_DATABASE_URI = URL.create(
    "postgresql+psycopg2",
    username=os.environ.get("SUPERSET_METADATA_USER", "superset_metadata"),
    password=os.environ["SUPERSET_METADATA_PASSWORD"],
    host=os.environ["SUPERSET_METADATA_HOST"],
    port=int(os.environ.get("SUPERSET_METADATA_PORT", "5432")),
    database=os.environ.get("SUPERSET_METADATA_DB", "superset"),
    query={"sslmode": _sslmode, **({"sslrootcert": DB_ROOT_CERT} if _sslmode.startswith("verify") else {})},
).render_as_string(hide_password=False)
