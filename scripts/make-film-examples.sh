#!/usr/bin/env bash
# Makes the film examples with ffmpeg (Debian `ffmpeg`): four reference stills with known
# colours and areas, and a tiny clip of four 2-second shots cut from them (25 fps, temporal
# grain so no two frames are alike; cuts at 2, 4 and 6 s = frames 50, 100, 150).
#   scripts/make-film-examples.sh [OUT_DIR]     (default: examples/film)
# The colours and areas are what tests/film.rs expects; change both together.
set -euo pipefail
out="${1:-$(dirname "$0")/../examples/film}"
mkdir -p "$out/stills"
ff() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }
W=640; H=360

# 1. Night alley: deep blue night (65 %), a sodium streetlamp (25 %), a magenta neon strip (10 %).
ff -f lavfi -i "color=c=0x141c3c:s=${W}x${H}" -frames:v 1 -pix_fmt rgb24 -vf \
  "format=rgb24,drawbox=x=0:y=0:w=160:h=360:c=0xe8a040:t=fill,drawbox=x=160:y=0:w=64:h=360:c=0xd0206a:t=fill" \
  "$out/stills/night-alley.png"
# 2. Dawn kitchen: warm cream light (60 %), peach (30 %), brown table (10 %).
ff -f lavfi -i "color=c=0xf0dcc0:s=${W}x${H}" -frames:v 1 -pix_fmt rgb24 -vf \
  "format=rgb24,drawbox=x=0:y=0:w=192:h=360:c=0xf0a880:t=fill,drawbox=x=192:y=0:w=64:h=360:c=0x6a4028:t=fill" \
  "$out/stills/dawn-kitchen.png"
# 3. Office at night: near-black (70 %), a hard white-ish key through the blinds (30 %).
ff -f lavfi -i "color=c=0x0c0c0e:s=${W}x${H}" -frames:v 1 -pix_fmt rgb24 -vf \
  "format=rgb24,drawbox=x=0:y=0:w=192:h=360:c=0xdcd6c8:t=fill" \
  "$out/stills/office-blinds.png"
# 4. Police lights: red (50 %) and blue (50 %).
ff -f lavfi -i "color=c=0xc81e28:s=${W}x${H}" -frames:v 1 -pix_fmt rgb24 -vf \
  "format=rgb24,drawbox=x=320:y=0:w=320:h=360:c=0x1e32c8:t=fill" \
  "$out/stills/police-lights.png"

# The clip: the four stills, two seconds each, with grain.
ff -framerate 25 -loop 1 -t 2 -i "$out/stills/night-alley.png" \
   -framerate 25 -loop 1 -t 2 -i "$out/stills/office-blinds.png" \
   -framerate 25 -loop 1 -t 2 -i "$out/stills/police-lights.png" \
   -framerate 25 -loop 1 -t 2 -i "$out/stills/dawn-kitchen.png" \
   -filter_complex "[0][1][2][3]concat=n=4:v=1:a=0,noise=alls=14:allf=t+u,format=yuv420p[v]" \
   -map "[v]" -r 25 -c:v libx264 -preset veryfast -crf 28 -g 50 -an "$out/four-shots.mp4"
echo "wrote $out/stills/*.png and $out/four-shots.mp4"
