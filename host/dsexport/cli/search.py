"""``dsexport search``: find saved images by prompt, conversation title, model or file name."""

from __future__ import annotations

import argparse
import json

HELP = """\
Search the catalog of saved and imported images. Every word must appear somewhere in the prompt,
negative prompt, conversation title, model, file name or extra fields (any substring, any case;
Chinese from two characters). Quote a phrase to search for it as one piece. Newest first.
Exit status 1 when nothing matches, 3 when --conversation matches several conversations.

examples:
  dsexport search cat scarf
  dsexport search '"red scarf"' --since 7d
  dsexport search 红色围巾 --model janus --json
  dsexport search "" --conversation 7c0e5a52 --limit 500
  dsexport search scarf --conversation 猫咪

--conversation takes an id or its first 4+ characters (as `dsexport list` shows them), a part
of the conversation's title (any case), or its URL.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "search",
        help="find saved images by prompt, title or model",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("query", nargs="*", metavar="QUERY", help="words or quoted phrases")
    add_filters(p)
    p.add_argument("--limit", type=int, default=50, help="most results to show (default 50)")
    p.add_argument("--json", action="store_true", help="print a JSON array of results")
    p.set_defaults(func=run)


def add_filters(p: argparse.ArgumentParser) -> None:
    """The filters ``search`` and ``bundle`` share."""
    p.add_argument("--since", metavar="WHEN", help="captured at or after: 2026-11-01, 7d, 12h")
    p.add_argument("--until", metavar="WHEN", help="captured before the end of: 2026-11-30, 1d")
    from dsexport.cli.conversation_option import add_option

    add_option(p)
    p.add_argument("--model", help="model name contains this")


def run(args: argparse.Namespace) -> int:
    from dsexport.catalog import open_catalog
    from dsexport.catalog.search import search
    from dsexport.cli.conversation_option import resolve

    with open_catalog() as catalog:
        conversation = resolve(catalog, args.conversation)
        if isinstance(conversation, int):
            return conversation
        hits = search(
            catalog,
            " ".join(args.query),
            since=args.since,
            until=args.until,
            conversation=conversation,
            model=args.model,
            limit=max(1, args.limit),
        )
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=1))
    else:
        for hit in hits:
            e = hit.entry
            when = (e.captured_at or e.saved_at or "")[:16].replace("T", " ")
            where = e.conversation_title or e.conversation_id or ""
            print(e.path)
            print("    " + " · ".join(x for x in (when, where, hit.snippet) if x))
    return 0 if hits else 1
