#!/usr/bin/env bash
# Installs the real CloudFront signers the signed-URL interoperability tests
# (crates/gatehouse/tests/signed.rs) run as subprocesses, into .cache/ (gitignored):
#
#   .cache/venv                 Python venv: awscli v1 (`aws cloudfront sign`; pulls rsa, and
#                               1.46 carries its own copy of botocore, awscli.botocore),
#                               botocore (botocore.signers.CloudFrontSigner, as boto3 users
#                               have it) and cryptography
#   .cache/npm/node_modules     npm @aws-sdk/cloudfront-signer (getSignedUrl, getSignedCookies)
#
# Nothing is installed system-wide. Idempotent: a stamp file per tool records the pinned
# versions; a matching stamp skips the install. Needs python3 (with venv) and npm.
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
VENV="$CACHE/venv"
NPM_PREFIX="$CACHE/npm"

AWSCLI_VERSION="1.46.3"
BOTOCORE_VERSION="1.44.8"
CRYPTOGRAPHY_VERSION="50.0.2"
SIGNER_PACKAGE="@aws-sdk/cloudfront-signer"
SIGNER_VERSION="3.1166.0"

PY_SPEC="awscli==$AWSCLI_VERSION botocore==$BOTOCORE_VERSION cryptography==$CRYPTOGRAPHY_VERSION"
NPM_SPEC="$SIGNER_PACKAGE@$SIGNER_VERSION"

die() {
    echo "error: install-test-tools: $*" >&2
    exit 1
}

mkdir -p "$CACHE"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# Runs a command quietly; on failure shows its output and stops with `message`.
quiet() {
    local message="$1"
    shift
    if ! "$@" >"$log" 2>&1; then
        sed 's/^/    | /' "$log" >&2
        die "$message"
    fi
}

# --- Python: awscli v1 (rsa) + botocore + cryptography ----------------------
py_stamp="$VENV/.gatehouse-installed"
if [[ -x "$VENV/bin/python" && -x "$VENV/bin/aws" && -f "$py_stamp" && "$(cat "$py_stamp")" == "$PY_SPEC" ]] &&
    "$VENV/bin/python" -c 'import botocore.signers, rsa, cryptography' >/dev/null 2>&1; then
    echo "    present: .cache/venv ($PY_SPEC)"
else
    command -v python3 >/dev/null 2>&1 || die "python3 is not installed"
    echo "    installing into .cache/venv: $PY_SPEC (PyPI)"
    rm -rf "$VENV"
    quiet "could not create a venv with 'python3 -m venv' (Debian: apt-get install python3-venv)" \
        python3 -m venv "$VENV"
    quiet "pip could not install $PY_SPEC" \
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input $PY_SPEC
    quiet "the venv does not import botocore.signers, rsa and cryptography" \
        "$VENV/bin/python" -c 'import botocore.signers, rsa, cryptography'
    echo "$PY_SPEC" >"$py_stamp"
fi

# --- npm: @aws-sdk/cloudfront-signer ----------------------------------------
npm_stamp="$NPM_PREFIX/.gatehouse-installed"
if [[ -f "$npm_stamp" && "$(cat "$npm_stamp")" == "$NPM_SPEC" && -d "$NPM_PREFIX/node_modules/$SIGNER_PACKAGE" ]]; then
    echo "    present: .cache/npm ($NPM_SPEC)"
else
    command -v npm >/dev/null 2>&1 || die "npm is not installed"
    echo "    installing into .cache/npm: $NPM_SPEC (npm)"
    mkdir -p "$NPM_PREFIX"
    quiet "npm could not install $NPM_SPEC" \
        npm install --prefix "$NPM_PREFIX" --silent --no-audit --no-fund --save-exact "$NPM_SPEC"
    command -v node >/dev/null 2>&1 || die "node is not installed (npm is)"
    quiet "node cannot load $SIGNER_PACKAGE from .cache/npm" \
        env NODE_PATH="$NPM_PREFIX/node_modules" node -e "require('$SIGNER_PACKAGE')"
    echo "$NPM_SPEC" >"$npm_stamp"
fi
