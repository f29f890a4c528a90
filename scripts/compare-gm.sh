#!/usr/bin/env bash
# Look and listen: renders a scene twice, the band (its stems) and the band's own MIDI through
# the General MIDI soundfont FluidR3 (Debian fluidsynth + fluid-soundfont-gm, one channel at a
# time), and puts a spectrogram of each instrument side by side in one PNG, with loudness and
# a rough pitch per stem printed (sox), then onsets per second and the notes' median attack and
# decay per stem (`mood-noir measure`). Nothing is downloaded; scripts/install-deps.sh
# installs fluidsynth, the soundfont, sox and imagemagick.
#
#   scripts/compare-gm.sh                         # smoky-office, 30 s, into target/compare-gm/
#   scripts/compare-gm.sh interrogation 20 /tmp/x # scene (or preset file), seconds, folder
set -euo pipefail
cd "$(dirname "$0")/.."
SCENE="${1:-smoky-office}"
LEN="${2:-30}"
OUT="${3:-target/compare-gm/$(basename "$SCENE" .json)}"
SF2=/usr/share/sounds/sf2/FluidR3_GM.sf2
for tool in fluidsynth sox montage python3; do
  command -v "$tool" >/dev/null || { echo "error: $tool missing: run scripts/install-deps.sh" >&2; exit 1; }
done
[ -f "$SF2" ] || { echo "error: $SF2 missing: run scripts/install-deps.sh" >&2; exit 1; }

# MOOD_NOIR_BIN: a mood-noir binary already built (the tests use the dev one); else release.
BIN="${MOOD_NOIR_BIN:-}"
if [ -z "$BIN" ]; then
  BIN=target/release/mood-noir
  cargo build --release --locked --quiet --bin mood-noir
fi
rm -rf "$OUT"
mkdir -p "$OUT/band" "$OUT/gm" "$OUT/png"
"$BIN" render --preset "$SCENE" --seconds "$LEN" --out "$OUT/band.wav" --midi "$OUT/band.mid" \
  --stems "$OUT/band" --quiet

# One MIDI file per instrument channel (tempo map and program changes kept), no dependencies.
python3 - "$OUT/band.mid" "$OUT/gm" <<'PY'
import struct, sys
src, out = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
assert data[:4] == b"MThd"
hlen = struct.unpack(">I", data[4:8])[0]
fmt, ntrk, div = struct.unpack(">HHH", data[8:14])
pos, tracks = 8 + hlen, []
while pos < len(data):
    tag, n = data[pos:pos + 4], struct.unpack(">I", data[pos + 4:pos + 8])[0]
    if tag == b"MTrk":
        tracks.append(data[pos + 8:pos + 8 + n])
    pos += 8 + n

def vlq(b, i):
    v = 0
    while True:
        c = b[i]; i += 1; v = (v << 7) | (c & 0x7F)
        if c < 0x80:
            return v, i

def enc(v):
    out = [v & 0x7F]
    v >>= 7
    while v:
        out.insert(0, 0x80 | (v & 0x7F)); v >>= 7
    return bytes(out)

def events(trk):
    i, t, run = 0, 0, None
    while i < len(trk):
        d, i = vlq(trk, i); t += d
        s = trk[i]
        if s == 0xFF:
            ln, j = vlq(trk, i + 2); ev = trk[i:j + ln]; i = j + ln; run = None
        elif s in (0xF0, 0xF7):
            ln, j = vlq(trk, i + 1); ev = trk[i:j + ln]; i = j + ln; run = None
        else:
            if s < 0x80:
                s = run; body_at = i
            else:
                run = s; body_at = i + 1
            n = 1 if (s & 0xF0) in (0xC0, 0xD0) else 2
            ev = bytes([s]) + trk[body_at:body_at + n]; i = body_at + n
        yield t, ev

allev = [e for trk in tracks for e in events(trk)]
# The keys stem is every keyboard together: the Rhodes (channel 2), the grand (5), the
# honky-tonk upright (8) and the prepared grand (9), as the band's keys stem is.
stems = {"bass": (0,), "keys": (1, 4, 7, 8), "lead": (2,), "pad": (3,), "drums": (9,)}
for name, chs in stems.items():
    keep = sorted((e for e in allev if e[1][0] == 0xFF and e[1][1] != 0x2F
                   or (e[1][0] < 0xF0 and e[1][0] & 0x0F in chs)), key=lambda e: e[0])
    body, last = b"", 0
    for t, ev in keep:
        body += enc(t - last) + ev; last = t
    body += b"\x00\xFF\x2F\x00"
    open(f"{out}/{name}.mid", "wb").write(
        b"MThd" + struct.pack(">IHHH", 6, 0, 1, div) + b"MTrk" + struct.pack(">I", len(body)) + body)
PY

printf "%-6s %14s %14s %16s %16s\n" stem "band RMS dB" "GM RMS dB" "band rough Hz" "GM rough Hz"
rows=()
for pair in 00:bass 01:drums 02:keys 03:lead 04:pad; do
  i="${pair%%:*}"; name="${pair#*:}"
  band="$OUT/band/$i-$name.wav"
  gm="$OUT/gm/$name.wav"
  fluidsynth -ni -q -g 0.5 -r 48000 -F "$gm" "$SF2" "$OUT/gm/$name.mid" >/dev/null 2>&1
  sox -V1 "$gm" "$OUT/gm/$name-trim.wav" pad 0 "$LEN" trim 0 "$LEN"
  for side in band gm; do
    f="$band"; [ "$side" = gm ] && f="$OUT/gm/$name-trim.wav"
    sox -V1 "$f" -n remix - spectrogram -x 720 -y 257 -z 90 -w Hann \
      -t "$name: $( [ "$side" = band ] && echo 'Mood Noir' || echo 'FluidR3 GM' )" \
      -o "$OUT/png/$name-$side.png"
  done
  stat() {
    local v
    v=$(sox -V1 "$1" -n remix - stat 2>&1 | awk -v k="$2" -F: '$1 ~ k {gsub(/ /,"",$2); print $2}')
    case "$v" in ""|-*) echo "-" ;; *) echo "$v" ;; esac
  }
  db() { python3 -c "import math,sys; v=float(sys.argv[1]); print(f'{20*math.log10(max(v,1e-9)):.1f}')" "$1"; }
  printf "%-6s %14s %14s %16s %16s\n" "$name" "$(db "$(stat "$band" 'RMS     amplitude')")" \
    "$(db "$(stat "$OUT/gm/$name-trim.wav" 'RMS     amplitude')")" \
    "$(stat "$band" 'Rough   frequency')" "$(stat "$OUT/gm/$name-trim.wav" 'Rough   frequency')"
  rows+=("$OUT/png/$name-band.png" "$OUT/png/$name-gm.png")
done
# Onsets, attack and decay per stem (`mood-noir measure`): the same notes, two instruments.
echo
printf "%-6s %11s %11s %12s %12s %12s %12s\n" stem "band ons/s" "GM ons/s" \
  "band att ms" "GM att ms" "band dec ms" "GM dec ms"
for pair in 00:bass 01:drums 02:keys 03:lead 04:pad; do
  i="${pair%%:*}"; name="${pair#*:}"
  "$BIN" measure "$OUT/band/$i-$name.wav" "$OUT/gm/$name-trim.wav" | awk -v n="$name" '
    NR == 2 { bo = $4; ba = $5; bd = $6 }
    NR == 3 { printf "%-6s %11s %11s %12s %12s %12s %12s\n", n, bo, $4, ba, $5, bd, $6 }'
done
montage "${rows[@]}" -tile 2x -geometry +4+4 -background '#111' "$OUT/compare.png"
echo "wrote $OUT/compare.png (left: Mood Noir stems, right: the same MIDI through FluidR3 GM)"
