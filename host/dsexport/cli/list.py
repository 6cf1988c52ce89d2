"""``dsexport list``: the catalog grouped by conversation or by day, or one group's files."""

from __future__ import annotations

import argparse
import json

HELP = """\
List saved images grouped by conversation (most recent first) or by day, with counts and sizes,
and each conversation's exported archives. With --conversation or --day, list that group's files
(and the conversation's archives) instead. Conversation ids are shortened to their first 8 or more
characters, enough to tell them apart (--json prints them whole).

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
    from dsexport.catalog.exports import list_exports
    from dsexport.catalog.progress import human_bytes
    from dsexport.catalog.search import list_entries, list_groups
    from dsexport.cli.conversation_option import resolve

    with open_catalog() as catalog:
        if args.conversation is not None or args.day is not None:
            conversation = resolve(catalog, args.conversation)
            if isinstance(conversation, int):
                return conversation
            entries = list_entries(catalog, conversation=conversation, day=args.day)
            archives = (
                list_exports(catalog, conversation=conversation)
                if args.day is None and conversation is not None
                else []
            )
            if args.json:
                print(json.dumps([row_to_dict(e) for e in entries], ensure_ascii=False, indent=1))
                return 0 if entries or archives else 1
            for a in archives:
                print(
                    f"{a.exported_at[:16].replace('T', ' ')}  {a.path}  (archive, {a.turns} turns)"
                )
            for e in entries:
                when = (e.captured_at or e.saved_at or "")[:16].replace("T", " ")
                prompt = " ".join((e.prompt or "").split())
                short = prompt[:70] + ("…" if len(prompt) > 70 else "")
                print(f"{when}  {e.path}\n    {short}" if short else f"{when}  {e.path}")
            return 0 if entries or archives else 1
        groups = list_groups(catalog, args.by)
        archives = list_exports(catalog) if args.by == "conversation" else []
    by_conversation: dict[str | None, list] = {}
    for a in archives:
        by_conversation.setdefault(a.conversation_id, []).append(a)
    if args.json:
        out = []
        for g in groups:
            item = g.to_dict()
            if args.by == "conversation":
                item["archives"] = [a.to_dict() for a in by_conversation.pop(g.key, [])]
            out.append(item)
        for key, items in by_conversation.items():  # exported conversations without images
            out.append(
                {
                    "key": key,
                    "title": items[0].conversation_title,
                    "count": 0,
                    "bytes": 0,
                    "first": None,
                    "last": items[0].exported_at,
                    "archives": [a.to_dict() for a in items],
                }
            )
        print(json.dumps(out, ensure_ascii=False, indent=1))
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
            for a in by_conversation.pop(g.key, []):
                print(f"    archive: {a.path}")
    for key, items in by_conversation.items():
        print(f"{key or '(no conversation)'}  {items[0].conversation_title or '(no title)'}")
        for a in items:
            print(f"    archive: {a.path}")
    return 0
