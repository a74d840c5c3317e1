"""Superset's configuration in the deployment (the Dockerfile's `superset`
target puts it on the image's PYTHONPATH). Superset's own metadata, the
dashboards, charts, users and the database connection, lives in a Postgres
database on the db host (`superset`, owned by `superset_metadata`, made by
the db image's init script), not in SQLite inside the container, where a
task restart would lose it. tests/superset.sh runs Superset with this file.
"""

import os

from sqlalchemy.engine import URL

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = URL.create(
    "postgresql+psycopg2",
    username=os.environ.get("SUPERSET_METADATA_USER", "superset_metadata"),
    password=os.environ["SUPERSET_METADATA_PASSWORD"],
    host=os.environ["SUPERSET_METADATA_HOST"],
    port=int(os.environ.get("SUPERSET_METADATA_PORT", "5432")),
    database=os.environ.get("SUPERSET_METADATA_DB", "superset"),
).render_as_string(hide_password=False)
