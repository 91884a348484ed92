#!/usr/bin/env bash
# Geo restriction benchmark: what a Restrictions.GeoRestriction costs Gatehouse.
#
#  1. Per-lookup cost: the criterion benchmark crates/gatehouse-geo/benches/lookup.rs
#     (`cargo bench -p gatehouse-geo --bench lookup`), medians read from its JSON output.
#  2. Throughput with a geo restriction on vs off: two release Gatehouse instances in
#     front of the same nginx origin, measured with wrk in alternating rounds:
#       A: no geo restriction;
#       B: GeoRestriction blacklist [KP, IR], so every request does a country lookup and
#          is allowed (the viewer is in GB).
#     Both trust 127.0.0.1 as a proxy and load the same GeoIP database; wrk sends
#     `X-Forwarded-For: 81.2.69.160` (GB) on every request, so both resolve the viewer
#     from the header and B's lookup finds a country.
#
# Writes its results into BENCHMARKS.md between <!-- geo-bench:start --> and
# <!-- geo-bench:end -->.
#
#   ./bench/geo.sh                          # 3 rounds x 10 s per config
#   DURATION=30 ROUNDS=5 ./bench/geo.sh
#   LOOKUP_BENCH=0 ./bench/geo.sh           # skip the criterion benchmark
#
# Environment knobs:
#   DURATION     seconds per wrk run                          (default 10)
#   ROUNDS       A/B rounds; A first in odd rounds, B first in even ones (default 3)
#   WARMUP       seconds of unrecorded warm-up per config     (default 2; 0 = none)
#   CONNECTIONS  wrk connections                              (default 32)
#   OBJ_BYTES    size of the origin object /obj.txt           (default 1024)
#   LOOKUP_BENCH 1 = run the criterion lookup benchmark first (default 1)
#   QUIET_WAIT   before each run, wait up to this many seconds for other processes
#                to leave the CPUs alone (default 120; 0 = do not wait)
#   RETRIES      repeat a run disturbed by other processes up to this often (default 2)
#   GEOIP_DATABASE the .mmdb file both configs load  (default data/geoip/geo-whois-asn-country.mmdb)
#   VIEWER_IP    X-Forwarded-For of the load; must have a country, not KP/IR (default 81.2.69.160)
#   BLOCKED_IP   address that must be refused by B; must be KP or IR (default 175.45.176.1)
#   RUST_LOG     passed to Gatehouse                          (default warn)
#
# Layout (ports on 127.0.0.1):
#   18081 origin:      nginx, serves /obj.txt, access_log off, Cache-Control: no-store
#   18084 gatehouse-a: gatehouse serve --config DIR_A (no geo restriction)
#   18085 gatehouse-b: gatehouse serve --config DIR_B (blacklist KP, IR)
# All servers run on CPU 1, wrk on CPU 0 (taskset); each Gatehouse runs with
# TOKIO_WORKER_THREADS=1 (as in bench/proxy.sh). Both Gatehouse instances run for the
# whole benchmark; only the one under load does any work. Each run also records how
# much CPU processes outside this benchmark used while wrk ran ("foreign CPU"), since
# anything else running on the machine (a compiler, say) skews a 3% comparison: runs
# wait for a quiet machine (QUIET_WAIT), disturbed runs are repeated (RETRIES), and
# runs still disturbed are flagged in the report.
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$ROOT/bench/lib.sh"

load_knobs
knob LOOKUP_BENCH 1
quiet_knobs
DEFAULT_DB="data/geoip/geo-whois-asn-country.mmdb"
knob GEOIP_DATABASE "$DEFAULT_DB"
knob VIEWER_IP 81.2.69.160
knob BLOCKED_IP 175.45.176.1
export RUST_LOG="${RUST_LOG:-warn}"

ORIGIN_PORT=18081
PORT_A=18084
PORT_B=18085
HOST_HEADER="bench.example.com"
OBJ_PATH="/obj.txt"
THREADS=1
BLOCKED_COUNTRIES=(KP IR)
# Targets from the geo restriction issue.
TARGET_RATIO=0.97
TARGET_LOOKUP_NS=1000
# Runs where other processes used more than this much of one CPU are repeated (RETRIES)
# and, if still disturbed, flagged.
FOREIGN_CPU_WARN_PCT=5

BENCH_MD="$ROOT/BENCHMARKS.md"
MARK_START='<!-- geo-bench:start -->'
MARK_END='<!-- geo-bench:end -->'

require_flags LOOKUP_BENCH

install_packages mmdblookup:mmdb-bin jq:jq
pin_cpus

# --- GeoIP database and test addresses ---------------------------------------------
if [[ ! -s "$GEOIP_DATABASE" && "$GEOIP_DATABASE" == "$DEFAULT_DB" ]]; then
    log "installing the default GeoIP database (scripts/install-test-data.sh)"
    "$ROOT/scripts/install-test-data.sh"
fi
[[ -s "$GEOIP_DATABASE" ]] || die "GeoIP database $GEOIP_DATABASE not found (GEOIP_DATABASE)"
DB_PATH="$(cd -- "$(dirname -- "$GEOIP_DATABASE")" && pwd)/$(basename -- "$GEOIP_DATABASE")"
[[ "$DB_PATH" != *"'"* ]] || die "the database path must not contain a single quote: $DB_PATH"

# country_of IP: the country code mmdblookup finds in DB_PATH (ip-location-db or GeoIP2
# layout), empty when none.
country_of() {
    local out path
    for path in "country_code" "country iso_code"; do
        # shellcheck disable=SC2086 # the path is several words on purpose
        out="$(mmdblookup -f "$DB_PATH" -i "$1" $path 2>/dev/null |
            sed -n 's/^ *"\([A-Z][A-Z]\)" <utf8_string>$/\1/p')" || true
        if [[ -n "$out" ]]; then
            echo "$out"
            return 0
        fi
    done
}

is_blocked() { # country
    local c
    for c in "${BLOCKED_COUNTRIES[@]}"; do
        [[ "$1" == "$c" ]] && return 0
    done
    return 1
}

VIEWER_COUNTRY="$(country_of "$VIEWER_IP")"
BLOCKED_COUNTRY="$(country_of "$BLOCKED_IP")"
log "mmdblookup: $VIEWER_IP is '${VIEWER_COUNTRY:-no country}', $BLOCKED_IP is '${BLOCKED_COUNTRY:-no country}' in $GEOIP_DATABASE"
[[ -n "$VIEWER_COUNTRY" ]] ||
    die "VIEWER_IP $VIEWER_IP has no country in $GEOIP_DATABASE: B would not look anything up to a result; pick another address"
! is_blocked "$VIEWER_COUNTRY" ||
    die "VIEWER_IP $VIEWER_IP is in $VIEWER_COUNTRY, which B blocks; pick another address"
is_blocked "$BLOCKED_COUNTRY" ||
    die "BLOCKED_IP $BLOCKED_IP is in '${BLOCKED_COUNTRY:-no country}', not ${BLOCKED_COUNTRIES[*]}; pick a KP or IR address (mmdblookup -f $GEOIP_DATABASE -i ADDRESS)"
DB_META="$(mmdblookup -f "$DB_PATH" -v -i "$VIEWER_IP" 2>/dev/null |
    awk -F':  *' '/^ *Type:/ { t = $2 } /^ *Build epoch:/ { e = $2 } END { print t "; built " e }')" || true

# --- Build ----------------------------------------------------------------------
build_gatehouse
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

require_free_ports "$ORIGIN_PORT" "$PORT_A" "$PORT_B"

setup_work geo

# --- Lookup cost (criterion) --------------------------------------------------------
LOOKUP_CMD="cargo bench -p gatehouse-geo --bench lookup"
LOOKUP_ROWS=()
LOOKUP_WORST=""
LOOKUP_GB=""
if [[ "$LOOKUP_BENCH" == 1 ]]; then
    log "building the lookup benchmark"
    cargo bench -p gatehouse-geo --bench lookup --no-run
    # Run on the CPU the servers will use, before they start, on a quiet machine.
    init_cpu_accounting
    wait_quiet
    log "running the lookup benchmark on CPU $SERVER_CPU: $LOOKUP_CMD"
    taskset -c "$SERVER_CPU" cargo bench -p gatehouse-geo --bench lookup |
        tee "$RAW/lookup.txt"
    # Benchmark ids ("group/name") in the order criterion printed them.
    mapfile -t LOOKUP_IDS < <(awk '/^[^ ].*\// && !/^(Benchmarking|Found|Gnuplot|Warning)/ { print $1 }' "$RAW/lookup.txt")
    [[ ${#LOOKUP_IDS[@]} -gt 0 ]] || die "no benchmark results in the criterion output ($RAW/lookup.txt)"
    for id in "${LOOKUP_IDS[@]}"; do
        est="$TARGET_DIR/criterion/$id/new/estimates.json"
        [[ -f "$est" ]] || die "criterion estimates not found: $est"
        read -r med lo hi mean < <(jq -r '[.median.point_estimate, .median.confidence_interval.lower_bound,
            .median.confidence_interval.upper_bound, .mean.point_estimate] | map(. * 100 | round / 100) | @tsv' "$est")
        [[ -n "$med" && -n "$lo" && -n "$hi" && -n "$mean" ]] || die "could not read $est"
        LOOKUP_ROWS+=("| \`$id\` | $med | $lo – $hi | $mean |")
        if [[ -z "$LOOKUP_WORST" ]] || awk -v a="$med" -v b="${LOOKUP_WORST% *}" 'BEGIN { exit !(a > b) }'; then
            LOOKUP_WORST="$med $id"
        fi
        if [[ "$id" == "geo-whois-asn-country/$VIEWER_IP" ]]; then
            LOOKUP_GB="$med"
        fi
    done
fi

# --- Origin -----------------------------------------------------------------------
write_origin
nginx_check origin
start_origin

# --- Gatehouse A and B ----------------------------------------------------------------
GEO_RESTRICTION="\"Restrictions\":{\"GeoRestriction\":{\"RestrictionType\":\"blacklist\",\"Quantity\":${#BLOCKED_COUNTRIES[@]},\"Items\":[$(printf '"%s",' "${BLOCKED_COUNTRIES[@]}" | sed 's/,$//')]}},"

# write_gatehouse dir port [extra distribution JSON]
write_gatehouse() {
    mkdir -p "$1/distributions"
    cat >"$1/gatehouse.toml" <<EOF
[listen]
http = ["127.0.0.1:$2"]

[clients]
trusted_proxies = ["127.0.0.1"]

[geoip]
database = '$DB_PATH'
EOF
    distribution_json "${3:-}" >"$1/distributions/EBENCH.json"
}

write_gatehouse "$WORK/gatehouse-a" "$PORT_A"
write_gatehouse "$WORK/gatehouse-b" "$PORT_B" "$GEO_RESTRICTION"

CONFIGS=(A B)
declare -A GH_PID=()
config_port() {
    case "$1" in
    A) echo "$PORT_A" ;;
    B) echo "$PORT_B" ;;
    *) die "unknown config $1" ;;
    esac
}
config_name() {
    case "$1" in
    A) echo "gatehouse-a" ;;
    B) echo "gatehouse-b" ;;
    *) die "unknown config $1" ;;
    esac
}

for c in "${CONFIGS[@]}"; do
    name="$(config_name "$c")"
    log "starting $name on 127.0.0.1:$(config_port "$c"), CPU $SERVER_CPU, TOKIO_WORKER_THREADS=1"
    start_server "$name" "$WORK/$name.log" \
        env TOKIO_WORKER_THREADS=1 "$GATEHOUSE_BIN" serve --config "$WORK/$name"
    GH_PID[$c]="${PIDS[${#PIDS[@]} - 1]}" # taskset and env exec: this is gatehouse
    wait_http "$name" "$(config_port "$c")" 30
done

# --- Sanity checks ---------------------------------------------------------------------
log "sanity check"
status="$(fetch "$ORIGIN_PORT" "$WORK/origin.body")" || die "origin: request failed"
[[ "$status" == 200 ]] || die "origin returned HTTP $status"
cmp -s "$WORK/origin.body" "$WORK/www/obj.txt" || die "origin body differs from the file it serves"

# expect config xff status
expect() {
    local port out status
    port="$(config_port "$1")"
    out="$WORK/check-$1-$2"
    status="$(fetch "$port" "$out" -H "X-Forwarded-For: $2")" || die "$1: request failed"
    if [[ "$status" != "$3" ]]; then
        sed 's/^/    /' "$out.headers" >&2
        die "config $1 answered HTTP $status to X-Forwarded-For: $2, expected $3"
    fi
    if [[ "$3" == 200 ]]; then
        cmp -s "$out" "$WORK/origin.body" || die "config $1 returned a body different from the origin's"
    else
        grep -qi '^x-gatehouse-cause: geo-blocked' "$out.headers" ||
            die "config $1 answered $status to X-Forwarded-For: $2 without x-gatehouse-cause: geo-blocked"
    fi
}
expect A "$VIEWER_IP" 200
expect B "$VIEWER_IP" 200
expect A "$BLOCKED_IP" 200
expect B "$BLOCKED_IP" 403
SANITY="X-Forwarded-For: $VIEWER_IP ($VIEWER_COUNTRY): A 200, B 200 (bodies identical to the origin's); X-Forwarded-For: $BLOCKED_IP ($BLOCKED_COUNTRY): A 200, B 403 with \`x-gatehouse-cause: geo-blocked\`"
echo "    $SANITY"

# --- CPU used by other processes ----------------------------------------------------------
# (cpu_snapshot, foreign_pct, over_threshold and wait_quiet are in lib.sh.)
init_cpu_accounting

# --- Load ------------------------------------------------------------------------------
# run_wrk config seconds outfile
run_wrk() {
    taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2"s --latency \
        -H "Host: $HOST_HEADER" -H "X-Forwarded-For: $VIEWER_IP" \
        "http://127.0.0.1:$(config_port "$1")$OBJ_PATH" >"$3"
}

WRK_CMD="wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency -H 'Host: $HOST_HEADER' -H 'X-Forwarded-For: $VIEWER_IP' http://127.0.0.1:PORT$OBJ_PATH"

warm_up

ROWS=()
declare -A RPS=() P50=() P99=() CPU_US=()
WARNINGS=""

REPEATS=0
for ((round = 1; round <= ROUNDS; round++)); do
    if ((round % 2)); then order=(A B); else order=(B A); fi
    for c in "${order[@]}"; do
        out="$RAW/round$round-$c.txt"
        for ((attempt = 0; ; attempt++)); do
            measure_run "$round" "$c" "$attempt" "$out" "${GH_PID[$c]}"
            retry_disturbed "$RUN_FOREIGN" "$attempt" "$out" "$round" "$c" || break
        done
        record_run "$round" "$c" "$RUN_ORIGIN" "$RUN_CPU_US" "$RUN_FOREIGN" "$attempt"
    done
done

stop_servers

# --- Results -----------------------------------------------------------------------------
median_runs
RATIO="$(ratio "${MED_RPS[B]}" "${MED_RPS[A]}")"
# Paired: B over A within each round (run back to back), then the median over rounds.
# Slow drift and a single disturbed run move one pair only.
read -ra ROUND_RATIOS <<<"$(round_ratios B A)"
ROUND_CPU_NS=()
read -ra cpu_a <<<"${CPU_US[A]}"
read -ra cpu_b <<<"${CPU_US[B]}"
for ((i = 0; i < ROUNDS; i++)); do
    ROUND_CPU_NS+=("$(awk -v a="${cpu_a[i]}" -v b="${cpu_b[i]}" 'BEGIN { printf "%.0f\n", (b - a) * 1000 }')")
done
PAIRED_RATIO="$(median "${ROUND_RATIOS[@]}")"
PAIRED_CPU_NS="$(median "${ROUND_CPU_NS[@]}" | awk '{ printf "%.0f\n", $1 }')"

# more_less NUMBER UNIT: "12 UNIT more" or "12 UNIT less".
more_less() { awk -v v="$1" -v u="$2" 'BEGIN { if (v < 0) printf "%s %s less\n", -v, u; else printf "%s %s more\n", v, u }'; }
# Time per request implied by the median throughputs (1/throughput), B minus A.
EXTRA_US="$(extra_us B A)"


CMD="$(knobs_cmd ./bench/geo.sh)"

collect_versions
RUSTC_VERSION="$(rustc --version 2>/dev/null || echo 'rustc ?')"

SECTION="$WORK/section.md"
{
    echo "$MARK_START"
    echo "## Geo restriction: per-lookup cost and throughput with a restriction on vs off"
    echo
    echo "Targets (geo restriction issue): a country lookup under ${TARGET_LOOKUP_NS} ns median; throughput with a geo restriction at least $TARGET_RATIO of throughput without."
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- Machine: \`nproc\` = $NPROC${CPU_MODEL:+, $CPU_MODEL}, Linux $(uname -r)"
    echo "- Versions: Gatehouse rev $GIT_REV, $RUSTC_VERSION, $NGINX_VERSION, wrk $WRK_VERSION"
    echo "- Command: \`$CMD\`"
    echo "- GeoIP database: \`$GEOIP_DATABASE\` (${DB_META:-metadata unknown})"
    echo
    echo "### Per-lookup cost"
    echo
    if [[ "$LOOKUP_BENCH" == 1 ]]; then
        echo "\`$LOOKUP_CMD\` (criterion, one \`GeoDb::country\` call per iteration, run on CPU $SERVER_CPU before the servers start). \`mixed-N\` cycles through N fixed IPv4 and IPv6 addresses, some without a country; the other benchmarks repeat one address. Times in ns per lookup; the interval is criterion's 95% confidence interval of the median."
        echo
        echo "| Benchmark | Median (ns) | Median 95% CI (ns) | Mean (ns) |"
        echo "|---|---:|---:|---:|"
        printf '%s\n' "${LOOKUP_ROWS[@]}"
        echo
        if ! at_least "${LOOKUP_WORST% *}" "$TARGET_LOOKUP_NS"; then
            echo "**Lookup target met:** the slowest median, ${LOOKUP_WORST% *} ns (\`${LOOKUP_WORST#* }\`), is under ${TARGET_LOOKUP_NS} ns."
        else
            echo "**Lookup target NOT met:** the slowest median, ${LOOKUP_WORST% *} ns (\`${LOOKUP_WORST#* }\`), is above ${TARGET_LOOKUP_NS} ns."
        fi
    else
        echo "_Not measured in this run (LOOKUP_BENCH=0); run \`$LOOKUP_CMD\`._"
    fi
    echo
    echo "### Throughput: A (no geo restriction) vs B (blacklist ${BLOCKED_COUNTRIES[*]})"
    echo
    echo "HTTP/1.1 keep-alive GETs of a ${OBJ_BYTES}-byte object (\`$OBJ_PATH\`) through Gatehouse to an nginx origin on the same host; the origin sends \`Cache-Control: no-store\`, so every request goes to the origin (the origin-requests column counts them). Both configs have \`[clients] trusted_proxies = [\"127.0.0.1\"]\` and \`[geoip] database\` set to the file above; only B has \`Restrictions.GeoRestriction\` (blacklist ${BLOCKED_COUNTRIES[*]}), so only B looks the viewer's country up, on every request."
    echo
    echo "- Load: \`$WRK_CMD\`, PORT is $PORT_A for A and $PORT_B for B, pinned to CPU $LOAD_CPU; A first in odd rounds, B first in even rounds; ${WARMUP}s unrecorded warm-up per config"
    echo "- Servers pinned to CPU $SERVER_CPU: origin nginx (\`worker_processes 1\`, access log off), and both Gatehouse instances (\`gatehouse serve --config DIR\`, release build, \`TOKIO_WORKER_THREADS=1\`, \`RUST_LOG=$RUST_LOG\`); the one not under load is idle."
    echo "- Sanity check before the load: $SANITY."
    echo "- Gatehouse CPU: user+system CPU time of the Gatehouse process under load (all threads, from \`/proc/PID/stat\`) divided by the requests wrk completed. It is less disturbed by other processes than requests/sec, which falls whenever something else takes the server CPU."
    echo "- Foreign CPU: CPU time used by processes other than this benchmark's while wrk ran, in % of one CPU. Each run first waited (up to ${QUIET_WAIT}s) for other processes to use at most ${FOREIGN_CPU_WARN_PCT}%; runs above ${FOREIGN_CPU_WARN_PCT}% were repeated up to $RETRIES time(s) ($REPEATS repeat(s) in this run; the table shows the last attempt, the disturbed ones are kept in \`bench/out/\`)."
    if [[ -n "$WARNINGS" ]]; then
        echo
        printf '%s' "$WARNINGS"
    fi
    echo
    echo "| Round | Config | Requests/sec | p50 (ms) | p99 (ms) | Requests | Origin requests | Socket errors | Gatehouse CPU (µs/request) | Foreign CPU (%) |"
    echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Medians over $ROUNDS round(s):"
    echo
    echo "| Config | Requests/sec | p50 (ms) | p99 (ms) | Gatehouse CPU (µs/request) |"
    echo "|---|---:|---:|---:|---:|"
    for c in "${CONFIGS[@]}"; do
        echo "| $c | ${MED_RPS[$c]} | ${MED_P50[$c]} | ${MED_P99[$c]} | ${MED_CPU[$c]} |"
    done
    echo "| **ratio B/A** | $RATIO | $(ratio "${MED_P50[B]}" "${MED_P50[A]}") | $(ratio "${MED_P99[B]}" "${MED_P99[A]}") | $(ratio "${MED_CPU[B]}" "${MED_CPU[A]}") |"
    echo
    echo "Paired, round by round (A and B of a round run back to back):"
    echo
    echo "| Round | Requests/sec B/A | Gatehouse CPU B − A (ns/request) |"
    echo "|---:|---:|---:|"
    for ((i = 0; i < ROUNDS; i++)); do
        echo "| $((i + 1)) | ${ROUND_RATIOS[i]} | ${ROUND_CPU_NS[i]} |"
    done
    echo "| **median** | **$PAIRED_RATIO** | **$PAIRED_CPU_NS** |"
    echo
    echo "With the geo restriction, Gatehouse spends $(more_less "$PAIRED_CPU_NS" ns) of its own CPU time per request (median of the paired differences; $(more_less "$(awk -v a="${MED_CPU[A]}" -v b="${MED_CPU[B]}" 'BEGIN { printf "%.0f", (b - a) * 1000 }')" ns) by the medians of each config). By the median throughputs, a request takes $(more_less "$EXTRA_US" µs) of server time with B (1/throughput; the server CPU, shared by Gatehouse and the origin, is the bottleneck)."
    echo
    # The verdict uses the paired ratio; the ratio of medians is shown next to it.
    if at_least "$PAIRED_RATIO" "$TARGET_RATIO"; then
        echo "**Throughput target met:** B/A = $PAIRED_RATIO, median of the per-round ratios (target ≥ $TARGET_RATIO); ratio of the median throughputs $RATIO."
    else
        echo "**Throughput target NOT met:** B/A = $PAIRED_RATIO, median of the per-round ratios (target ≥ $TARGET_RATIO); ratio of the median throughputs $RATIO."
    fi
    paired_ok=0 medians_ok=0
    if at_least "$PAIRED_RATIO" "$TARGET_RATIO"; then paired_ok=1; fi
    if at_least "$RATIO" "$TARGET_RATIO"; then medians_ok=1; fi
    if ((paired_ok != medians_ok)); then
        echo
        echo "_The two ratios fall on different sides of the target: this run is too noisy to decide. Run it again on a quiet machine, with more ROUNDS._"
    fi
    if [[ -n "$LOOKUP_GB" ]]; then
        echo
        echo "For scale: one lookup of $VIEWER_IP costs $LOOKUP_GB ns in the criterion benchmark, against $(awk -v a="${MED_RPS[A]}" 'BEGIN { printf "%.1f", 1e6 / a }') µs per request at A's median throughput."
    fi
    echo "$MARK_END"
} >"$SECTION"

write_section "$MARK_START" "$MARK_END" "$SECTION"

log "results written to $BENCH_MD (raw output in $RAW)"
echo
sed -n "/^$MARK_START\$/,/^$MARK_END\$/p" "$BENCH_MD"
