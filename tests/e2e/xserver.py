"""A private X display for headful browsers: Xvfb on a free display number, openbox as the window
manager (so a browser window takes the focus and real key presses from xdotool reach it), and
screenshots of the whole screen (browser chrome included, which a page screenshot leaves out)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from e2e_support import require_tool

SCREEN = (1280, 900)
SCREEN_SPEC = f"{SCREEN[0]}x{SCREEN[1]}x24"


@dataclass
class Display:
    name: str
    """e.g. ``":93"``, for ``DISPLAY``."""

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env["DISPLAY"] = self.name
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def grab(self, path: Path | None = None):
        """The whole screen as a PIL image (saved to ``path`` when given)."""
        from PIL import ImageGrab

        image = ImageGrab.grab(xdisplay=self.name)
        if path is not None:
            image.save(path)
        return image

    def xdotool(self, *args: str, timeout: float = 20) -> str:
        proc = subprocess.run(
            [require_tool("xdotool"), *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return proc.stdout

    def focus(self, window_class: str, timeout: float = 30) -> str:
        """Activate the (first visible) window of ``window_class``; → its window id."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ids = self.xdotool("search", "--onlyvisible", "--class", window_class).split()
            if ids:
                self.xdotool("windowactivate", "--sync", ids[-1])
                return ids[-1]
            time.sleep(0.2)
        msg = f"no visible {window_class} window on {self.name}"
        raise AssertionError(msg)

    def keys(self, combo: str) -> None:
        """A real key press, as a person types it, to the focused window."""
        self.xdotool("key", "--clearmodifiers", combo)


@contextlib.contextmanager
def x_display():
    """Start Xvfb (on the first free display from :90) and openbox; stop both after."""
    xvfb_exe = require_tool("Xvfb")
    openbox_exe = require_tool("openbox")
    # -displayfd: Xvfb picks a free display itself and writes its number (no race with others).
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [xvfb_exe, "-displayfd", str(write_end), "-screen", "0", SCREEN_SPEC, "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    number = b""
    with os.fdopen(read_end, "rb") as pipe:
        while not number.endswith(b"\n"):
            chunk = pipe.read(1)
            if not chunk:
                break
            number += chunk
    assert number.strip().isdigit(), f"Xvfb did not start (exit status {proc.poll()})"
    name = f":{number.decode().strip()}"
    display = Display(name)
    wm = subprocess.Popen(
        [openbox_exe], env=display.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield display
    finally:
        for child in (wm, proc):  # only the processes started here
            child.terminate()
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
