#!/usr/bin/env bash
# Installs what building and testing Mood Noir needs on Debian/Ubuntu: the C libraries behind
# nice-plug's standalone and editor (ALSA, JACK, X11/xcb, GL), pkg-config, ffmpeg (clips in
# and out: `look`, `score`) and DejaVu fonts (the text of `plot`), and for the host tests
# Python 3 with venv, Xvfb, liblo-tools, the real DAW Ardour (run headless) with valgrind,
# and fluidsynth with the FluidR3 GM soundfont and sox (scripts/compare-gm.sh). Installs only
# what is missing.
set -euo pipefail

PKGS=(
  pkg-config build-essential
  libasound2-dev libjack-jackd2-dev libgl-dev
  libx11-dev libx11-xcb-dev libxcb1-dev libxcb-dri2-0-dev libxcb-icccm4-dev
  libxcursor-dev libxkbcommon-dev libxcb-shape0-dev libxcb-xfixes0-dev
  python3 python3-venv python3-pip
  xvfb imagemagick xdotool
  liblo-tools
  ffmpeg fonts-dejavu-core
  ardour valgrind
  fluidsynth fluid-soundfont-gm sox
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  # python3 from another distribution (pyenv, conda) is fine: skip Debian's if one works.
  if command -v python3 >/dev/null && python3 -c 'import venv, ensurepip' 2>/dev/null; then
    kept=()
    for p in "${missing[@]}"; do
      case "$p" in python3|python3-venv|python3-pip) ;; *) kept+=("$p") ;; esac
    done
    missing=("${kept[@]+"${kept[@]}"}")
  fi
fi
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
  echo "error: no Rust toolchain (cargo) found; install one with rustup first" >&2
  exit 1
fi
