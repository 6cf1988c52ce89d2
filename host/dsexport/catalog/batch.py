"""Saves from several threads sharing one catalog connection and one write transaction: the
native host's batch (``pipeline.save_batch``).

A save through the catalog is "is this image saved already? if not, write it and record it", and
it must be atomic across processes, so that two hosts saving the same image save it once
(``Catalog.save_lock``). One transaction per save costs a commit (an fsync of the log) per image;
here one transaction covers every save that runs while it is open::

    with batch.slot(content_digest, "png", root) as slot:
        if slot.existing: ...                 # saved before, or by an earlier save of the batch
        path = write the file                 # outside the lock: other threads save meanwhile
        slot.record(path=str(path), ...)      # joins the open transaction
    error = slot.ticket.wait()                # None once the row is durable, else why not

The files' data is fsynced as each is written; their folders (the new names) are fsynced once
per folder, just before the commit that records them. Commits happen when someone waits for a
ticket and no save is between its check and its record,
once the transaction is ``min_age_s`` old (so saves arriving one after another share it); when
saves keep overlapping, at ``max_age_s``: new saves then wait until those in progress are
recorded and the commit is done; and on ``flush()``. Within the process, a second save of the
same image waits for the first and then finds its row; other processes wait for the write lock,
as they would for ``save_lock``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dsexport.catalog.db import Catalog

MIN_AGE_S = 0.03
"""A transaction is not committed younger than this when quiescent: a save arriving a few
milliseconds after the last one shares it instead of paying a commit of its own."""

MAX_AGE_S = 0.25
"""A transaction older than this is committed as soon as the saves in progress are recorded, so
replies and other processes never wait long for it."""


def _trouble(err: sqlite3.Error) -> str:
    return (
        f"the catalog could not record this image ({err}); the file is saved, but saving it "
        "again may give a second copy. Free some space, then run 'dsexport reindex'"
    )


class Ticket:
    """The transaction a save's row went into; ``wait()`` returns once it is durable."""

    __slots__ = ("_batch", "generation")

    def __init__(self, batch: SaveBatch, generation: int) -> None:
        self._batch = batch
        self.generation = generation

    def wait(self, *, eager: bool = False) -> str | None:
        """Block until the row is committed; ``None``, or why it could not be (the file is
        saved either way). ``eager`` (no more saves are coming) commits as soon as the saves
        in progress are recorded, without waiting for ``MIN_AGE_S``."""
        return self._batch._wait(self.generation, eager=eager)


class Slot:
    """One save's place in the batch: ``existing`` is the path of an earlier copy, if any.
    ``folders``: where the save created names without syncing the folder
    (``storage.write_new(sync_folder=False)``); the commit syncs each folder once."""

    __slots__ = ("_batch", "existing", "folders", "generation", "ticket")

    def __init__(self, batch: SaveBatch, existing: str | None, generation: int) -> None:
        self._batch = batch
        self.existing = existing
        self.generation = generation
        self.folders: set[str] = set()
        self.ticket: Ticket | None = None

    def record(self, **fields: Any) -> None:
        """``Catalog.add(**fields)`` inside the open transaction. A failure rolls the whole
        transaction back (its other saves' rows with it) and is raised as ``sqlite3.Error``."""
        self._batch._record(self, fields)


class SaveBatch:
    """See the module docstring. ``catalog`` must be opened with ``threads=True``."""

    def __init__(
        self, catalog: Catalog, *, min_age_s: float = MIN_AGE_S, max_age_s: float = MAX_AGE_S
    ) -> None:
        self.catalog = catalog
        self.min_age_s = min_age_s
        self.max_age_s = max_age_s
        self._cond = threading.Condition()
        self._active = 0
        self._saving: set[tuple[str, str, str, str]] = set()
        """(kind, hash or identity, format, output folder) of the images being saved now."""
        self._opened_at: float | None = None
        self._generation = 0
        self._settled = -1
        """Every transaction up to this number is committed or rolled back."""
        self._errors: dict[int, str] = {}
        self._draining = False
        self._folders: set[str] = set()
        """Folders with new names to fsync before the next commit."""
        self.commits = 0

    @contextmanager
    def slot(
        self,
        content: str | None,
        fmt: str,
        root: str | os.PathLike,
        *,
        identity: str | None = None,
        sha256: str | None = None,
    ) -> Iterator[Slot]:
        """Claim the right to save this picture, known by its ``content`` digest and, for a
        diagram, by its ``identity`` (``Catalog.find_duplicate``); see the module docstring.
        Raises ``sqlite3.Error`` when the catalog cannot be used; nothing is claimed then."""
        where = (fmt, os.fspath(root))
        keys = {("content", content, *where)} if content else set()
        if identity:
            keys.add(("identity", identity, *where))
        with self._cond:
            while self._draining or keys & self._saving:
                self._cond.wait()
            if self._opened_at is None:
                self.catalog.begin_write()
                self._opened_at = time.monotonic()
            try:
                existing = self.catalog.find_duplicate(
                    content, fmt, root, identity=identity, sha256=sha256
                )
            except sqlite3.Error as err:
                self._rollback_locked(_trouble(err))
                raise
            claimed = keys if existing is None else set()
            self._saving |= claimed
            self._active += 1
            if time.monotonic() - self._opened_at >= self.max_age_s:
                self._draining = True
            slot = Slot(self, existing, self._generation)
        try:
            yield slot
        finally:
            with self._cond:
                self._folders |= slot.folders
                self._saving -= claimed
                self._active -= 1
                if self._active == 0 and self._draining:
                    self._commit_locked()
                self._cond.notify_all()

    def _record(self, slot: Slot, fields: dict[str, Any]) -> None:
        with self._cond:
            if slot.generation != self._generation or self._opened_at is None:
                # Its transaction was rolled back under it (another save's failure): a new one.
                self.catalog.begin_write()
                self._opened_at = time.monotonic()
                slot.generation = self._generation
            try:
                self.catalog.add(**fields)
            except sqlite3.Error as err:
                self._rollback_locked(_trouble(err))
                raise
            slot.ticket = Ticket(self, slot.generation)

    def _wait(self, generation: int, *, eager: bool) -> str | None:
        with self._cond:
            while self._settled < generation:
                if self._active == 0:
                    age = time.monotonic() - (self._opened_at or 0.0)
                    if eager or age >= self.min_age_s:
                        self._commit_locked()
                        continue
                    self._cond.wait(self.min_age_s - age)
                else:
                    self._cond.wait(self.max_age_s)
            return self._errors.get(generation)

    @contextmanager
    def exclusive(self) -> Iterator[Catalog]:
        """The connection for one change outside the batch's saves (``embed``), under
        ``save_lock``, once what is open is committed; batch saves wait meanwhile."""
        with self._cond:
            while self._active or self._draining:
                self._cond.wait()
            self._commit_locked()
            with self.catalog.save_lock():
                yield self.catalog

    def flush(self) -> None:
        """Commit what is open once the saves in progress are recorded (end of a connection,
        or before a request that must see every save so far)."""
        with self._cond:
            while self._active:
                self._cond.wait()
            self._commit_locked()

    def _commit_locked(self) -> None:
        if self._folders:
            from dsexport import storage

            for folder in sorted(self._folders):
                storage.sync_folder(folder)
            self._folders.clear()
        if self._opened_at is not None:
            try:
                self.catalog.commit()
                self.commits += 1
            except sqlite3.Error as err:
                self._rollback_locked(_trouble(err))
                return
        self._settle_locked()

    def _rollback_locked(self, why: str) -> None:
        # The connection reported the first error; the transaction is gone either way.
        with contextlib.suppress(sqlite3.Error):
            self.catalog.rollback()
        self._errors[self._generation] = why
        self._settle_locked()

    def _settle_locked(self) -> None:
        self._settled = self._generation
        self._generation += 1
        self._opened_at = None
        self._draining = False
        self._cond.notify_all()
