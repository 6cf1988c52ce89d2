"""A one-line progress bar on stderr for long folder walks (import, reindex, check).

Shown only when asked (``--progress``) or when stderr is a terminal and there is enough work to
wait for; redrawn at most ten times a second, so it costs nothing measurable.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import TextIO

ProgressStart = Callable[[int], Callable[[], None]]

AUTO_MIN_ITEMS = 200
"""Below this many files the work is over before a bar would help."""


class Progress:
    """``with Progress(300, "import") as bar: bar.advance()`` draws ``import [##   ] 120/300``."""

    def __init__(
        self,
        total: int,
        label: str,
        *,
        enabled: bool | None = None,
        stream: TextIO | None = None,
        width: int = 30,
    ) -> None:
        self.total = total
        self.label = label
        self.stream = stream or sys.stderr
        if enabled is None:
            enabled = total >= AUTO_MIN_ITEMS and _isatty(self.stream)
        self.enabled = enabled
        self.width = width
        self.done = 0
        self._last = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last >= 0.1 or self.done >= self.total:
            self._last = now
            self._draw()

    def _draw(self) -> None:
        total = max(self.total, 1)
        filled = min(self.width, self.width * self.done // total)
        bar = "#" * filled + " " * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total} files")
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def progress_callback(label: str, enabled: bool | None = None) -> Iterator[ProgressStart]:
    """For the ``progress=`` argument of ``reindex``/``check``/``import_paths``: given the total,
    starts a bar and returns its ``advance``; the bar is closed when the block ends."""
    bars: list[Progress] = []

    def start(total: int) -> Callable[[], None]:
        bar = Progress(total, label, enabled=enabled)
        bars.append(bar)
        return bar.advance

    try:
        yield start
    finally:
        for bar in bars:
            bar.__exit__(None, None, None)


def human_bytes(n: int | None) -> str:
    """``1536`` → ``1.5 KB``; decimal units, as file managers show them."""
    if n is None:
        return "?"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"
