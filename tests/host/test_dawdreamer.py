"""The release VST3 bundle in DawDreamer (a JUCE host from PyPI): load, play at two host
tempos and follow them, save the plugin's state and reopen it in a new engine (the same values,
the same music), no input connected (a disconnected sidechain), clean output throughout."""

import pathlib

import dawdreamer as daw
import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
VST3 = ROOT / "target" / "bundled" / "mood_noir.vst3"
SR = 48000
BLOCK = 512


def make(bpm=120.0, block=BLOCK):
    assert VST3.exists(), f"{VST3} missing: run `cargo xtask bundle mood_noir --release`"
    engine = daw.RenderEngine(SR, block)
    engine.set_bpm(bpm)
    synth = engine.make_plugin_processor("noir", str(VST3))
    return engine, synth


def params(synth):
    return {p["name"]: p["index"] for p in synth.get_parameters_description()}


def set_params(synth, values):
    idx = params(synth)
    for name, v in values.items():
        synth.set_parameter(idx[name], v)


def play(engine, synth, seconds):
    engine.load_graph([(synth, [])])
    assert engine.render(seconds)
    audio = engine.get_audio()
    assert audio.shape[0] == 2 and audio.shape[1] >= int(seconds * SR) - BLOCK, audio.shape
    assert np.all(np.isfinite(audio)), "NaN/Inf in the output"
    assert float(np.max(np.abs(audio))) < 1.0
    return audio


def rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def beat_period(audio, lo_bpm=50.0, hi_bpm=240.0):
    """The strongest periodicity of the onset envelope (10 ms frames), in seconds."""
    mono = audio.mean(axis=0)
    hop = SR // 100
    frames = mono[: len(mono) // hop * hop].reshape(-1, hop)
    env = np.log1p(1e3 * np.sqrt(np.mean(frames**2, axis=1)))
    onset = np.maximum(np.diff(env), 0.0)
    onset -= onset.mean()
    ac = np.correlate(onset, onset, mode="full")[len(onset) - 1 :]
    lags = np.arange(len(ac)) / 100.0
    ok = (lags >= 60.0 / hi_bpm) & (lags <= 60.0 / lo_bpm)
    return float(lags[ok][np.argmax(ac[ok])])


def octave_ratio(a, b):
    """a / b folded into [1/sqrt2, sqrt2) by powers of two."""
    r = a / b
    while r >= 2**0.5:
        r /= 2
    while r < 2**-0.5:
        r *= 2
    return r


def test_loads_and_plays_clean_at_two_tempos_and_follows_the_host():
    periods = {}
    for bpm in (90.0, 135.0):
        engine, synth = make(bpm)
        # Tempo mode: Host (the first choice); the band on a steady mood.
        set_params(synth, {"Tempo mode": 0.0})
        audio = play(engine, synth, 24.0)
        level = rms(audio[:, SR * 2 :])
        assert level > 1e-3, f"{bpm} BPM: silent ({level})"
        periods[bpm] = beat_period(audio[:, SR * 2 :])
        print(f"{bpm} BPM: rms {20 * np.log10(level):.1f} dBFS, "
              f"strongest period {periods[bpm]:.3f} s ({60 / periods[bpm]:.1f} BPM)")
    # The music follows the host: the periodicity scales with the host tempo (up to octaves).
    want = 135.0 / 90.0
    got = periods[90.0] / periods[135.0]
    assert abs(octave_ratio(got, want) - 1.0) < 0.06, (got, want)


def test_state_saved_and_reopened_in_a_new_engine_plays_the_same(tmp_path):
    engine, synth = make(100.0)
    chosen = {"Valence": 0.2, "Arousal": 0.7, "Tension": 0.8, "Swing": 0.4, "Reverb": 0.3,
              "Tempo mode": 0.0}
    set_params(synth, chosen)
    first = play(engine, synth, 6.0)
    path = tmp_path / "noir.state"
    synth.save_state(str(path))
    assert path.exists() and path.stat().st_size > 100
    before = {name: synth.get_parameter(i) for name, i in params(synth).items()}

    engine2, synth2 = make(100.0)
    synth2.load_state(str(path))
    after = {name: synth2.get_parameter(i) for name, i in params(synth2).items()}
    for name in chosen:
        assert abs(after[name] - before[name]) < 1e-6, (name, before[name], after[name])
    assert after == pytest.approx(before, abs=1e-6)
    again = play(engine2, synth2, 6.0)
    n = min(first.shape[1], again.shape[1])
    diff = float(np.max(np.abs(first[:, :n] - again[:, :n])))
    print(f"reopened: max difference {diff:.2e}, rms {rms(again):.4f}")
    assert rms(again) > 1e-3
    assert diff < 1e-5, f"the reopened session plays different music (max diff {diff})"


def test_no_input_connected_and_odd_block_sizes_play_clean():
    # The sidechain as the mood source with nothing connected, at a block size hosts rarely use.
    engine, synth = make(120.0, block=37)
    idx = params(synth)
    desc = {p["name"]: p for p in synth.get_parameters_description()}
    print("Mood source:", desc["Mood source"])
    synth.set_parameter(idx["Mood source"], 1.0)  # the last choice: Sidechain
    synth.set_parameter(idx["Follow amount"], 1.0)
    audio = play(engine, synth, 6.0)
    assert rms(audio[:, SR:]) > 1e-3
