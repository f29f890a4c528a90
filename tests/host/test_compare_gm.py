"""scripts/compare-gm.sh end to end: a scene rendered by the band (its stems) and the band's
own MIDI through the FluidR3 General MIDI soundfont (fluidsynth), with a spectrogram of each
instrument side by side in one PNG, a table of loudness and rough pitch per stem, and a table of
onsets per second, attack and decay per stem (`mood-noir measure`)."""

import os
import pathlib
import re
import subprocess

from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = ROOT / "target" / "debug" / "mood-noir"


def test_compare_gm_renders_both_sides_and_draws_them(tmp_path):
    assert BIN.exists(), f"{BIN} missing: cargo test builds it"
    env = dict(os.environ, MOOD_NOIR_BIN=str(BIN))
    out = tmp_path / "cmp"
    run = subprocess.run(
        [str(ROOT / "scripts" / "compare-gm.sh"), "rain-soaked-alley", "8", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    print(run.stdout, run.stderr)
    assert run.returncode == 0, run.stderr
    rows, dyn = {}, {}
    for line in run.stdout.splitlines():
        cols = line.split()
        if not cols or cols[0] not in ("bass", "drums", "keys", "lead", "pad"):
            continue
        if len(cols) == 5:
            m = re.match(r"\S+\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(\S+)\s+(\S+)", line)
            assert m, line
            rows[cols[0]] = [float(m.group(1)), float(m.group(2)), m.group(3), m.group(4)]
        elif len(cols) == 7:
            # stem, band/GM onsets per second, band/GM attack ms, band/GM decay ms ("-": none)
            dyn[cols[0]] = cols[1:]
    assert set(rows) == {"bass", "drums", "keys", "lead", "pad"}, run.stdout
    assert set(dyn) == {"bass", "drums", "keys", "lead", "pad"}, run.stdout
    # Both sides play notes the onset detector finds: the rhythm section has onsets through the
    # band and through FluidR3, and each found note has an attack time.
    for stem in ("bass", "drums", "keys"):
        band_ons, gm_ons, band_att, gm_att = dyn[stem][:4]
        assert float(band_ons) > 0 and float(gm_ons) > 0, (stem, dyn[stem])
        assert band_att != "-" and gm_att != "-", (stem, dyn[stem])
    # The GM side really rendered: the rhythm section sounds through FluidR3.
    for stem in ("bass", "drums", "keys"):
        assert rows[stem][1] > -70, (stem, rows[stem])
        assert rows[stem][0] > -70, (stem, rows[stem])
    img = Image.open(out / "compare.png")
    w, h = img.size
    assert w > 1200 and h > 5 * 300, img.size
    for stem in rows:
        for side in ("band", "gm"):
            assert (out / "png" / f"{stem}-{side}.png").exists()
