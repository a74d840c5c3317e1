#!/usr/bin/env bash
# Hostile input keeps the loader small (issue 22): a few-MB gzip that
# inflates to ~0.5 GB of the costliest rows there are, nearly all rejected:
# records just under the 64 KiB cap full of control bytes, quotes, NULs,
# invalid UTF-8 or one huge number, rows of thousands of fields, and
# 1 MiB lines past the cap. Against a throw-away cluster with the plain
# schema (`loader schema`: no extension needed):
#  1. `loader load --max-reject-ratio 1` reads it all under 100 MB resident
#     (peak RSS by /usr/bin/time), loads the good rows, and records every
#     reject with its line and a capped reason and raw text;
#  2. with the default ratio the run stops early, refused, as small;
#  3. `loader detect --input` (the same parsing, no database) as small, with
#     the same reject counts.
# Before the caps a reason quoted the whole field, escaped (six bytes per
# control byte: ~400 KB a row), and 4096 such rejects were buffered at once.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg.sh
source tests/lib.sh

ROOT=$PWD/target/hostile-input-test
LIMIT_KB=$((100 * 1024))
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
cargo build --release -p loader --quiet
LOADER=$PWD/target/release/loader
test_cluster "$ROOT" "${HOSTILE_PG_PORT:-25357}"
FILE=$ROOT/hostile.csv.gz

# ROWS rows of each hostile kind after 10 good ones; a 1 MiB line every 50 rows.
ROWS=${HOSTILE_ROWS:-1000}
python3 - "$FILE" "$ROWS" <<'PY'
import gzip, sys
path, rows = sys.argv[1], int(sys.argv[2])
header = b"FL_DATE,OP_CARRIER,OP_CARRIER_FL_NUM,ORIGIN,DEST,CRS_DEP_TIME,DEP_TIME,DEP_DELAY,CANCELLED,DIVERTED\n"
def row(date=b"2013-01-01", origin=b"EWR", delay=b"2.0"):
    q = lambda f: b'"' + f.replace(b'"', b'""') + b'"'
    return b",".join([q(date), b"UA", b"1545", q(origin), b"IAH", b"515", b"517", q(delay), b"0.0", b"0.0"]) + b"\n"
N = 65_400  # field bytes: the row stays just under the 64 KiB record cap
controls = bytes(b for b in range(1, 32) if b not in (9, 10, 11, 12, 13))  # not whitespace: nothing trimmed
kinds = [
    row(delay=(controls * (N // len(controls) + 1))[:N]),  # escaped six-fold by {:?}
    row(date=b'"' * N),                                    # doubled by the CSV writer, escaped by {:?}
    row(delay=b"0" * N + b"99999"),                        # a number, outside the delay bounds
    row(origin=b"J\0K" + b"\0" * N),                       # NUL: Postgres text cannot hold it
    row(delay=b"\xff" * N),                                # not UTF-8 (three bytes each as U+FFFD)
    b'""' + b',""' * 4000 + b"\n",                         # 4001 fields
]
with gzip.open(path, "wb", compresslevel=6) as f:
    f.write(header)
    for day in range(1, 11):
        f.write(row(date=b"2013-01-%02d" % day))
    for i in range(rows):
        for k in kinds:
            f.write(k)
        if i % 50 == 0:
            f.write(b"x" * (1 << 20) + b"\n")  # past the cap: skipped, never held
PY
hostile=$((ROWS * 6 + (ROWS + 49) / 50))
pass "crafted $(du -k "$FILE" | cut -f1) KiB of gzip: 10 good rows, $hostile hostile ones"

# peak_rss NAME COMMAND...: runs it under /usr/bin/time, leaving its stdout in
# $ROOT/NAME.out, stderr in $ROOT/NAME.err, exit status in $rc and peak RSS (KiB) in $rss.
peak_rss() {
    local name=$1; shift
    rc=0
    /usr/bin/time -f %M -o "$ROOT/$name.rss" "$@" >"$ROOT/$name.out" 2>"$ROOT/$name.err" || rc=$?
    rss=$(tail -1 "$ROOT/$name.rss")
    [ "$rss" -lt "$LIMIT_KB" ] || fail "$name: peak RSS $((rss / 1024)) MB, above 100 MB"
}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }

"$LOADER" schema --json >/dev/null

# 1. Everything read, every reject kept, capped.
peak_rss load "$LOADER" load "$FILE" --max-reject-ratio 1 --json
[ "$rc" = 0 ] || fail "load exited $rc: $(cat "$ROOT/load.err")"
out=$(cat "$ROOT/load.out")
[ "$(json rows_read <<<"$out")" = $((10 + hostile)) ] || fail "rows read: $out"
[ "$(json loaded <<<"$out")" = 10 ] || fail "loaded: $out"
[ "$(json rejected <<<"$out")" = "$hostile" ] || fail "rejected: $out"
pass "load: $((10 + hostile)) rows read, 10 loaded, $hostile rejected, peak RSS $((rss / 1024)) MB"

[ "$(sql -c "SELECT count(*) FROM flight_rejects WHERE source_file = '$FILE' AND line > 11")" = "$hostile" ] \
    || fail "rejects not all recorded"
longest=$(sql -c "SELECT max(octet_length(reason)) || ' ' || max(octet_length(raw)) FROM flight_rejects")
read -r reason_max raw_max <<<"$longest"
[ "$reason_max" -le 800 ] || fail "a reason of $reason_max bytes"
[ "$raw_max" -le 1100 ] || fail "a raw text of $raw_max bytes"
counts=$(sql -c "SELECT count(*) FILTER (WHERE reason LIKE 'DEP_DELAY: invalid number \"\\\\u{1}\\\\u{2}%…(65400 bytes)')
                     || ' ' || count(*) FILTER (WHERE reason LIKE 'FL_DATE: invalid date \"\\\\\"\\\\\"%…(65400 bytes)')
                     || ' ' || count(*) FILTER (WHERE reason = 'DEP_DELAY: \"' || repeat('0', 64) || '\"…(65405 bytes) is outside [-1440, 7200] minutes')
                     || ' ' || count(*) FILTER (WHERE reason LIKE 'ORIGIN: a NUL byte in \"J\\\\0K\\\\0%…(65403 bytes)')
                     || ' ' || count(*) FILTER (WHERE reason = 'DEP_DELAY: not UTF-8')
                     || ' ' || count(*) FILTER (WHERE reason = 'expected 10 fields, found 4001')
                     || ' ' || count(*) FILTER (WHERE reason LIKE 'record too long: % bytes, above the 64 KiB limit')
                     || ' ' || count(*) FILTER (WHERE raw LIKE '%… (cut: the row has % bytes)')
                   FROM flight_rejects")
want="$ROWS $ROWS $ROWS $ROWS $ROWS $ROWS $(((ROWS + 49) / 50)) $((ROWS * 6))"
[ "$counts" = "$want" ] || fail "rejects by reason: $counts, expected $want"
pass "every reject recorded with its line; reasons at most $reason_max bytes, raw text at most $raw_max"

# 2. The default ratio stops the run early, refused, keeping the rejects so far.
peak_rss refused "$LOADER" load "$FILE" --json
[ "$rc" = 2 ] || fail "expected a refusal (2), got $rc: $(cat "$ROOT/refused.err")"
grep -q "so far, stopped early" "$ROOT/refused.err" || fail "refusal: $(cat "$ROOT/refused.err")"
pass "default --max-reject-ratio: refused early, peak RSS $((rss / 1024)) MB"

# 3. detect --input parses the same way, without a database.
peak_rss detect "$LOADER" detect --input "$FILE" --out "$ROOT/detect.csv" --json
grep -q "$hostile rejected" "$ROOT/detect.err" "$ROOT/detect.out" \
    || grep -q "\"rows_rejected\":$hostile" "$ROOT/detect.out" \
    || fail "detect: rejects not counted (exit $rc): $(head -c 2000 "$ROOT/detect.err")"
pass "detect --input: $hostile rejected, peak RSS $((rss / 1024)) MB"
