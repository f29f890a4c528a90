"""Loudness and peaks of the release renderer, measured with outside meters (pyloudnorm,
ITU-R BS.1770-4, and ffmpeg's EBU R 128 meter with its 4x-oversampled true peak): about
-18 LUFS integrated at the neutral mood, sample peaks never above -1 dBFS and true peaks
never above -1 dBTP in any factory scene."""

import pathlib
import re
import subprocess

import numpy as np
import pyloudnorm
import pytest
import soundfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLI = ROOT / "target" / "release" / "mood-noir"
SCENES = ["rain-soaked-alley", "smoky-office", "neon-chase", "dawn-confession",
          "interrogation", "blackout", "stakeout", "after-hours-club",
          "stalled-lift", "wet-boulevard"]


def render_file(tmp_path, name, *args, seconds=40):
    assert CLI.exists(), f"{CLI} missing: run `cargo xtask bundle mood_noir --release`"
    out = tmp_path / f"{name}.wav"
    subprocess.run([str(CLI), "render", "--seconds", str(seconds), "--quiet", "--out", str(out), *args],
                   check=True)
    return out


def render(tmp_path, name, *args, seconds=40):
    audio, sr = soundfile.read(render_file(tmp_path, name, *args, seconds=seconds))
    return audio, sr


def ffmpeg_true_peak_dbtp(path):
    """The true peak ffmpeg's ebur128 filter reports (4x oversampled, BS.1770)."""
    p = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af",
                        "ebur128=peak=true", "-f", "null", "-"], capture_output=True, text=True,
                       check=True)
    m = re.search(r"True peak:\s*Peak:\s*(-?[\d.]+|-inf) dBFS", p.stderr)
    assert m, p.stderr[-2000:]
    return float(m.group(1))


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


@pytest.mark.parametrize("scene", SCENES)
def test_scene_true_peaks_stay_under_minus_1_dbtp(tmp_path, scene):
    path = render_file(tmp_path, f"tp-{scene}", "--preset", scene, seconds=30)
    tp = ffmpeg_true_peak_dbtp(path)
    print(f"{scene}: true peak {tp:.2f} dBTP")
    assert tp <= -1.0, f"{scene}: {tp:.2f} dBTP"
