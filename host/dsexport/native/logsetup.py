"""Host logging: a small rotating file under the platform log folder, e.g.
``~/.local/state/dsexport/log/host.log`` on Linux. Nothing ever goes to stdout (frames only) and
nothing to stderr (Chrome shows the host's stderr only when started from a terminal; Firefox puts
every line in the Browser Console).

``logging.handlers.RotatingFileHandler`` is not used: importing ``logging.handlers`` pulls in
socket, pickle and queue, which the host would pay on every browser call.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

LOG_FILE_NAME = "host.log"
MAX_LOG_BYTES = 1024 * 1024
"""Rotate at this size, so a host started thousands of times cannot fill the disk."""
BACKUP_COUNT = 3

_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"


class SmallRotatingFileHandler(logging.FileHandler):
    """Append to ``path``; when it passes ``max_bytes``, shift ``path.1`` … ``path.N`` and start
    a new file. The file is opened on the first record (``delay``), so a quiet ping opens nothing.
    """

    def __init__(self, path: Path, max_bytes: int = MAX_LOG_BYTES, backups: int = BACKUP_COUNT):
        super().__init__(path, mode="a", encoding="utf-8", delay=True)
        self.max_bytes = max_bytes
        self.backups = backups

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.stream is None:
                self.stream = self._open()
            if self.stream.tell() >= self.max_bytes:
                self._rotate()
        except OSError:
            self.handleError(record)
            return
        super().emit(record)

    def _rotate(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None  # type: ignore[assignment]
        base = self.baseFilename
        for i in range(self.backups - 1, 0, -1):
            if os.path.exists(f"{base}.{i}"):
                os.replace(f"{base}.{i}", f"{base}.{i + 1}")
        if os.path.exists(base):
            os.replace(base, f"{base}.1")
        self.stream = self._open()

    def handleError(self, record: logging.LogRecord) -> None:
        # The default prints a traceback to stderr; a full disk must not make the host noisy.
        pass


def setup_logging(log_dir: Path | None = None, level: int = logging.INFO) -> logging.Logger:
    """Attach the file handler to the ``dsexport`` logger; fall back to no logging at all when
    the log folder cannot be created (read-only home)."""
    logger = logging.getLogger("dsexport")
    logger.setLevel(level)
    logger.propagate = False
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    handler: logging.Handler
    try:
        if log_dir is None:
            from dsexport import paths

            log_dir = paths.log_dir()
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = SmallRotatingFileHandler(log_dir / LOG_FILE_NAME)
        handler.setFormatter(logging.Formatter(_FORMAT))
    except OSError:
        handler = logging.NullHandler()
    logger.addHandler(handler)
    # Without any handler on the root, logging's last resort writes warnings to stderr.
    logging.lastResort = None  # type: ignore[assignment]
    return logger
