"""``dsexport reindex``: rebuild the catalog from the metadata embedded in the files."""

from __future__ import annotations

import argparse
import json
import sys

HELP = """\
Read every image under the given folders (default: the output folder, with subfolders) and
record it from the metadata embedded in it. The files are the source of truth: after losing or
deleting the catalog, this brings back everything. Unchanged files are skipped unless --full;
catalog entries under the folders whose file is gone are removed.

examples:
  dsexport reindex
  dsexport reindex ~/Pictures/DeepSeek ~/Downloads/deepseek --full
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    from dsexport.cli.import_ import add_progress

    p = sub.add_parser(
        "reindex",
        help="rebuild the catalog from the files",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dirs", nargs="*", metavar="DIR", help="folders (default: the output folder)")
    p.add_argument("--full", action="store_true", help="read every file, changed or not")
    p.add_argument("--no-recursive", dest="recursive", action="store_false", help="skip subfolders")
    add_progress(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dsexport.catalog import open_catalog
    from dsexport.catalog.maintain import reindex
    from dsexport.catalog.progress import progress_callback

    with open_catalog() as catalog, progress_callback("reindex", args.progress) as progress:
        report = reindex(
            catalog,
            args.dirs or None,
            recursive=args.recursive,
            full=args.full,
            progress=progress,
        )
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
        return 0
    print(
        f"{report.scanned} images: {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.removed} removed"
    )
    for path, reason in report.skipped:
        print(f"{path}: skipped: {reason}", file=sys.stderr)
    return 0
