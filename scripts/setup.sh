#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine: system packages, a release build of the plugin
# bundles (CLAP + VST3), the CLI and the standalone, then a 30-second demo render.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo xtask bundle mood_noir --release
mkdir -p out
./target/release/mood-noir render --seconds 30 --preset smoky-office --out out/demo.wav
echo
echo "Bundles: target/bundled/mood_noir.clap and target/bundled/mood_noir.vst3"
echo "Demo:    out/demo.wav"
