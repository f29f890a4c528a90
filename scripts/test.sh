#!/usr/bin/env bash
# Every test: formatting and lints, the engine/unit/CLI tests and the in-process CLAP host
# with nice-plug's allocation checker (dev profile), then the release bundles loaded by a real
# third-party host (Spotify's pedalboard, from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

echo "== format and lints"
cargo fmt --all --check
cargo clippy --locked --all-targets --features assert_process_allocs -- -D warnings

echo "== cargo tests (dev profile, allocation checker on)"
cargo test --locked --features assert_process_allocs

echo "== release bundles"
cargo xtask bundle mood_noir --release

echo "== real host: pedalboard"
VENV=target/host-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r tests/host/requirements.txt
"$VENV/bin/python" -m pytest -q tests/host
