#!/usr/bin/env bash
# Signed-URL benchmark: what checking a signed URL costs Gatehouse's request path.
#
#  1. Per-check cost: the criterion benchmark crates/gatehouse-signed/benches/verify.rs
#     (`cargo bench -p gatehouse-signed --bench verify`): a cold check (empty verification
#     cache: the full RSA/ECDSA signature check) for RSA-2048 SHA-1, RSA-2048 SHA-256 and
#     ECDSA P-256 SHA-256, a warm one (the request accepted before) and one with the
#     signature cached but the policy parsed and matched (a custom policy on many paths);
#     medians read from its JSON output.
#  2. Throughput with and without signed URLs: two release Gatehouse instances in front of
#     the same nginx origin, measured with wrk in alternating rounds of three loads:
#       A: the distribution with no restriction; wrk requests the plain /obj.txt;
#       B: the same distribution whose default behaviour has TrustedKeyGroups (one key
#          group, one public key); wrk requests the same signed URL again and again
#          (canned policy, made by `gatehouse sign url`), so B verifies every request and,
#          after the first, finds the signature check in its verification cache;
#       C: the instance of A (no restriction) requested with B's signed URL: the same
#          request bytes as B, nothing verified. B/C is the cost of the check itself,
#          C/A the cost of the longer URL.
#     Both instances load the same public key and key group files. The target is B/A.
#
# Writes its results into BENCHMARKS.md between <!-- signed-bench:start --> and
# <!-- signed-bench:end -->.
#
#   ./bench/signed.sh                       # 3 rounds x 10 s per config
#   DURATION=30 ROUNDS=5 ./bench/signed.sh
#   CRITERION=0 ./bench/signed.sh           # skip the criterion benchmark
#   KEY_TYPE=ec ./bench/signed.sh           # sign with an ECDSA P-256 key (SHA256)
#   PROFILE=1 ./bench/signed.sh             # also perf profiles of A and B under load
#
# Environment knobs:
#   DURATION     seconds per wrk run                          (default 10)
#   ROUNDS       A/B rounds; A first in odd rounds, B first in even ones (default 3)
#   WARMUP       seconds of unrecorded warm-up per config     (default 2; 0 = none)
#   CONNECTIONS  wrk connections                              (default 32)
#   OBJ_BYTES    size of the origin object /obj.txt           (default 1024)
#   CRITERION    1 = run the criterion benchmark (servers idle) (default 1)
#   KEY_TYPE     rsa (RSA-2048, SHA1) or ec (P-256, SHA256)   (default rsa)
#   QUIET_WAIT   before each run, wait up to this many seconds for other processes
#                to leave the CPUs alone (default 120; 0 = do not wait)
#   RETRIES      repeat a run disturbed by other processes up to this often (default 2)
#   PROFILE      1 = after the rounds, `perf record -g` each config for PROFILE_SECONDS
#                under the same load and add the top symbols to the report (default 0)
#   PROFILE_SECONDS                                           (default 8)
#   RUST_LOG     passed to Gatehouse                          (default warn)
#   ORIGIN_PORT  the origin's port, when another benchmark holds 18081 (default 18081)
#
# Layout (ports on 127.0.0.1):
#   18081 origin:      nginx, serves /obj.txt, access_log off, Cache-Control: no-store
#   18090 gatehouse-a: no restriction
#   18091 gatehouse-b: default behaviour restricted with TrustedKeyGroups
# All servers run on CPU 1, wrk on CPU 0 (taskset); each Gatehouse runs with
# TOKIO_WORKER_THREADS=1 (as in bench/proxy.sh). Both Gatehouse instances run for the
# whole benchmark; only the one under load does any work.
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$ROOT/bench/lib.sh"

load_knobs
knob CRITERION 1
knob KEY_TYPE rsa
quiet_knobs
knob PROFILE 0
knob PROFILE_SECONDS 8
export RUST_LOG="${RUST_LOG:-warn}"

knob ORIGIN_PORT 18081
PORT_A=18090
PORT_B=18091
HOST_HEADER="bench.example.com"
OBJ_PATH="/obj.txt"
THREADS=1
KEY_ID="K2BENCHSIGNED1"
GROUP_ID="kg-bench-signed"
# The target from the signed-URL issue: B/A ≥ 0.90.
TARGET_RATIO=0.90
# Runs where other processes used more than this much of one CPU are repeated (RETRIES)
# and, if still disturbed, flagged.
FOREIGN_CPU_WARN_PCT=5

BENCH_MD="$ROOT/BENCHMARKS.md"
MARK_START='<!-- signed-bench:start -->'
MARK_END='<!-- signed-bench:end -->'

require_uints ORIGIN_PORT
require_positive PROFILE_SECONDS
require_flags CRITERION PROFILE
case "$KEY_TYPE" in
rsa) KEY_DESC="RSA-2048, SHA-1 (no Hash-Algorithm parameter)" ;;
ec) KEY_DESC="ECDSA P-256, SHA-256 (Hash-Algorithm=SHA256)" ;;
*)
    echo "error: KEY_TYPE must be rsa or ec (got '$KEY_TYPE')" >&2
    exit 2
    ;;
esac

if [[ "$PROFILE" == 1 ]]; then
    install_packages jq:jq openssl:openssl perf:linux-perf
else
    install_packages jq:jq openssl:openssl
fi
pin_cpus

# --- Build ----------------------------------------------------------------------
build_gatehouse
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
if [[ "$CRITERION" == 1 ]]; then
    log "building the verification benchmark"
    cargo bench -p gatehouse-signed --bench verify --no-run
fi

# The other benchmark scripts use the same origin port: one signed.sh at a time, and the
# ports are checked again right before the servers start.
exec 8>"${TMPDIR:-/tmp}/gatehouse-bench-signed.lock"
flock -n 8 || die "another bench/signed.sh is running"
require_free_ports "$ORIGIN_PORT" "$PORT_A" "$PORT_B"

setup_work signed

# --- Keys and the signed URL ---------------------------------------------------------
mkdir -p "$WORK/keys"
if [[ "$KEY_TYPE" == rsa ]]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/keys/private.pem" 2>/dev/null
else
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/keys/private.pem" 2>/dev/null
fi
openssl pkey -in "$WORK/keys/private.pem" -pubout -out "$WORK/keys/public.pem"

EXPIRES="$(($(date +%s) + 86400))"
SIGN_CMD="gatehouse sign url 'http://$HOST_HEADER$OBJ_PATH' --key-pair-id $KEY_ID --private-key file://private.pem --date-less-than $EXPIRES"
SIGNED_URL="$("$GATEHOUSE_BIN" sign url "http://$HOST_HEADER$OBJ_PATH" --key-pair-id "$KEY_ID" \
    --private-key "file://$WORK/keys/private.pem" --date-less-than "$EXPIRES")" ||
    die "gatehouse sign url failed"
SIGNED_PQ="${SIGNED_URL#"http://$HOST_HEADER"}"
[[ "$SIGNED_PQ" == "$OBJ_PATH?"*"Signature="* ]] || die "unexpected signed URL: $SIGNED_URL"
# Tampered: one character of the signature changed.
sig="${SIGNED_PQ#*Signature=}"
sig="${sig%%&*}"
c="${sig:5:1}"
if [[ "$c" == A ]]; then r=B; else r=A; fi
TAMPERED_PQ="${SIGNED_PQ/"Signature=$sig"/"Signature=${sig:0:5}$r${sig:6}"}"
[[ "$TAMPERED_PQ" != "$SIGNED_PQ" ]] || die "could not tamper with the signed URL"
log "signed URL (${#SIGNED_PQ} bytes of path and query): $SIGNED_URL"

# --- Origin -----------------------------------------------------------------------
require_free_ports "$ORIGIN_PORT" "$PORT_A" "$PORT_B"
write_origin
nginx_check origin
start_origin

# --- Gatehouse A and B ----------------------------------------------------------------
PEM_JSON="$(jq -Rs . "$WORK/keys/public.pem")"
TRUSTED="{\"Enabled\":true,\"Quantity\":1,\"Items\":[\"$GROUP_ID\"]}"
FORWARDED='{"QueryString":false,"Cookies":{"Forward":"all"},"Headers":{"Quantity":1,"Items":["*"]}}'

# write_gatehouse dir port restricted(0|1)
write_gatehouse() {
    mkdir -p "$1/distributions" "$1/public-keys" "$1/key-groups"
    cat >"$1/gatehouse.toml" <<EOF
[listen]
http = ["127.0.0.1:$2"]
EOF
    cat >"$1/public-keys/$KEY_ID.json" <<EOF
{"ETag":"E2BENCH","PublicKey":{"Id":"$KEY_ID","CreatedTime":"2026-01-01T00:00:00Z","PublicKeyConfig":{"CallerReference":"bench","Name":"bench-signed","EncodedKey":$PEM_JSON,"Comment":""}}}
EOF
    cat >"$1/key-groups/$GROUP_ID.json" <<EOF
{"ETag":"E3BENCH","KeyGroup":{"Id":"$GROUP_ID","LastModifiedTime":"2026-01-01T00:00:00Z","KeyGroupConfig":{"Name":"bench-signed","Items":["$KEY_ID"],"Comment":""}}}
EOF
    # No query string to the origin (as a cache policy like CachingOptimized does), so A, B
    # and C send the origin the same `/obj.txt`; all headers and cookies as without it.
    local filter=".DistributionConfig.DefaultCacheBehavior.ForwardedValues = $FORWARDED"
    if [[ "$3" == 1 ]]; then
        filter+=" | .DistributionConfig.DefaultCacheBehavior.TrustedKeyGroups = $TRUSTED"
    fi
    distribution_json | jq -c "$filter" >"$1/distributions/EBENCH.json"
}

# A private copy of the binary: other builds in this checkout cannot replace it under the
# running servers or under perf's symbol lookup.
cp "$GATEHOUSE_BIN" "$WORK/gatehouse"
GATEHOUSE_BIN="$WORK/gatehouse"

write_gatehouse "$WORK/gatehouse-a" "$PORT_A" 0
write_gatehouse "$WORK/gatehouse-b" "$PORT_B" 1

# C is a load, not a server: A's instance with B's URL.
CONFIGS=(A C B)
declare -A PORT=([A]="$PORT_A" [B]="$PORT_B" [C]="$PORT_A") NAME=([A]=gatehouse-a [B]=gatehouse-b)
declare -A PQ=([A]="$OBJ_PATH" [B]="$SIGNED_PQ" [C]="$SIGNED_PQ") SERVER_PID=()

for c in A B; do
    log "starting ${NAME[$c]} on 127.0.0.1:${PORT[$c]}, CPU $SERVER_CPU, TOKIO_WORKER_THREADS=1"
    start_server "${NAME[$c]}" "$WORK/${NAME[$c]}.log" \
        env TOKIO_WORKER_THREADS=1 "$GATEHOUSE_BIN" serve --config "$WORK/${NAME[$c]}"
    SERVER_PID[$c]="${PIDS[${#PIDS[@]} - 1]}"
    # B answers 403 to the unsigned /obj.txt: any HTTP answer means it is up.
    wait_http "${NAME[$c]}" "${PORT[$c]}" 30
done
SERVER_PID[C]="${SERVER_PID[A]}"

init_cpu_accounting

# --- Verification cost (criterion) -------------------------------------------------
CRIT_CMD="cargo bench -p gatehouse-signed --bench verify"
CRIT_ROWS=()
declare -A CRIT_MED=()
if [[ "$CRITERION" == 1 ]]; then
    # Run on the CPU the servers use, while they are idle (they hold the ports meanwhile).
    wait_quiet
    log "running the verification benchmark on CPU $SERVER_CPU: $CRIT_CMD"
    taskset -c "$SERVER_CPU" cargo bench -p gatehouse-signed --bench verify |
        tee "$RAW/criterion.txt"
    # Benchmark ids ("group/name") in the order criterion printed them.
    mapfile -t CRIT_IDS < <(awk '/^[^ ].*\// && !/^(Benchmarking|Found|Gnuplot|Warning)/ { print $1 }' "$RAW/criterion.txt")
    [[ ${#CRIT_IDS[@]} -gt 0 ]] || die "no benchmark results in the criterion output ($RAW/criterion.txt)"
    for id in "${CRIT_IDS[@]}"; do
        est="$TARGET_DIR/criterion/$id/new/estimates.json"
        [[ -f "$est" ]] || die "criterion estimates not found: $est"
        # criterion stores nanoseconds; the report is in µs.
        read -r med lo hi mean < <(jq -r '[.median.point_estimate, .median.confidence_interval.lower_bound,
            .median.confidence_interval.upper_bound, .mean.point_estimate] | map(. / 10 | round / 100) | @tsv' "$est")
        [[ -n "$med" && -n "$lo" && -n "$hi" && -n "$mean" ]] || die "could not read $est"
        CRIT_ROWS+=("| \`$id\` | $med | $lo – $hi | $mean |")
        CRIT_MED[$id]="$med"
    done
fi

# --- Sanity checks ---------------------------------------------------------------------
log "sanity check"
# fetch_pq port path_and_query outfile: prints the HTTP status.
fetch_pq() {
    curl -sS --max-time 5 -H "Host: $HOST_HEADER" -D "$3.headers" -o "$3" \
        -w '%{http_code}' "http://127.0.0.1:$1$2"
}
status="$(fetch "$ORIGIN_PORT" "$WORK/origin.body")" || die "origin: request failed"
[[ "$status" == 200 ]] || die "origin returned HTTP $status"
cmp -s "$WORK/origin.body" "$WORK/www/obj.txt" || die "origin body differs from the file it serves"

# expect config what path_and_query status [cause]
expect() {
    local out="$WORK/check-$1-$2" status
    status="$(fetch_pq "${PORT[$1]}" "$3" "$out")" || die "$1: request failed"
    if [[ "$status" != "$4" ]]; then
        sed 's/^/    /' "$out.headers" >&2
        die "config $1 answered HTTP $status to the $2 URL, expected $4"
    fi
    if [[ "$4" == 200 ]]; then
        cmp -s "$out" "$WORK/origin.body" || die "config $1 returned a body different from the origin's for the $2 URL"
    elif ! grep -qi "^x-gatehouse-cause: $5" "$out.headers"; then
        sed 's/^/    /' "$out.headers" >&2
        die "config $1 answered $status to the $2 URL without x-gatehouse-cause: $5"
    fi
}
expect A unsigned "$OBJ_PATH" 200
expect C signed "$SIGNED_PQ" 200
expect B signed "$SIGNED_PQ" 200
expect B tampered "$TAMPERED_PQ" 403 signed-bad-signature
expect B unsigned "$OBJ_PATH" 403 signed-missing-key
SANITY="A: unsigned 200; C (A with the signed URL): 200; B: signed 200 (bodies identical to the origin's), tampered signature 403 with \`x-gatehouse-cause: signed-bad-signature\`, unsigned 403 with \`x-gatehouse-cause: signed-missing-key\`"
echo "    $SANITY"

# --- Load ------------------------------------------------------------------------------
# run_wrk config seconds outfile
run_wrk() {
    taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2"s --latency \
        -H "Host: $HOST_HEADER" "http://127.0.0.1:${PORT[$1]}${PQ[$1]}" >"$3"
}

WRK_CMD="wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency -H 'Host: $HOST_HEADER' http://127.0.0.1:PORT/PATH"

warm_up

ROWS=()
declare -A RPS=() P50=() P99=() CPU_US=()
WARNINGS=""
REPEATS=0
for ((round = 1; round <= ROUNDS; round++)); do
    if ((round % 2)); then order=(A C B); else order=(B C A); fi
    for c in "${order[@]}"; do
        out="$RAW/round$round-$c.txt"
        for ((attempt = 0; ; attempt++)); do
            measure_run "$round" "$c" "$attempt" "$out" "${SERVER_PID[$c]}"
            retry_disturbed "$RUN_FOREIGN" "$attempt" "$out" "$round" "$c" || break
        done
        record_run "$round" "$c" "$RUN_ORIGIN" "$RUN_CPU_US" "$RUN_FOREIGN" "$attempt"
    done
done

# --- Profiles (optional) -------------------------------------------------------------------
PROFILE_ROWS=()
declare -A PROFILE_REQS=()
if [[ "$PROFILE" == 1 ]]; then
    for c in "${CONFIGS[@]}"; do
        wait_quiet
        log "profiling $c: perf record -g for ${PROFILE_SECONDS}s under load (not recorded)"
        run_wrk "$c" "$((PROFILE_SECONDS + 2))" "$RAW/profile-$c-wrk.txt" &
        wrk_pid=$!
        sleep 1
        o0="$(origin_requests)"
        perf record -q -g -o "$RAW/perf-$c.data" -p "${SERVER_PID[$c]}" -- sleep "$PROFILE_SECONDS" \
            >"$RAW/perf-$c.record.log" 2>&1 || warn "perf record failed for $c (see $RAW/perf-$c.record.log)"
        o1="$(origin_requests)"
        wait "$wrk_pid" || true
        PROFILE_REQS[$c]=$((o1 - o0))
        if [[ -s "$RAW/perf-$c.data" ]]; then
            perf report -i "$RAW/perf-$c.data" --no-children -g none --sort dso,symbol --stdio \
                --percent-limit 0.5 >"$RAW/perf-$c.txt" 2>/dev/null || true
            while IFS= read -r row; do
                PROFILE_ROWS+=("$row")
            done < <(awk -v c="$c" '
                /^#/ || NF == 0 { next }
                $1 ~ /%$/ && n < 8 {
                    pct = $1; dso = $2; $1 = $2 = $3 = ""; sub(/^ +/, "")
                    sub(/ +-+ +-+ *$/, "") # the empty IPC columns
                    gsub(/\|/, "\\|")
                    printf "| %s | %s | %s | `%s` |\n", c, pct, dso, $0; n++
                }' "$RAW/perf-$c.txt")
            # Every symbol with its sample count, and the sample period, for the B − A table.
            perf report -i "$RAW/perf-$c.data" --no-children -g none -n --sort dso,symbol --stdio \
                >"$RAW/perf-$c-samples.txt" 2>/dev/null || true
        fi
    done
fi
# profile_diff X Y: "X−Y<TAB>symbol<TAB>Y<TAB>X" in CPU µs per request, the 12 symbols that
# grew most from Y to X (samples × sample period ÷ origin requests counted around the perf
# record), after a first line "<Y total><TAB><X total>".
profile_diff() {
    awk -v rx="${PROFILE_REQS[$1]}" -v ry="${PROFILE_REQS[$2]}" '
        FNR == 1 { f++ }
        /^# Event count/ { ev[f] = $NF }
        /^#/ || NF == 0 { next }
        $1 ~ /%$/ {
            n = $2; dso = $3; $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); sub(/ +-+ +-+ *$/, "")
            key = dso " `" $0 "`"; s[f, key] += n; tot[f] += n; keys[key] = 1
        }
        END {
            if (rx <= 0 || ry <= 0 || tot[1] == 0 || tot[2] == 0) exit
            px = ev[1] / tot[1] / 1000; py = ev[2] / tot[2] / 1000   # µs per sample
            printf "%.2f\t%.2f\n", tot[2] * py / ry, tot[1] * px / rx
            fflush()
            cmd = "sort -t\"\t\" -k1,1gr | head -n 12"
            for (k in keys) {
                x = s[1, k] * px / rx; y = s[2, k] * py / ry
                printf "%.3f\t%s\t%.3f\t%.3f\n", x - y, k, y, x | cmd
            }
            close(cmd)
        }' "$RAW/perf-$1-samples.txt" "$RAW/perf-$2-samples.txt"
}
DIFFS=()
if [[ "$PROFILE" == 1 ]]; then
    for pair in "B C" "C A"; do
        read -r x y <<<"$pair"
        if [[ -s "$RAW/perf-$x-samples.txt" && -s "$RAW/perf-$y-samples.txt" ]]; then
            profile_diff "$x" "$y" >"$WORK/diff-$x$y.tsv"
            [[ -s "$WORK/diff-$x$y.tsv" ]] && DIFFS+=("$x $y")
        fi
    done
fi

stop_servers

# --- Results -----------------------------------------------------------------------------
median_runs
RATIO="$(ratio "${MED_RPS[B]}" "${MED_RPS[A]}")"
# Per-round ratios (same round): how much of the difference is noise.


CMD="$(knobs_cmd ./bench/signed.sh)"

collect_versions
RUSTC_VERSION="$(rustc --version 2>/dev/null || echo 'rustc ?')"

SECTION="$WORK/section.md"
{
    echo "$MARK_START"
    echo "## Signed URLs: per-check cost and throughput with a restricted behaviour"
    echo
    echo "Target (signed-URL issue): throughput of a restricted behaviour requested with a valid signed URL at least $TARGET_RATIO of the same object requested unsigned from an unrestricted behaviour."
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- Machine: \`nproc\` = $NPROC${CPU_MODEL:+, $CPU_MODEL}, Linux $(uname -r)"
    echo "- Versions: Gatehouse rev $GIT_REV, $RUSTC_VERSION, $NGINX_VERSION, wrk $WRK_VERSION"
    echo "- Command: \`$CMD\`"
    echo
    echo "### Per-check cost"
    echo
    if [[ "$CRITERION" == 1 ]]; then
        echo "\`$CRIT_CMD\` (criterion, one \`gatehouse_signed::verify\` call per iteration on a canned-policy URL, run on CPU $SERVER_CPU while the servers are idle). \`verify-cold\`: an empty verification cache each iteration, so the full signature check; \`verify-warm\`: the same request on one cache, accepted before, so only the cache lookup and the time and IP conditions run (\`custom-wildcard\` is a custom policy with a wildcard Resource); \`verify-signature-cached\`: that custom policy on 4,096 different paths in turn, with a cache too small to remember the accepted requests: the signature is found in the cache, the policy is decoded and parsed and the Resource matcher runs. Times in µs per check; the interval is criterion's 95% confidence interval of the median."
        echo
        echo "| Benchmark | Median (µs) | Median 95% CI (µs) | Mean (µs) |"
        echo "|---|---:|---:|---:|"
        printf '%s\n' "${CRIT_ROWS[@]}"
    else
        echo "_Not measured in this run (CRITERION=0); run \`$CRIT_CMD\`._"
    fi
    echo
    echo "### Throughput: A (unrestricted, unsigned URL) vs B (restricted, signed URL), and C (unrestricted, signed URL)"
    echo
    echo "HTTP/1.1 keep-alive GETs of a ${OBJ_BYTES}-byte object (\`$OBJ_PATH\`) through Gatehouse to an nginx origin on the same host; the origin sends \`Cache-Control: no-store\`, so every request goes to the origin (the origin-requests column counts them). A and B serve the same distribution (default behaviour with \`ForwardedValues\` \`$FORWARDED\`: no query string to the origin, so every load sends the origin the same \`$OBJ_PATH\`) and load the same public key and key group; only B's default behaviour has \`TrustedKeyGroups\` (key group \`$GROUP_ID\`, key \`$KEY_ID\`, $KEY_DESC). wrk sends A the plain \`$OBJ_PATH\` and B one canned-policy signed URL (${#SIGNED_PQ} bytes of path and query), \`$SIGN_CMD\`, so B checks the signature of every request, from its verification cache after the first. C sends the same signed URL to A's instance, which does not check it: the same request bytes as B, so B/C is the cost of the check itself and C/A the cost of the longer URL."
    echo
    echo "- Load: \`$WRK_CMD\`, PORT/PATH is $PORT_A$OBJ_PATH for A, $PORT_A/<signed path and query> for C and $PORT_B/<signed path and query> for B, pinned to CPU $LOAD_CPU; order A, C, B in odd rounds and B, C, A in even rounds; ${WARMUP}s unrecorded warm-up per load"
    echo "- Servers pinned to CPU $SERVER_CPU: origin nginx (\`worker_processes 1\`, access log off), and both Gatehouse instances (\`gatehouse serve --config DIR\`, release build, \`TOKIO_WORKER_THREADS=1\`, \`RUST_LOG=$RUST_LOG\`); the one not under load is idle."
    echo "- CPU µs/request: user+system CPU time of the Gatehouse process under load divided by wrk's requests (clock ticks of 1/$CLK_TCK s)."
    echo "- Sanity check before the load: $SANITY."
    echo "- Foreign CPU: CPU time used by processes other than this benchmark's while wrk ran, in % of one CPU. Each run first waited (up to ${QUIET_WAIT}s) for other processes to use at most ${FOREIGN_CPU_WARN_PCT}%; runs above ${FOREIGN_CPU_WARN_PCT}% were repeated up to $RETRIES time(s) ($REPEATS repeat(s) in this run; the table shows the last attempt, the disturbed ones are kept in \`bench/out/\`)."
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
    echo "| Config | Requests/sec | p50 (ms) | p99 (ms) | CPU µs/request |"
    echo "|---|---:|---:|---:|---:|"
    echo "| A (unrestricted, \`$OBJ_PATH\`) | ${MED_RPS[A]} | ${MED_P50[A]} | ${MED_P99[A]} | ${MED_CPU[A]} |"
    echo "| C (unrestricted, signed URL) | ${MED_RPS[C]} | ${MED_P50[C]} | ${MED_P99[C]} | ${MED_CPU[C]} |"
    echo "| B (restricted, signed URL) | ${MED_RPS[B]} | ${MED_P50[B]} | ${MED_P99[B]} | ${MED_CPU[B]} |"
    echo "| **ratio B/A** | $RATIO | $(ratio "${MED_P50[B]}" "${MED_P50[A]}") | $(ratio "${MED_P99[B]}" "${MED_P99[A]}") | $(ratio "${MED_CPU[B]}" "${MED_CPU[A]}") |"
    echo "| ratio B/C (the check) | $(ratio "${MED_RPS[B]}" "${MED_RPS[C]}") | $(ratio "${MED_P50[B]}" "${MED_P50[C]}") | $(ratio "${MED_P99[B]}" "${MED_P99[C]}") | $(ratio "${MED_CPU[B]}" "${MED_CPU[C]}") |"
    echo "| ratio C/A (the longer URL) | $(ratio "${MED_RPS[C]}" "${MED_RPS[A]}") | $(ratio "${MED_P50[C]}" "${MED_P50[A]}") | $(ratio "${MED_P99[C]}" "${MED_P99[A]}") | $(ratio "${MED_CPU[C]}" "${MED_CPU[A]}") |"
    echo
    echo "Per-round requests/sec ratios: B/A $(round_ratios B A); B/C $(round_ratios B C); C/A $(round_ratios C A). At the medians (1/throughput; CPU $SERVER_CPU, shared by Gatehouse and the origin, is the bottleneck), B spends $(extra_us B A) µs more per request than A: $(extra_us C A) µs for the longer URL (C − A) and $(extra_us B C) µs for the check (B − C)."
    echo
    if at_least "$RATIO" "$TARGET_RATIO"; then
        echo "**Throughput target met:** B/A = $RATIO (target ≥ $TARGET_RATIO)."
    else
        echo "**Throughput target NOT met:** B/A = $RATIO (target ≥ $TARGET_RATIO)."
    fi
    if [[ "$CRITERION" == 1 ]]; then
        cold_id="verify-cold/rsa2048-sha1"
        [[ "$KEY_TYPE" == rsa ]] || cold_id="verify-cold/ecdsa-p256-sha256"
        echo
        echo "For scale: a warm check (\`verify-warm/rsa2048-sha1\`) costs ${CRIT_MED[verify-warm/rsa2048-sha1]:-?} µs and a cold one (\`$cold_id\`) ${CRIT_MED[$cold_id]:-?} µs in the criterion benchmark, against $(awk -v a="${MED_RPS[A]}" 'BEGIN { printf "%.1f", 1e6 / a }') µs per request at A's median throughput. wrk repeats one URL, so B pays the cold check once; a stream of distinct signed URLs would pay it on every request."
    fi
    if [[ ${#PROFILE_ROWS[@]} -gt 0 ]]; then
        echo
        echo "Top symbols under load (\`perf record -g\` on the Gatehouse process for ${PROFILE_SECONDS}s, \`perf report --no-children --sort dso,symbol\`, self time; raw profiles in \`bench/out/\`):"
        echo
        echo "| Config | Self | DSO | Symbol |"
        echo "|---|---:|---|---|"
        printf '%s\n' "${PROFILE_ROWS[@]}"
    fi
    for pair in "${DIFFS[@]}"; do
        read -r x y <<<"$pair"
        {
            IFS=$'\t' read -r tot_y tot_x
            echo
            echo "Where $x's extra time over $y goes: CPU µs per request by symbol in the same profiles (samples × sample period ÷ origin requests during the ${PROFILE_SECONDS}s window, under perf, so larger than above; $y $tot_y µs/request in all, $x $tot_x), the symbols that grew most:"
            echo
            echo "| Symbol | $y (µs/request) | $x (µs/request) | $x − $y |"
            echo "|---|---:|---:|---:|"
            while IFS=$'\t' read -r d sym ys xs; do
                echo "| ${sym//|/\\|} | $ys | $xs | +$d |"
            done
        } <"$WORK/diff-$x$y.tsv"
    done
    echo "$MARK_END"
} >"$SECTION"

write_section "$MARK_START" "$MARK_END" "$SECTION"

log "results written to $BENCH_MD (raw wrk output in $RAW)"
echo
sed -n "/^$MARK_START\$/,/^$MARK_END\$/p" "$BENCH_MD"
