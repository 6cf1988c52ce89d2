"""``dsexport bundle``: a ZIP of a conversation's (or a search's) images with every prompt."""

from __future__ import annotations

import argparse
import json
import sys

HELP = """\
Write a ZIP holding the images exactly as saved, metadata.json (every field of every image) and
prompts.html (a readable page with thumbnails). Memory stays flat however large the archive; an
existing file is never replaced (out.zip → out (2).zip).

--conversation takes an id or its first 4+ characters (as `dsexport list` shows them), a part
of the conversation's title (any case), or its URL; exit status 3 when it matches several.

examples:
  dsexport bundle --conversation 7c0e5a52 -o cats.zip
  dsexport bundle --conversation 猫咪 -o cats.zip
  dsexport bundle --query "red scarf" --since 30d -o ~/Desktop/scarves.zip
  dsexport bundle --query 熊猫 --model janus -o pandas.zip --json
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    from dsexport.cli.search import add_filters

    p = sub.add_parser(
        "bundle",
        help="ZIP a conversation's images with their prompts",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--query", metavar="Q", help="images matching this search (see search)")
    add_filters(p)
    p.add_argument("-o", "--output", required=True, metavar="OUT.zip", help="where to write")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dsexport.catalog import open_catalog
    from dsexport.catalog.bundle import MAX_ENTRIES, write_bundle
    from dsexport.catalog.progress import human_bytes
    from dsexport.catalog.search import search

    if args.query is None and args.conversation is None:
        print("dsexport: error: give --conversation ID or --query Q", file=sys.stderr)
        return 2
    from dsexport.cli.conversation_option import resolve

    with open_catalog() as catalog:
        conversation = resolve(catalog, args.conversation)
        if isinstance(conversation, int):
            return conversation
        hits = search(
            catalog,
            args.query or "",
            since=args.since,
            until=args.until,
            conversation=conversation,
            model=args.model,
            limit=MAX_ENTRIES + 1,
        )
    # Oldest first reads like the conversation did.
    result = write_bundle([h.entry for h in reversed(hits)], args.output)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        print(f"{result.path} ({result.count} images, {human_bytes(result.bytes)})")
        for path in result.skipped:
            print(f"  missing, left out: {path} (run dsexport check)", file=sys.stderr)
    return 0
