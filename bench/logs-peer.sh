#!/usr/bin/env bash
# Access-log cost of the peer: what nginx pays for the same access logs, to read bench/logs.sh's
# ratio against.
#
# Three nginx reverse proxies (bench/proxy.sh's peer: one worker, upstream keep-alive) in front
# of the same nginx origin, measured with wrk in rotating order:
#   N0  access_log off;
#   N1  one access log: CloudFront's 33 standard fields, tab-separated (log_format with
#       nginx's default escaping), `buffer=128k flush=1s`: what Gatehouse's standard log is;
#   N2  N1's log plus a JSON log (`escape=json`) with the standard v2 JSON names and the four
#       fields Gatehouse adds (cause, cause-detail, c-country, cache-behavior-path-pattern):
#       what Gatehouse's default, both formats, is.
# Values nginx does not have (the edge location, result types) are constants of the same
# length; the timings and ids are nginx's own ($request_time, $upstream_header_time,
# $request_id). nginx writes its buffer with write(2) when it is full or a second old, as
# Gatehouse's writer thread does (128 KiB, flush_ms 1000); it formats the line on the
# request path, as Gatehouse does. Lines are not gzipped by nginx here (Gatehouse's
# compression runs at idle priority after rotation, and is reported apart in logs.sh).
#
# The requests are bench/logs.sh's (VARY=1: 4096 different query strings, user agents and
# referers, write_vary_lua in lib.sh). After each run with logs, the script checks that the
# lines added to each file are at least wrk's requests (and at most CONNECTIONS more).
#
# Writes its results into BENCHMARKS.md between <!-- logs-peer:start --> and
# <!-- logs-peer:end -->.
#
#   ./bench/logs-peer.sh                    # 3 rounds x 10 s per config
#   DURATION=8 ROUNDS=5 ./bench/logs-peer.sh
#
# Environment knobs: DURATION (10), ROUNDS (3), WARMUP (2), CONNECTIONS (32), OBJ_BYTES
# (1024), QUIET_WAIT (120), RETRIES (2), as in bench/logs.sh.
#
# Layout (ports on 127.0.0.1): 18081 origin; 18091 N0; 18092 N1; 18093 N2. All servers on
# CPU 1, wrk on CPU 0 (taskset).
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$ROOT/bench/lib.sh"

load_knobs
quiet_knobs

ORIGIN_PORT=18081
HOST_HEADER="bench.example.com"
OBJ_PATH="/obj.txt"
THREADS=1
FOREIGN_CPU_WARN_PCT=5
BENCH_MD="$ROOT/BENCHMARKS.md"
MARK_START='<!-- logs-peer:start -->'
MARK_END='<!-- logs-peer:end -->'

CONFIGS=(N0 N1 N2)
declare -A PORT=([N0]=18091 [N1]=18092 [N2]=18093)

install_packages
install_commands python3:python3
pin_cpus
require_free_ports "$ORIGIN_PORT" "${PORT[@]}"
setup_work logs-peer
write_origin

# --- The logs ------------------------------------------------------------------------
# The standard log's 33 fields, in CloudFront's order, as nginx values (nginx variables, not
# shell ones: hence the single quotes).
# shellcheck disable=SC2016
STANDARD_VALUES=(
    '$gh_date' '$gh_time' 'GH1-P1' '$bytes_sent' '$remote_addr' '$request_method' '$host'
    '$uri' '$status' '$http_referer' '$http_user_agent' '$args' '$http_cookie' 'Miss'
    '$request_id' '$http_host' '$scheme' '$request_length' '$request_time'
    '$http_x_forwarded_for' '$ssl_protocol' '$ssl_cipher' 'Miss' '$server_protocol' '-' '-'
    '$remote_port' '$upstream_header_time' 'Miss' '$sent_http_content_type'
    '$sent_http_content_length' '-' '-'
)
STANDARD_NAMES=(
    date time x-edge-location sc-bytes c-ip cs-method 'cs(Host)' cs-uri-stem sc-status
    'cs(Referer)' 'cs(User-Agent)' cs-uri-query 'cs(Cookie)' x-edge-result-type
    x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for
    ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status
    fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type
    sc-content-len sc-range-start sc-range-end
)
STANDARD_FORMAT="$(IFS=$'\t'; printf '%s' "${STANDARD_VALUES[*]}" | sed 's/\t/\\t/g')"
JSON_FORMAT='{'
for i in "${!STANDARD_NAMES[@]}"; do
    JSON_FORMAT+="\"${STANDARD_NAMES[i]}\":\"${STANDARD_VALUES[i]}\","
done
# shellcheck disable=SC2016 # nginx's variable
JSON_FORMAT+='"timestamp":"$msec","timestamp(ms)":"$msec","distribution-id":"EBENCH",'
JSON_FORMAT+='"c-country":null,"cache-behavior-path-pattern":"Default (*)","cause":null,"cause-detail":null}'

# write_peer NAME PORT ACCESS_LOG_LINES
write_peer() {
    {
        nginx_common "$1"
        cat <<EOF
http {
$(nginx_http_common "$1")
    map \$time_iso8601 \$gh_date { "~^(?<d>[0-9-]+)T" \$d; }
    map \$time_iso8601 \$gh_time { "~T(?<t>[0-9:]+)" \$t; }
    log_format cf_standard '$STANDARD_FORMAT';
    log_format cf_json escape=json '$JSON_FORMAT';
    upstream origin {
        server 127.0.0.1:$ORIGIN_PORT;
        keepalive 64;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$2;
$3
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
    } >"$WORK/$1.conf"
}
STD_LOG="access_log $WORK/n-standard.log cf_standard buffer=128k flush=1s;"
write_peer N0 "${PORT[N0]}" ""
write_peer N1 "${PORT[N1]}" "        ${STD_LOG/n-standard/n1-standard}"
write_peer N2 "${PORT[N2]}" "        ${STD_LOG/n-standard/n2-standard}
        access_log $WORK/n2.json cf_json buffer=128k flush=1s;"

nginx_check origin
for c in "${CONFIGS[@]}"; do
    nginx_check "$c"
done
start_origin
declare -A WORKER_PID=()
for c in "${CONFIGS[@]}"; do
    log "starting nginx proxy $c on 127.0.0.1:${PORT[$c]}, CPU $SERVER_CPU"
    start_server "$c" "$WORK/$c.stdout.log" "$NGINX" -p "$WORK/" -e "$WORK/$c.log" -c "$WORK/$c.conf"
    wait_http "$c" "${PORT[$c]}" 10
    master="${PIDS[${#PIDS[@]} - 1]}"
    WORKER_PID[$c]="$(awk '{ print $1 }' "/proc/$master/task/$master/children")"
    [[ -n "${WORKER_PID[$c]}" ]] || die "no worker process for nginx $c"
done
init_cpu_accounting

# The files each config writes, and their lines so far.
declare -A FILES=([N0]="" [N1]="$WORK/n1-standard.log" [N2]="$WORK/n2-standard.log $WORK/n2.json")
lines_of() { cat -- "$@" 2>/dev/null | wc -l; }

# --- Sanity check ----------------------------------------------------------------------
log "sanity check"
sleep 1.5
for c in N1 N2; do
    read -ra files <<<"${FILES[$c]}"
    before="$(lines_of "${files[@]}")"
    status="$(fetch "${PORT[$c]}" "$WORK/check-$c" -A "Mozilla/5.0 (sanity)")" || die "$c: request failed"
    [[ "$status" == 200 ]] || die "$c answered HTTP $status"
    cmp -s "$WORK/check-$c" "$WORK/www/obj.txt" || die "$c returned a body different from the origin's"
    sleep 1.5
    after="$(lines_of "${files[@]}")"
    ((after - before == ${#files[@]})) || die "one request through $c added $((after - before)) log lines (expected ${#files[@]})"
done
tail -n 1 "$WORK/n2-standard.log" | awk -F'\t' 'NF == 33 && $6 == "GET" && $8 == "/obj.txt" && $9 == "200" { ok = 1 } END { exit !ok }' ||
    die "N2's standard line is not 33 fields of the request: $(tail -n 1 "$WORK/n2-standard.log")"
tail -n 1 "$WORK/n2.json" | python3 -c 'import json, sys; d = json.loads(sys.stdin.read()); assert d["cs-method"] == "GET" and len(d) == 40' ||
    die "N2's JSON line is not a 40-member object: $(tail -n 1 "$WORK/n2.json")"
cp "$WORK/n2-standard.log" "$RAW/sample-standard.log"
cp "$WORK/n2.json" "$RAW/sample.json"

# --- Load -----------------------------------------------------------------------------
VARY_LUA="$WORK/vary.lua"
write_vary_lua "$VARY_LUA" logs-peer.sh
cp "$VARY_LUA" "$RAW/vary.lua"
run_wrk() { # config seconds outfile
    taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2"s --latency -s "$VARY_LUA" \
        "http://127.0.0.1:${PORT[$1]}$OBJ_PATH" >"$3"
}
warm_up

ROWS=()
CHECK_ROWS=()
declare -A RPS=() P50=() P99=() CPU_US=()
WARNINGS=""
REPEATS=0
CHECK_FAILED=0
for ((round = 1; round <= ROUNDS; round++)); do
    # Each config goes first, second and third in turn.
    case $((round % 3)) in
    1) order=(N0 N1 N2) ;;
    2) order=(N1 N2 N0) ;;
    0) order=(N2 N0 N1) ;;
    esac
    for c in "${order[@]}"; do
        out="$RAW/round$round-$c.txt"
        read -ra files <<<"${FILES[$c]}"
        for ((attempt = 0; ; attempt++)); do
            lines0=0
            ((${#files[@]} == 0)) || lines0="$(lines_of "${files[@]}")"
            measure_run "$round" "$c" "$attempt" "$out" "${WORKER_PID[$c]}"
            if ((${#files[@]} > 0)); then
                sleep 1.5 # nginx's flush=1s
                added=$(($(lines_of "${files[@]}") - lines0))
                lo=$((WRK_TOTAL * ${#files[@]}))
                hi=$(((WRK_TOTAL + CONNECTIONS) * ${#files[@]}))
                ok=ok
                if ((added < lo || added > hi)); then
                    ok="**FAILED**"
                    CHECK_FAILED=1
                    warn "$c: $added log lines for $WRK_TOTAL requests in ${#files[@]} file(s)"
                fi
                CHECK_ROWS+=("| round $round, $c | $WRK_TOTAL | ${#files[@]} | $added | $ok |")
            fi
            retry_disturbed "$RUN_FOREIGN" "$attempt" "$out" "$round" "$c" || break
        done
        record_run "$round" "$c" "$RUN_ORIGIN" "$RUN_CPU_US" "$RUN_FOREIGN" "$attempt"
    done
done
BYTES_STD="$(awk '{ n += length($0) + 1 } END { printf "%.0f\n", n / NR }' "$WORK/n2-standard.log")"
BYTES_JSON="$(awk '{ n += length($0) + 1 } END { printf "%.0f\n", n / NR }' "$WORK/n2.json")"
stop_servers

# --- Results -----------------------------------------------------------------------------
median_runs
collect_versions
R1="$(ratio "${MED_RPS[N1]}" "${MED_RPS[N0]}")"
R2="$(ratio "${MED_RPS[N2]}" "${MED_RPS[N0]}")"
CMD="$(knobs_cmd ./bench/logs-peer.sh)"

SECTION="$WORK/section.md"
{
    echo "$MARK_START"
    echo "## Access logs: what nginx pays for the same logs (peer)"
    echo
    echo "The yardstick for the access-log section above: nginx as reverse proxy (bench/proxy.sh's peer), with no access log, with CloudFront's 33-field standard line, and with that line plus a JSON line carrying the same fields and Gatehouse's four extra ones, under the same requests (bench/logs.sh's \`vary.lua\`)."
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- Machine: \`nproc\` = $NPROC${CPU_MODEL:+, $CPU_MODEL}, Linux $(uname -r)"
    echo "- Versions: $NGINX_VERSION, wrk $WRK_VERSION"
    echo "- Command: \`$CMD\`; raw output, nginx configs' samples and \`vary.lua\` in \`bench/out/logs-peer-$RUN_ID/\`"
    echo "- Load: \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency -s vary.lua\`, pinned to CPU $LOAD_CPU; servers (origin and the three proxies, one worker each) on CPU $SERVER_CPU; the order of the three configs rotates every round; ${WARMUP}s unrecorded warm-up each"
    echo "- N1: \`log_format\` of the 33 standard fields, tab-separated, nginx's default escaping (\`\\xXX\`), \`access_log … buffer=128k flush=1s\`; N2: N1's log and a JSON log (\`escape=json\`, 40 members: the 33 fields by their JSON names, timestamp, timestamp(ms), distribution-id, c-country, cache-behavior-path-pattern, cause, cause-detail), same buffering. Average line: $BYTES_STD bytes standard, $BYTES_JSON bytes JSON."
    echo "- CPU µs/request: user+system CPU time of the nginx worker divided by wrk's requests."
    echo "- Foreign CPU: as in the sections above (runs over ${FOREIGN_CPU_WARN_PCT}% repeated up to $RETRIES time(s); $REPEATS repeat(s) in this run)."
    if [[ -n "$WARNINGS" ]]; then
        echo
        printf '%s' "$WARNINGS"
    fi
    echo
    echo "| Round | Config | Requests/sec | p50 (ms) | p99 (ms) | Requests | Origin requests | Socket errors | CPU µs/request | Foreign CPU (%) |"
    echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Medians over $ROUNDS round(s):"
    echo
    echo "| Config | Requests/sec | p50 (ms) | p99 (ms) | CPU µs/request | vs N0 |"
    echo "|---|---:|---:|---:|---:|---:|"
    echo "| N0: no access log | ${MED_RPS[N0]} | ${MED_P50[N0]} | ${MED_P99[N0]} | ${MED_CPU[N0]} | – |"
    echo "| N1: standard log | ${MED_RPS[N1]} | ${MED_P50[N1]} | ${MED_P99[N1]} | ${MED_CPU[N1]} | **$R1** |"
    echo "| N2: standard + JSON logs | ${MED_RPS[N2]} | ${MED_P50[N2]} | ${MED_P99[N2]} | ${MED_CPU[N2]} | **$R2** |"
    echo
    echo "Per-round ratios: N1/N0 $(round_ratios N1 N0); N2/N0 $(round_ratios N2 N0)."
    echo
    echo "Log lines after each run (flush waited for): at least one per request and file, at most $CONNECTIONS more."
    echo
    echo "| Run | wrk requests | Files | Lines added | Check |"
    echo "|---|---:|---:|---:|---|"
    printf '%s\n' "${CHECK_ROWS[@]}"
    echo "$MARK_END"
} >"$SECTION"
write_section "$MARK_START" "$MARK_END" "$SECTION"
log "results written to $BENCH_MD (raw output in $RAW)"
echo
cat "$SECTION"
((CHECK_FAILED == 0)) || die "a log check failed (see the section above)"
