"""A desktop for headful browser tests: Xvfb (its own display, chosen by the server), the openbox
window manager, a D-Bus session bus and the dunst notification daemon, so a browser shows real
windows, menus and system notifications, and a test uses them the way a person does: real key
presses and mouse clicks through xdotool, and screenshots of the whole screen.

Nothing here calls into the extension: what a test learns, it learns from the screen, from the
notification daemon (what it was asked to show, recorded by dunst's own ``script`` hook) and from
the files the helper wrote.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from e2e_support import require_tool

#: What every headful test needs; tests/setup.sh installs them (xvfb, xdotool, openbox, dunst).
TOOLS = ("Xvfb", "xdotool", "openbox", "dunst", "dbus-daemon")
SCREEN = (1280, 900)

#: The toolbar icon's blue (extension/icons), and how far an anti-aliased edge may stray from it.
ICON_RGB = (0x4D, 0x6B, 0xFE)
ICON_TOLERANCE = 40

DUNSTRC = """\
[global]
    monitor = 0
    follow = none
    width = 380
    height = 300
    origin = top-right
    offset = 16x60
    notification_limit = 5
    font = Noto Sans 10
    markup = full
    format = "<b>%s</b>\\n%b"
    alignment = left
    word_wrap = yes
    icon_position = left
    min_icon_size = 32
    max_icon_size = 48
    frame_width = 1
    frame_color = "#c8ced6"
    separator_color = frame
    corner_radius = 6
    padding = 10
    horizontal_padding = 12
    mouse_left_click = do_action, close_current
    mouse_right_click = close_current
    show_indicators = no

[urgency_low]
    background = "#ffffff"
    foreground = "#1f2328"
    timeout = 0

[urgency_normal]
    background = "#ffffff"
    foreground = "#1f2328"
    timeout = 0

[urgency_critical]
    background = "#ffffff"
    foreground = "#1f2328"
    timeout = 0

[record]
    appname = "*"
    script = {script}
"""

RECORDER = """\
#!/bin/sh
# dunst runs this for every notification it shows: appname summary body icon urgency.
b64() {{ printf '%s' "$1" | base64 -w0; }}
printf '%s %s %s\\n' "$(b64 "$2")" "$(b64 "$3")" "$(b64 "$1")" >> "{log}"
"""


@dataclass(frozen=True)
class Notification:
    app: str
    title: str
    body: str


class Desktop:
    """One X display with a window manager, a session bus and a notification daemon."""

    def __init__(self, folder: Path):
        for tool in TOOLS:
            require_tool(tool)
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._procs: list[subprocess.Popen] = []
        read_fd, write_fd = os.pipe()
        self._start(
            [
                "Xvfb",
                "-displayfd",
                str(write_fd),
                "-screen",
                "0",
                f"{SCREEN[0]}x{SCREEN[1]}x24",
                "-nolisten",
                "tcp",
                "-noreset",
            ],
            pass_fds=(write_fd,),
        )
        os.close(write_fd)
        number = b""
        deadline = time.monotonic() + 30
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            chunk = os.read(read_fd, 16)
            if not chunk:
                break
            number += chunk
        os.close(read_fd)
        if not number.strip():
            self.close()
            msg = "Xvfb did not report a display"
            raise RuntimeError(msg)
        self.display = f":{number.decode().strip()}"
        self.env = dict(os.environ, DISPLAY=self.display)
        self.env.pop("WAYLAND_DISPLAY", None)
        bus = self._start(
            ["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
            stdout=subprocess.PIPE,
        )
        self.env["DBUS_SESSION_BUS_ADDRESS"] = bus.stdout.readline().decode().strip()
        self._start(["openbox", "--sm-disable"])
        self.notifications_log = folder / "notifications.log"
        recorder = folder / "record-notification.sh"
        recorder.write_text(RECORDER.format(log=self.notifications_log))
        recorder.chmod(0o755)
        rc = folder / "dunstrc"
        rc.write_text(DUNSTRC.format(script=recorder))
        self._start(["dunst", "-config", str(rc)])
        self._wait_for_window_manager()

    def _start(self, argv: list[str], **kw) -> subprocess.Popen:
        kw.setdefault("stdout", subprocess.DEVNULL)
        proc = subprocess.Popen(
            argv,
            env=getattr(self, "env", None),
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            **kw,
        )
        self._procs.append(proc)
        return proc

    def _wait_for_window_manager(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            probe = self.xdotool("getactivewindow", check=False)
            names = subprocess.run(
                [
                    "dbus-send",
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.ListNames",
                ],
                env=self.env,
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            if "org.freedesktop.Notifications" in names and probe.returncode in (0, 1):
                return
            time.sleep(0.1)
        msg = "the notification daemon did not come up on the session bus"
        raise RuntimeError(msg)

    # --- input -----------------------------------------------------------------------------

    def xdotool(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            ["xdotool", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if check and proc.returncode != 0:
            msg = f"xdotool {' '.join(args)} failed: {proc.stderr.strip()}"
            raise RuntimeError(msg)
        return proc

    def key(self, keys: str) -> None:
        """A real key press, e.g. ``key("alt+shift+u")``, to the focused window."""
        self.xdotool("key", "--clearmodifiers", keys)

    def click(self, x: int, y: int, button: int = 1) -> None:
        self.xdotool("mousemove", "--sync", str(x), str(y))
        self.xdotool("click", str(button))

    def windows(self, *, name: str | None = None, class_: str | None = None) -> list[str]:
        args = ["search", "--onlyvisible"]
        args += ["--name", name] if name else ["--class", class_ or "."]
        return self.xdotool(*args, check=False).stdout.split()

    def geometry(self, window: str) -> tuple[int, int, int, int]:
        out = self.xdotool("getwindowgeometry", "--shell", window).stdout
        values = dict(line.split("=", 1) for line in out.split() if "=" in line)
        return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])

    def focus(self, window: str) -> None:
        self.xdotool("windowactivate", "--sync", window, check=False)
        self.xdotool("windowfocus", "--sync", window, check=False)

    # --- what is on the screen --------------------------------------------------------------

    def screenshot(self, path: Path | None = None, box: tuple[int, int, int, int] | None = None):
        from PIL import ImageGrab

        image = ImageGrab.grab(xdisplay=self.display)
        if box:
            image = image.crop(box)
        if path:
            image.save(path)
        return image

    def changed_region(self, before, after=None, *, margin: int = 0):
        """The box (x0, y0, x1, y1) of the screen that differs between two screenshots: where a
        menu or a popup appeared."""
        from PIL import ImageChops

        after = after or self.screenshot()
        box = ImageChops.difference(before.convert("RGB"), after.convert("RGB")).getbbox()
        if not box:
            return None
        x0, y0, x1, y1 = box
        return (
            max(0, x0 - margin),
            max(0, y0 - margin),
            min(SCREEN[0], x1 + margin),
            min(SCREEN[1], y1 + margin),
        )

    def blobs(self, region, rgb=ICON_RGB, tolerance=ICON_TOLERANCE) -> list[tuple]:
        """Connected areas of one colour inside ``region`` (x0, y0, x1, y1) of the screen, as
        (box in screen coordinates, [pixels relative to the region], the region's image)."""
        image = self.screenshot(box=region).convert("RGB")
        width, height = image.size
        pixels = image.load()

        def matches(x, y):
            return all(abs(c - i) <= tolerance for c, i in zip(pixels[x, y], rgb, strict=True))

        seen = set()
        out = []
        for y in range(height):
            for x in range(width):
                if (x, y) in seen or not matches(x, y):
                    continue
                stack, blob = [(x, y)], []
                seen.add((x, y))
                while stack:
                    px, py = stack.pop()
                    blob.append((px, py))
                    for nx, ny in ((px + 1, py), (px - 1, py), (px, py + 1), (px, py - 1)):
                        if (
                            0 <= nx < width
                            and 0 <= ny < height
                            and (nx, ny) not in seen
                            and matches(nx, ny)
                        ):
                            seen.add((nx, ny))
                            stack.append((nx, ny))
                xs, ys = [p[0] for p in blob], [p[1] for p in blob]
                box = (
                    min(xs) + region[0],
                    min(ys) + region[1],
                    max(xs) + region[0],
                    max(ys) + region[1],
                )
                out.append((box, blob, pixels))
        return out

    def find_icon(
        self, region: tuple[int, int, int, int], *, min_size: int = 10, max_size: int = 40
    ) -> list[tuple]:
        """Blobs of the extension icon's blue inside ``region``, each as its bounding box, largest
        first. The icon is a blue square with a white arrow, so a blob also has to enclose white
        pixels."""
        boxes = []
        for box, _, pixels in self.blobs(region):
            w, h = box[2] - box[0] + 1, box[3] - box[1] + 1
            if not (min_size <= w <= max_size and min_size <= h <= max_size):
                continue
            x0, y0 = box[0] - region[0], box[1] - region[1]
            white = any(min(pixels[x0 + dx, y0 + dy]) > 230 for dx in range(w) for dy in range(h))
            if white:
                boxes.append(box)
        return sorted(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)

    def find_button(self, region, rgb=ICON_RGB, *, min_width=60, max_height=48) -> tuple | None:
        """The centre of the widest filled button of colour ``rgb`` inside ``region``."""
        found = [
            box
            for box, _, _ in self.blobs(region, rgb, tolerance=6)
            if box[2] - box[0] >= min_width and 16 <= box[3] - box[1] <= max_height
        ]
        if not found:
            return None
        box = max(found, key=lambda b: b[2] - b[0])
        return (box[0] + box[2]) // 2, (box[1] + box[3]) // 2

    def wait_for(self, predicate, timeout: float = 30, step: float = 0.2, what: str = "the screen"):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                msg = f"timed out after {timeout} s waiting for {what}"
                raise AssertionError(msg)
            time.sleep(step)

    # --- notifications ----------------------------------------------------------------------

    def notifications(self) -> list[Notification]:
        """Every notification the daemon was asked to show, oldest first."""
        import base64

        if not self.notifications_log.exists():
            return []
        out: list[Notification] = []
        for line in self.notifications_log.read_text().splitlines():
            title, body, app = (
                base64.b64decode(part).decode("utf-8", "replace") for part in line.split(" ")
            )
            note = Notification(app, title, body)
            # A browser may send a notification and then update it in place (its icon loaded):
            # one notification on the screen, two calls of the hook.
            if not out or out[-1] != note:
                out.append(note)
        return out

    def wait_for_notification(self, count: int, timeout: float = 60) -> Notification:
        return self.wait_for(
            lambda: self.notifications()[count - 1] if len(self.notifications()) >= count else None,
            timeout=timeout,
            what=f"notification #{count}",
        )

    def notification_windows(self) -> list[str]:
        return self.windows(class_="Dunst")

    def history(self) -> list[dict]:
        out = subprocess.run(
            ["dunstctl", "history"], env=self.env, capture_output=True, text=True, check=False
        ).stdout
        try:
            return json.loads(out)["data"][0]
        except (ValueError, KeyError, IndexError):
            return []

    def close(self) -> None:
        for proc in reversed(self._procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)  # only the groups we started
        for proc in reversed(self._procs):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
