"""What the library page's requests keep between calls, per connection: one catalog connection,
the latest result sets, and the thumbnail cache and worker.

One host process serves one connection, so this lives as long as the page keeps its port open.
It hangs off the ``Session`` without ``Session`` knowing (a weak mapping), and is closed with it.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import weakref
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from dsexport.errors import BadRequest, IoError, NotFound, TooLarge
from dsexport.native.handlers.fields import check_text, get_field
from dsexport.native.session import Request, Session

if TYPE_CHECKING:
    from dsexport.catalog.browse import ResultSet
    from dsexport.catalog.db import Catalog
    from dsexport.thumbnails.cache import ThumbnailCache
    from dsexport.thumbnails.worker import ThumbnailWorker

MAX_RESULTS = 4
"""Result sets kept per connection: the current search and a few before it (Back)."""

REPLY_BUDGET = 120_000
"""Bytes of entries or thumbnails one reply carries, under the host's 128 KiB reply cap; what does
not fit is left for the next request (the reply says how far it got)."""

MAX_IDS = 10_000


class LibraryState:
    def __init__(self) -> None:
        self._catalog: Catalog | None = None
        self._results: OrderedDict[str, ResultSet] = OrderedDict()
        self._counter = 0
        self._cache: ThumbnailCache | None = None
        self._worker: ThumbnailWorker | None = None

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            from dsexport.catalog import open_catalog

            try:
                self._catalog = open_catalog()
            except (sqlite3.Error, OSError) as err:
                msg = f"the catalog cannot be opened ({err}); run 'dsexport reindex' to rebuild it"
                raise IoError(msg) from err
        return self._catalog

    def add_result(self, result: ResultSet) -> str:
        """Hold a new search; searches still collecting are stopped (a keystroke replaced them:
        several full scans at once would slow the one that matters), finished ones are kept."""
        for key, old in list(self._results.items()):
            if not old.complete:
                old.close()
                del self._results[key]
        self._counter += 1
        key = f"r{self._counter}"
        self._results[key] = result
        while len(self._results) > MAX_RESULTS:
            _, old = self._results.popitem(last=False)
            old.close()
        return key

    def result(self, key: str) -> ResultSet:
        found = self._results.get(key)
        if found is None:
            msg = f"result {key!r} is no longer held by this connection; search again"
            raise NotFound(msg)
        return found

    @property
    def cache(self) -> ThumbnailCache:
        if self._cache is None:
            from dsexport.thumbnails.cache import default_cache

            self._cache = default_cache()
        return self._cache

    @property
    def worker(self) -> ThumbnailWorker:
        if self._worker is None:
            from dsexport.thumbnails.worker import ThumbnailWorker

            self._worker = ThumbnailWorker(self.cache)
        return self._worker

    def close(self) -> None:
        for result in self._results.values():
            result.close()
        self._results.clear()
        if self._worker is not None:
            self._worker.close()
        if self._catalog is not None:
            # A session collected on another thread cannot close a sqlite connection made on
            # this one; the process's end closes it then.
            with contextlib.suppress(sqlite3.ProgrammingError):
                self._catalog.close()
            self._catalog = None


_STATES: weakref.WeakKeyDictionary[Session, LibraryState] = weakref.WeakKeyDictionary()


def state_of(session: Session) -> LibraryState:
    state = _STATES.get(session)
    if state is None:
        state = _STATES[session] = LibraryState()
        weakref.finalize(session, state.close)
    return state


# --- field helpers shared by the library's handlers ----------------------------------------


def int_field(req: Request, name: str, *, low: int, high: int, default: int | None = None) -> int:
    value = get_field(req, name, int, required=default is None)
    if value is None:
        assert default is not None
        return default
    if not low <= value <= high:
        msg = f"field '{name}' must be from {low} to {high}"
        raise (TooLarge if value > high else BadRequest)(msg)
    return value


def text_field(req: Request, name: str, *, limit: int) -> str | None:
    value = get_field(req, name, str, required=False)
    if value is None:
        return None
    if len(value) > limit:
        msg = f"field '{name}' is longer than {limit} characters"
        raise TooLarge(msg)
    check_text(value, name)
    return value


def ids_field(req: Request, name: str = "ids", *, limit: int) -> list[int]:
    values = get_field(req, name, list)
    if len(values) > limit:
        msg = f"field '{name}' may list at most {limit} catalog ids"
        raise TooLarge(msg)
    if any(not isinstance(v, int) or isinstance(v, bool) or not 0 < v < 2**63 for v in values):
        msg = f"field '{name}' must be a list of positive integers (catalog ids)"
        raise BadRequest(msg)
    return list(dict.fromkeys(values))


def packed(items: list[dict[str, Any]], budget: int = REPLY_BUDGET) -> list[dict[str, Any]]:
    """The leading ``items`` whose JSON fits in ``budget`` bytes (always at least one)."""
    out: list[dict[str, Any]] = []
    used = 0
    for item in items:
        size = len(json.dumps(item, ensure_ascii=True, separators=(",", ":"))) + 1
        if out and used + size > budget:
            break
        out.append(item)
        used += size
    return out
