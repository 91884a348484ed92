#!/usr/bin/env bash
# Access-log reader benchmark: how fast gatehouse_logs::reader::StandardReader reads a
# standard log, in lines per second, on a generated LINES-line file (plain and gzip),
# against GoAccess on the same files; plus, for completeness, how fast the writer side
# formats lines (standard::write_line, standard::write_json, standard::write_both) and how many
# records the whole writer takes per second (LogSink: formatting into batches and the writer
# thread's plain files; then the gzip of those files at shutdown, the compressor's work).
#
#  1. crates/gatehouse-logs/examples/gen_log.rs writes the file with Gatehouse's own
#     writer (realistic values: paths with spaces, %, non-ASCII; user agents with spaces,
#     quotes and %; every status and result type; IPv4/IPv6), once plain and once gzip
#     (a gzip member every 10,000 lines: readers must take multi-member files); the two
#     must decompress to the same bytes.
#  2. crates/gatehouse-logs/examples/parse_speed.rs reads each file RUNS times, four fields
#     a line (sc-status, cs-uri-stem decoded, x-edge-detailed-result-type, time-taken),
#     plus the same input read line by line without parsing (the I/O and gunzip floor);
#     then the writer measurements over WRITE_LINES records.
#  3. GoAccess (`goaccess --log-format=CLOUDFRONT --no-global-config -o FILE.json`) on the
#     same files, RUNS runs timed by hyperfine.
# Everything runs pinned to one CPU (CPU 1 on a machine with two or more).
#
# Writes its results into BENCHMARKS.md between <!-- logs-parse-bench:start --> and
# <!-- logs-parse-bench:end -->.
#
#   ./bench/logs-parse.sh                   # 1,000,000 lines, 3 runs
#   LINES=5000000 RUNS=5 ./bench/logs-parse.sh
#   GOACCESS=0 ./bench/logs-parse.sh        # skip GoAccess
#
# Environment knobs:
#   LINES        lines in the generated file                  (default 1000000)
#   RUNS         runs per measurement; best and median reported (default 3)
#   SEED         generator seed                               (default 1)
#   WRITE_LINES  records for the writer measurements; 0 = skip (default 1000000)
#   GOACCESS     1 = compare with GoAccess                    (default 1)
#   QUIET_WAIT   before each measurement, wait up to this many seconds for other
#                processes to leave the CPUs alone (default 120; 0 = do not wait)
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$ROOT/bench/lib.sh"

LINES="${LINES:-1000000}"
RUNS="${RUNS:-3}"
SEED="${SEED:-1}"
WRITE_LINES="${WRITE_LINES:-1000000}"
GOACCESS="${GOACCESS:-1}"
QUIET_WAIT="${QUIET_WAIT:-120}"
FOREIGN_CPU_WARN_PCT=5

BENCH_MD="$ROOT/BENCHMARKS.md"
MARK_START='<!-- logs-parse-bench:start -->'
MARK_END='<!-- logs-parse-bench:end -->'

require_uints SEED WRITE_LINES QUIET_WAIT
require_positive LINES RUNS
require_flags GOACCESS

if [[ "$GOACCESS" == 1 ]]; then
    install_commands gzip:gzip taskset:util-linux goaccess:goaccess hyperfine:hyperfine
else
    install_commands gzip:gzip taskset:util-linux
fi
pin_cpus
CPU="$SERVER_CPU"

# --- Build ----------------------------------------------------------------------
log "building the examples (release)"
cargo build --release -p gatehouse-logs --examples
EXAMPLES="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples"
GEN="$EXAMPLES/gen_log"
PARSE="$EXAMPLES/parse_speed"
[[ -x "$GEN" && -x "$PARSE" ]] || die "expected gen_log and parse_speed in $EXAMPLES"

setup_work logs-parse
init_cpu_accounting

# --- Files ------------------------------------------------------------------------
PLAIN="$WORK/access.log"
GZ="$WORK/access.log.gz"
log "generating $LINES lines (seed $SEED): $PLAIN and $GZ"
"$GEN" --lines "$LINES" --seed "$SEED" "$PLAIN"
"$GEN" --lines "$LINES" --seed "$SEED" "$GZ"
zcat -- "$GZ" | cmp -s - "$PLAIN" || die "the gzip file does not decompress to the plain one"
DATA_LINES="$(grep -vc '^#' "$PLAIN")"
STATUS_000="$(awk -F'\t' '!/^#/ && $9 == "000" { n++ } END { print n + 0 }' "$PLAIN")"
[[ "$DATA_LINES" == "$LINES" ]] || die "$PLAIN has $DATA_LINES data lines, expected $LINES"
PLAIN_BYTES="$(stat -c %s "$PLAIN")"
GZ_BYTES="$(stat -c %s "$GZ")"
head -n 12 "$PLAIN" >"$RAW/sample.log"
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
times() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

# run_measured outfile cmd...: runs cmd (after wait_quiet), stdout to outfile; sets
# FOREIGN (CPU % of other processes while it ran).
WARNINGS=""
run_measured() {
    local out="$1" b0 o0 b1 o1 t0 t1
    shift
    wait_quiet
    read -r b0 o0 < <(cpu_snapshot)
    t0="$(date +%s.%N)"
    "$@" >"$out"
    t1="$(date +%s.%N)"
    read -r b1 o1 < <(cpu_snapshot)
    FOREIGN="$(foreign_pct "$b0" "$o0" "$b1" "$o1" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")"
    if over_threshold "$FOREIGN"; then
        WARNINGS+="- Warning: other processes used $FOREIGN% of a CPU during the run that wrote \`$(basename "$out")\`; its numbers may be disturbed.
"
        warn "other processes used $FOREIGN% of a CPU during the run that wrote $(basename "$out")"
    fi
}

# --- Gatehouse reader and writer -------------------------------------------------------
PARSE_CMD="cargo run --release -p gatehouse-logs --example parse_speed -- --runs $RUNS"
((WRITE_LINES == 0)) || PARSE_CMD+=" --write $WRITE_LINES"
PARSE_CMD+=" access.log access.log.gz"
log "parse_speed: $RUNS runs per file, pinned to CPU $CPU"
args=(--runs "$RUNS")
((WRITE_LINES == 0)) || args+=(--write "$WRITE_LINES")
run_measured "$RAW/parse_speed.txt" taskset -c "$CPU" "$PARSE" "${args[@]}" "$PLAIN" "$GZ"
PARSE_FOREIGN="$FOREIGN"
cat "$RAW/parse_speed.txt"

# result what file field: a value from parse_speed's RESULT lines.
result() {
    awk -v w="$1" -v f="$2" -v k="$3" '$1 == "RESULT" && $2 == w && $3 == f {
        for (i = 4; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) { print kv[2]; exit } } }' \
        "$RAW/parse_speed.txt"
}
fmt_int() { fmt_rate "$1"; }
fmt_rate() { awk -v r="$1" 'BEGIN { s = sprintf("%.0f", r); n = ""; while (length(s) > 3) { n = "," substr(s, length(s) - 2) n; s = substr(s, 1, length(s) - 3) } print s n }'; }
fmt_runs() { tr ',' '\n' <<<"$1" | while read -r r; do fmt_rate "$r"; done | paste -sd '/' | sed 's|/| / |g'; }

ROWS=()
for pair in "lines:$PLAIN:plain" "parse:$PLAIN:plain" "lines:$GZ:gzip" "parse:$GZ:gzip"; do
    IFS=: read -r what file kind <<<"$pair"
    best="$(result "$what" "$file" best)"
    med="$(result "$what" "$file" median)"
    runs="$(result "$what" "$file" runs)"
    [[ -n "$best" && -n "$med" ]] || die "no $what result for $file in $RAW/parse_speed.txt"
    case "$what" in
    lines) label="read lines only (\`reader::open\` + \`read_until\`), $kind" ;;
    parse) label="**\`StandardReader\`, 4 fields a line, $kind**" ;;
    esac
    mbps="$(awk -v b="$PLAIN_BYTES" -v r="$med" -v n="$LINES" 'BEGIN { printf "%.0f", b * r / n / 1e6 }')"
    secs="$(awk -v r="$med" -v n="$LINES" 'BEGIN { printf "%.3f", n / r }')"
    ROWS+=("| $label | $(fmt_rate "$best") | $(fmt_rate "$med") | $secs | $mbps | $(fmt_runs "$runs") |")
done
PARSE_PLAIN_MED="$(result parse "$PLAIN" median)"
PARSE_GZ_MED="$(result parse "$GZ" median)"

WRITE_ROWS=()
if ((WRITE_LINES > 0)); then
    for what in write_line write_json write_both sink gzip; do
        best="$(result "$what" - best)"
        med="$(result "$what" - median)"
        runs="$(result "$what" - runs)"
        bytes="$(result "$what" - bytes)"
        [[ -n "$best" && -n "$med" ]] || die "no $what result in $RAW/parse_speed.txt"
        case "$what" in
        write_line) label="\`standard::write_line\` (into a buffer)" ;;
        write_json) label="\`standard::write_json\` (into a buffer)" ;;
        write_both) label="\`standard::write_both\` (both lines; bytes: the standard one)" ;;
        sink) label="\`LogSink\`: \`log\` + \`flush\`, both formats, plain files (records/s; 2 lines each)" ;;
        gzip) label="\`LogSink::shutdown\`: gzip of those files (records/s)" ;;
        esac
        per="$(awk -v r="$med" 'BEGIN { printf "%.2f", 1e6 / r }')"
        avg="–"
        [[ "$bytes" == 0 ]] || avg="$(awk -v b="$bytes" -v n="$WRITE_LINES" 'BEGIN { printf "%.0f", b / n }')"
        WRITE_ROWS+=("| $label | $(fmt_rate "$best") | $(fmt_rate "$med") | $per | $avg | $(fmt_runs "$runs") |")
    done
fi

# --- GoAccess ----------------------------------------------------------------------------
GOACCESS_ROWS=()
GOACCESS_NOTE=""
if [[ "$GOACCESS" == 1 ]]; then
    GOACCESS_VERSION="$(goaccess --version 2>/dev/null | awk 'NR == 1 { sub(/^GoAccess - /, ""); sub(/\.$/, ""); print }')"
    HYPERFINE_VERSION="$(hyperfine --version | awk '{ print $2 }')"
    for kind in plain gzip; do
        file="$PLAIN"
        [[ "$kind" == plain ]] || file="$GZ"
        # GoAccess reads plain files; the gzip one goes through zcat, on the same CPU
        # (StandardReader gunzips in the same thread too).
        ga_cmd="goaccess --log-format=CLOUDFRONT --no-global-config -o $WORK/goaccess-$kind.json"
        if [[ "$kind" == plain ]]; then
            ga_cmd+=" $file"
        else
            ga_cmd="zcat $file | $ga_cmd -"
        fi
        log "GoAccess on the $kind file: $RUNS runs (hyperfine), pinned to CPU $CPU"
        # One run outside hyperfine, to check what GoAccess made of the file.
        if ! taskset -c "$CPU" sh -c "$ga_cmd" >"$RAW/goaccess-$kind.log" 2>&1; then
            warn "GoAccess failed on the $kind file: $(tail -n 3 "$RAW/goaccess-$kind.log")"
            GOACCESS_ROWS+=("| GoAccess, $kind | failed: \`$(tail -n 1 "$RAW/goaccess-$kind.log" | tr -d '|`')\` | | | | |")
            continue
        fi
        valid="$(grep -o '"valid_requests": *[0-9]*' "$WORK/goaccess-$kind.json" | head -n 1 | grep -o '[0-9]*$')" || true
        failed="$(grep -o '"failed_requests": *[0-9]*' "$WORK/goaccess-$kind.json" | head -n 1 | grep -o '[0-9]*$')" || true
        run_measured "$RAW/goaccess-$kind-hyperfine.txt" \
            hyperfine -N --style basic --runs "$RUNS" --export-json "$RAW/goaccess-$kind-hyperfine.json" \
            "taskset -c $CPU sh -c '$ga_cmd'"
        # Each run's wall time; lines/s over the file's data lines.
        read -r best med runs < <(awk -v n="$LINES" '
            /"times": \[/ { t = 1; next }
            t && /\]/ { t = 0 }
            t { gsub(/[ ,]/, ""); if ($0 != "") v[++k] = $0 }
            END {
                for (i = 1; i <= k; i++) r[i] = n / v[i]
                for (i = 2; i <= k; i++) { x = r[i]; for (j = i - 1; j >= 1 && r[j] > x; j--) r[j + 1] = r[j]; r[j + 1] = x }
                med = (k % 2) ? r[(k + 1) / 2] : (r[k / 2] + r[k / 2 + 1]) / 2
                s = ""; for (i = 1; i <= k; i++) s = s (i > 1 ? "," : "") sprintf("%.0f", n / v[i])
                printf "%.0f %.0f %s\n", r[k], med, s
            }' "$RAW/goaccess-$kind-hyperfine.json")
        secs="$(awk -v r="$med" -v n="$LINES" 'BEGIN { printf "%.3f", n / r }')"
        mbps="$(awk -v b="$PLAIN_BYTES" -v r="$med" -v n="$LINES" 'BEGIN { printf "%.0f", b * r / n / 1e6 }')"
        GOACCESS_ROWS+=("| GoAccess $GOACCESS_VERSION, $kind (valid $(fmt_int "${valid:-0}"), failed $(fmt_int "${failed:-0}")) | $(fmt_rate "$best") | $(fmt_rate "$med") | $secs | $mbps | $(fmt_runs "$runs") |")
        if [[ "$kind" == plain ]]; then GA_PLAIN_MED="$med"; else GA_GZ_MED="$med"; fi
    done
    GOACCESS_NOTE="GoAccess: \`taskset -c $CPU sh -c 'goaccess --log-format=CLOUDFRONT --no-global-config -o OUT.json FILE'\` (gzip: \`sh -c 'zcat FILE.gz | goaccess … -'\`, both processes on CPU $CPU), timed by hyperfine $HYPERFINE_VERSION (\`hyperfine -N --runs $RUNS\`, wall time of the whole process: start-up, parsing, building every panel, writing the JSON report). \"Valid\"/\"failed\" are GoAccess's own counts of the lines it accepted and rejected; the file has $(fmt_int "$STATUS_000") lines with \`sc-status\` \`000\` (viewer left before the response started), which GoAccess rejects by default."
fi

# --- Report ---------------------------------------------------------------------------
collect_versions
RUSTC_VERSION="$(rustc --version 2>/dev/null || echo 'rustc ?')"
CMD="./bench/logs-parse.sh"
[[ "$LINES" == 1000000 ]] || CMD="LINES=$LINES $CMD"
[[ "$RUNS" == 3 ]] || CMD="RUNS=$RUNS $CMD"
[[ "$SEED" == 1 ]] || CMD="SEED=$SEED $CMD"
[[ "$WRITE_LINES" == 1000000 ]] || CMD="WRITE_LINES=$WRITE_LINES $CMD"
[[ "$GOACCESS" == 1 ]] || CMD="GOACCESS=0 $CMD"
[[ "$QUIET_WAIT" == 120 ]] || CMD="QUIET_WAIT=$QUIET_WAIT $CMD"

SECTION="$WORK/section.md"
{
    echo "$MARK_START"
    echo "## Access logs: reader speed (and writer speed)"
    echo
    echo "Target (access-log issue): parsing speed of the reader in lines/s on a generated 1-million-line file."
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- Machine: \`nproc\` = $NPROC${CPU_MODEL:+, $CPU_MODEL}, Linux $(uname -r); everything pinned to CPU $CPU"
    echo "- Versions: Gatehouse rev $GIT_REV, $RUSTC_VERSION"
    echo "- Command: \`$CMD\`; the reader and writer numbers come from \`$PARSE_CMD\` (\`crates/gatehouse-logs/examples/parse_speed.rs\`), other processes used $PARSE_FOREIGN% of a CPU while it ran"
    echo "- File: $(fmt_int "$LINES") lines written by \`cargo run --release -p gatehouse-logs --example gen_log -- --lines $LINES --seed $SEED FILE\` (Gatehouse's \`write_line\`; varied paths, queries, user agents with spaces, quotes, \`%\` and non-ASCII bytes, cookies, statuses 200/206/304/403/404/502/504/000, all result types, IPv4 and IPv6): plain $(mb "$PLAIN_BYTES") MB ($(awk -v b="$PLAIN_BYTES" -v n="$LINES" 'BEGIN { printf "%.0f", b / n }') bytes a line), gzip $(mb "$GZ_BYTES") MB (\`Compression::fast\`, the compressor's level, a gzip member every 10,000 lines). The file is in the page cache for every run."
    echo
    if [[ -n "$WARNINGS" ]]; then
        printf '%s' "$WARNINGS"
        echo
    fi
    echo "### Reader"
    echo
    echo "\`StandardReader::open(FILE)\` and \`next()\` over every line, reading \`sc-status\` (parsed as a number), \`cs-uri-stem\` (URL-decoded), \`x-edge-detailed-result-type\` (compared) and \`time-taken\` (parsed as seconds) by name with \`Line::get\`/\`Line::decoded\`; every run must give the same sums and no malformed line. \"Read lines only\" is the floor under it: the same input read line by line without parsing. MB/s are of uncompressed log text. $RUNS runs each; best and median lines/s."
    echo
    echo "| Measurement | Best lines/s | Median lines/s | Median s for the file | MB/s (median) | Runs (lines/s) |"
    echo "|---|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
    if ((${#GOACCESS_ROWS[@]} > 0)); then
        printf '%s\n' "${GOACCESS_ROWS[@]}"
    fi
    echo
    echo "**Reader: $(fmt_rate "$PARSE_PLAIN_MED") lines/s plain, $(fmt_rate "$PARSE_GZ_MED") lines/s gzip** (medians; $(awk -v r="$PARSE_PLAIN_MED" 'BEGIN { printf "%.2f", 1e6 / r }') µs and $(awk -v r="$PARSE_GZ_MED" 'BEGIN { printf "%.2f", 1e6 / r }') µs a line)."
    if [[ -n "$GOACCESS_NOTE" ]]; then
        echo
        echo "$GOACCESS_NOTE"
        if [[ -n "${GA_PLAIN_MED:-}" ]]; then
            echo "On the plain file the reader reads $(times "$PARSE_PLAIN_MED" "$GA_PLAIN_MED")× as many lines a second as GoAccess${GA_GZ_MED:+, on the gzip file $(times "$PARSE_GZ_MED" "$GA_GZ_MED")×}. GoAccess does much more per line than this reader loop (it parses every field of its format, resolves dates, and keeps every panel's counters), so this says how much a report over the log costs with each, not that one parser is faster at the same work."
        fi
    fi
    if ((${#WRITE_ROWS[@]} > 0)); then
        echo
        echo "### Writer (for completeness)"
        echo
        echo "$(fmt_int "$WRITE_LINES") records, cycling through 4,096 generated ones (same generator). \`write_line\`/\`write_json\`: formatting into a reused buffer (cleared every MiB). \`LogSink\`: the writer as the edge uses it, in batches of 32,768 records each followed by \`flush()\`: \`LogSink::log\` formats both lines into the calling thread's batch (the edge's request path), the writer thread appends them to plain files in a temporary directory; the calling thread and the writer thread share CPU $CPU, as in \`bench/logs.sh\`. \`LogSink::shutdown\` then gzips the files (level 1, zlib-rs), the work the edge's compressor thread does at rotation with idle CPU."
        echo
        echo "| Measurement | Best lines/s | Median lines/s | Median µs a line | Bytes a line | Runs (lines/s) |"
        echo "|---|---:|---:|---:|---:|---:|"
        printf '%s\n' "${WRITE_ROWS[@]}"
    fi
    echo "$MARK_END"
} >"$SECTION"

write_section "$MARK_START" "$MARK_END" "$SECTION"

log "results written to $BENCH_MD (raw output in $RAW)"
echo
sed -n "/^$MARK_START\$/,/^$MARK_END\$/p" "$BENCH_MD"
