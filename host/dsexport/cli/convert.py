"""``dsexport convert``: convert images to another format, carrying their metadata over."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = """\
Convert images and keep their embedded prompt and parameters.

examples:
  dsexport convert cat.png --format webp                # lossless WebP
  dsexport convert *.png --format jpeg --quality 90 --out ~/Pictures/jpeg
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "convert",
        help="convert images, keeping metadata",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--format", required=True, choices=("png", "jpeg", "webp", "avif"))
    p.add_argument("--quality", type=int, help="1-100; WebP without --quality is lossless")
    p.add_argument("--out", metavar="DIR", help="output folder (default: the config's output_dir)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dsexport.errors import DsError
    from dsexport.pipeline import convert_file

    out = str(Path(args.out).expanduser().resolve()) if args.out else None
    failures = 0
    for name in args.files:
        try:
            result = convert_file(name, args.format, quality=args.quality, out=out)
        except DsError as err:
            failures += 1
            print(f"{name}: refused: {err}", file=sys.stderr)
            continue
        print(f"{name} -> {result.path}" + (" (already saved)" if result.duplicate else ""))
        for warning in result.warnings:
            print(f"  note: {warning}")
    return 1 if failures else 0
