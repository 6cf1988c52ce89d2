"""Conversations named the way a person types them: an id prefix, a part of a title, a URL.

``resolve_conversation(catalog, "7c0e")`` → the one conversation whose id starts so, or whose
title contains it; several candidates raise ``AmbiguousConversation`` listing them, none raises
``NoSuchConversation``. ``short_ids`` gives ``dsexport list`` the shortest unique prefixes, the way
git abbreviates hashes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from dsexport.catalog.db import Catalog

MIN_PREFIX = 4
"""Shortest id prefix taken as a prefix: three characters would match by accident too often."""

SHORT_ID = 8
"""``dsexport list`` shows at least this many characters of an id (git shows 7)."""

_CONVERSATION_URL = re.compile(r"/(?:a/chat/s|chat/s|share)/([A-Za-z0-9_-]{4,128})(?:[/?#]|$)")


@dataclass(frozen=True)
class Conversation:
    """One conversation of the catalog, as a candidate for a typed value."""

    id: str
    title: str | None
    count: int
    last: str | None

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "title": self.title, "count": self.count, "last": self.last}


class NoSuchConversation(LookupError):
    """Nothing in the catalog matches the value."""

    def __init__(self, value: str) -> None:
        super().__init__(
            f"no catalogued conversation matches {value!r} (an id or its first {MIN_PREFIX}+ "
            "characters, a part of a title, or a URL); 'dsexport list' shows them"
        )
        self.value = value


class AmbiguousConversation(LookupError):
    """More than one conversation matches the value; ``matches`` lists them, newest first."""

    def __init__(self, value: str, matches: list[Conversation]) -> None:
        super().__init__(
            f"{value!r} matches {len(matches)} conversations; give more of the id or the title"
        )
        self.value = value
        self.matches = matches


def conversations(catalog: Catalog) -> list[Conversation]:
    """Every conversation the catalog knows, most recent first."""
    rows = catalog.connection.execute(
        "SELECT conversation_id, max(conversation_title), count(*), max(captured_at)"
        " FROM images WHERE conversation_id IS NOT NULL AND conversation_id != ''"
        " GROUP BY conversation_id"
        " ORDER BY max(coalesce(captured_ts, 0)) DESC, max(id) DESC"
    )
    return [Conversation(cid, title, int(count), last) for cid, title, count, last in rows]


def resolve_conversation(catalog: Catalog, value: str) -> Conversation:
    """The one conversation ``value`` names, tried in this order:

    1. an exact id, an exact page URL or a URL holding the id (``…/a/chat/s/<id>``,
       ``…/share/<id>``), an exact title (when only one conversation has it);
    2. otherwise every conversation whose id starts with ``value`` (at least ``MIN_PREFIX``
       characters, any case) or one of whose titles contains it (any case; CJK too): one is the
       answer, several are ambiguous.
    """
    text = value.strip()
    if not text:
        raise NoSuchConversation(value)
    known = conversations(catalog)
    by_id = {c.id: c for c in known}
    if text in by_id:
        return by_id[text]
    found = _by_url(catalog, text, by_id)
    if found is not None:
        return found
    titles = _titles(catalog)
    exact = [c for c in known if text in titles.get(c.id, ())]
    if len(exact) == 1:
        return exact[0]
    if exact:
        raise AmbiguousConversation(value, exact)
    folded = text.casefold()
    candidates = [
        c
        for c in known
        if (len(text) >= MIN_PREFIX and c.id.casefold().startswith(folded))
        or any(folded in t.casefold() for t in titles.get(c.id, ()))
    ]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        raise AmbiguousConversation(value, candidates)
    raise NoSuchConversation(value)


def _by_url(catalog: Catalog, text: str, by_id: dict[str, Conversation]) -> Conversation | None:
    if "/" not in text:
        return None
    row = catalog.connection.execute(
        "SELECT conversation_id FROM images WHERE page_url = ? AND conversation_id IS NOT NULL"
        " LIMIT 1",
        (text,),
    ).fetchone()
    if row and row[0] in by_id:
        return by_id[row[0]]
    match = _CONVERSATION_URL.search(text)
    return by_id.get(match.group(1)) if match else None


def _titles(catalog: Catalog) -> dict[str, tuple[str, ...]]:
    """Every title each conversation had: a title can change between saves."""
    out: dict[str, list[str]] = {}
    for cid, title in catalog.connection.execute(
        "SELECT DISTINCT conversation_id, conversation_title FROM images"
        " WHERE conversation_id IS NOT NULL AND conversation_title IS NOT NULL"
        " AND conversation_title != ''"
    ):
        out.setdefault(cid, []).append(title)
    return {cid: tuple(t) for cid, t in out.items()}


def short_ids(ids: Iterable[str], *, minimum: int = SHORT_ID) -> dict[str, str]:
    """Each id → its shortest prefix (at least ``minimum`` characters) that no other id starts
    with, compared case-insensitively as ``resolve_conversation`` does."""
    unique = sorted({i for i in ids if i}, key=str.casefold)
    folded = [i.casefold() for i in unique]
    out: dict[str, str] = {}
    for n, cid in enumerate(unique):
        need = minimum
        for other in (n - 1, n + 1):
            if 0 <= other < len(unique):
                need = max(need, _common_prefix(folded[n], folded[other]) + 1)
        out[cid] = cid[:need]
    return out


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
