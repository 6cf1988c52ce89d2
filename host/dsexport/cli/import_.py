"""``dsexport import``: make existing images with prompts searchable (A1111, ComfyUI, NovelAI,
DS Export), where they are or copied/moved into the output folder."""

from __future__ import annotations

import argparse
import json
import sys

HELP = """\
Catalog images that carry A1111, ComfyUI, NovelAI or DS Export metadata so `dsexport search`
finds them. By default files stay where they are and are not changed. --copy saves a copy into
the output folder (named like every save, the prompt embedded, never overwriting anything);
--move does the same and then deletes the original, once the file in the output folder has been
read back and holds the same picture (an original whose picture was saved before with other
metadata is kept, and listed). Images without a prompt are skipped unless --all. A progress bar
shows on a terminal for large folders.

examples:
  dsexport import ~/stable-diffusion-webui/outputs --recursive
  dsexport import ~/ComfyUI/output --copy --out ~/Pictures/DeepSeek/comfy
  dsexport import novelai-*.png --move
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import",
        help="catalog existing A1111/ComfyUI/NovelAI images",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="DIR", help="folders or image files")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--copy", action="store_true", help="save copies into the output folder")
    mode.add_argument("--move", action="store_true", help="move files into the output folder")
    p.add_argument("-r", "--recursive", action="store_true", help="include subfolders")
    p.add_argument("--all", action="store_true", help="also images without any prompt metadata")
    p.add_argument("--out", metavar="DIR", help="output folder for --copy/--move")
    add_progress(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def add_progress(p: argparse.ArgumentParser) -> None:
    """``--progress``/``--no-progress``; by default a bar shows on a terminal for large folders."""
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)


def run(args: argparse.Namespace) -> int:
    from dsexport.catalog import open_catalog
    from dsexport.catalog.importer import import_paths
    from dsexport.catalog.progress import progress_callback

    mode = "copy" if args.copy else "move" if args.move else "index"
    if args.out and mode == "index":
        print("dsexport: error: --out goes with --copy or --move", file=sys.stderr)
        return 2
    with open_catalog() as catalog, progress_callback("import", args.progress) as progress:
        report = import_paths(
            catalog,
            args.paths,
            mode=mode,
            recursive=args.recursive,
            include_all=args.all,
            output_dir=args.out,
            progress=progress,
        )
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        done = {"index": "catalogued", "copy": "copied", "move": "moved"}[mode]
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(report.conventions.items()))
        print(
            f"{report.found} images found, {report.imported} {done}"
            + (f" ({kinds})" if kinds else "")
        )
        if report.already:
            print(f"{report.already} already in the catalog")
        if report.no_metadata:
            print(f"{report.no_metadata} without prompt metadata, skipped (--all includes them)")
        for path, reason in report.kept:
            print(f"{path}: {reason}", file=sys.stderr)
        for path, reason in report.skipped:
            print(f"{path}: skipped: {reason}", file=sys.stderr)
        for path, reason in report.failed:
            print(f"{path}: {reason}", file=sys.stderr)
    return 1 if report.failed else 0
