"""Loudness and peaks of the release renderer, measured with an outside meter (pyloudnorm,
ITU-R BS.1770-4): about -18 LUFS integrated at the neutral mood, true sample peaks never above
-1 dBFS in any factory scene."""

import pathlib
import subprocess

import numpy as np
import pyloudnorm
import pytest
import soundfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLI = ROOT / "target" / "release" / "mood-noir"
SCENES = ["rain-soaked-alley", "smoky-office", "neon-chase", "dawn-confession",
          "interrogation", "blackout", "stakeout", "after-hours-club"]


def render(tmp_path, name, *args, seconds=40):
    assert CLI.exists(), f"{CLI} missing: run `cargo xtask bundle mood_noir --release`"
    out = tmp_path / f"{name}.wav"
    subprocess.run([str(CLI), "render", "--seconds", str(seconds), "--quiet", "--out", str(out), *args],
                   check=True)
    audio, sr = soundfile.read(out)
    return audio, sr


def test_neutral_mood_is_about_minus_18_lufs(tmp_path):
    audio, sr = render(tmp_path, "neutral", seconds=60)
    lufs = pyloudnorm.Meter(sr).integrated_loudness(audio)
    print(f"neutral: {lufs:.1f} LUFS")
    assert -20.0 < lufs < -16.0, lufs


@pytest.mark.parametrize("scene", SCENES)
def test_scene_peaks_stay_under_minus_1_dbfs(tmp_path, scene):
    audio, sr = render(tmp_path, scene, "--preset", scene)
    peak_db = 20 * np.log10(np.max(np.abs(audio)) + 1e-12)
    lufs = pyloudnorm.Meter(sr).integrated_loudness(audio)
    print(f"{scene}: {lufs:.1f} LUFS, peak {peak_db:.2f} dBFS")
    assert peak_db <= -1.0 + 0.01, peak_db
    assert lufs > -30.0, f"{scene} is nearly silent ({lufs:.1f} LUFS)"
