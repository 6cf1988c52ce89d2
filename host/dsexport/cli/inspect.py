"""``dsexport inspect``: show the metadata embedded in images (ours, A1111, ComfyUI, NovelAI)."""

from __future__ import annotations

import argparse
import json
import sys

HELP = """\
Show the prompt and parameters embedded in image files.

examples:
  dsexport inspect ~/Pictures/DeepSeek/2026-11-25/*.png
  dsexport inspect --json cat.webp | jq .metadata.prompt
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "inspect",
        help="show embedded metadata",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--json", action="store_true", help="one JSON object per file (a list if several)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dsexport.errors import DsError
    from dsexport.pipeline import inspect

    failures = 0
    results = []
    for name in args.files:
        try:
            info = inspect(name)
        except DsError as err:
            failures += 1
            results.append({"file": name, "error": {"code": err.code, "message": str(err)}})
            if not args.json:
                print(f"{name}: {err}", file=sys.stderr)
            continue
        results.append({"file": name, **info.to_dict()})
        if not args.json:
            _print_human(name, info)
    if args.json:
        out = results[0] if len(results) == 1 else results
        print(json.dumps(out, ensure_ascii=False, indent=2))
    return 1 if failures else 0


def _print_human(name: str, info) -> None:
    size = f"{info.width}x{info.height}" if info.width else "?"
    print(f"{name}: {info.format.upper()} {size}" + (", animated" if info.animated else ""))
    if info.has_c2pa:
        print("  C2PA content credential present")
    if info.metadata is None:
        if info.problem:
            print(f"  {info.convention} metadata found, but not usable: {info.problem}")
        else:
            print("  no metadata found")
        return
    print(f"  convention: {info.convention}")
    from dsexport.model import EMBEDDABLE_FIELDS

    data = info.metadata.to_dict()
    for key in EMBEDDABLE_FIELDS:
        if key in data:
            value = data[key]
            if key == "extra":
                value = json.dumps(value, ensure_ascii=False)
            text = str(value).replace("\n", "\n    ")
            print(f"  {key}: {text}")
