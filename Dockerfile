# syntax=docker/dockerfile:1
# Two images from one build:
#   docker build --target db     -t airline-anomalies-db .      Postgres + the extension + pg_cron
#   docker build --target loader -t airline-anomalies-loader .  the loader CLI
# The build stage runs the same commands as scripts/test.sh (cargo pgrx init,
# cargo pgrx install --release, cargo build --release -p loader), so what CI
# proves is what the image contains. Not built on the development machine
# (no Docker engine there).

ARG PG_MAJOR=15
ARG PG_IMAGE=postgres:15.10-bookworm

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
RUN cargo pgrx install --release --pg-config "/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config" \
        --no-default-features --features "pg${PG_MAJOR}" \
 && cargo build --release -p loader \
 && mkdir -p /out/lib /out/extension \
 && cp "/usr/lib/postgresql/${PG_MAJOR}/lib/airline_anomalies.so" /out/lib/ \
 && cp /usr/share/postgresql/${PG_MAJOR}/extension/airline_anomalies* /out/extension/

FROM ${PG_IMAGE} AS db
ARG PG_MAJOR
RUN apt-get update \
 && apt-get install -y --no-install-recommends "postgresql-${PG_MAJOR}-cron" pgbackrest ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/log/pgbackrest /var/spool/pgbackrest \
 && chown postgres:postgres /var/log/pgbackrest /var/spool/pgbackrest
COPY --from=build /out/lib/ /usr/lib/postgresql/${PG_MAJOR}/lib/
COPY --from=build /out/extension/ /usr/share/postgresql/${PG_MAJOR}/extension/
COPY sql/superset_role.sql sql/loader_role.sql /usr/local/share/airline_anomalies/
COPY docker/initdb/ /docker-entrypoint-initdb.d/
COPY docker/airline-entrypoint.sh /usr/local/bin/
# pgBackRest's settings (the repository's come with the container: see
# infra/database.yaml); archiving is on only when a repository is set.
ENV POSTGRES_DB=airline PGBACKREST_STANZA=airline PGBACKREST_PG1_PATH=/var/lib/postgresql/data \
    PGBACKREST_REPO1_RETENTION_FULL=4 PGBACKREST_START_FAST=y PGBACKREST_LOG_LEVEL_CONSOLE=warn
ENTRYPOINT ["airline-entrypoint.sh"]
CMD ["postgres", "-c", "shared_preload_libraries=pg_cron", "-c", "cron.database_name=airline", \
     "-c", "cron.use_background_workers=on", "-c", "max_worker_processes=16"]

FROM debian:bookworm-slim AS loader
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/loader /usr/local/bin/loader
USER 65534:65534
ENTRYPOINT ["loader"]
