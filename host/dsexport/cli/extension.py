"""``dsexport extension``: the browser extension this installation carries — the folder to load,
the store packages, and how to install it in each browser."""

from __future__ import annotations

import argparse
import json

EXAMPLE = """\
examples:
  dsexport extension              the folder to load, the packages, and how
  dsexport extension --folder     only the folder (for scripts)
  dsexport extension --json"""

HOW_CHROMIUM = (
    "Chrome, Chromium, Edge, Brave, Vivaldi, Opera: open chrome://extensions (Edge: "
    'edge://extensions), switch on "Developer mode", click "Load unpacked" and choose'
)
HOW_FIREFOX = (
    'Firefox: open about:debugging#/runtime/this-firefox, click "Load Temporary Add-on..." and '
    "choose"
)
FIREFOX_RESTARTS = (
    "Firefox forgets a temporary add-on when it restarts. To keep DS Export: install it from "
    "addons.mozilla.org once it is published there, or, in Firefox ESR, Developer Edition or "
    "Nightly, set xpinstall.signatures.required to false in about:config, then in about:addons "
    'click the gear, "Install Add-on From File..." and choose the .xpi above.'
)


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "extension",
        help="show the browser extension: the folder to load and the store packages",
        description="Print the extension folder to load into your browser and the paths of "
        "the packages built from it (a .zip for the Chrome Web Store and Edge Add-ons, an .xpi "
        "for addons.mozilla.org), with how to install it in each browser. An installed package "
        "carries the extension; it is copied to DS Export's data folder (a path that survives "
        "upgrades) and the packages are built next to it, when missing or out of date.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--folder", action="store_true", help="print only the folder to load")
    p.add_argument("--json", action="store_true", help="print the paths as JSON")
    p.add_argument(
        "--system", action="store_true", help="the copy of a system-wide install (`--system`)"
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from dsexport import __version__
    from dsexport.installer import current, extension_folder
    from dsexport.installer.extension_id import read_ids

    data_dir = current().data_dir(args.system)
    folder = extension_folder.prepare(data_dir)
    if args.folder:
        print(folder.load)
        return 0
    packages = extension_folder.write_packages(folder, data_dir)
    ids = read_ids(folder.load)
    if args.json:
        out = {
            "version": __version__,
            "folder": str(folder.load),
            "manifest": str(folder.load / "manifest.json"),
            "packages": {target: str(path) for target, path in packages.items()},
            "ids": {"chromium": ids.chromium, "firefox": ids.firefox},
        }
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    lines = [
        f"DS Export {__version__}: the browser extension",
        "",
        "Load it into your browser:",
        _wrap(f"{HOW_CHROMIUM} the folder"),
        f"      {folder.load}",
        _wrap(f"{HOW_FIREFOX} the file"),
        f"      {folder.load / 'manifest.json'}",
        "",
        "Packages built from the same files:",
        f"  Chrome Web Store, Edge Add-ons: {packages['chromium']}",
        f"  addons.mozilla.org:             {packages['firefox']}",
        "",
        _wrap(FIREFOX_RESTARTS, ""),
        "",
        "Then check every browser end to end with: dsexport doctor",
    ]
    print("\n".join(lines))
    return 0


def _wrap(text: str, indent: str = "  ") -> str:
    import textwrap

    return textwrap.fill(
        text, width=100, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False
    )
