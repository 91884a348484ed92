#!/usr/bin/env bash
# Access-log benchmark: what writing access logs costs Gatehouse's request path.
#
# Two release Gatehouse instances in front of the same nginx origin, measured with wrk
# in alternating rounds:
#   A: no [logs] section: no access logs;
#   B: [logs] directory = LOG_DIR with formats = FORMATS (standard and JSON by default),
#      flush_ms = FLUSH_MS.
# Both serve the same distribution, which has Logging.Enabled = true (so B writes the
# standard log as well as the JSON log), and both have [admin] listen for /metrics.
#
# After the warm-up and after every B run, the script waits for the writer to flush and
# the compressor to finish the rotated files, counts the standard log lines on disk
# (`zcat -f` of every standard file, open `.log` or rotated `.gz`, lines not starting
# with #) and the JSON lines (`.json`, `.json.gz`), and checks that the lines added by the run match the
# requests wrk completed (up to CONNECTIONS more: requests in flight when wrk stopped
# are answered, or logged as abandoned, but not counted by wrk), that every line the
# writer counts as written is on disk, and that gatehouse_log_lines_dropped_total and
# gatehouse_log_write_errors_total are 0.
#
# Writes its results into BENCHMARKS.md between <!-- logs-bench:start --> and
# <!-- logs-bench:end -->; exits with status 1 (after writing them) when a log check
# failed.
#
#   ./bench/logs.sh                         # 3 rounds x 10 s per config
#   DURATION=30 ROUNDS=5 ./bench/logs.sh
#   PROFILE=1 ./bench/logs.sh               # also perf profiles of A and B under load
#   LOG_DIR=/var/tmp/gh-logs ./bench/logs.sh  # logs on another file system
#
# Environment knobs:
#   DURATION     seconds per wrk run                          (default 10)
#   ROUNDS       A/B rounds; A first in odd rounds, B first in even ones (default 3)
#   WARMUP       seconds of unrecorded warm-up per config     (default 2; 0 = none)
#   CONNECTIONS  wrk connections                              (default 32)
#   OBJ_BYTES    size of the origin object /obj.txt           (default 1024)
#   FORMATS      B's [logs] formats, space-separated          (default "standard json")
#   FLUSH_MS     B's [logs] flush_ms                          (default 1000)
#   VARY         1 = every request differs, as real traffic does: wrk cycles through 4096
#                requests with different query strings, user agents and referers (a
#                Lua script), so log lines do not all compress alike; 0 = the same
#                request every time, as bench/proxy.sh sends it  (default 1)
#   LOG_DIR      B's [logs] directory; must be empty or absent (default: a temporary
#                directory, removed at the end)
#   QUIET_WAIT   before each run, wait up to this many seconds for other processes
#                to leave the CPUs alone (default 120; 0 = do not wait)
#   RETRIES      repeat a run disturbed by other processes up to this often (default 2)
#   PROFILE      1 = after the rounds, `perf record -g` each config for PROFILE_SECONDS
#                under the same load and add the top symbols to the report (default 0)
#   PROFILE_SECONDS                                           (default 8)
#   RUST_LOG     passed to Gatehouse                          (default warn)
#
# Layout (ports on 127.0.0.1):
#   18081 origin:      nginx, serves /obj.txt, access_log off, Cache-Control: no-store
#   18086 gatehouse-a: no access logs;   admin (/metrics) on 18088
#   18087 gatehouse-b: access logs on;   admin (/metrics) on 18089
# All servers run on CPU 1, wrk on CPU 0 (taskset); each Gatehouse runs with
# TOKIO_WORKER_THREADS=1 (as in bench/proxy.sh and bench/geo.sh). B formats its lines on
# the request path; its log writer thread (appending to plain files) and compressor thread
# (gzip of rotated files, idle priority) run on CPU 1 too, so their work competes with the
# request path for the same core: the throughput ratio B/A is the cost of logging under
# load (compression that idle priority leaves for after the run is reported beside it).
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$ROOT/bench/lib.sh"

load_knobs
knob FORMATS "standard json"
knob FLUSH_MS 1000
knob VARY 1
knob LOG_DIR ""
quiet_knobs
knob PROFILE 0
knob PROFILE_SECONDS 8
export RUST_LOG="${RUST_LOG:-warn}"

ORIGIN_PORT=18081
PORT_A=18086
PORT_B=18087
ADMIN_A=18088
ADMIN_B=18089
HOST_HEADER="bench.example.com"
OBJ_PATH="/obj.txt"
THREADS=1
DIST_ID="EBENCH"
USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) gatehouse-logs-bench/1.0"
# The target from the access-log issue: logging costs at most 5% of the throughput.
TARGET_RATIO=0.95
# Runs where other processes used more than this much of one CPU are repeated (RETRIES)
# and, if still disturbed, flagged.
FOREIGN_CPU_WARN_PCT=5

BENCH_MD="$ROOT/BENCHMARKS.md"
MARK_START='<!-- logs-bench:start -->'
MARK_END='<!-- logs-bench:end -->'

require_uints FLUSH_MS
require_positive PROFILE_SECONDS
require_flags PROFILE VARY
read -ra FORMAT_LIST <<<"$FORMATS"
WANT_STANDARD=0
WANT_JSON=0
for f in "${FORMAT_LIST[@]}"; do
    case "$f" in
    standard) WANT_STANDARD=1 ;;
    json) WANT_JSON=1 ;;
    *)
        echo "error: FORMATS may hold only 'standard' and 'json' (got '$f')" >&2
        exit 2
        ;;
    esac
done
if ((WANT_STANDARD + WANT_JSON == 0)); then
    echo "error: FORMATS names no format" >&2
    exit 2
fi
if [[ -n "$LOG_DIR" && -e "$LOG_DIR" && -n "$(ls -A -- "$LOG_DIR")" ]]; then
    echo "error: LOG_DIR $LOG_DIR is not empty (the line counts read every file in it)" >&2
    exit 2
fi

if [[ "$PROFILE" == 1 ]]; then
    install_packages gzip:gzip perf:linux-perf
else
    install_packages gzip:gzip
fi
pin_cpus

# --- Build ----------------------------------------------------------------------
build_gatehouse

require_free_ports "$ORIGIN_PORT" "$PORT_A" "$PORT_B" "$ADMIN_A" "$ADMIN_B"

setup_work logs

if [[ -z "$LOG_DIR" ]]; then
    LOG_DIR="$WORK/logs"
    LOG_DIR_NOTE="a temporary directory on $(df --output=source,fstype -- "$WORK" | awk 'NR == 2 { print $1 " (" $2 ")" }')"
else
    mkdir -p -- "$LOG_DIR"
    LOG_DIR="$(cd -- "$LOG_DIR" && pwd)"
    LOG_DIR_NOTE="\`$LOG_DIR\` on $(df --output=source,fstype -- "$LOG_DIR" | awk 'NR == 2 { print $1 " (" $2 ")" }')"
fi
[[ "$LOG_DIR" != *"'"* ]] || die "the log directory must not contain a single quote: $LOG_DIR"

# --- Origin -----------------------------------------------------------------------
write_origin
nginx_check origin
start_origin

# --- Gatehouse ----------------------------------------------------------------------
LOGGING='"Logging":{"Enabled":true,"IncludeCookies":false,"Bucket":"bench-logs.s3.amazonaws.com","Prefix":""},'
TOML_FORMATS="$(printf '"%s", ' "${FORMAT_LIST[@]}" | sed 's/, $//')"
LOGS_TOML="[logs]
directory = '$LOG_DIR'
formats = [$TOML_FORMATS]
flush_ms = $FLUSH_MS"

# write_gatehouse dir port admin_port [logs section]
write_gatehouse() {
    mkdir -p "$1/distributions"
    {
        cat <<EOF
[listen]
http = ["127.0.0.1:$2"]

[admin]
listen = "127.0.0.1:$3"
EOF
        if [[ -n "${4:-}" ]]; then
            echo
            echo "$4"
        fi
    } >"$1/gatehouse.toml"
    distribution_json "$LOGGING" >"$1/distributions/$DIST_ID.json"
}

write_gatehouse "$WORK/gatehouse-a" "$PORT_A" "$ADMIN_A"
write_gatehouse "$WORK/gatehouse-b" "$PORT_B" "$ADMIN_B" "$LOGS_TOML"

CONFIGS=(A B)
declare -A PORT=([A]="$PORT_A" [B]="$PORT_B") ADMIN=([A]="$ADMIN_A" [B]="$ADMIN_B")
declare -A NAME=([A]=gatehouse-a [B]=gatehouse-b) SERVER_PID=()

for c in "${CONFIGS[@]}"; do
    log "starting ${NAME[$c]} on 127.0.0.1:${PORT[$c]}, CPU $SERVER_CPU, TOKIO_WORKER_THREADS=1"
    start_server "${NAME[$c]}" "$WORK/${NAME[$c]}.log" \
        env TOKIO_WORKER_THREADS=1 "$GATEHOUSE_BIN" serve --config "$WORK/${NAME[$c]}"
    SERVER_PID[$c]="${PIDS[${#PIDS[@]} - 1]}"
    wait_http "${NAME[$c]}" "${PORT[$c]}" 30
done
init_cpu_accounting

# --- /metrics, log files, CPU time ---------------------------------------------------------
# metric config name: the value of an unlabelled metric on the config's admin listener.
metric() {
    local v
    v="$(curl -sS --max-time 5 "http://127.0.0.1:${ADMIN[$1]}/metrics" |
        awk -v m="$2" '$1 == m { print $2; exit }')" || true
    [[ "$v" =~ ^[0-9]+$ ]] || die "could not read $2 from ${NAME[$1]}'s /metrics"
    echo "$v"
}

# wait_flushed: until B's writer has taken every queued record (its written counter
# stops moving), then FLUSH_MS more, after which every line is flushed to its file.
wait_flushed() {
    local prev=-1 cur deadline=$((SECONDS + 60))
    while :; do
        cur="$(metric B gatehouse_log_lines_written_total)"
        [[ "$cur" != "$prev" ]] || break
        ((SECONDS < deadline)) || die "B's log writer still writing after 60 s"
        prev="$cur"
        sleep 0.5
    done
    sleep "$(awk -v ms="$FLUSH_MS" 'BEGIN { printf "%.3f\n", ms / 1000 + 0.3 }')"
    # Rotated files are gzipped at idle priority: wait until none is waiting.
    deadline=$((SECONDS + 300))
    while [[ "$(metric B gatehouse_log_compress_backlog_bytes)" != 0 ]]; do
        ((SECONDS < deadline)) || die "B's log compressor still busy after 300 s"
        sleep 0.2
    done
}

# count_standard / count_json: data lines in B's log files (every gzip member).
# Open files are plain (`.log`, `.json`), rotated ones gzip (`.gz`, `.json.gz`): `zcat -f`
# reads both. Called when the compressor is idle (wait_flushed), so no file is renamed meanwhile.
count_standard() {
    find "$LOG_DIR" -type f \( -name '*.gz' -o -name '*.log' \) ! -name '*.json.gz' -print0 |
        xargs -0 -r zcat -f -- | LC_ALL=C awk '!/^#/ { n++ } END { print n + 0 }'
}
count_json() {
    find "$LOG_DIR" -type f \( -name '*.json.gz' -o -name '*.json' \) -print0 |
        xargs -0 -r zcat -f -- | LC_ALL=C awk 'END { print NR }'
}

# log_state: sets STD_LINES, JSON_LINES, WRITTEN, DROPPED, WRITE_ERRORS (after a flush).
log_state() {
    wait_flushed
    STD_LINES="$(count_standard)" || die "zcat failed on the standard logs in $LOG_DIR"
    JSON_LINES="$(count_json)" || die "zcat failed on the JSON logs in $LOG_DIR"
    WRITTEN="$(metric B gatehouse_log_lines_written_total)"
    DROPPED="$(metric B gatehouse_log_lines_dropped_total)"
    WRITE_ERRORS="$(metric B gatehouse_log_write_errors_total)"
}

# thread_tid NAME: the id of B's thread whose name (15 characters in comm) starts with NAME.
thread_tid() {
    local t
    for t in /proc/"${SERVER_PID[B]}"/task/*; do
        if [[ "$(cat "$t/comm" 2>/dev/null)" == "$1"* ]]; then
            basename "$t"
            return 0
        fi
    done
    return 1
}

# --- Sanity checks ---------------------------------------------------------------------
log "sanity check"
# wait_http's requests to B were logged too: count from here.
log_state
SANITY_STD0="$STD_LINES"
SANITY_JSON0="$JSON_LINES"
status="$(fetch "$ORIGIN_PORT" "$WORK/origin.body")" || die "origin: request failed"
[[ "$status" == 200 ]] || die "origin returned HTTP $status"
cmp -s "$WORK/origin.body" "$WORK/www/obj.txt" || die "origin body differs from the file it serves"
for c in "${CONFIGS[@]}"; do
    status="$(fetch "${PORT[$c]}" "$WORK/check-$c" -A "$USER_AGENT")" || die "$c: request failed"
    [[ "$status" == 200 ]] || die "config $c answered HTTP $status"
    cmp -s "$WORK/check-$c" "$WORK/origin.body" || die "config $c returned a body different from the origin's"
done
log_state
((WANT_STANDARD == 0 || STD_LINES - SANITY_STD0 == 1)) ||
    die "one request through B added $((STD_LINES - SANITY_STD0)) lines to its standard log (expected 1)"
((WANT_JSON == 0 || JSON_LINES - SANITY_JSON0 == 1)) ||
    die "one request through B added $((JSON_LINES - SANITY_JSON0)) lines to its JSON log (expected 1)"
EXPECTED_UA="${USER_AGENT// /%20}"
if ((WANT_STANDARD)); then
    find "$LOG_DIR" -type f \( -name "$DIST_ID.*.gz" -o -name "$DIST_ID.*.log" \) ! -name '*.json.gz' -print0 |
        xargs -0 zcat -f -- >"$RAW/sanity-standard.log"
    awk -F'\t' -v ua="$EXPECTED_UA" -v path="$OBJ_PATH" -v host="$HOST_HEADER" '
        /^#/ { next }
        NF == 33 && $6 == "GET" && $8 == path && $9 == "200" && $11 == ua && $16 == host && $29 == "Miss" { ok++ }
        END { exit !(ok == 1) }' "$RAW/sanity-standard.log" ||
        die "B's standard log line is not the expected one: $(cat "$RAW/sanity-standard.log")"
fi
A_METRICS="$(curl -sS --max-time 5 "http://127.0.0.1:$ADMIN_A/metrics")" || die "could not read A's /metrics"
! grep -q '^gatehouse_log_lines' <<<"$A_METRICS" || die "A (no [logs]) has a log writer"
grep -q '^gatehouse_requests_total' <<<"$A_METRICS" || die "A's /metrics has no gatehouse_requests_total"
SANITY="one GET through each config: both 200 with the origin's body; B's standard log then gets exactly one line for it (33 fields: \`GET\`, \`$OBJ_PATH\`, \`200\`, the user agent encoded as \`$EXPECTED_UA\`, \`x-host-header\` $HOST_HEADER, \`Miss\`), its JSON log one; A has no log writer (no \`gatehouse_log_lines_*\` in its \`/metrics\`)"
echo "    $SANITY"

# --- Load ------------------------------------------------------------------------------
# VARY=1: 4096 different requests, built once per wrk thread and sent in turn. Only the
# query string, User-Agent and Referer change; the origin serves the same object.
VARY_LUA="$WORK/vary.lua"
write_vary_lua "$VARY_LUA" logs.sh

# run_wrk config seconds outfile
run_wrk() {
    if [[ "$VARY" == 1 ]]; then
        taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2"s --latency -s "$VARY_LUA" \
            "http://127.0.0.1:${PORT[$1]}$OBJ_PATH" >"$3"
    else
        taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2"s --latency \
            -H "Host: $HOST_HEADER" -H "User-Agent: $USER_AGENT" \
            "http://127.0.0.1:${PORT[$1]}$OBJ_PATH" >"$3"
    fi
}

if [[ "$VARY" == 1 ]]; then
    WRK_CMD="wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency -s vary.lua http://127.0.0.1:PORT$OBJ_PATH"
    cp "$VARY_LUA" "$RAW/vary.lua"
    LOAD_NOTE="Requests: \`vary.lua\` (written by the script, kept in \`bench/out/logs-$RUN_ID/\`) cycles through 4,096 different GETs of \`$OBJ_PATH\`: the query string (\`v=N&utm_source=news%20letter&id=HEX&sig=…\`, 40 to 80 bytes), the \`User-Agent\` (7 families with varying versions, some with quotes, braces and \`%\`) and the \`Referer\` (absent for a quarter) change, so log lines differ the way real traffic's do and do not all compress alike (VARY=1)."
else
    WRK_CMD="wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency -H 'Host: $HOST_HEADER' -H 'User-Agent: $USER_AGENT' http://127.0.0.1:PORT$OBJ_PATH"
    LOAD_NOTE="Requests: the same GET every time (VARY=0): log lines differ only in request ids, ports and timings, so they compress unusually well."
fi

warm_up
log_state
PREV_STD="$STD_LINES"
PREV_JSON="$JSON_LINES"
WRITER_TID="$(thread_tid gatehouse-log-w)" || die "B has no gatehouse-log-writer thread"
GZIP_TID="$(thread_tid gatehouse-log-g)" || die "B has no gatehouse-log-gzip thread"

ROWS=()
CHECK_ROWS=()
declare -A RPS=() P50=() P99=() CPU_US=()
WRITER_US=""
GZIP_US=""
GZIP_DURING_US=""
WARNINGS=""
CHECK_FAILED=0
REPEATS=0

# check_b_run run_label requests: the log check after a B run.
check_b_run() {
    local label="$1" requests="$2" d_std d_json ok=1 why=""
    log_state
    d_std=$((STD_LINES - PREV_STD))
    d_json=$((JSON_LINES - PREV_JSON))
    PREV_STD="$STD_LINES"
    PREV_JSON="$JSON_LINES"
    if ((WANT_STANDARD)) && ((d_std < requests || d_std > requests + CONNECTIONS)); then
        ok=0
        why+=" standard lines $d_std for $requests requests;"
    fi
    if ((WANT_JSON)) && ((d_json < requests || d_json > requests + CONNECTIONS)); then
        ok=0
        why+=" JSON lines $d_json for $requests requests;"
    fi
    if ((WANT_STANDARD && WANT_JSON && d_std != d_json)); then
        ok=0
        why+=" $d_std standard lines but $d_json JSON lines;"
    fi
    if ((STD_LINES + JSON_LINES != WRITTEN)); then
        ok=0
        why+=" $((STD_LINES + JSON_LINES)) lines on disk but $WRITTEN counted as written;"
    fi
    if ((DROPPED != 0 || WRITE_ERRORS != 0)); then
        ok=0
        why+=" dropped $DROPPED, write errors $WRITE_ERRORS;"
    fi
    local std_col="$d_std" json_col="$d_json"
    ((WANT_STANDARD)) || std_col="–"
    ((WANT_JSON)) || json_col="–"
    printf '    log check: %s standard lines, %s JSON lines for %s requests; on disk %s, written %s, dropped %s, write errors %s: %s\n' \
        "$std_col" "$json_col" "$requests" "$((STD_LINES + JSON_LINES))" "$WRITTEN" "$DROPPED" "$WRITE_ERRORS" \
        "$( ((ok)) && echo ok || echo "FAILED:$why")"
    CHECK_ROWS+=("| $label | $requests | $std_col | $json_col | $((STD_LINES + JSON_LINES)) | $WRITTEN | $DROPPED | $WRITE_ERRORS | $( ((ok)) && echo ok || echo "**FAILED**:$why") |")
    if ((!ok)); then
        CHECK_FAILED=1
        warn "log check failed after $label:$why"
    fi
}

for ((round = 1; round <= ROUNDS; round++)); do
    if ((round % 2)); then order=(A B); else order=(B A); fi
    for c in "${order[@]}"; do
        out="$RAW/round$round-$c.txt"
        # B: its writer and compressor threads are measured too.
        threads=()
        [[ "$c" == A ]] || threads=("${SERVER_PID[B]}/task/$WRITER_TID" "${SERVER_PID[B]}/task/$GZIP_TID")
        for ((attempt = 0; ; attempt++)); do
            measure_run "$round" "$c" "$attempt" "$out" "${SERVER_PID[$c]}" "${threads[@]}"
            writer_us="–"
            if [[ "$c" == B ]]; then
                writer_us="$(us_per_request "${RUN_TICKS[0]}" "$WRK_TOTAL")"
                check_b_run "round $round$( ((attempt == 0)) || echo ", repeat $attempt")" "$WRK_TOTAL"
                # check_b_run waited for the compressor to finish this run's rotated files.
                gzip_us="$(us_per_request "$(($(proc_ticks "${threads[1]}") - RUN_TICKS0[1]))" "$WRK_TOTAL")"
                gzip_during_us="$(us_per_request "${RUN_TICKS[1]}" "$WRK_TOTAL")"
                echo "    B: writer $writer_us µs/req; gzip $gzip_us µs/req in the compressor thread ($gzip_during_us during the run, the rest after it)"
            fi
            retry_disturbed "$RUN_FOREIGN" "$attempt" "$out" "$round" "$c" || break
        done
        [[ "$c" == A ]] || WRITER_US+="$writer_us "
        [[ "$c" == A ]] || GZIP_US+="$gzip_us "
        [[ "$c" == A ]] || GZIP_DURING_US+="$gzip_during_us "
        record_run "$round" "$c" "$RUN_ORIGIN" "$RUN_CPU_US" "$RUN_FOREIGN" "$attempt" "$writer_us"
    done
done

# --- Profiles (optional) -------------------------------------------------------------------
PROFILE_ROWS=()
if [[ "$PROFILE" == 1 ]]; then
    for c in "${CONFIGS[@]}"; do
        wait_quiet
        log "profiling $c: perf record -g for ${PROFILE_SECONDS}s under load (not recorded)"
        run_wrk "$c" "$((PROFILE_SECONDS + 2))" "$RAW/profile-$c-wrk.txt" &
        wrk_pid=$!
        sleep 1
        perf record -q -g -o "$RAW/perf-$c.data" -p "${SERVER_PID[$c]}" -- sleep "$PROFILE_SECONDS" \
            >"$RAW/perf-$c.record.log" 2>&1 || warn "perf record failed for $c (see $RAW/perf-$c.record.log)"
        wait "$wrk_pid" || true
        if [[ -s "$RAW/perf-$c.data" ]]; then
            perf report -i "$RAW/perf-$c.data" --no-children --sort comm,dso,symbol --stdio \
                --percent-limit 0.5 >"$RAW/perf-$c.txt" 2>/dev/null || true
            perf report -i "$RAW/perf-$c.data" --no-children --sort comm --stdio \
                >"$RAW/perf-$c-threads.txt" 2>/dev/null || true
            while IFS= read -r row; do
                PROFILE_ROWS+=("$row")
            done < <(awk -v c="$c" '
                /^#/ || NF == 0 { next }
                $1 ~ /%$/ && n < 15 {
                    pct = $1; comm = $2; dso = $3; $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); sub(/[ -]+$/, "")
                    gsub(/\|/, "\\|")
                    printf "| %s | %s | %s | %s | `%s` |\n", c, pct, comm, dso, $0; n++
                }' "$RAW/perf-$c.txt")
        fi
    done
    check_b_run "profile run" "$(awk '$2 == "requests" && $3 == "in" { print $1 }' "$RAW/profile-B-wrk.txt")"
fi

stop_servers

# --- Results -----------------------------------------------------------------------------
median_runs
# shellcheck disable=SC2086
MED_WRITER="$(median $WRITER_US)"
# shellcheck disable=SC2086
MED_GZIP="$(median $GZIP_US)"
# shellcheck disable=SC2086
MED_GZIP_DURING="$(median $GZIP_DURING_US)"
RATIO="$(ratio "${MED_RPS[B]}" "${MED_RPS[A]}")"
read -ra ROUND_RATIOS <<<"$(round_ratios B A)"
EXTRA_US="$(extra_us B A)"
CPU_EXTRA="$(awk -v a="${MED_CPU[A]}" -v b="${MED_CPU[B]}" 'BEGIN { printf "%.2f\n", b - a }')"
MED_WRITER="$(awk -v w="$MED_WRITER" 'BEGIN { printf "%.2f\n", w }')"
PATH_EXTRA="$(awk -v e="$CPU_EXTRA" -v w="$MED_WRITER" -v g="$MED_GZIP_DURING" 'BEGIN { printf "%.2f\n", e - w - g }')"
COST_PCT="$(awk -v r="$RATIO" 'BEGIN { printf "%.1f\n", (1 - r) * 100 }')"


CMD="$(knobs_cmd ./bench/logs.sh)"

collect_versions
RUSTC_VERSION="$(rustc --version 2>/dev/null || echo 'rustc ?')"

SECTION="$WORK/section.md"
{
    echo "$MARK_START"
    echo "## Access logs: throughput with logging on vs off"
    echo
    echo "Target (access-log issue): the request path with logging on costs at most 5% of the throughput with logging off (ratio B/A ≥ $TARGET_RATIO)."
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- Machine: \`nproc\` = $NPROC${CPU_MODEL:+, $CPU_MODEL}, Linux $(uname -r)"
    echo "- Versions: Gatehouse rev $GIT_REV, $RUSTC_VERSION, $NGINX_VERSION, wrk $WRK_VERSION"
    echo "- Command: \`$CMD\`"
    echo
    echo "HTTP/1.1 keep-alive GETs of a ${OBJ_BYTES}-byte object (\`$OBJ_PATH\`) through Gatehouse to an nginx origin on the same host; the origin sends \`Cache-Control: no-store\`, so every request goes to the origin. Both configs serve the same distribution (\`Logging.Enabled: true\`) and have \`[admin] listen\`; A has no \`[logs]\` section, B has \`[logs] directory\` ($LOG_DIR_NOTE), \`formats = [$TOML_FORMATS]\`, \`flush_ms = $FLUSH_MS\` (queue and file size at their defaults), so every request B answers adds one line to each of its files."
    echo
    echo "- $LOAD_NOTE"
    echo "- Load: \`$WRK_CMD\`, PORT is $PORT_A for A and $PORT_B for B, pinned to CPU $LOAD_CPU; A first in odd rounds, B first in even rounds; ${WARMUP}s unrecorded warm-up per config"
    echo "- Servers pinned to CPU $SERVER_CPU: origin nginx (\`worker_processes 1\`, access log off), and both Gatehouse instances (\`gatehouse serve --config DIR\`, release build, \`TOKIO_WORKER_THREADS=1\`, \`RUST_LOG=$RUST_LOG\`); the one not under load is idle. B's log writer thread shares CPU $SERVER_CPU with its request path."
    echo "- CPU µs/request: user+system CPU time of the Gatehouse process under load divided by wrk's requests (clock ticks of 1/$CLK_TCK s); \"writer\" is the part of B's spent in its \`gatehouse-log-writer\` thread; B's compressor thread (\`gatehouse-log-gzip\`, idle priority) is measured separately, during the run and until it has compressed every rotated file after it."
    echo "- Sanity check before the load: $SANITY."
    echo "- Foreign CPU: CPU time used by processes other than this benchmark's while wrk ran, in % of one CPU. Each run first waited (up to ${QUIET_WAIT}s) for other processes to use at most ${FOREIGN_CPU_WARN_PCT}%; runs above ${FOREIGN_CPU_WARN_PCT}% were repeated up to $RETRIES time(s) ($REPEATS repeat(s) in this run; the table shows the last attempt, the disturbed ones are kept in \`bench/out/\`)."
    if [[ -n "$WARNINGS" ]]; then
        echo
        printf '%s' "$WARNINGS"
    fi
    echo
    echo "| Round | Config | Requests/sec | p50 (ms) | p99 (ms) | Requests | Origin requests | Socket errors | CPU µs/request | of which writer | Foreign CPU (%) |"
    echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Medians over $ROUNDS round(s):"
    echo
    echo "| Config | Requests/sec | p50 (ms) | p99 (ms) | CPU µs/request |"
    echo "|---|---:|---:|---:|---:|"
    echo "| A (logs off) | ${MED_RPS[A]} | ${MED_P50[A]} | ${MED_P99[A]} | ${MED_CPU[A]} |"
    echo "| B (logs on) | ${MED_RPS[B]} | ${MED_P50[B]} | ${MED_P99[B]} | ${MED_CPU[B]} (writer ${MED_WRITER}) |"
    echo "| **ratio B/A** | $RATIO | $(ratio "${MED_P50[B]}" "${MED_P50[A]}") | $(ratio "${MED_P99[B]}" "${MED_P99[A]}") | $(ratio "${MED_CPU[B]}" "${MED_CPU[A]}") |"
    echo
    echo "Per-round requests/sec ratios B/A: ${ROUND_RATIOS[*]}. At the medians, B spends $EXTRA_US µs more per request than A (1/throughput; the server CPU, shared with the origin, is the bottleneck). In CPU time of the Gatehouse process, B spends $CPU_EXTRA µs more per request than A: $MED_WRITER µs in the writer thread (appending the lines to the open plain files), $MED_GZIP_DURING µs in the compressor thread during the run (gzip of rotated files at idle priority), and $PATH_EXTRA µs on the request path (capturing the record, formatting the lines into a batch). Over the whole run and the wait after it, the compressor spent a median $MED_GZIP µs per request: the compression that idle priority defers, which a machine with spare CPU pays later."
    echo
    if at_least "$RATIO" "$TARGET_RATIO"; then
        echo "**Target met:** logging costs $COST_PCT% of the throughput (B/A = $RATIO, target ≥ $TARGET_RATIO)."
    else
        echo "**Target NOT met:** logging costs $COST_PCT% of the throughput (B/A = $RATIO, target ≥ $TARGET_RATIO)."
    fi
    echo
    echo "### Log lines on disk after each B run"
    echo
    echo "After each B run (repeats included) the script waits for the writer to go idle plus \`flush_ms\`, then counts data lines in B's files with \`zcat\` (standard: lines not starting with \`#\`). \"Standard\"/\"JSON\" are the lines the run added; they must be at least wrk's requests and at most $CONNECTIONS more (requests in flight when wrk stopped are answered or logged as abandoned, but wrk does not count them). \"On disk\" (both formats, cumulative) must equal \`gatehouse_log_lines_written_total\`; dropped and write errors are \`gatehouse_log_lines_dropped_total\` and \`gatehouse_log_write_errors_total\` from B's \`/metrics\`."
    echo
    echo "| B run | wrk requests | Standard lines | JSON lines | On disk (total) | Written (total) | Dropped | Write errors | Check |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
    printf '%s\n' "${CHECK_ROWS[@]}"
    echo
    if ((CHECK_FAILED)); then
        echo "**Log check FAILED** (see the table)."
    else
        echo "**Log check passed:** every B run's requests have their lines on disk, none dropped."
    fi
    if ((${#PROFILE_ROWS[@]} > 0)); then
        echo
        echo "### Profiles under the same load (PROFILE=1)"
        echo
        echo "\`perf record -g -p PID -- sleep $PROFILE_SECONDS\` on each Gatehouse process under the wrk load (runs not in the table above), \`perf report --no-children --sort comm,dso,symbol\`; top 15 entries per config (self time). Full reports in \`bench/out/logs-$RUN_ID/\`."
        echo
        echo "| Config | Self % | Thread | DSO | Symbol |"
        echo "|---|---:|---|---|---|"
        printf '%s\n' "${PROFILE_ROWS[@]}"
    fi
    echo "$MARK_END"
} >"$SECTION"

write_section "$MARK_START" "$MARK_END" "$SECTION"

log "results written to $BENCH_MD (raw output in $RAW)"
echo
sed -n "/^$MARK_START\$/,/^$MARK_END\$/p" "$BENCH_MD"
if ((CHECK_FAILED)); then
    die "a log check failed (see the section above)"
fi
