"""The editor, opened for real: the standalone under Xvfb with its egui editor, screenshotted.

editor-screenshot-default-size: the standalone (`--backend dummy`, no audio device) opens its
editor window "Mood Noir" on a private Xvfb display; after a few frames ImageMagick's `import`
grabs the window. Passing means the picture is the editor and not a blank or half-drawn
window: hundreds of distinct colours, the near-black noir background dominating but not
everything, amber accent pixels, light text pixels, and the mood pad present where the layout
puts it (its gradient is tinted red toward "dread" at the top-left and blue toward "rain" at the
bottom-left).

editor-screenshot-smallest-size: the same window resized with xdotool to the smallest size the
editor allows (820 x 560) still draws every panel (same checks, pad included).

Screenshots land in target/screenshots/; with MOOD_NOIR_UPDATE_DOCS=1 the default-size one is
copied to docs/editor.png (the README's picture).
"""

import os
import pathlib
import shutil
import subprocess
import time

import pytest
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "target" / "screenshots"
TITLE = "Mood Noir"
MIN_SIZE = (820, 560)
DEFAULT_SIZE = (1000, 660)


def standalone():
    env = os.environ.get("MOOD_NOIR_STANDALONE")
    candidates = [pathlib.Path(env)] if env else []
    candidates += [
        ROOT / "target" / "release" / "mood_noir_standalone",
        ROOT / "target" / "debug" / "mood_noir_standalone",
    ]
    found = [c for c in candidates if c.exists()]
    assert found, "no standalone: run `cargo xtask bundle mood_noir --release` (or cargo build)"
    # The newest build wins (a stale release binary must not hide a fresh debug one).
    return max(found, key=lambda c: c.stat().st_mtime) if not env else found[0]


def need(tool):
    path = shutil.which(tool)
    assert path, f"{tool} missing: scripts/install-deps.sh installs it"
    return path


@pytest.fixture(scope="module")
def display():
    need("Xvfb")
    r, w = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(w), "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
        pass_fds=(w,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(w)
    number = b""
    deadline = time.time() + 20
    while not number.endswith(b"\n") and time.time() < deadline:
        chunk = os.read(r, 16)
        if not chunk:
            break
        number += chunk
    os.close(r)
    assert number.strip(), "Xvfb did not report a display"
    yield f":{number.decode().strip()}"
    xvfb.terminate()
    xvfb.wait(timeout=10)


def find_window(env, timeout=30.0):
    need("xdotool")
    deadline = time.time() + timeout
    while time.time() < deadline:
        res = subprocess.run(
            ["xdotool", "search", "--name", f"^{TITLE}$"],
            env=env,
            capture_output=True,
            text=True,
        )
        ids = res.stdout.split()
        if ids:
            return ids[0]
        time.sleep(0.25)
    raise AssertionError(f"no window named {TITLE!r} appeared")


def grab(env, window, path):
    need("import")
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["import", "-window", window, str(path)], env=env, check=True)
    return Image.open(path).convert("RGB")


@pytest.fixture(scope="module")
def editor(display):
    env = dict(os.environ, DISPLAY=display)
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.Popen(
        [str(standalone()), "--backend", "dummy", "--period-size", "512"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        window = find_window(env)
        time.sleep(4.0)  # let the band play a few bars so chord, meters and trail are live
        assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
        yield env, window
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def pixels(img):
    """The image's (r, g, b) tuples."""
    raw = img.tobytes()
    return [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]


def check_picture(img, size):
    w, h = img.size
    assert (w, h) == size, f"window is {w}x{h}, expected {size}"
    px = pixels(img.resize((w // 2, h // 2), Image.NEAREST))
    distinct = len(set(px))
    assert distinct > 300, f"only {distinct} colours: a blank or half-drawn window"
    dark = sum(1 for r, g, b in px if r < 40 and g < 40 and b < 48) / len(px)
    assert 0.35 < dark < 0.97, f"{dark:.0%} of the window is near-black"
    amber = sum(1 for r, g, b in px if r > 190 and 120 < g < 200 and b < 120)
    assert amber > 40, f"only {amber} amber pixels: headings and accents missing"
    light = sum(1 for r, g, b in px if r > 200 and g > 195 and b > 180)
    assert light > 150, f"only {light} light pixels: no text"
    # The mood pad: left column, below the title bar, above the bottom panels. Its gradient
    # is red at the top-left and blue at the bottom-left.
    pad_top = img.crop((int(w * 0.04), int(h * 0.19), int(w * 0.12), int(h * 0.30)))
    pad_bottom = img.crop((int(w * 0.04), int(h * 0.52), int(w * 0.12), int(h * 0.60)))

    def mean(im):
        data = pixels(im)
        return [sum(c[i] for c in data) / len(data) for i in range(3)]

    tr, _, tb = mean(pad_top)
    br, _, bb = mean(pad_bottom)
    assert tr > tb + 4, f"pad top-left is not tinted red (r {tr:.0f}, b {tb:.0f})"
    assert bb > br + 2, f"pad bottom-left is not tinted blue (r {br:.0f}, b {bb:.0f})"


def test_editor_screenshot_default_size(editor):
    env, window = editor
    img = grab(env, window, OUT / "editor.png")
    check_picture(img, DEFAULT_SIZE)
    if os.environ.get("MOOD_NOIR_UPDATE_DOCS") == "1":
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copy(OUT / "editor.png", ROOT / "docs" / "editor.png")


def test_editor_screenshot_smallest_size(editor):
    env, window = editor
    subprocess.run(
        ["xdotool", "windowsize", window, str(MIN_SIZE[0]), str(MIN_SIZE[1])],
        env=env,
        check=True,
    )
    time.sleep(2.0)
    img = grab(env, window, OUT / "editor-min.png")
    check_picture(img, MIN_SIZE)
