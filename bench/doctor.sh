#!/usr/bin/env bash
# `gatehouse doctor logs` benchmark: lines per second on a generated ~1 GB standard access log,
# against GoAccess (`goaccess --log-format=CLOUDFRONT`, the Debian package) on the same file in
# the same run. Target (doctor issue): at least 10x GoAccess's lines/s.
#
#  1. crates/gatehouse-logs/examples/gen_log.rs writes the log with Gatehouse's own writer
#     (plain, not gzip: a plain file is what the doctor can split across cores, and what
#     GoAccess reads fastest); the line count is chosen so that the file is about SIZE_MB.
#  2. The file is read once into the page cache, then RUNS rounds, alternating which tool goes
#     first: `gatehouse doctor logs FILE --format json` (release build, all cores) and
#     `goaccess --log-format=CLOUDFRONT --no-global-config -o OUT.json FILE` (its default: one
#     parsing thread). Wall time, user+system CPU time and peak memory of each run
#     (/usr/bin/time).
#  3. Checks: the doctor read every line and found none unreadable, and reports the same
#     summary in every run.
#
# Writes its results into BENCHMARKS.md between <!-- doctor-bench:start --> and
# <!-- doctor-bench:end -->. The log file lives in a temporary directory that is removed at
# the end (also on failure).
#
#   ./bench/doctor.sh                 # ~1000 MB, 3 rounds
#   SIZE_MB=200 RUNS=5 ./bench/doctor.sh
#
# Environment knobs:
#   SIZE_MB     approximate size of the generated log in MB (10^6 bytes)   (default 1000)
#   RUNS        rounds; the doctor first in odd rounds, GoAccess in even    (default 3)
#   SEED        generator seed                                             (default 1)
#   QUIET_WAIT  before each run, wait up to this many seconds for other processes to leave
#               the CPUs alone (default 120; 0 = do not wait)
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$ROOT/bench/lib.sh"

SIZE_MB="${SIZE_MB:-1000}"
RUNS="${RUNS:-3}"
SEED="${SEED:-1}"
QUIET_WAIT="${QUIET_WAIT:-120}"
FOREIGN_CPU_WARN_PCT=5

BENCH_MD="$ROOT/BENCHMARKS.md"
MARK_START='<!-- doctor-bench:start -->'
MARK_END='<!-- doctor-bench:end -->'

require_uints SEED QUIET_WAIT
require_positive SIZE_MB RUNS

install_commands goaccess:goaccess /usr/bin/time:time python3:python3
NPROC="$(nproc)"

# --- Build ----------------------------------------------------------------------------
log "building gatehouse and gen_log (release)"
cargo build --release -p gatehouse -p gatehouse-logs --example gen_log
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}/release"
GATEHOUSE_BIN="$TARGET/gatehouse"
GEN="$TARGET/examples/gen_log"
[[ -x "$GATEHOUSE_BIN" && -x "$GEN" ]] || die "expected $GATEHOUSE_BIN and $GEN"

setup_work doctor
init_cpu_accounting

# --- The file -----------------------------------------------------------------------------
# Bytes a line, from a small sample of the same generator.
"$GEN" --lines 20000 --seed "$SEED" "$WORK/sample.log" 2>/dev/null
SAMPLE_BYTES="$(stat -c %s "$WORK/sample.log")"
LINES="$(awk -v mb="$SIZE_MB" -v b="$SAMPLE_BYTES" 'BEGIN { printf "%d", mb * 1e6 / (b / 20000) }')"
rm -f "$WORK/sample.log"
LOG="$WORK/E2BENCHLOGS123.2026-11-28-00.bench"
log "generating $LINES lines (seed $SEED) into $LOG"
"$GEN" --lines "$LINES" --seed "$SEED" "$LOG"
LOG_BYTES="$(stat -c %s "$LOG")"
DATA_LINES="$(grep -vc '^#' "$LOG")"
[[ "$DATA_LINES" == "$LINES" ]] || die "$LOG has $DATA_LINES data lines, expected $LINES"
head -n 6 "$LOG" | cut -c1-400 >"$RAW/sample.log"
cat "$LOG" >/dev/null # into the page cache

mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
fmt_rate() { awk -v r="$1" 'BEGIN { s = sprintf("%.0f", r); n = ""; while (length(s) > 3) { n = "," substr(s, length(s) - 2) n; s = substr(s, 1, length(s) - 3) } print s n }'; }

# --- Runs -----------------------------------------------------------------------------------
# measure NAME OUT cmd...: runs cmd after wait_quiet; stdout to OUT, /usr/bin/time's
# "wall user sys maxrss_kb" to $RAW/NAME.time (wall from the clock, the rest from
# /usr/bin/time); sets FOREIGN (CPU % of other processes).
WARNINGS=""
measure() {
    local name="$1" out="$2" b0 o0 b1 o1 t0 t1 wall
    shift 2
    wait_quiet
    read -r b0 o0 < <(cpu_snapshot)
    t0="$(date +%s.%N)"
    /usr/bin/time -f '%U %S %M' -o "$RAW/$name.cpu" "$@" >"$out" 2>"$RAW/$name.stderr" ||
        die "$name failed: $(tail -n 3 "$RAW/$name.stderr")"
    t1="$(date +%s.%N)"
    read -r b1 o1 < <(cpu_snapshot)
    wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
    echo "$wall $(cat "$RAW/$name.cpu")" >"$RAW/$name.time"
    FOREIGN="$(foreign_pct "$b0" "$o0" "$b1" "$o1" "$wall")"
    if over_threshold "$FOREIGN"; then
        WARNINGS+="- Warning: other processes used $FOREIGN% of a CPU during $name; its numbers are disturbed.
"
        warn "other processes used $FOREIGN% of a CPU during $name"
    fi
}

DOCTOR=("$GATEHOUSE_BIN" doctor logs "$LOG" --format json)
GOACCESS=(goaccess --log-format=CLOUDFRONT --no-global-config -o "$WORK/goaccess.json" "$LOG")
ROWS=()
D_RATES=()
G_RATES=()
for ((r = 1; r <= RUNS; r++)); do
    order=(doctor goaccess)
    ((r % 2 == 1)) || order=(goaccess doctor)
    for tool in "${order[@]}"; do
        name="$tool-$r"
        log "round $r: $tool"
        if [[ "$tool" == doctor ]]; then
            measure "$name" "$WORK/doctor-$r.json" "${DOCTOR[@]}"
        else
            measure "$name" "$RAW/goaccess-$r.stdout" "${GOACCESS[@]}"
        fi
        read -r wall user sys rss <"$RAW/$name.time"
        rate="$(awk -v n="$LINES" -v w="$wall" 'BEGIN { printf "%.0f", (w > 0) ? n / w : 0 }')"
        if [[ "$tool" == doctor ]]; then D_RATES+=("$rate"); else G_RATES+=("$rate"); fi
        ROWS+=("| $r | $tool | $wall | $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }') | $(fmt_rate "$rate") | $(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }') | $FOREIGN |")
    done
done

# --- Checks ----------------------------------------------------------------------------------
python3 - "$LINES" "$WORK"/doctor-*.json <<'EOF' >"$RAW/doctor-check.txt" 2>&1 || die "doctor output check failed: $(cat "$RAW/doctor-check.txt")"
import json, sys
lines = int(sys.argv[1])
docs = [json.load(open(p)) for p in sys.argv[2:]]
for d in docs:
    assert d["lines"] == lines, (d["lines"], lines)
    assert d["bad_lines"] == 0, d["problems"]
first = json.dumps(docs[0], sort_keys=True)
assert all(json.dumps(d, sort_keys=True) == first for d in docs), "runs differ"
d = docs[0]
print("groups:", ", ".join(f'{g["cause"]} {g["count"]}' for g in d["groups"]))
EOF
DOCTOR_GROUPS="$(cat "$RAW/doctor-check.txt")"
cp "$WORK/doctor-1.json" "$RAW/doctor.json"
GA_VALID="$(grep -o '"valid_requests": *[0-9]*' "$WORK/goaccess.json" | head -n 1 | grep -o '[0-9]*$')" || true
GA_FAILED="$(grep -o '"failed_requests": *[0-9]*' "$WORK/goaccess.json" | head -n 1 | grep -o '[0-9]*$')" || true

D_MED="$(median "${D_RATES[@]}")"
G_MED="$(median "${G_RATES[@]}")"
RATIO="$(ratio "$D_MED" "$G_MED")"
VERDICT="$(awk -v r="$RATIO" 'BEGIN { print (r >= 10) ? "met" : "NOT met" }')"

# --- Report --------------------------------------------------------------------------------
collect_versions
RUSTC_VERSION="$(rustc --version 2>/dev/null || echo 'rustc ?')"
GOACCESS_VERSION="$(goaccess --version 2>/dev/null | awk 'NR == 1 { sub(/^GoAccess - /, ""); sub(/\.$/, ""); print }')"
CMD="./bench/doctor.sh"
[[ "$SIZE_MB" == 1000 ]] || CMD="SIZE_MB=$SIZE_MB $CMD"
[[ "$RUNS" == 3 ]] || CMD="RUNS=$RUNS $CMD"
[[ "$SEED" == 1 ]] || CMD="SEED=$SEED $CMD"
[[ "$QUIET_WAIT" == 120 ]] || CMD="QUIET_WAIT=$QUIET_WAIT $CMD"

SECTION="$WORK/section.md"
{
    echo "$MARK_START"
    echo "## Doctor: \`gatehouse doctor logs\` against GoAccess"
    echo
    echo "Target (doctor issue): \`doctor logs\` on a generated 1 GB standard log at least 10× GoAccess's lines/s, on the same file in the same run."
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- Machine: \`nproc\` = $NPROC${CPU_MODEL:+, $CPU_MODEL}, Linux $(uname -r)"
    echo "- Versions: Gatehouse rev $GIT_REV, $RUSTC_VERSION; GoAccess $GOACCESS_VERSION (Debian package)"
    echo "- Command: \`$CMD\`"
    echo "- File: $(fmt_rate "$LINES") lines, $(mb "$LOG_BYTES") MB plain ($(awk -v b="$LOG_BYTES" -v n="$LINES" 'BEGIN { printf "%.0f", b / n }') bytes a line), written by \`cargo run --release -p gatehouse-logs --example gen_log -- --lines $LINES --seed $SEED FILE\` (Gatehouse's standard-log writer: varied paths, queries, user agents with spaces, quotes, \`%\` and non-ASCII bytes; statuses 200/206/304/403/404/502/504/000). In the page cache for every run; deleted afterwards."
    echo "- Doctor: \`gatehouse doctor logs FILE --format json\` (release), its default of one thread per core: the plain file is read in byte ranges in parallel. It classifies every 403 and 5xx line and groups them by cause with counts, time ranges, per-hour counts, top paths, IPs, hosts and user agents, and time-taken against the average of all lines. Every run read all $(fmt_rate "$LINES") lines, none unreadable, with identical output; $DOCTOR_GROUPS."
    echo "- GoAccess: \`goaccess --log-format=CLOUDFRONT --no-global-config -o OUT.json FILE\` (its default: one parsing thread; builds every panel and writes the JSON report). It counted $(fmt_rate "${GA_VALID:-0}") valid and $(fmt_rate "${GA_FAILED:-0}") failed requests (the failed ones are the \`000\` lines of viewers that left)."
    echo "- Rounds alternate which tool runs first; wall and CPU (user+system) time and peak memory from \`/usr/bin/time\`; lines/s = lines ÷ wall time. \"Foreign CPU\": % of a CPU used by other processes during the run."
    echo
    if [[ -n "$WARNINGS" ]]; then
        printf '%s' "$WARNINGS"
        echo
    fi
    echo "| Round | Tool | Wall s | CPU s | Lines/s | Peak MB | Foreign CPU % |"
    echo "|---:|---|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Medians over $RUNS rounds: **doctor $(fmt_rate "$D_MED") lines/s, GoAccess $(fmt_rate "$G_MED") lines/s: ratio $RATIO×** (target ≥ 10×: $VERDICT)."
    echo "$MARK_END"
} >"$SECTION"

write_section "$MARK_START" "$MARK_END" "$SECTION"

log "results written to $BENCH_MD (raw output in $RAW); removing the log file"
rm -f "$LOG"
echo
sed -n "/^$MARK_START\$/,/^$MARK_END\$/p" "$BENCH_MD"
