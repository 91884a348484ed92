#!/usr/bin/env bash
# Access-log cost in instructions: what logging adds to each request, counted by callgrind.
#
# bench/logs.sh measures throughput, which on a shared 2-core VM moves by several percent from
# run to run. This script counts user-space instructions instead (`valgrind --tool=callgrind`):
# the same binary, requests and configuration give the same count whatever else the machine
# does, so a change of a few hundred instructions a request shows. It leaves out the kernel
# (socket and file writes, page cache) and cache misses: read it beside bench/logs.sh, not
# instead of it.
#
# Configurations, each a `gatehouse serve` under callgrind with one worker thread, in front of
# an nginx origin:
#   A     no [logs]: no access logs;
#   N     [logs] with formats = []: the request side of logging only (capture, the body
#         wrapper), no line formatted;
#   S     formats = ["standard"];
#   B     formats = ["standard", "json"] (the default).
# For each: REQUESTS (default 2000) GETs with a query string, User-Agent and Referer on one
# keep-alive connection (curl), after 200 unrecorded ones; callgrind's counters are zeroed
# before them and dumped after them (callgrind_control), so start-up is not counted.
#
# Writes its results into BENCHMARKS.md between <!-- logs-instructions:start --> and
# <!-- logs-instructions:end -->.
#
#   ./bench/logs-instructions.sh
#   REQUESTS=5000 ./bench/logs-instructions.sh
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$ROOT/bench/lib.sh"

REQUESTS="${REQUESTS:-2000}"
require_uints REQUESTS
((REQUESTS >= 100)) || die "REQUESTS must be at least 100"
export RUST_LOG="${RUST_LOG:-warn}"

ORIGIN_PORT=18181
PORT=18182
HOST_HEADER="bench.example.com"
OBJ_PATH="/obj.txt"
OBJ_BYTES=1024
DIST_ID="EBENCH"
USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
REFERER="https://www.example.com/products/123?color=red&size=42"
BENCH_MD="$ROOT/BENCHMARKS.md"
MARK_START='<!-- logs-instructions:start -->'
MARK_END='<!-- logs-instructions:end -->'

install_packages valgrind:valgrind
pin_cpus
build_gatehouse
require_free_ports "$ORIGIN_PORT" "$PORT"
setup_work logs-instructions
write_origin
nginx_check origin
start_origin

LOGGING='"Logging":{"Enabled":true,"IncludeCookies":false,"Bucket":"bench-logs.s3.amazonaws.com","Prefix":""},'
# config name formats-toml-or-empty
write_config() {
    mkdir -p "$WORK/$1/distributions"
    {
        printf '[listen]\nhttp = ["127.0.0.1:%s"]\n' "$PORT"
        if [[ -n "$2" ]]; then
            printf '\n[logs]\ndirectory = "%s"\nformats = %s\n' "$WORK/$1/logs" "$2"
        fi
    } >"$WORK/$1/gatehouse.toml"
    distribution_json "$LOGGING" >"$WORK/$1/distributions/$DIST_ID.json"
}
write_config A ""
write_config N '[]'
write_config S '["standard"]'
write_config B '["standard", "json"]'

# requests first last: GETs of OBJ_PATH with query v=first..last on one connection.
requests() {
    curl -sS -o /dev/null -H "Host: $HOST_HEADER" -A "$USER_AGENT" -e "$REFERER" \
        "http://127.0.0.1:$PORT$OBJ_PATH?v=[$1-$2]&utm_source=news%20letter&id=0badc0de" ||
        die "requests failed"
}

# count config: instructions per request (sets IR[config]; for B, the report's table of
# logging functions, TOP).
declare -A IR=()
TOP=""
count() {
    local c="$1" out="$WORK/callgrind.$1" pid
    log "config $c: $REQUESTS requests under callgrind"
    # In PIDS (start_server), so that a failure stops it too; stopped below otherwise.
    start_server "$c" "$WORK/$c.log" env TOKIO_WORKER_THREADS=1 valgrind --tool=callgrind \
        --callgrind-out-file="$out" "$GATEHOUSE_BIN" serve --config "$WORK/$c"
    pid="${PIDS[${#PIDS[@]} - 1]}"
    wait_http "$c" "$PORT" 60
    requests 1 200
    callgrind_control -z "$pid" >/dev/null 2>&1
    requests 1 "$REQUESTS"
    sleep 1
    callgrind_control -d "$pid" >/dev/null 2>&1
    sleep 1
    kill -TERM "$pid"
    wait "$pid" || true
    [[ -s "$out.1" ]] || die "no callgrind dump for $c (see $WORK/$c.log)"
    IR[$c]="$(callgrind_annotate "$out.1" 2>/dev/null |
        awk -v n="$REQUESTS" '/PROGRAM TOTALS/ { gsub(",", "", $1); printf "%.0f\n", $1 / n }')"
    cp "$out.1" "$RAW/callgrind.$c"
    # The logging functions, inclusive, per request (reported for B only).
    [[ "$c" == B ]] || return 0
    TOP="$(callgrind_annotate --inclusive=yes "$out.1" 2>/dev/null |
        grep -E 'gatehouse_(logs|edge::log)::[A-Za-z_:]+ \[' |
        awk -v n="$REQUESTS" '{ v = $1; gsub(",", "", v); sub(/^.*:gatehouse_/, "gatehouse_", $0); sub(/ \[.*$/, "", $0); printf "%s\t%.0f\n", $0, v / n }' |
        sort -t$'\t' -k2 -nr | awk -F'\t' '!seen[$1]++' | head -8)" || true
}

for c in A N S B; do
    count "$c"
done
collect_versions
RUSTC_VERSION="$(rustc --version 2>/dev/null || echo 'rustc ?')"

pct() { awk -v x="$1" -v a="$2" 'BEGIN { printf "%+.1f%%\n", (x - a) / a * 100 }'; }
{
    echo "$MARK_START"
    echo "## Access logs: instructions a request (callgrind)"
    echo
    echo "User-space instructions a request with access logs off and on, counted by callgrind: repeatable to the instruction, unlike throughput on this VM, but blind to the kernel (socket and file writes) and to cache misses. Read it beside the throughput section above."
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- Versions: Gatehouse rev $GIT_REV, $RUSTC_VERSION, $(valgrind --version)"
    echo "- Command: \`./bench/logs-instructions.sh\` (REQUESTS=$REQUESTS); raw callgrind files in \`bench/out/logs-instructions-$RUN_ID/\`"
    echo "- Requests: \`GET $OBJ_PATH?v=N&utm_source=news%20letter&id=0badc0de\` with a 105-byte User-Agent and a Referer, one keep-alive connection, origin nginx on loopback"
    echo
    echo "| Config | Instructions a request | vs A |"
    echo "|---|---:|---:|"
    echo "| A: no access logs | ${IR[A]} | – |"
    echo "| N: \`formats = []\` (capture only) | ${IR[N]} | $(pct "${IR[N]}" "${IR[A]}") |"
    echo "| S: \`formats = [\"standard\"]\` | ${IR[S]} | $(pct "${IR[S]}" "${IR[A]}") |"
    echo "| B: both formats (default) | ${IR[B]} | $(pct "${IR[B]}" "${IR[A]}") |"
    echo
    echo "Logging functions in B, inclusive instructions a request:"
    echo
    echo "| Function | Instructions |"
    echo "|---|---:|"
    while IFS=$'\t' read -r f v; do
        [[ -n "$f" ]] && echo "| \`$f\` | $v |"
    done <<<"$TOP"
    echo "$MARK_END"
} >"$WORK/section.md"
cat "$WORK/section.md"
write_section "$MARK_START" "$MARK_END" "$WORK/section.md"
