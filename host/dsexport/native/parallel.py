"""Saves run in parallel, replies go out in order.

The host reads frames on one thread. ``save`` and ``save_download`` requests run on a small pool
of worker threads: most of a save is hashing, CRC checks, writing and fsync, which release the
GIL, so several images are saved at once. Every other request first waits until the requests
before it are answered, so it sees their files (``bundle``) and catalog rows. One writer thread
writes the replies in request order, a save's only once its catalog row is durable
(``catalog.batch``): a client sees exactly what a one-at-a-time host would answer, sooner.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

PARALLEL_TYPES = frozenset({"save", "save_download"})
"""Requests that may run while others run: each saves one image and touches nothing shared but
the catalog batch and the output folder, which handle concurrent saves."""

WORKERS = min(4, (os.cpu_count() or 1) + 1)
"""Saves at once: one more than the cores, since part of each save waits for the disk."""

MAX_PENDING = 64
"""Requests read ahead of their replies, in units of one request or one MiB of image data,
whichever is more (a `save` frame may be 16 MiB). Beyond this the reader stops reading, so the
browser's pipe fills and a fast client cannot queue up unbounded memory. A batch's requests are
tiny (`save_download`) or a few MiB each: a whole batch fits, so the workers never wait for the
reader while replies wait for a commit."""

Work = Callable[[], tuple[dict[str, Any], Any]]
"""Runs one request → (reply, catalog ticket or ``None``)."""


class Replies:
    """The ordered reply queue and the worker pool of one connection."""

    def __init__(self, write: Callable[[dict[str, Any]], None]) -> None:
        self._write = write
        self._queue: queue.Queue[tuple[Future | dict[str, Any], int] | None] = queue.Queue()
        self._free = MAX_PENDING
        self._room = threading.Condition()
        self._pool: ThreadPoolExecutor | None = None
        self.error: OSError | None = None
        """Set when a reply could not be written (the browser went away)."""
        self._writer = threading.Thread(target=self._run, name="dsexport-replies", daemon=True)
        self._writer.start()

    def submit(self, work: Work, *, weight: int = 1) -> None:
        """Run ``work`` on a worker; its reply is written after every earlier one. ``weight``:
        the request's units (see ``MAX_PENDING``)."""
        weight = self._take(weight)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="dsexport-save")
        self._queue.put((self._pool.submit(work), weight))

    def answer(self, reply: dict[str, Any]) -> None:
        """Write ``reply`` (already made) after every earlier one."""
        self._queue.put((reply, self._take(1)))

    def _take(self, weight: int) -> int:
        weight = max(1, min(weight, MAX_PENDING))
        with self._room:
            while self._free < weight:
                self._room.wait()
            self._free -= weight
        return weight

    def _give(self, weight: int) -> None:
        with self._room:
            self._free += weight
            self._room.notify_all()

    def drain(self) -> None:
        """Wait until every reply queued so far is written (or writing failed)."""
        self._queue.join()

    def close(self) -> None:
        self.drain()
        self._queue.put(None)
        self._writer.join()
        if self._pool is not None:
            self._pool.shutdown()

    def _run(self) -> None:
        while True:
            entry = self._queue.get()
            try:
                if entry is None:
                    return
                if self.error is None:
                    # Nothing queued behind this reply: commit its row as soon as the saves
                    # in progress are recorded, rather than wait for more saves to share it.
                    self._write(self._settle(entry[0], eager=self._queue.empty()))
            except OSError as err:
                self.error = err
            finally:
                if entry is not None:
                    self._give(entry[1])
                self._queue.task_done()

    @staticmethod
    def _settle(item: Future | dict[str, Any], *, eager: bool) -> dict[str, Any]:
        if isinstance(item, dict):
            return item
        reply, ticket = item.result()  # the work never raises: handle() answers every error
        return with_durable_row(reply, ticket, eager=eager)


def with_durable_row(reply: dict[str, Any], ticket: Any, *, eager: bool = False) -> dict[str, Any]:
    """Wait until the save's catalog row is durable; a failure becomes a warning (the file is
    saved either way)."""
    if ticket is None:
        return reply
    trouble = ticket.wait(eager=eager)
    if trouble and reply.get("ok"):
        result = reply["result"]
        result["warnings"] = [*result.get("warnings", []), trouble]
    return reply
