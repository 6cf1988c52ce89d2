"""Making thumbnails in the background, so the host answers searches while a first screen of
images is decoded.

The page asks for the thumbnails of what is on screen; whatever is not cached becomes a job. The
newest request goes to the front of the queue (what the person looks at now), older jobs wait
behind it and the oldest are dropped when the queue is long (they scrolled past). Threads, not
processes: Pillow releases the GIL while it decodes, resizes and encodes, and a thread costs no
second interpreter start. The threads run at a lower priority where the OS allows it per thread
(Linux), so a search typed meanwhile is not slowed by them. A file that fails (corrupt, a
decompression bomb) is remembered and not tried again by this process. Example::

    worker = ThumbnailWorker(default_cache())
    worker.want([Job.of(path, os.lstat(path), 256)])
    worker.wait_idle(10)
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dsexport.errors import DsError
from dsexport.thumbnails.cache import ThumbnailCache

log = logging.getLogger(__name__)

MAX_QUEUE = 400
"""Jobs waiting at most; a few screens of the largest grid."""
MAX_FAILURES = 10_000
NICE = 10


def default_threads() -> int:
    """One thread per core but one, at most four: the host's own thread (and the browser) keep a
    core."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


@dataclass(frozen=True)
class Job:
    """Make the ``size`` px thumbnail of ``path``, whose ``lstat`` gave ``key``."""

    key: str
    path: str
    size: int

    @classmethod
    def of(cls, path: str, st: os.stat_result, size: int) -> Job:
        return cls(ThumbnailCache.key(path, st, size), path, size)


@dataclass(frozen=True)
class Failure:
    code: str
    message: str


class ThumbnailWorker:
    """A queue of ``Job``s and the threads that make them into ``cache``."""

    def __init__(
        self,
        cache: ThumbnailCache,
        *,
        threads: int | None = None,
        make: Callable | None = None,
    ) -> None:
        self.cache = cache
        self.threads = threads or default_threads()
        self._make = make
        self._queue: OrderedDict[str, Job] = OrderedDict()
        self._running: set[str] = set()
        self._failed: OrderedDict[str, Failure] = OrderedDict()
        self._cond = threading.Condition()
        self._workers: list[threading.Thread] = []
        self._closed = False
        self.made = 0
        """Thumbnails made by this worker (for benchmarks and tests)."""

    def want(self, jobs: Sequence[Job]) -> None:
        """Put ``jobs`` at the front of the queue, in order."""
        with self._cond:
            if self._closed:
                return
            for job in reversed(jobs):
                if job.key in self._running or job.key in self._failed:
                    continue
                self._queue[job.key] = job
                self._queue.move_to_end(job.key, last=False)
            while len(self._queue) > MAX_QUEUE:
                self._queue.popitem(last=True)
            while len(self._workers) < min(self.threads, len(self._queue) + len(self._running)):
                thread = threading.Thread(target=self._run, daemon=True, name="dsx-thumbnails")
                self._workers.append(thread)
                thread.start()
            self._cond.notify_all()

    def failure(self, key: str) -> Failure | None:
        with self._cond:
            return self._failed.get(key)

    def busy(self, key: str) -> bool:
        with self._cond:
            return key in self._queue or key in self._running

    def wait_idle(self, timeout: float) -> bool:
        """Block until no job is queued or running; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self) -> None:
        """Drop waiting jobs and let the threads end after the one they are making."""
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()

    def _run(self) -> None:
        _lower_priority()
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                key, job = self._queue.popitem(last=False)
                self._running.add(key)
            failure = self._make_one(job)
            with self._cond:
                self._running.discard(key)
                if failure is not None:
                    self._failed[key] = failure
                    while len(self._failed) > MAX_FAILURES:
                        self._failed.popitem(last=False)
                else:
                    self.made += 1
                self._cond.notify_all()

    def _make_one(self, job: Job) -> Failure | None:
        from dsexport.catalog.reading import open_checked
        from dsexport.thumbnails.make import make_thumbnail

        make = self._make or make_thumbnail
        try:
            with open_checked(job.path) as (fh, st):
                # The file may have changed since the page asked: file it under what was read.
                key = ThumbnailCache.key(job.path, st, job.size)
                thumb = make(fh, job.size)
            self.cache.put(key, thumb.data)
        except DsError as err:
            return Failure(err.code, str(err))
        except OSError as err:
            return Failure("io_error", f"cannot make a thumbnail of {job.path}: {err}")
        except Exception as err:  # a bug must cost one thumbnail, not the thread
            log.exception("thumbnail of %r failed", job.path)
            return Failure("internal", f"{type(err).__name__}: {err}")
        return None


def _lower_priority() -> None:
    """Linux applies ``setpriority`` to one thread when given its thread id."""
    import sys

    if sys.platform.startswith("linux") and hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
