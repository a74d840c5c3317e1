#!/usr/bin/env bash
# PostgreSQL 17 on this Debian 12 machine without touching it: a Debian 13
# (trixie) root made with debootstrap, with postgresql-17, its server
# headers and pg_cron from trixie's packages, entered with chroot. The
# host's Rust toolchain (~/.cargo, ~/.rustup) and this checkout are
# bind-mounted at the same paths, so a command runs on the same files.
#
#   scripts/trixie.sh setup          make the root once (about 3 minutes)
#   scripts/trixie.sh run CMD...     run CMD inside it, in this checkout, as root
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${TRIXIE_ROOT:-/srv/airline-trixie}
PACKAGES=(postgresql-17 postgresql-server-dev-17 postgresql-17-cron clang libclang-dev build-essential pkg-config
    ca-certificates sudo python3 procps openssl git time)

mounted() { mountpoint -q "$1"; }

setup() {
    command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; }
    [ -x "$ROOT/bin/bash" ] || debootstrap --variant=minbase trixie "$ROOT" http://deb.debian.org/debian >/dev/null
    # The package list installed is kept in the root: a changed list installs again.
    if [ "$(cat "$ROOT/etc/airline-packages" 2>/dev/null)" != "${PACKAGES[*]}" ]; then
        cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
        mount_all
        # shellcheck disable=SC2016 # $1 and $@ are the inner shell's
    chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
            bash -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends ${PACKAGES[*]}" >/dev/null
        echo "${PACKAGES[*]}" >"$ROOT/etc/airline-packages"
    fi
}

# The kernel's file systems, and the host's toolchain and checkout at their
# own paths; unmounted when the script exits, so nothing of the host stays
# reachable under the root (where an `rm -rf` of it would reach it too).
MOUNTS=("/proc" "/dev" "/sys" "$HOME/.cargo" "$HOME/.rustup" "$PWD")
mount_all() {
    trap unmount_all EXIT
    mounted "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
    mounted "$ROOT/dev" || mount --rbind /dev "$ROOT/dev"
    mounted "$ROOT/sys" || mount --rbind /sys "$ROOT/sys"
    for dir in "$HOME/.cargo" "$HOME/.rustup" "$PWD"; do
        mkdir -p "$ROOT$dir"
        mounted "$ROOT$dir" || mount --bind "$dir" "$ROOT$dir"
    done
}
unmount_all() {
    for dir in "${MOUNTS[@]}"; do
        if mounted "$ROOT$dir"; then umount -R -l "$ROOT$dir"; fi
    done
}

run() {
    mount_all
    # PGRX_HOME and the target directory are apart from the host's: the build
    # scripts link against trixie's libraries.
    # shellcheck disable=SC2016 # $1 and $@ are the inner shell's
    chroot "$ROOT" /usr/bin/env -i PATH="$HOME/.cargo/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME="$HOME" \
        CARGO_HOME="$HOME/.cargo" RUSTUP_HOME="$HOME/.rustup" PGRX_HOME="$PWD/target/pgrx17" \
        CARGO_TARGET_DIR="$PWD/target/pg17" PG_MAJOR=17 LANG=C.UTF-8 TERM=dumb \
        bash -c 'cd "$1" && shift && "$@"' bash "$PWD" "$@"
}

case "${1:-}" in
    setup) setup ;;
    run) shift && run "$@" ;;
    *) echo "usage: scripts/trixie.sh setup | run CMD..." >&2 && exit 2 ;;
esac
