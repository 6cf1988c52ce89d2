"""A one-line progress bar on stderr for long folder walks (import, reindex, check).

Shown only when asked (``--progress``) or when stderr is a terminal and there is enough work to
wait for; redrawn at most ten times a second, so it costs nothing measurable.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

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
