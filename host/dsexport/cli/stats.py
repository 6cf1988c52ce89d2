"""``dsexport stats``: how many images the catalog holds, how large, from where."""

from __future__ import annotations

import argparse
import json

HELP = """\
Show catalog statistics: images, total size, conversations, days, formats, how images were saved
(toolbar, menu, download, cli, import) and the most used models.

examples:
  dsexport stats
  dsexport stats --json
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "stats",
        help="catalog statistics",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dsexport.catalog import open_catalog
    from dsexport.catalog.progress import human_bytes
    from dsexport.catalog.search import stats

    with open_catalog() as catalog:
        data = stats(catalog)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return 0
    print(f"images:        {data['images']} ({human_bytes(data['bytes'])})")
    print(f"conversations: {data['conversations']}")
    print(f"days:          {data['days']}")
    if data["first_captured"]:
        print(f"captured:      {data['first_captured']} … {data['last_captured']}")
    for title, key in (("formats", "formats"), ("saved by", "sources"), ("models", "models")):
        parts = [f"{k or '(none)'} {v['count']}" for k, v in data[key].items()]
        if parts:
            print(f"{title + ':':<14} {', '.join(parts)}")
    print(f"catalog:       {data['catalog']} ({human_bytes(data['catalog_bytes'])})")
    return 0
