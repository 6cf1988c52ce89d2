"""``dsexport list``: the catalog grouped by conversation or by day, or one group's files."""

from __future__ import annotations

import argparse
import json

HELP = """\
List saved images grouped by conversation (most recent first) or by day, with counts and sizes.
With --conversation or --day, list that group's files instead. Conversation ids are shortened to
their first 8 or more characters, enough to tell them apart (--json prints them whole).

--conversation takes an id or its first 4+ characters, a part of the conversation's title (any
case), or its URL; exit status 3 when it matches several conversations (they are listed).

examples:
  dsexport list
  dsexport list --by day
  dsexport list --conversation 7c0e5a52
  dsexport list --conversation 猫咪 --json
  dsexport list --day 2026-11-25 --json
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "list",
        help="list saved images by conversation or day",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--by", choices=("conversation", "day"), default="conversation")
    group = p.add_mutually_exclusive_group()
    from dsexport.cli.conversation_option import add_option

    add_option(group)
    group.add_argument("--day", metavar="YYYY-MM-DD", help="files of one day")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dsexport.catalog import open_catalog
    from dsexport.catalog.conversations import short_ids
    from dsexport.catalog.db import row_to_dict
    from dsexport.catalog.progress import human_bytes
    from dsexport.catalog.search import list_entries, list_groups
    from dsexport.cli.conversation_option import resolve

    with open_catalog() as catalog:
        if args.conversation is not None or args.day is not None:
            conversation = resolve(catalog, args.conversation)
            if isinstance(conversation, int):
                return conversation
            entries = list_entries(catalog, conversation=conversation, day=args.day)
            if args.json:
                print(json.dumps([row_to_dict(e) for e in entries], ensure_ascii=False, indent=1))
                return 0 if entries else 1
            for e in entries:
                when = (e.captured_at or e.saved_at or "")[:16].replace("T", " ")
                prompt = " ".join((e.prompt or "").split())
                short = prompt[:70] + ("…" if len(prompt) > 70 else "")
                print(f"{when}  {e.path}\n    {short}" if short else f"{when}  {e.path}")
            return 0 if entries else 1
        groups = list_groups(catalog, args.by)
    if args.json:
        print(json.dumps([g.to_dict() for g in groups], ensure_ascii=False, indent=1))
        return 0
    short = short_ids(g.key for g in groups if g.key) if args.by == "conversation" else {}
    for g in groups:
        size = human_bytes(g.bytes)
        if args.by == "day":
            print(f"{g.key or '(unknown day)'}  {g.count:>6} images  {size:>9}")
        else:
            label = g.title or "(no title)"
            key = short.get(g.key, g.key) if g.key else "(no conversation)"
            last = (g.last or "")[:10]
            print(f"{key}  {label}\n    {g.count} images, {size}, last {last}")
    return 0
