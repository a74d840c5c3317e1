# syntax=docker/dockerfile:1
# Three images from one build:
#   docker build --target db       -t airline-anomalies-db .        Postgres + the extension + pg_cron + pgBackRest, TLS only
#   docker build --target loader   -t airline-anomalies-loader .    the loader CLI (sslmode=verify-full)
#   docker build --target superset -t airline-anomalies-superset .  Superset with its metadata in Postgres (verify-full)
# The build stage runs the same commands as scripts/test.sh (cargo pgrx init,
# cargo pgrx install --release, cargo build --release -p loader), so what CI
# proves is what the image contains. Not built on the development machine
# (no Docker engine there).

# PostgreSQL 17 by default; PG_MAJOR=15 builds the same image on 15 (both
# are tested: scripts/test.sh, tests/pg17.sh). release.yml resolves the base
# image to its digest at build time and passes PG_IMAGE=...@sha256:...,
# recorded as a label.
ARG PG_MAJOR=17
ARG PG_IMAGE=postgres:${PG_MAJOR}-bookworm
ARG SUPERSET_IMAGE=apache/superset:6.1.0

# checkov:skip=CKV_DOCKER_7: the base image is an ARG: a major's tag here, pinned by digest in release.yml
FROM ${PG_IMAGE} AS build
ARG PG_MAJOR
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl build-essential pkg-config \
        clang libclang-dev "postgresql-server-dev-${PG_MAJOR}" \
 && rm -rf /var/lib/apt/lists/*
RUN curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain 1.95.0
ENV PATH=/root/.cargo/bin:$PATH
RUN cargo install cargo-pgrx --version 0.18.0 --locked \
 && cargo pgrx init "--pg${PG_MAJOR}" "/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config"
WORKDIR /src
COPY . .
# cargo fetch --locked fails if Cargo.lock would change (cargo pgrx has no --locked).
RUN cargo fetch --locked \
 && cargo pgrx install --release --pg-config "/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config" \
        --no-default-features --features "pg${PG_MAJOR}" \
 && cargo build --release --locked -p loader \
 && mkdir -p /out/lib /out/extension \
 && cp "/usr/lib/postgresql/${PG_MAJOR}/lib/airline_anomalies.so" /out/lib/ \
 && cp /usr/share/postgresql/${PG_MAJOR}/extension/airline_anomalies* /out/extension/

FROM ${PG_IMAGE} AS db
ARG PG_MAJOR
RUN apt-get update \
 && apt-get install -y --no-install-recommends "postgresql-${PG_MAJOR}-cron" pgbackrest ca-certificates openssl \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/log/pgbackrest /var/spool/pgbackrest \
 && chown postgres:postgres /var/log/pgbackrest /var/spool/pgbackrest
COPY --from=build /out/lib/ /usr/lib/postgresql/${PG_MAJOR}/lib/
COPY --from=build /out/extension/ /usr/share/postgresql/${PG_MAJOR}/extension/
COPY sql/superset_role.sql sql/loader_role.sql /usr/local/share/airline_anomalies/
# 05-tls.sh (openssl, above) turns TLS on and makes pg_hba.conf TLS-only.
COPY docker/initdb/ /docker-entrypoint-initdb.d/
COPY docker/airline-entrypoint.sh /usr/local/bin/
# pgBackRest's settings (the repository's come with the container: see
# infra/database.yaml); archiving is on only when a repository is set.
ENV POSTGRES_DB=airline PGBACKREST_STANZA=airline PGBACKREST_PG1_PATH=/var/lib/postgresql/data \
    PGBACKREST_REPO1_RETENTION_FULL=4 PGBACKREST_START_FAST=y PGBACKREST_LOG_LEVEL_CONSOLE=warn
ENTRYPOINT ["airline-entrypoint.sh"]
HEALTHCHECK --interval=30s --timeout=5s CMD pg_isready -h 127.0.0.1 -U postgres -q || exit 1
CMD ["postgres", "-c", "shared_preload_libraries=pg_cron", "-c", "cron.database_name=airline", \
     "-c", "cron.use_background_workers=on", "-c", "max_worker_processes=16"]

FROM debian:bookworm-slim AS loader
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/loader /usr/local/bin/loader
COPY docker/loader-entrypoint.sh /usr/local/bin/
# Private by default: TLS with the server's certificate checked against the
# database's CA and its name (DB_CA_PEM, written to PGSSLROOTCERT by the entrypoint).
ENV PGSSLMODE=verify-full PGSSLROOTCERT=/tmp/db-ca.crt
USER 65534:65534
# A command-line tool run to completion (a scheduled task), not a service.
HEALTHCHECK NONE
ENTRYPOINT ["loader-entrypoint.sh"]

FROM ${SUPERSET_IMAGE} AS superset
COPY superset/superset_config.py /app/pythonpath/superset_config.py
HEALTHCHECK --interval=30s --timeout=5s CMD curl -fs http://127.0.0.1:8088/health || exit 1
