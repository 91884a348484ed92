#!/usr/bin/env bash
# Proxy-path benchmark: Gatehouse vs an nginx reverse proxy in front of the
# same nginx origin, measured with wrk. Writes its results into BENCHMARKS.md
# between the markers <!-- proxy-bench:start --> and <!-- proxy-bench:end -->.
#
#   ./bench/proxy.sh                        # 3 rounds x 10 s per proxy
#   DURATION=30 ROUNDS=5 ./bench/proxy.sh
#   ONLY_NGINX=1 ./bench/proxy.sh           # skip Gatehouse (no cargo build)
#
# Environment knobs:
#   DURATION    seconds per wrk run                    (default 10)
#   ROUNDS      alternating nginx/Gatehouse rounds     (default 3)
#   WARMUP      seconds of unrecorded warm-up per proxy (default 2; 0 = none)
#   CONNECTIONS wrk connections                        (default 32)
#   OBJ_BYTES   size of the origin object /obj.txt     (default 1024)
#   ONLY_NGINX  1 = measure only the nginx proxy       (default 0)
#   RUST_LOG    passed to Gatehouse                    (default warn)
#
# Layout (ports on 127.0.0.1):
#   18081 origin:  nginx, serves /obj.txt, access_log off, Cache-Control: no-store
#   18082 peer:    nginx reverse proxy -> origin (HTTP/1.1, upstream keepalive 64)
#   18083 gatehouse serve --config DIR -> origin (distribution EBENCH)
# All servers run on CPU 1, wrk on CPU 0 (taskset). nginx uses one worker
# process; Gatehouse runs with TOKIO_WORKER_THREADS=1 so both proxies get one
# worker thread on one core.
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$ROOT/bench/lib.sh"

load_knobs
knob ONLY_NGINX 0
export RUST_LOG="${RUST_LOG:-warn}"

ORIGIN_PORT=18081
NGINX_PORT=18082
GATEHOUSE_PORT=18083
HOST_HEADER="bench.example.com"
OBJ_PATH="/obj.txt"
THREADS=1

BENCH_MD="$ROOT/BENCHMARKS.md"
MARK_START='<!-- proxy-bench:start -->'
MARK_END='<!-- proxy-bench:end -->'

require_flags ONLY_NGINX

install_packages
pin_cpus

# --- Build ----------------------------------------------------------------------
if [[ "$ONLY_NGINX" == 0 ]]; then
    build_gatehouse
fi

require_free_ports "$ORIGIN_PORT" "$NGINX_PORT" "$GATEHOUSE_PORT"

setup_work proxy

# --- Origin -----------------------------------------------------------------------
write_origin

{
    nginx_common nginx-proxy
    cat <<EOF
http {
$(nginx_http_common nginx-proxy)
    upstream origin {
        server 127.0.0.1:$ORIGIN_PORT;
        keepalive 64;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
} >"$WORK/nginx-proxy.conf"

for name in origin nginx-proxy; do
    nginx_check "$name"
done

start_origin

log "starting nginx reverse proxy on 127.0.0.1:$NGINX_PORT, CPU $SERVER_CPU"
start_server nginx-proxy "$WORK/nginx-proxy.stdout.log" \
    "$NGINX" -p "$WORK/" -e "$WORK/nginx-proxy.log" -c "$WORK/nginx-proxy.conf"
wait_http nginx-proxy "$NGINX_PORT" 10

# --- Gatehouse ----------------------------------------------------------------------
if [[ "$ONLY_NGINX" == 0 ]]; then
    CONF="$WORK/gatehouse"
    mkdir -p "$CONF/distributions"
    cat >"$CONF/gatehouse.toml" <<EOF
[listen]
http = ["127.0.0.1:$GATEHOUSE_PORT"]
EOF
    distribution_json >"$CONF/distributions/EBENCH.json"
    log "starting Gatehouse on 127.0.0.1:$GATEHOUSE_PORT, CPU $SERVER_CPU, TOKIO_WORKER_THREADS=1"
    start_server gatehouse "$WORK/gatehouse.log" \
        env TOKIO_WORKER_THREADS=1 "$GATEHOUSE_BIN" serve --config "$CONF"
    wait_http gatehouse "$GATEHOUSE_PORT" 30
fi

# --- Sanity checks ---------------------------------------------------------------------

log "sanity check"
status="$(fetch "$ORIGIN_PORT" "$WORK/origin.body")" || die "origin: request failed"
[[ "$status" == 200 ]] || die "origin returned HTTP $status"
cmp -s "$WORK/origin.body" "$WORK/www/obj.txt" || die "origin body differs from the file it serves"

PROXIES=(nginx)
if [[ "$ONLY_NGINX" == 0 ]]; then
    PROXIES+=(gatehouse)
fi

proxy_port() {
    case "$1" in
    nginx) echo "$NGINX_PORT" ;;
    gatehouse) echo "$GATEHOUSE_PORT" ;;
    *) die "unknown proxy $1" ;;
    esac
}

for proxy in "${PROXIES[@]}"; do
    port="$(proxy_port "$proxy")"
    status="$(fetch "$port" "$WORK/$proxy.body")" || die "$proxy: request failed"
    if [[ "$status" != 200 ]]; then
        sed 's/^/    /' "$WORK/$proxy.body.headers" >&2
        die "$proxy returned HTTP $status, expected 200"
    fi
    cmp -s "$WORK/$proxy.body" "$WORK/origin.body" ||
        die "$proxy returned a body different from the origin's ($(wc -c <"$WORK/$proxy.body") vs $OBJ_BYTES bytes)"
    echo "    $proxy: HTTP 200, body identical to origin ($OBJ_BYTES bytes)"
done
if [[ "$ONLY_NGINX" == 0 ]]; then
    grep -i '^x-cache:' "$WORK/gatehouse.body.headers" | sed 's/^/    gatehouse /' || true
fi

# --- Load ------------------------------------------------------------------------------
# run_wrk proxy seconds outfile
run_wrk() {
    local port
    port="$(proxy_port "$1")"
    taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2"s --latency \
        -H "Host: $HOST_HEADER" "http://127.0.0.1:$port$OBJ_PATH" >"$3"
}

WRK_CMD="wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency -H 'Host: $HOST_HEADER' http://127.0.0.1:PORT$OBJ_PATH"

# The configs of lib.sh's warm_up and median_runs.
CONFIGS=("${PROXIES[@]}")
warm_up

ROWS=()          # markdown table rows, per round
declare -A RPS=() P50=() P99=() CPU_US=()   # proxy -> space-separated values (CPU_US: none here)
CACHE_WARNING=""

for ((round = 1; round <= ROUNDS; round++)); do
    for proxy in "${PROXIES[@]}"; do
        out="$RAW/round$round-$proxy.txt"
        log "round $round/$ROUNDS: $proxy (${DURATION}s)"
        before="$(origin_requests)"
        run_wrk "$proxy" "$DURATION" "$out"
        after="$(origin_requests)"

        parse_wrk "$out"
        rps="$WRK_RPS" total="$WRK_TOTAL" p50="$WRK_P50" p99="$WRK_P99"
        non2xx="$WRK_NON2XX" sockerr="$WRK_SOCKERR"
        origin_delta=$((after - before))
        printf '    %-9s %10s req/s  p50 %8s ms  p99 %8s ms  requests %s  origin %s  non-2xx %s  socket errors %s\n' \
            "$proxy" "$rps" "$p50" "$p99" "$total" "$origin_delta" "$non2xx" "$sockerr"
        if ((non2xx > 0)); then
            die "$proxy answered $non2xx non-2xx/3xx responses in round $round; results would be meaningless (see $out)"
        fi
        # Each proxied request costs one origin request; far fewer means the
        # proxy served from a cache and this is not the proxy path.
        if ((origin_delta * 10 < total * 9)); then
            CACHE_WARNING+="- Warning: round $round, $proxy: only $origin_delta origin requests for $total client requests (responses served from a cache?).
"
            warn "$proxy: only $origin_delta origin requests for $total client requests"
        fi
        RPS[$proxy]+="$rps "
        P50[$proxy]+="$p50 "
        P99[$proxy]+="$p99 "
        ROWS+=("| $round | $proxy | $rps | $p50 | $p99 | $total | $origin_delta | $sockerr |")
    done
done

stop_servers

# --- Results -----------------------------------------------------------------------------
median_runs

CMD="$(knobs_cmd ./bench/proxy.sh)"

collect_versions

SECTION="$WORK/section.md"
{
    echo "$MARK_START"
    if [[ "$ONLY_NGINX" == 1 ]]; then
        echo "## Proxy path (nginx only: Gatehouse skipped with ONLY_NGINX=1)"
        echo
        echo "_This run measured only the nginx reference proxy; it says nothing about Gatehouse. Run \`./bench/proxy.sh\` without ONLY_NGINX for the comparison._"
    else
        echo "## Proxy path: Gatehouse vs nginx reverse proxy"
    fi
    echo
    echo "Measures throughput (requests/sec) and latency (p50/p99) of HTTP/1.1 keep-alive GETs of a ${OBJ_BYTES}-byte object (\`$OBJ_PATH\`) through a proxy to an nginx origin on the same host. The origin sends \`Cache-Control: no-store\`, so every request goes through the proxy to the origin (the origin-requests column counts them). Both proxies get the same \`Host: $HOST_HEADER\` requests."
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- Machine: \`nproc\` = $NPROC${CPU_MODEL:+, $CPU_MODEL}, Linux $(uname -r)"
    echo "- Versions: Gatehouse rev $GIT_REV, $NGINX_VERSION, wrk $WRK_VERSION"
    echo "- Command: \`$CMD\`"
    echo "- Load: \`$WRK_CMD\`, PORT is $NGINX_PORT for nginx and $GATEHOUSE_PORT for Gatehouse, pinned to CPU $LOAD_CPU; proxies alternate each round; ${WARMUP}s unrecorded warm-up per proxy"
    echo "- Servers (origin, proxies) pinned to CPU $SERVER_CPU. Origin: nginx, \`worker_processes 1\`, access log off. nginx proxy: \`worker_processes 1\`, \`proxy_http_version 1.1\`, upstream \`keepalive 64\`, access log off."
    if [[ "$ONLY_NGINX" == 0 ]]; then
        echo "- Gatehouse: \`gatehouse serve --config DIR\` (release build), one distribution for \`$HOST_HEADER\` with the origin 127.0.0.1:$ORIGIN_PORT, \`TOKIO_WORKER_THREADS=1\` to match nginx's single worker, \`RUST_LOG=$RUST_LOG\`."
    fi
    if [[ -n "$CACHE_WARNING" ]]; then
        echo
        printf '%s' "$CACHE_WARNING"
    fi
    echo
    echo "| Round | Proxy | Requests/sec | p50 (ms) | p99 (ms) | Requests | Origin requests | Socket errors |"
    echo "|---:|---|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Medians over $ROUNDS round(s):"
    echo
    echo "| Proxy | Requests/sec | p50 (ms) | p99 (ms) |"
    echo "|---|---:|---:|---:|"
    for proxy in "${PROXIES[@]}"; do
        echo "| $proxy | ${MED_RPS[$proxy]} | ${MED_P50[$proxy]} | ${MED_P99[$proxy]} |"
    done
    if [[ "$ONLY_NGINX" == 0 ]]; then
        echo "| **ratio gatehouse/nginx** | $(ratio "${MED_RPS[gatehouse]}" "${MED_RPS[nginx]}") | $(ratio "${MED_P50[gatehouse]}" "${MED_P50[nginx]}") | $(ratio "${MED_P99[gatehouse]}" "${MED_P99[nginx]}") |"
        echo
        echo "Ratio above 1 means Gatehouse has more requests/sec (better) or higher latency (worse)."
    fi
    echo "$MARK_END"
} >"$SECTION"

write_section "$MARK_START" "$MARK_END" "$SECTION"

log "results written to $BENCH_MD (raw wrk output in $RAW)"
echo
sed -n "/^$MARK_START\$/,/^$MARK_END\$/p" "$BENCH_MD"
