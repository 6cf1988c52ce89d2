"""The library page's view of the catalog: search with filters (``catalog_query``), scroll
through the result (``catalog_page``), one entry in full (``catalog_entry``), the result by
conversation (``catalog_conversations``) and the values the filters offer (``catalog_facets``).

A search answers with its first entries at once; its full length follows from a background
thread (``catalog.browse.ResultSet``), so ``total`` is ``null`` until ``complete``. Every reply
stays under the reply cap: entries that do not fit are left for the next ``catalog_page``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from dsexport.errors import IoError, NotFound
from dsexport.native.handlers.fields import get_field
from dsexport.native.handlers.library_state import (
    MAX_IDS,
    int_field,
    packed,
    state_of,
    text_field,
)
from dsexport.native.session import Request, Session

MAX_PAGE = 500
"""Entries one ``catalog_page`` may ask for (fewer come back when they do not fit)."""
DEFAULT_FIRST = 120
MAX_CONVERSATIONS_PAGE = 200
WAIT_S = 30.0
COLLECT_DELAY_S = 0.15
"""A search waits this long before collecting every match; the next keystroke usually comes
first and replaces it."""
"""How long a page beyond the first entries waits for the full result."""


def _filters(req: Request):
    from dsexport.catalog.browse import Filters
    from dsexport.catalog.search import MAX_QUERY_CHARS

    return Filters(
        query=text_field(req, "query", limit=MAX_QUERY_CHARS) or "",
        conversation=text_field(req, "conversation", limit=4096) or None,
        since=text_field(req, "since", limit=64) or None,
        until=text_field(req, "until", limit=64) or None,
        model=text_field(req, "model", limit=4096),
        origin=text_field(req, "origin", limit=32) or None,
        format=text_field(req, "format", limit=32) or None,
    )


def _status(key: str, result) -> dict[str, Any]:
    return {"result": key, "total": result.total, "complete": result.complete}


def _catalog_errors(fn):
    def wrapped(req: Request, session: Session) -> dict[str, Any]:
        try:
            return fn(req, session)
        except sqlite3.Error as err:
            msg = f"the catalog cannot be read ({err}); run 'dsexport reindex' to rebuild it"
            raise IoError(msg) from err

    wrapped.__name__ = fn.__name__
    wrapped.__doc__ = fn.__doc__
    return wrapped


@_catalog_errors
def catalog_query(req: Request, session: Session) -> dict[str, Any]:
    """Start a search → ``{"result", "total", "complete", "offset": 0, "entries"}``."""
    from dsexport.catalog.browse import ResultSet, card

    filters = _filters(req)
    first = int_field(req, "limit", low=1, high=MAX_PAGE, default=DEFAULT_FIRST)
    state = state_of(session)
    result = ResultSet.start(state.catalog, filters, first=first, delay=COLLECT_DELAY_S)
    key = state.add_result(result)
    entries = packed([card(e) for e in result.head])
    return {**_status(key, result), "offset": 0, "entries": entries}


@_catalog_errors
def catalog_page(req: Request, session: Session) -> dict[str, Any]:
    """Entries (or, with ``ids_only``, ids) of a result at ``offset`` → ``{"result", "total",
    "complete", "offset", "entries" | "ids"}``; ``limit: 0`` only reports the status."""
    from dsexport.catalog.browse import card

    key = text_field(req, "result", limit=32) or ""
    state = state_of(session)
    result = state.result(key)
    ids_only = get_field(req, "ids_only", bool, required=False) or False
    offset = int_field(req, "offset", low=0, high=2**31, default=0)
    limit = int_field(req, "limit", low=0, high=MAX_IDS if ids_only else MAX_PAGE, default=100)
    reply = {"result": key, "offset": offset}
    if limit:
        if offset + limit > len(result.head) and not result.wait(WAIT_S):
            msg = f"the search is still collecting its results after {WAIT_S:.0f} s"
            raise IoError(msg)
        if ids_only:
            reply["ids"] = result.ids(offset, limit)
        else:
            reply["entries"] = packed([card(e) for e in result.page(state.catalog, offset, limit)])
    else:
        result.wait(0)  # raises NotFound when the collection failed
    return {**reply, "total": result.total, "complete": result.complete}


@_catalog_errors
def catalog_entry(req: Request, session: Session) -> dict[str, Any]:
    """Catalog entry ``entry_id`` in full → ``{"entry", "metadata", "parameters",
    "conversation_url", "file"}``."""
    from dsexport.catalog.browse import detail

    entry_id = int_field(req, "entry_id", low=1, high=2**63 - 1)
    entry = state_of(session).catalog.by_id(entry_id)
    if entry is None:
        msg = f"catalog entry {entry_id} does not exist (any more)"
        raise NotFound(msg)
    return detail(entry)


@_catalog_errors
def catalog_conversations(req: Request, session: Session) -> dict[str, Any]:
    """The conversations of a result, newest first → ``{"result", "total", "offset",
    "conversations": [{"id", "title", "count", "total", "first", "last", "url", "covers"}]}``."""
    from dsexport.catalog.browse import describe_conversations

    key = text_field(req, "result", limit=32) or ""
    state = state_of(session)
    result = state.result(key)
    offset = int_field(req, "offset", low=0, high=2**31, default=0)
    limit = int_field(req, "limit", low=1, high=MAX_CONVERSATIONS_PAGE, default=60)
    if not result.wait(WAIT_S):
        msg = f"the search is still collecting its results after {WAIT_S:.0f} s"
        raise IoError(msg)
    groups = result.conversations(state.catalog)
    described = describe_conversations(state.catalog, groups[offset : offset + limit])
    return {
        "result": key,
        "total": len(groups),
        "offset": offset,
        "conversations": packed(described),
    }


@_catalog_errors
def catalog_facets(req: Request, session: Session) -> dict[str, Any]:
    """What the filters offer → ``{"total", "first", "last", "models", "formats", "origins"}``."""
    from dsexport.catalog.browse import facets

    return facets(state_of(session).catalog)
