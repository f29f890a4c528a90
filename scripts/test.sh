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

echo "== CLAP validator (when built beside the project; see scripts/validate.sh)"
scripts/validate.sh

echo "== real hosts: pedalboard, DawDreamer, Ardour"
VENV=target/host-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r tests/host/requirements.txt
# DawDreamer and pedalboard each carry their own JUCE: one Python process each.
"$VENV/bin/python" -m pytest -q tests/host --ignore=tests/host/test_dawdreamer.py
"$VENV/bin/python" -m pytest -q tests/host/test_dawdreamer.py
