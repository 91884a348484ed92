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

DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
OBJ_BYTES="${OBJ_BYTES:-1024}"
ONLY_NGINX="${ONLY_NGINX:-0}"
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

for v in DURATION ROUNDS WARMUP CONNECTIONS OBJ_BYTES; do
    if ! [[ "${!v}" =~ ^[0-9]+$ ]]; then
        echo "error: $v must be a non-negative integer (got '${!v}')" >&2
        exit 2
    fi
done
if ((DURATION < 1 || ROUNDS < 1 || CONNECTIONS < 1 || OBJ_BYTES < 1)); then
    echo "error: DURATION, ROUNDS, CONNECTIONS and OBJ_BYTES must be >= 1" >&2
    exit 2
fi
if [[ "$ONLY_NGINX" != 0 && "$ONLY_NGINX" != 1 ]]; then
    echo "error: ONLY_NGINX must be 0 or 1 (got '$ONLY_NGINX')" >&2
    exit 2
fi

log() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# --- System packages ----------------------------------------------------------
as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        die "need root or sudo to run: $*"
    fi
}

find_nginx() {
    command -v nginx 2>/dev/null || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; } || true
}

install_packages() {
    local missing=()
    [[ -n "$(find_nginx)" ]] || missing+=(nginx)
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
    if [[ ${#missing[@]} -eq 0 ]]; then
        return 0
    fi
    log "installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_packages
NGINX="$(find_nginx)"
[[ -n "$NGINX" ]] || die "nginx not found after installation"

# --- CPU pinning ----------------------------------------------------------------
NPROC="$(nproc)"
if ((NPROC >= 2)); then
    SERVER_CPU=1
    LOAD_CPU=0
else
    warn "only $NPROC CPU: servers and wrk share CPU 0; numbers are not comparable to 2-core runs"
    SERVER_CPU=0
    LOAD_CPU=0
fi

# --- Build ----------------------------------------------------------------------
GATEHOUSE_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/gatehouse"
if [[ "$ONLY_NGINX" == 0 ]]; then
    log "building release binary"
    cargo build --release -p gatehouse
    [[ -x "$GATEHOUSE_BIN" ]] || die "expected binary at $GATEHOUSE_BIN"
fi

port_in_use() {
    # Any TCP connection succeeding means something already listens there.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

for p in "$ORIGIN_PORT" "$NGINX_PORT" "$GATEHOUSE_PORT"; do
    if port_in_use "$p"; then
        die "port $p on 127.0.0.1 is already in use; stop whatever listens there"
    fi
done

# --- Work dirs and cleanup --------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX")"
# nginx workers run as an unprivileged user when started as root: the document
# root must be world-readable.
chmod 755 "$WORK"
RUN_ID="$(date -u +%Y%m%dT%H%M%SZ)"
RAW="$ROOT/bench/out/proxy-$RUN_ID"
mkdir -p "$RAW"

PIDS=()
NAMES=()

stop_servers() {
    local i pid
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        pid="${PIDS[i]}"
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            if kill -0 "$pid" 2>/dev/null; then
                warn "${NAMES[i]} (pid $pid) did not stop; sending SIGKILL"
                kill -KILL "$pid" 2>/dev/null || true
            fi
        fi
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
    NAMES=()
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_servers
    if [[ $rc -ne 0 ]]; then
        # Keep server logs around for the post-mortem.
        cp "$WORK"/*.log "$RAW"/ 2>/dev/null || true
        if rmdir "$RAW" 2>/dev/null; then
            warn "failed (exit $rc)"
        else
            warn "failed (exit $rc); server logs and raw wrk output in $RAW"
        fi
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_server() { # name logfile cmd...
    local name="$1" logfile="$2"
    shift 2
    taskset -c "$SERVER_CPU" "$@" >"$logfile" 2>&1 &
    PIDS+=("$!")
    NAMES+=("$name")
}

# wait_http name port timeout_s: until the server answers any HTTP response.
wait_http() {
    local name="$1" port="$2" timeout="$3" pid="${PIDS[${#PIDS[@]} - 1]}"
    local deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            die "$name exited during startup; log: $(tail -n 20 "$WORK/$name.log" 2>/dev/null)"
        fi
        if curl -s -o /dev/null --max-time 1 -H "Host: $HOST_HEADER" \
            "http://127.0.0.1:$port$OBJ_PATH"; then
            log "$name is up on 127.0.0.1:$port"
            return 0
        fi
        sleep 0.2
    done
    die "$name did not answer on 127.0.0.1:$port within ${timeout}s; log: $(tail -n 20 "$WORK/$name.log" 2>/dev/null)"
}

# --- Origin -----------------------------------------------------------------------
mkdir -p "$WORK/www" "$WORK/tmp"
yes 'gatehouse proxy benchmark object 0123456789abcdef' | head -c "$OBJ_BYTES" >"$WORK/www/obj.txt" || true
[[ "$(wc -c <"$WORK/www/obj.txt")" -eq "$OBJ_BYTES" ]] || die "could not create origin object"
chmod 755 "$WORK/www"
chmod 644 "$WORK/www/obj.txt"

# Settings shared by both nginx instances: everything under $WORK.
nginx_common() { # name
    cat <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $WORK/$1.pid;
error_log $WORK/$1.log warn;
events { worker_connections 4096; }
EOF
}
nginx_http_common() { # name
    cat <<EOF
    access_log off;
    client_body_temp_path $WORK/tmp/$1-body;
    proxy_temp_path $WORK/tmp/$1-proxy;
    fastcgi_temp_path $WORK/tmp/$1-fastcgi;
    uwsgi_temp_path $WORK/tmp/$1-uwsgi;
    scgi_temp_path $WORK/tmp/$1-scgi;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
EOF
}

{
    nginx_common origin
    cat <<EOF
http {
$(nginx_http_common origin)
    default_type text/plain;
    server {
        listen 127.0.0.1:$ORIGIN_PORT;
        root $WORK/www;
        # Make every request go through to the origin (no edge caching).
        add_header Cache-Control "no-store" always;
        location = /__origin_status {
            stub_status;
        }
    }
}
EOF
} >"$WORK/origin.conf"

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
    "$NGINX" -t -q -p "$WORK/" -e "$WORK/$name.log" -c "$WORK/$name.conf" ||
        die "nginx config check failed for $name: $(cat "$WORK/$name.log" 2>/dev/null)"
done

log "starting origin (nginx) on 127.0.0.1:$ORIGIN_PORT, CPU $SERVER_CPU"
start_server origin "$WORK/origin.stdout.log" \
    "$NGINX" -p "$WORK/" -e "$WORK/origin.log" -c "$WORK/origin.conf"
wait_http origin "$ORIGIN_PORT" 10

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
    cat >"$CONF/distributions/EBENCH.json" <<EOF
{"ETag":"E1","DistributionConfig":{"CallerReference":"bench","Aliases":{"Quantity":1,"Items":["$HOST_HEADER"]},"DefaultRootObject":"","Origins":{"Quantity":1,"Items":[{"Id":"o","DomainName":"127.0.0.1","OriginPath":"","CustomHeaders":{"Quantity":0},"CustomOriginConfig":{"HTTPPort":$ORIGIN_PORT,"HTTPSPort":443,"OriginProtocolPolicy":"http-only","OriginReadTimeout":30,"OriginKeepaliveTimeout":5}}]},"DefaultCacheBehavior":{"TargetOriginId":"o","ViewerProtocolPolicy":"allow-all","AllowedMethods":{"Quantity":2,"Items":["GET","HEAD"]}},"CacheBehaviors":{"Quantity":0},"CustomErrorResponses":{"Quantity":0},"Comment":"","Enabled":true}}
EOF
    log "starting Gatehouse on 127.0.0.1:$GATEHOUSE_PORT, CPU $SERVER_CPU, TOKIO_WORKER_THREADS=1"
    start_server gatehouse "$WORK/gatehouse.log" \
        env TOKIO_WORKER_THREADS=1 "$GATEHOUSE_BIN" serve --config "$CONF"
    wait_http gatehouse "$GATEHOUSE_PORT" 30
fi

# --- Sanity checks ---------------------------------------------------------------------
# fetch port outfile: prints the HTTP status; headers go to outfile.headers.
fetch() {
    curl -sS --max-time 5 -H "Host: $HOST_HEADER" -D "$2.headers" -o "$2" \
        -w '%{http_code}' "http://127.0.0.1:$1$OBJ_PATH"
}

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

# Origin request counter (nginx stub_status "requests" field).
origin_requests() {
    local n
    n="$(curl -sS --max-time 5 "http://127.0.0.1:$ORIGIN_PORT/__origin_status" |
        awk 'prev ~ /server accepts handled requests/ { print $3; exit } { prev = $0 }')" || true
    [[ "$n" =~ ^[0-9]+$ ]] || die "could not read the origin request counter"
    echo "$n"
}

# --- Load ------------------------------------------------------------------------------
# to_ms VALUE: wrk latency ("254.00us", "1.23ms", "1.01s", "2.00m") -> ms.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (match(v, /[a-z]+$/) == 0) { print "NaN"; exit }
        n = substr(v, 1, RSTART - 1); u = substr(v, RSTART)
        f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : (u == "h") ? 3600000 : -1
        if (f < 0) print "NaN"; else printf "%.3f\n", n * f
    }'
}

# run_wrk proxy seconds outfile
run_wrk() {
    local port
    port="$(proxy_port "$1")"
    taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2"s --latency \
        -H "Host: $HOST_HEADER" "http://127.0.0.1:$port$OBJ_PATH" >"$3"
}

WRK_CMD="wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency -H 'Host: $HOST_HEADER' http://127.0.0.1:PORT$OBJ_PATH"

if ((WARMUP > 0)); then
    for proxy in "${PROXIES[@]}"; do
        log "warm-up: $proxy ${WARMUP}s (not recorded)"
        run_wrk "$proxy" "$WARMUP" "$RAW/warmup-$proxy.txt"
    done
fi

ROWS=()          # markdown table rows, per round
declare -A RPS=() P50=() P99=()   # proxy -> space-separated values
CACHE_WARNING=""

for ((round = 1; round <= ROUNDS; round++)); do
    for proxy in "${PROXIES[@]}"; do
        out="$RAW/round$round-$proxy.txt"
        log "round $round/$ROUNDS: $proxy (${DURATION}s)"
        before="$(origin_requests)"
        run_wrk "$proxy" "$DURATION" "$out"
        after="$(origin_requests)"

        rps="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
        total="$(awk '$2 == "requests" && $3 == "in" { print $1 }' "$out")"
        p50="$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")"
        p99="$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")"
        non2xx="$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")"
        sockerr="$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$out")"
        non2xx="${non2xx:-0}"
        sockerr="${sockerr:-0}"
        [[ -n "$rps" && -n "$total" && "$p50" != NaN && "$p99" != NaN ]] ||
            die "could not parse wrk output $out"
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
median() { # values...
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
        if (NR % 2) printf "%.3f\n", a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.3f\n", a / b }'; }

declare -A MED_RPS=() MED_P50=() MED_P99=()
for proxy in "${PROXIES[@]}"; do
    # shellcheck disable=SC2086 # word splitting intended
    MED_RPS[$proxy]="$(median ${RPS[$proxy]})"
    # shellcheck disable=SC2086
    MED_P50[$proxy]="$(median ${P50[$proxy]})"
    # shellcheck disable=SC2086
    MED_P99[$proxy]="$(median ${P99[$proxy]})"
done

CMD="DURATION=$DURATION ROUNDS=$ROUNDS"
[[ "$WARMUP" == 2 ]] || CMD+=" WARMUP=$WARMUP"
[[ "$CONNECTIONS" == 32 ]] || CMD+=" CONNECTIONS=$CONNECTIONS"
[[ "$OBJ_BYTES" == 1024 ]] || CMD+=" OBJ_BYTES=$OBJ_BYTES"
[[ "$ONLY_NGINX" == 0 ]] || CMD+=" ONLY_NGINX=1"
CMD+=" ./bench/proxy.sh"

NGINX_VERSION="$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
WRK_VERSION="$( (wrk --version 2>&1 || true) | awk 'NR == 1 { print $2 }')"
CPU_MODEL="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
GIT_REV="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'no commit')"
if [[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null | head -n 1)" ]]; then
    GIT_REV+=" (dirty)"
fi

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

# Replace the marked section in BENCHMARKS.md (create the file or append the
# section when needed); write via a temp file so a failure leaves it intact.
TMP_MD="$WORK/BENCHMARKS.md"
if [[ ! -f "$BENCH_MD" ]]; then
    {
        echo "# Benchmarks"
        echo
        echo "Numbers in this file are written by the benchmark scripts in \`bench/\`; do not edit them by hand."
        echo
        cat "$SECTION"
    } >"$TMP_MD"
elif grep -qF "$MARK_START" "$BENCH_MD" && grep -qF "$MARK_END" "$BENCH_MD"; then
    awk -v start="$MARK_START" -v end="$MARK_END" -v section="$SECTION" '
        $0 == start { while ((getline line < section) > 0) print line; skip = 1; next }
        $0 == end { skip = 0; next }
        !skip { print }
    ' "$BENCH_MD" >"$TMP_MD"
else
    {
        cat "$BENCH_MD"
        echo
        cat "$SECTION"
    } >"$TMP_MD"
fi
cat "$TMP_MD" >"$BENCH_MD"

log "results written to $BENCH_MD (raw wrk output in $RAW)"
echo
sed -n "/^$MARK_START\$/,/^$MARK_END\$/p" "$BENCH_MD"
