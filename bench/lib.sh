# shellcheck shell=bash
# Helpers shared by the benchmark scripts in bench/ (proxy.sh, geo.sh, logs.sh). Source it after
# setting ROOT (the checkout) and `set -euo pipefail`:
#
#   ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
#   # shellcheck source=lib.sh source-path=SCRIPTDIR
#   source "$ROOT/bench/lib.sh"
#
# Globals the helpers read, set by the caller: HOST_HEADER, OBJ_PATH, OBJ_BYTES,
# ORIGIN_PORT, BENCH_MD, and for the CPU accounting QUIET_WAIT and FOREIGN_CPU_WARN_PCT.
# Globals they set: NGINX, NPROC, SERVER_CPU, LOAD_CPU, GATEHOUSE_BIN, WORK, RUN_ID, RAW,
# PIDS, NAMES, PGRP, CLK_TCK, and the version strings of collect_versions.

log() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# --- Knobs ---------------------------------------------------------------------------------
# knob NAME DEFAULT: NAME keeps its value from the environment, else takes DEFAULT; the value
# is remembered as given, for knobs_cmd.
KNOB_NAMES=()
declare -A KNOB_DEFAULT=() KNOB_GIVEN=()
knob() {
    printf -v "$1" '%s' "${!1:-$2}"
    KNOB_NAMES+=("$1")
    KNOB_DEFAULT[$1]="$2"
    KNOB_GIVEN[$1]="${!1}"
}

# load_knobs: the knobs of every wrk benchmark (DURATION 10, ROUNDS 3, WARMUP 2,
# CONNECTIONS 32, OBJ_BYTES 1024), checked.
load_knobs() {
    knob DURATION 10
    knob ROUNDS 3
    knob WARMUP 2
    knob CONNECTIONS 32
    knob OBJ_BYTES 1024
    require_uints WARMUP
    require_positive DURATION ROUNDS CONNECTIONS OBJ_BYTES
}

# quiet_knobs: QUIET_WAIT 120 and RETRIES 2 (wait_quiet, measure_run), checked.
quiet_knobs() {
    knob QUIET_WAIT 120
    knob RETRIES 2
    require_uints QUIET_WAIT RETRIES
}

# knobs_cmd SCRIPT: the command that reproduces this run: DURATION and ROUNDS when they are
# knobs, then every other knob given a value other than its default.
knobs_cmd() {
    local cmd=() name
    for name in "${KNOB_NAMES[@]}"; do
        if [[ "$name" == DURATION || "$name" == ROUNDS ||
            "${KNOB_GIVEN[$name]}" != "${KNOB_DEFAULT[$name]}" ]]; then
            cmd+=("$name=$(printf '%q' "${KNOB_GIVEN[$name]}")")
        fi
    done
    echo "${cmd[*]}${cmd[*]:+ }$1"
}

# require_uints NAME...: each variable must hold a non-negative integer.
require_uints() {
    local v
    for v in "$@"; do
        if ! [[ "${!v}" =~ ^[0-9]+$ ]]; then
            echo "error: $v must be a non-negative integer (got '${!v}')" >&2
            exit 2
        fi
    done
}

# require_positive NAME...: each variable must hold an integer of at least 1.
require_positive() {
    local v
    require_uints "$@"
    for v in "$@"; do
        if ((${!v} < 1)); then
            echo "error: $v must be >= 1 (got '${!v}')" >&2
            exit 2
        fi
    done
}

# require_flags NAME...: each variable must be 0 or 1.
require_flags() {
    local v
    for v in "$@"; do
        if [[ "${!v}" != 0 && "${!v}" != 1 ]]; then
            echo "error: $v must be 0 or 1 (got '${!v}')" >&2
            exit 2
        fi
    done
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

# install_commands COMMAND:PACKAGE...: installs the Debian package of each COMMAND that
# is missing.
install_commands() {
    local missing=() pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        log "installing Debian packages: ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# install_packages [COMMAND:PACKAGE...]: installs nginx, wrk, curl and taskset when
# missing, plus the package of each extra COMMAND that is missing; sets NGINX.
# shellcheck disable=SC2120 # the arguments are optional
install_packages() {
    local base=()
    [[ -n "$(find_nginx)" ]] || base+=(nginx:nginx)
    install_commands "${base[@]}" wrk:wrk curl:curl taskset:util-linux "$@"
    NGINX="$(find_nginx)"
    [[ -n "$NGINX" ]] || die "nginx not found after installation"
}

# --- CPU pinning ----------------------------------------------------------------
# Servers on CPU 1, load generator on CPU 0 (both on CPU 0 on a single-CPU machine).
# shellcheck disable=SC2034 # LOAD_CPU is for the calling script
pin_cpus() {
    NPROC="$(nproc)"
    if ((NPROC >= 2)); then
        SERVER_CPU=1
        LOAD_CPU=0
    else
        warn "only $NPROC CPU: servers and wrk share CPU 0; numbers are not comparable to 2-core runs"
        SERVER_CPU=0
        LOAD_CPU=0
    fi
}

# --- Build ----------------------------------------------------------------------
# build_gatehouse: release build of the gatehouse binary; sets GATEHOUSE_BIN.
build_gatehouse() {
    GATEHOUSE_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/gatehouse"
    log "building release binary"
    cargo build --release -p gatehouse
    [[ -x "$GATEHOUSE_BIN" ]] || die "expected binary at $GATEHOUSE_BIN"
}

port_in_use() {
    # Any TCP connection succeeding means something already listens there.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# require_free_ports PORT...
require_free_ports() {
    local p
    for p in "$@"; do
        if port_in_use "$p"; then
            die "port $p on 127.0.0.1 is already in use; stop whatever listens there"
        fi
    done
}

# --- Work dirs and cleanup --------------------------------------------------------
# setup_work NAME: a temporary WORK dir (removed on exit), RAW=bench/out/NAME-RUN_ID
# (kept), and the exit traps that stop every server started with start_server.
setup_work() {
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX")"
    # nginx workers run as an unprivileged user when started as root: the document
    # root must be world-readable.
    chmod 755 "$WORK"
    RUN_ID="$(date -u +%Y%m%dT%H%M%SZ)"
    RAW="$ROOT/bench/out/$1-$RUN_ID"
    mkdir -p "$RAW"
    PIDS=()
    NAMES=()
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

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

# --- nginx ------------------------------------------------------------------------
# Settings shared by all nginx instances: everything under $WORK.
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

# nginx_check name: `nginx -t` on $WORK/name.conf.
nginx_check() {
    "$NGINX" -t -q -p "$WORK/" -e "$WORK/$1.log" -c "$WORK/$1.conf" ||
        die "nginx config check failed for $1: $(cat "$WORK/$1.log" 2>/dev/null)"
}

# write_origin: the origin object $WORK/www/obj.txt and $WORK/origin.conf (nginx on
# ORIGIN_PORT, Cache-Control: no-store, stub_status at /__origin_status).
write_origin() {
    mkdir -p "$WORK/www" "$WORK/tmp"
    yes 'gatehouse proxy benchmark object 0123456789abcdef' | head -c "$OBJ_BYTES" >"$WORK/www/obj.txt" || true
    [[ "$(wc -c <"$WORK/www/obj.txt")" -eq "$OBJ_BYTES" ]] || die "could not create origin object"
    chmod 755 "$WORK/www"
    chmod 644 "$WORK/www/obj.txt"
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
}

# start_origin: starts the nginx origin written by write_origin and waits for it.
start_origin() {
    log "starting origin (nginx) on 127.0.0.1:$ORIGIN_PORT, CPU $SERVER_CPU"
    start_server origin "$WORK/origin.stdout.log" \
        "$NGINX" -p "$WORK/" -e "$WORK/origin.log" -c "$WORK/origin.conf"
    wait_http origin "$ORIGIN_PORT" 10
}

# --- Gatehouse ----------------------------------------------------------------------
# distribution_json [extra JSON members]: a distribution for HOST_HEADER whose only
# origin is 127.0.0.1:ORIGIN_PORT; the extra members go into DistributionConfig.
# shellcheck disable=SC2120 # the argument is optional
distribution_json() {
    local extra="${1:-}"
    cat <<EOF
{"ETag":"E1","DistributionConfig":{"CallerReference":"bench","Aliases":{"Quantity":1,"Items":["$HOST_HEADER"]},"DefaultRootObject":"","Origins":{"Quantity":1,"Items":[{"Id":"o","DomainName":"127.0.0.1","OriginPath":"","CustomHeaders":{"Quantity":0},"CustomOriginConfig":{"HTTPPort":$ORIGIN_PORT,"HTTPSPort":443,"OriginProtocolPolicy":"http-only","OriginReadTimeout":30,"OriginKeepaliveTimeout":5}}]},"DefaultCacheBehavior":{"TargetOriginId":"o","ViewerProtocolPolicy":"allow-all","AllowedMethods":{"Quantity":2,"Items":["GET","HEAD"]}},"CacheBehaviors":{"Quantity":0},"CustomErrorResponses":{"Quantity":0},"Comment":"",${extra}"Enabled":true}}
EOF
}

# --- Requests -----------------------------------------------------------------------
# fetch port outfile [curl options...]: prints the HTTP status; headers go to
# outfile.headers.
fetch() {
    curl -sS --max-time 5 -H "Host: $HOST_HEADER" -D "$2.headers" -o "$2" \
        -w '%{http_code}' "${@:3}" "http://127.0.0.1:$1$OBJ_PATH"
}

# Origin request counter (nginx stub_status "requests" field).
origin_requests() {
    local n
    n="$(curl -sS --max-time 5 "http://127.0.0.1:$ORIGIN_PORT/__origin_status" |
        awk 'prev ~ /server accepts handled requests/ { print $3; exit } { prev = $0 }')" || true
    [[ "$n" =~ ^[0-9]+$ ]] || die "could not read the origin request counter"
    echo "$n"
}

# --- Requests with variety ------------------------------------------------------------
# write_vary_lua FILE SCRIPT: a wrk script cycling through 4096 different GETs of OBJ_PATH
# for HOST_HEADER, built once per wrk thread and sent in turn. Only the query string,
# User-Agent and Referer change (the origin serves the same object), so access-log lines
# differ the way real traffic's do. SCRIPT names the benchmark in the file's first line.
write_vary_lua() {
    cat >"$1" <<EOF
-- Written by bench/$2: 4096 different GETs of $OBJ_PATH, sent in turn.
local agents = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.1 Safari/605.1.15",
  "Mozilla/5.0 (X11; Linux x86_64; rv:%d.0) Gecko/20100101 Firefox/%d.0",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/%d.0]",
  "curl/8.%d.0",
  "python-requests/2.%d.3",
  "Weird Agent %d%% \"quoted\" {braces}",
}
local referers = {
  "https://www.example.com/",
  "https://www.example.com/products/%d?color=red&size=42",
  "https://www.google.com/search?q=cdn+edge+%d&hl=en",
  "-",
}
local reqs = {}
local n = 4096
local i = 0
function init(args)
  math.randomseed(12345)
  for k = 1, n do
    local v = math.random(100, 140)
    local h = {
      ["Host"] = "$HOST_HEADER",
      ["User-Agent"] = string.format(agents[math.random(#agents)], v, v),
    }
    local r = string.format(referers[math.random(#referers)], math.random(1, 99999))
    if r ~= "-" then h["Referer"] = r end
    local q = string.format("v=%d&utm_source=news%%20letter&id=%08x&sig=%s", k,
      math.random(0, 2147483646), string.rep(string.char(math.random(97, 122)), math.random(0, 40)))
    reqs[k] = wrk.format("GET", "$OBJ_PATH?" .. q, h)
  end
end
function request()
  i = i % n + 1
  return reqs[i]
end
EOF
}

# --- CPU used by other processes ----------------------------------------------------
# Anything else running on the machine (a compiler, say) skews a few-percent comparison.
# init_cpu_accounting (after the servers started with start_server): sets PGRP and
# CLK_TCK, and warns about servers outside this script's process group. Then:
#   cpu_snapshot            "<busy jiffies of the machine> <jiffies of this benchmark's processes>"
#   foreign_pct b0 o0 b1 o1 seconds   CPU time of other processes between two snapshots
#   over_threshold PCT      whether PCT > FOREIGN_CPU_WARN_PCT
#   wait_quiet              until the machine is quiet (QUIET_WAIT, FOREIGN_CPU_WARN_PCT)
# Busy is user+nice+system+steal over all CPUs (interrupt time is left out: the kernel
# charges loopback network processing there, and not to our processes). This
# benchmark's processes are those in this script's process group (servers, wrk), with
# the time of their reaped children.
init_cpu_accounting() {
    local i g
    PGRP="$(awk '{ sub(/^.*\) /, ""); print $3 }' /proc/$$/stat)"
    CLK_TCK="$(getconf CLK_TCK)"
    for i in "${!PIDS[@]}"; do
        g="$(awk '{ sub(/^.*\) /, ""); print $3 }' "/proc/${PIDS[i]}/stat")"
        [[ "$g" == "$PGRP" ]] ||
            warn "${NAMES[i]} runs in process group $g, not $PGRP: its CPU time will count as foreign"
    done
}

cpu_snapshot() {
    local busy ours
    busy="$(awk '$1 == "cpu" { print $2 + $3 + $4 + $9; exit }' /proc/stat)"
    # Processes come and go while cat reads: ignore the ones that vanished.
    ours="$( (cat /proc/[0-9]*/stat 2>/dev/null || true) | awk -v g="$PGRP" '
        { sub(/^.*\) /, "") }
        $3 == g { t += $12 + $13 + $14 + $15 }
        END { print t + 0 }')"
    echo "$busy $ours"
}

# foreign_pct busy0 ours0 busy1 ours1 seconds: in % of one CPU.
foreign_pct() {
    awk -v b="$(($3 - $1))" -v o="$(($4 - $2))" -v hz="$CLK_TCK" -v t="$5" \
        'BEGIN { f = (b - o) / hz / t * 100; if (f < 0) f = 0; printf "%.1f\n", f }'
}
over_threshold() { awk -v f="$1" -v w="$FOREIGN_CPU_WARN_PCT" 'BEGIN { exit !(f > w) }'; }

# wait_quiet: until other processes used at most FOREIGN_CPU_WARN_PCT of a CPU for two
# consecutive seconds, or QUIET_WAIT seconds passed.
wait_quiet() {
    local deadline=$((SECONDS + QUIET_WAIT)) calm=0 b0 o0 b1 o1 f announced=0
    ((QUIET_WAIT > 0)) || return 0
    while ((calm < 2)); do
        read -r b0 o0 < <(cpu_snapshot)
        sleep 1
        read -r b1 o1 < <(cpu_snapshot)
        f="$(foreign_pct "$b0" "$o0" "$b1" "$o1" 1)"
        if over_threshold "$f"; then
            calm=0
            if ((SECONDS >= deadline)); then
                warn "machine still busy after ${QUIET_WAIT}s (other processes at $f% of a CPU); measuring anyway"
                return 0
            fi
            if ((!announced)); then
                log "waiting for the machine to be quiet (other processes at $f% of a CPU; up to ${QUIET_WAIT}s)"
                announced=1
            fi
        else
            calm=$((calm + 1))
        fi
    done
}

# --- Results --------------------------------------------------------------------------
# to_ms VALUE: wrk latency ("254.00us", "1.23ms", "1.01s", "2.00m") -> ms.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (match(v, /[a-z]+$/) == 0) { print "NaN"; exit }
        n = substr(v, 1, RSTART - 1); u = substr(v, RSTART)
        f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : (u == "h") ? 3600000 : -1
        if (f < 0) print "NaN"; else printf "%.3f\n", n * f
    }'
}

# parse_wrk outfile: sets WRK_RPS, WRK_TOTAL, WRK_P50, WRK_P99 (ms), WRK_NON2XX,
# WRK_SOCKERR from wrk --latency output; dies when it cannot.
parse_wrk() {
    WRK_RPS="$(awk '/^Requests\/sec:/ { print $2 }' "$1")"
    WRK_TOTAL="$(awk '$2 == "requests" && $3 == "in" { print $1 }' "$1")"
    WRK_P50="$(to_ms "$(awk '$1 == "50%" { print $2 }' "$1")")"
    WRK_P99="$(to_ms "$(awk '$1 == "99%" { print $2 }' "$1")")"
    WRK_NON2XX="$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$1")"
    WRK_SOCKERR="$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$1")"
    WRK_NON2XX="${WRK_NON2XX:-0}"
    WRK_SOCKERR="${WRK_SOCKERR:-0}"
    [[ -n "$WRK_RPS" && -n "$WRK_TOTAL" && "$WRK_P50" != NaN && "$WRK_P99" != NaN ]] ||
        die "could not parse wrk output $1"
}

median() { # values...
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
        if (NR % 2) printf "%.3f\n", a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.3f\n", a / b }'; }

# round_ratios X Y: each round's requests/s of config X over config Y (RPS), space-separated.
round_ratios() {
    local x y i each=()
    read -ra x <<<"${RPS[$1]}"
    read -ra y <<<"${RPS[$2]}"
    for ((i = 0; i < ${#x[@]}; i++)); do each+=("$(ratio "${x[i]}" "${y[i]}")"); done
    echo "${each[*]}"
}

# extra_us X Y: µs more per request of config X than Y at the median throughputs
# (1/throughput, MED_RPS).
extra_us() { awk -v x="${MED_RPS[$1]}" -v y="${MED_RPS[$2]}" 'BEGIN { printf "%.2f\n", (1e6 / x - 1e6 / y) }'; }

# collect_versions: NGINX_VERSION, WRK_VERSION, CPU_MODEL, GIT_REV (for the report).
collect_versions() {
    # shellcheck disable=SC2034 # used by the calling script
    NGINX_VERSION="nginx ?"
    if [[ -n "${NGINX:-}" ]]; then
        # shellcheck disable=SC2034
        NGINX_VERSION="$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
    fi
    # shellcheck disable=SC2034
    WRK_VERSION="$( (wrk --version 2>&1 || true) | awk 'NR == 1 { print $2 }')"
    # shellcheck disable=SC2034
    CPU_MODEL="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
    GIT_REV="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'no commit')"
    if [[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null | head -n 1)" ]]; then
        GIT_REV+=" (dirty)"
    fi
}

# write_section START_MARK END_MARK SECTION_FILE: replaces the marked section in
# BENCH_MD with SECTION_FILE (which includes the markers), creating the file or
# appending the section when needed; writes via a temp file so a failure leaves it
# intact.
write_section() {
    local start="$1" end="$2" section="$3" tmp="$WORK/BENCHMARKS.md"
    if [[ ! -f "$BENCH_MD" ]]; then
        {
            echo "# Benchmarks"
            echo
            echo "Numbers in this file are written by the benchmark scripts in \`bench/\`; do not edit them by hand."
            echo
            cat "$section"
        } >"$tmp"
    elif grep -qF "$start" "$BENCH_MD" && grep -qF "$end" "$BENCH_MD"; then
        awk -v start="$start" -v end="$end" -v section="$section" '
            $0 == start { while ((getline line < section) > 0) print line; skip = 1; next }
            $0 == end { skip = 0; next }
            !skip { print }
        ' "$BENCH_MD" >"$tmp"
    else
        {
            cat "$BENCH_MD"
            echo
            cat "$section"
        } >"$tmp"
    fi
    cat "$tmp" >"$BENCH_MD"
}

# --- The end of one measured run, shared by the A/B benchmarks --------------------------------

# warm_up: WARMUP seconds of unrecorded load on each of CONFIGS (the calling script's run_wrk).
warm_up() {
    local c
    ((WARMUP > 0)) || return 0
    for c in "${CONFIGS[@]}"; do
        log "warm-up: $c ${WARMUP}s (not recorded)"
        run_wrk "$c" "$WARMUP" "$RAW/warmup-$c.txt"
    done
}

# measure_run ROUND CONFIG ATTEMPT OUTFILE PID [TICKS_PATH...]: one measured run. Waits for a
# quiet machine (wait_quiet), then runs the calling script's `run_wrk CONFIG DURATION OUTFILE`
# and reads, around it, the origin's request counter, the CPU time of process PID and of each
# TICKS_PATH (anything proc_ticks reads, e.g. PID/task/TID) and the CPU time other processes
# used. Sets WRK_* (parse_wrk), RUN_ORIGIN (origin requests during the run), RUN_FOREIGN (% of
# a CPU), RUN_CPU_US (PID's CPU µs a request), RUN_TICKS0 and RUN_TICKS (per TICKS_PATH: its
# ticks before the run, and the ticks the run added); prints the run's line. Dies when the
# config answered anything but 2xx/3xx: its numbers would be meaningless.
measure_run() {
    local round="$1" c="$2" attempt="$3" out="$4" pid="$5" p i
    local -a paths=("${@:6}") ticks1=()
    local before after cpu0 cpu1 busy0 ours0 busy1 ours1 t0 t1
    wait_quiet
    log "round $round/$ROUNDS: $c (${DURATION}s$( ((attempt == 0)) || echo ", repeat $attempt"))"
    before="$(origin_requests)"
    cpu0="$(proc_ticks "$pid")"
    RUN_TICKS0=()
    for p in "${paths[@]}"; do RUN_TICKS0+=("$(proc_ticks "$p")"); done
    read -r busy0 ours0 < <(cpu_snapshot)
    t0="$(date +%s.%N)"
    run_wrk "$c" "$DURATION" "$out"
    t1="$(date +%s.%N)"
    read -r busy1 ours1 < <(cpu_snapshot)
    cpu1="$(proc_ticks "$pid")"
    for p in "${paths[@]}"; do ticks1+=("$(proc_ticks "$p")"); done
    after="$(origin_requests)"
    RUN_TICKS=()
    for i in "${!paths[@]}"; do RUN_TICKS+=("$((ticks1[i] - RUN_TICKS0[i]))"); done

    parse_wrk "$out"
    RUN_ORIGIN=$((after - before))
    RUN_FOREIGN="$(foreign_pct "$busy0" "$ours0" "$busy1" "$ours1" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")"
    RUN_CPU_US="$(us_per_request "$((cpu1 - cpu0))" "$WRK_TOTAL")"
    printf '    %s %10s req/s  p50 %8s ms  p99 %8s ms  requests %s  origin %s  non-2xx %s  socket errors %s  CPU %s µs/req  foreign CPU %s%%\n' \
        "$c" "$WRK_RPS" "$WRK_P50" "$WRK_P99" "$WRK_TOTAL" "$RUN_ORIGIN" "$WRK_NON2XX" "$WRK_SOCKERR" "$RUN_CPU_US" "$RUN_FOREIGN"
    if ((WRK_NON2XX > 0)); then
        die "config $c answered $WRK_NON2XX non-2xx/3xx responses in round $round; results would be meaningless (see $out)"
    fi
}

# retry_disturbed FOREIGN ATTEMPT OUTFILE ROUND CONFIG: succeeds (and archives the output) when
# the run was disturbed by other processes and may be repeated; fails when it is to be kept.
retry_disturbed() {
    if ! over_threshold "$1" || (($2 >= RETRIES)); then
        return 1
    fi
    log "other processes used $1% of a CPU during the run: repeating it"
    cp "$3" "$RAW/round$4-$5-disturbed$(($2 + 1)).txt"
    REPEATS=$((REPEATS + 1))
}

# record_run ROUND CONFIG ORIGIN_DELTA CPU_US FOREIGN ATTEMPT [EXTRA]: warnings for a run that
# bypassed the origin or was disturbed, then the run's numbers into RPS/P50/P99/CPU_US and a
# ROWS table row (EXTRA, if given, is a column before the foreign CPU).
record_run() {
    local round="$1" c="$2" origin_delta="$3" cpu_us="$4" foreign="$5" attempt="$6" extra="${7:-}"
    if ((origin_delta * 10 < WRK_TOTAL * 9)); then
        WARNINGS+="- Warning: round $round, $c: only $origin_delta origin requests for $WRK_TOTAL client requests (responses served from a cache?).
"
        warn "$c: only $origin_delta origin requests for $WRK_TOTAL client requests"
    fi
    if over_threshold "$foreign"; then
        WARNINGS+="- Warning: round $round, $c: other processes used $foreign% of a CPU during the run (after $attempt repeat(s)); this round's numbers are disturbed.
"
        warn "round $round, $c: other processes used $foreign% of a CPU"
    fi
    # RPS, P50, P99 and CPU_US are associative arrays declared by the calling script.
    # shellcheck disable=SC2004
    RPS[$c]+="$WRK_RPS "
    # shellcheck disable=SC2004
    P50[$c]+="$WRK_P50 "
    # shellcheck disable=SC2004
    P99[$c]+="$WRK_P99 "
    # shellcheck disable=SC2004
    CPU_US[$c]+="$cpu_us "
    ROWS+=("| $round | $c | $WRK_RPS | $WRK_P50 | $WRK_P99 | $WRK_TOTAL | $origin_delta | $WRK_SOCKERR | $cpu_us | ${extra:+$extra | }$foreign |")
}

# --- Results shared by the A/B benchmarks ---------------------------------------------------

# proc_ticks PID or PID/task/TID: user+system CPU time of a process (or thread), in clock ticks.
proc_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

# us_per_request TICKS REQUESTS: CPU µs per request (CLK_TCK from init_cpu_accounting).
us_per_request() { awk -v t="$1" -v n="$2" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f\n", (n > 0) ? t / hz * 1e6 / n : 0 }'; }

# at_least VALUE TARGET: succeeds when VALUE >= TARGET (decimals).
at_least() { awk -v v="$1" -v t="$2" 'BEGIN { exit !(v >= t) }'; }

# median_runs: per config of CONFIGS, the medians of what record_run collected (RPS, P50,
# P99, CPU_US) into the associative arrays MED_RPS, MED_P50, MED_P99 and MED_CPU (no MED_CPU
# for a config without CPU_US).
# shellcheck disable=SC2034 # the MED_* arrays are read by the calling script
median_runs() {
    local c
    declare -gA MED_RPS=() MED_P50=() MED_P99=() MED_CPU=()
    for c in "${CONFIGS[@]}"; do
        # shellcheck disable=SC2086 # word splitting intended
        MED_RPS[$c]="$(median ${RPS[$c]})"
        # shellcheck disable=SC2086
        MED_P50[$c]="$(median ${P50[$c]})"
        # shellcheck disable=SC2086
        MED_P99[$c]="$(median ${P99[$c]})"
        if [[ -n "${CPU_US[$c]:-}" ]]; then
            # shellcheck disable=SC2086
            MED_CPU[$c]="$(median ${CPU_US[$c]})"
        fi
    done
}
