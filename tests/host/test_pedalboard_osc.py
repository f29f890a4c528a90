"""The release VST3 in pedalboard, driven over OSC with python-osc (an outside client).

pedalboard drops and re-creates the plugin object while loading and on every reset, so the
OSC server must belong to the instance that plays (osc.md, "Ports and several instances"):
render, reset, render again, and a message sent to the configured port must still move the
instance that plays. `reset=False` keeps one live instance across render calls, so OSC sent
between chunks reaches the instance that renders them.
"""

import json
import pathlib
import re
import socket
import struct
import time

import numpy as np
import pedalboard
import pytest
from pythonosc.udp_client import SimpleUDPClient

ROOT = pathlib.Path(__file__).resolve().parents[2]
VST3 = ROOT / "target" / "bundled" / "mood_noir.vst3"
SR = 48000


def free_port():
    for _ in range(200):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        if p < 60000:
            return p
    raise RuntimeError("no free port")


# pedalboard's raw_state for a VST3: b"VC2!" + u32 length + JUCE XML whose <IComponent> holds
# the plugin's state (nice-plug's JSON) in JUCE's MemoryBlock base64 ("<size>.<chars>", 6 bits
# per char, least significant bits first).
JUCE64 = ".ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+"


def juce_decode(s):
    size, enc = s.split(".", 1)
    acc = 0
    for i, ch in enumerate(enc):
        acc |= JUCE64.index(ch) << (6 * i)
    return acc.to_bytes((6 * len(enc) + 7) // 8, "little")[: int(size)]


def juce_encode(b):
    acc = int.from_bytes(b, "little")
    n = (len(b) * 8 + 5) // 6
    return f"{len(b)}." + "".join(JUCE64[(acc >> (6 * i)) & 63] for i in range(n))


def get_doc(raw):
    xml = bytes(raw)[8:].decode()
    m = re.search(r"<IComponent>([^<]*)</IComponent>", xml)
    return json.loads(juce_decode(m.group(1)))


def with_doc(raw, doc):
    raw = bytes(raw)
    xml = raw[8:].decode()
    blob = juce_encode(json.dumps(doc).encode())
    xml = re.sub(r"<IComponent>[^<]*</IComponent>", f"<IComponent>{blob}</IComponent>", xml)
    body = xml.encode()
    return raw[:4] + struct.pack("<I", len(body)) + body


def rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def load_on_port(port, cue_folder=None):
    """The plugin with its OSC server configured to `port` through the persisted state (the
    `osc-config` field, as a session carries it; `cue_folder` allows network cue loads from
    there), Mood source Light, mood-driven tempo."""
    p = pedalboard.load_plugin(str(VST3))
    doc = get_doc(p.raw_state)
    cfg = {"port": port}
    if cue_folder is not None:
        cfg["cue_folder"] = str(cue_folder)
    doc["fields"]["osc-config"] = json.dumps(cfg)
    p.raw_state = with_doc(p.raw_state, doc)
    p.mood_source = "Light"
    p.follow_amount = 1.0
    p.tempo_mode = "Mood-driven"
    return p


def render(p, seconds, reset):
    return p([], duration=seconds, sample_rate=SR, num_channels=2, reset=reset)


def chunked(p, client, seconds, chunk, send):
    """Renders `seconds` in chunks with reset=False, calling send(client, i) before chunk i."""
    out = []
    for i in range(int(seconds / chunk)):
        if send:
            send(client, i)
            time.sleep(0.02)  # let the network thread queue it before the next chunk
        out.append(render(p, chunk, reset=False))
    return np.concatenate(out, axis=1)


def tense(client, i):
    client.send_message("/light/intensity", 0.05)
    client.send_message("/light/flicker", 1.0)
    client.send_message("/light/contrast", 1.0)
    client.send_message("/light/rgb", [0.1, 0.9, 0.2])
    client.send_message("/mood/arousal", 0.95)
    if i % 4 == 0:
        client.send_message("/light/hit", 1.0)


def test_osc_moves_the_instance_that_plays_across_resets():
    assert VST3.exists(), f"{VST3} missing: run `cargo xtask bundle mood_noir --release`"
    port = free_port()
    client = SimpleUDPClient("127.0.0.1", port)

    # Reference: no OSC.
    p = load_on_port(port)
    render(p, 0.1, reset=True)
    calm = chunked(p, client, 8.0, 0.5, None)
    del p

    p = load_on_port(port)
    # Render, reset (pedalboard drops the instance and makes a new one), render again.
    render(p, 0.5, reset=True)
    p.reset()
    render(p, 0.5, reset=True)
    # Now one live instance: OSC sent to the configured port between chunks must move it.
    driven = chunked(p, client, 8.0, 0.5, tense)
    assert np.all(np.isfinite(driven))
    diff = rms(driven - calm)
    print(f"rms calm {rms(calm):.4f} driven {rms(driven):.4f} diff {diff:.4f}")
    assert diff > 0.2 * rms(calm), "OSC on the configured port moved the playing instance"
    # The state of the live instance remembers no fallback port: it holds the configured one.
    cfg = json.loads(get_doc(p.raw_state)["fields"]["osc-config"])
    assert cfg["port"] == port and cfg.get("remembered_port") is None, cfg


def test_a_cue_sheet_loaded_over_osc_persists_in_the_state(tmp_path):
    assert VST3.exists()
    port = free_port()
    client = SimpleUDPClient("127.0.0.1", port)
    sheet = tmp_path / "scene.json"
    sheet.write_text(json.dumps({"cues": [
        {"name": "alley", "at": 0, "intensity": 0.1, "contrast": 0.95, "flicker": 0.7}]}))
    p = load_on_port(port, cue_folder=tmp_path)
    render(p, 0.2, reset=False)
    # A file name inside the cue folder the session allows.
    client.send_message("/noir/cues/load", sheet.name)
    time.sleep(0.1)
    render(p, 0.2, reset=False)
    state = bytes(p.raw_state)
    doc = get_doc(state)
    cue = json.loads(doc["fields"]["cue-sheet"])
    assert pathlib.Path(cue["path"]).resolve() == sheet.resolve()
    assert "alley" in cue["text"]
    # The sheet travels with the state: a fresh instance (another machine) plays it without
    # the file.
    sheet.unlink()
    q = pedalboard.load_plugin(str(VST3))
    q.raw_state = state
    out = render(q, 4.0, reset=True)
    assert np.all(np.isfinite(out)) and rms(out) > 1e-4
    # The same state without the sheet plays differently (the sheet was in use).
    doc["fields"]["cue-sheet"] = "null"
    plain_state = with_doc(state, doc)
    r = pedalboard.load_plugin(str(VST3))
    r.raw_state = plain_state
    plain = render(r, 4.0, reset=True)
    assert rms(out - plain) > 0.05 * rms(plain)
