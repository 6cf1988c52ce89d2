"""``dsexport check``: find catalogued files that were moved or deleted, and repair the catalog."""

from __future__ import annotations

import argparse
import json

HELP = """\
Check that every catalogued file is still there. Files that are gone are looked for (by content)
in the output folder, near where they were, and in any --search folder: moved files are followed,
deleted ones forgotten, changed ones read again. --dry-run only reports.
Exit status 1 when something was (or, with --dry-run, would be) repaired.

examples:
  dsexport check
  dsexport check --dry-run --json
  dsexport check --search /mnt/backup/Pictures
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    from dsexport.cli.import_ import add_progress

    p = sub.add_parser(
        "check",
        help="find moved or deleted files and repair the catalog",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--dry-run", action="store_true", help="report, change nothing")
    p.add_argument(
        "--search", action="append", metavar="DIR", help="also look for moved files here"
    )
    add_progress(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dsexport.catalog import open_catalog
    from dsexport.catalog.maintain import check, default_roots
    from dsexport.catalog.progress import progress_callback

    roots = None
    if args.search:
        roots = [*default_roots(), *args.search]
    with open_catalog() as catalog, progress_callback("check", args.progress) as progress:
        report = check(catalog, roots, repair=not args.dry_run, progress=progress)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        verb = "" if report.repaired else " (dry run, nothing changed)"
        print(f"{report.checked} checked, {report.ok} fine{verb}")
        for old, new in report.moved:
            print(f"moved:   {old} -> {new}")
        for path in report.missing:
            print(f"deleted: {path}" + (" (forgotten)" if report.repaired else ""))
        for path in report.changed:
            print(f"changed: {path}" + (" (read again)" if report.repaired else ""))
    return 1 if report.moved or report.missing or report.changed else 0
