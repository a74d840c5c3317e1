# shellcheck shell=bash
# Shell helpers for a throw-away PostgreSQL cluster under the project
# (sourced by the test, benchmark and demo scripts). initdb and pg_ctl
# refuse root, so as root the cluster runs as the `postgres` user.

# PG_MAJOR picks the server (15 here; 17 in the trixie root, scripts/trixie.sh).
PGBIN=${PGBIN:-/usr/lib/postgresql/${PG_MAJOR:-15}/bin}

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The tests' and benchmarks' ports are below 32768, out of Linux's ephemeral
# range, so a busy client's own socket never holds one of them.
# pg_start DIR PORT [postgres -c settings...]: initdb if needed, then start
# listening on 127.0.0.1:PORT only, sockets in DIR (nothing if running).
pg_start() {
    local dir=$1 port=$2
    shift 2
    if [ -f "$dir/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
        return 0
    fi
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
        as_pg "$PGBIN/initdb" -D "$dir" -A trust -U postgres --no-sync >/dev/null
    fi
    # RUST_BACKTRACE would add a backtrace to every ERROR's DETAIL.
    as_pg env -u RUST_BACKTRACE "$PGBIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir $*" start >/dev/null
}

pg_stop() {
    as_pg "$PGBIN/pg_ctl" -D "$1" -m fast -w stop >/dev/null 2>&1 || true
}
