"""``--conversation VALUE`` as a person types it, shared by ``search``, ``list`` and ``bundle``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from dsexport.catalog.db import Catalog

EXIT_NO_MATCH = 1
EXIT_AMBIGUOUS = 3
"""Distinct from 1 (nothing found) and 2 (usage), so scripts can tell "be more precise"."""

HELP = "an id or its first 4+ characters, a part of the title, or the conversation's URL"

EXIT_STATUS_HELP = """\
exit status: 0 found, 1 nothing matches, 2 usage error, 3 --conversation matches several
conversations (they are listed)"""


def add_option(p: argparse.ArgumentParser | argparse._MutuallyExclusiveGroup) -> None:
    p.add_argument("--conversation", metavar="ID|TITLE|URL", help=HELP)


def resolve(catalog: Catalog, value: str | None) -> str | int | None:
    """The conversation id ``value`` names, ``None`` for no filter, or an exit status after
    telling the person what matched (ambiguous) or that nothing did."""
    from dsexport.catalog.conversations import (
        AmbiguousConversation,
        NoSuchConversation,
        resolve_conversation,
        short_ids,
    )

    if value is None:
        return None
    try:
        return resolve_conversation(catalog, value).id
    except NoSuchConversation as err:
        print(f"dsexport: {err}", file=sys.stderr)
        return EXIT_NO_MATCH
    except AmbiguousConversation as err:
        print(f"dsexport: {err}:", file=sys.stderr)
        short = short_ids(c.id for c in err.matches)
        for c in err.matches:
            images = "image" if c.count == 1 else "images"
            title = c.title or "(no title)"
            print(f"  {short[c.id]}  {title}  ({c.count} {images})", file=sys.stderr)
        return EXIT_AMBIGUOUS
