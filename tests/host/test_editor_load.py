"""The editor's load-by-path field, driven for real: the standalone under Xvfb, typed into and
pasted into with xdotool, screenshotted with ImageMagick.

editor-load-missing-file-shows-an-error: typing the path of a file that does not exist and
pressing Enter shows a red line under the field, and the light panel's palette stays empty.

editor-load-still-by-uri: typing a still's `file://` URI (percent-encoded space) and Enter
loads it off the GUI thread: within a few seconds the palette swatches and the lamp take the
still's colour (a solid magenta PNG made here).

editor-load-still-by-paste: a file manager's "copy" (a text/uri-list of two files, CRLF
lines, a comment) put on the X clipboard by a small Tk helper, pasted with Ctrl+V into the
field (egui-baseview turns the paste into text input) and loaded with Enter: the palette
takes the FIRST file's colour (teal), not the second's.

Screenshots land in target/screenshots/editor-load-*.png.
"""

import os
import pathlib
import subprocess
import sys
import time

import pytest
from PIL import Image

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from test_editor_screenshot import (  # noqa: E402  (the shared Xvfb fixture and helpers)
    DEFAULT_SIZE,
    OUT,
    display,  # noqa: F401  (a fixture, used by name)
    find_window,
    grab,
    need,
    pixels,
    standalone,
)

MAGENTA = (200, 40, 170)
TEAL = (30, 170, 150)
ORANGE = (240, 140, 20)


def geometry(w, h):
    """Where the layout (src/editor/layout.rs) puts the pieces at a w x h window: the load
    field, the palette strip and the status line under the field (window coordinates)."""
    bottom_h = min(max((h - 20) * 0.27, 150.0), 240.0)
    bottom_top = h - 10 - bottom_h
    light_w = max((w - 20) * 0.44, 340.0)
    cue_left = 10 + light_w + 8
    return {
        "field": (int(cue_left + 80), int(bottom_top + 43)),
        "palette": (int(10 + 10 + 58 + 14), int(bottom_top + 30), int(10 + light_w - 14), int(bottom_top + 42)),
        "status": (int(cue_left + 10), int(bottom_top + 59), int(w - 20), int(bottom_top + 76)),
    }


def mean(img):
    data = pixels(img)
    return [sum(c[i] for c in data) / len(data) for i in range(3)]


def near(rgb, want, tol=24):
    return all(abs(a - b) <= tol for a, b in zip(rgb, want))


@pytest.fixture(scope="module")
def stills(tmp_path_factory):
    d = tmp_path_factory.mktemp("stills")
    paths = {}
    for name, colour in [("noir still", MAGENTA), ("rain street", TEAL), ("second", ORANGE)]:
        p = d / f"{name}.png"
        Image.new("RGB", (64, 48), colour).save(p)
        paths[name] = p
    return paths


@pytest.fixture(scope="module")
def session(display):  # noqa: F811
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
        time.sleep(2.0)
        assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
        yield env, window
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def xdo(env, *args):
    need("xdotool")
    subprocess.run(["xdotool", *args], env=env, check=True)


def enter_in_field(env, window, keys):
    """Clicks the load field, selects what is in it, runs `keys` (a function that types or
    pastes), presses Enter."""
    x, y = geometry(*DEFAULT_SIZE)["field"]
    xdo(env, "mousemove", "--window", window, str(x), str(y), "click", "1")
    time.sleep(0.3)
    xdo(env, "key", "ctrl+a")
    keys()
    time.sleep(0.3)
    xdo(env, "key", "Return")


def wait_for_palette(env, window, want, shot, timeout=8.0):
    box = geometry(*DEFAULT_SIZE)["palette"]
    deadline = time.time() + timeout
    while True:
        img = grab(env, window, OUT / shot)
        got = mean(img.crop(box))
        if near(got, want) or time.time() > deadline:
            return img, got
        time.sleep(0.4)


def test_editor_load_missing_file_shows_an_error(session, stills):
    env, window = session
    missing = stills["noir still"].parent / "no such frame.png"
    enter_in_field(env, window, lambda: xdo(env, "type", "--delay", "8", str(missing)))
    time.sleep(1.5)
    img = grab(env, window, OUT / "editor-load-error.png")
    status = img.crop(geometry(*DEFAULT_SIZE)["status"])
    red = sum(1 for r, g, b in pixels(status) if r > 180 and g < 110 and b < 120)
    assert red > 30, f"only {red} red pixels under the field: no error shown"
    got = mean(img.crop(geometry(*DEFAULT_SIZE)["palette"]))
    assert not near(got, MAGENTA), "a palette appeared although nothing loaded"


def test_editor_load_still_by_uri(session, stills):
    env, window = session
    uri = "file://" + str(stills["noir still"]).replace(" ", "%20")
    enter_in_field(env, window, lambda: xdo(env, "type", "--delay", "8", uri))
    img, got = wait_for_palette(env, window, MAGENTA, "editor-load-uri.png")
    assert near(got, MAGENTA), f"palette strip is {got}, expected about {MAGENTA}"


TK_CLIPBOARD = r"""
import sys, tkinter
root = tkinter.Tk()
root.withdraw()
root.clipboard_clear()
root.clipboard_append(sys.stdin.read())
root.update()
print("ready", flush=True)
root.after(int(sys.argv[1]), root.destroy)
root.mainloop()
"""


def test_editor_load_still_by_paste(session, stills):
    env, window = session
    try:
        import tkinter  # noqa: F401
    except ImportError:
        pytest.skip("tkinter missing: no way to own the X clipboard here")
    uri_list = (
        "# copied by a file manager\r\n"
        + "file://" + str(stills["rain street"]).replace(" ", "%20") + "\r\n"
        + "file://" + str(stills["second"]) + "\r\n"
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", TK_CLIPBOARD, "15000"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        owner.stdin.write(uri_list)
        owner.stdin.close()
        assert owner.stdout.readline().strip() == "ready"
        enter_in_field(env, window, lambda: xdo(env, "key", "ctrl+v"))
        img, got = wait_for_palette(env, window, TEAL, "editor-load-paste.png")
        assert not near(got, ORANGE), "the paste loaded the second file, not the first"
        assert near(got, TEAL), f"palette strip is {got}, expected about {TEAL}"
    finally:
        owner.terminate()
        owner.wait(timeout=10)
