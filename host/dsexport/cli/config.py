"""``dsexport config``: read and change the settings the CLI and the extension share."""

from __future__ import annotations

import argparse
import json
from typing import Any

HELP = """\
Read and change DS Export's settings (the extension's options page uses the same file).

keys:
  output_dir       absolute folder images are saved in (created if missing)
  name_template    file name template, e.g. {date}/{datetime}_{prompt:40}_{hash:8}
  format           original (no re-encoding), png, jpeg, webp or avif
  quality          1-100, for jpeg, lossy webp and avif
  sidecars         extra files beside each image: json, txt (may be empty)
  embed_fields     metadata fields written into files
  auto_capture     true/false: save images as they appear in the chat
  jpeg_background  #rrggbb colour transparent pixels get when saving as jpeg
  download_dirs    extra absolute folders `embed` may change
  notifications    true/false: system notifications for menu, shortcut and capture saves
  thumbnail_cache_mb  size cap of the library's thumbnail cache in MB (16-100000)

Lists are comma-separated or JSON; an empty string is an empty list.

examples:
  dsexport config list
  dsexport config get output_dir
  dsexport config set output_dir ~/Pictures/AI
  dsexport config set name_template "{conversation}/{index:3}_{prompt:60}"
  dsexport config set sidecars json,txt
  dsexport config set embed_fields '["prompt", "seed", "model"]'
  dsexport config reset format
  dsexport config reset --all
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "config",
        help="show or change settings",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    get = actions.add_parser(
        "get", help="print one value", description="example: config get format"
    )
    get.add_argument("key", metavar="KEY")
    get.add_argument("--json", action="store_true", help="print the value as JSON")
    put = actions.add_parser(
        "set", help="validate and store one value", description="example: config set quality 85"
    )
    put.add_argument("key", metavar="KEY")
    put.add_argument("value", metavar="VALUE")
    show = actions.add_parser("list", help="print every value", description="example: config list")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    reset = actions.add_parser(
        "reset",
        help="return a key (or --all) to its default",
        description="example: config reset sidecars",
    )
    reset.add_argument("key", metavar="KEY", nargs="?")
    reset.add_argument("--all", action="store_true", help="forget every stored value")
    actions.add_parser(
        "path", help="print where the config file is", description="example: config path"
    )
    p.set_defaults(func=run, _parser=p)


def run(args: argparse.Namespace) -> int:
    from dsexport import config, paths
    from dsexport.errors import BadConfig

    action = args.action
    if action == "path":
        print(paths.config_file())
    elif action == "get":
        print(_show(config.load_config().get(args.key), as_json=args.json))
    elif action == "set":
        value = config.parse_text(args.key, args.value)
        cfg = config.set_values({args.key: value})
        print(f"{args.key} = {_show(cfg.get(args.key))}")
    elif action == "list":
        values = config.load_config().to_dict()
        if args.json:
            print(json.dumps(values, indent=2, ensure_ascii=False))
        else:
            for key, value in values.items():
                print(f"{key} = {_show(value)}")
    elif action == "reset":
        if args.all == bool(args.key):
            msg = "give either a KEY or --all, e.g. `dsexport config reset format`"
            raise BadConfig(msg)
        cfg = config.reset_all() if args.all else config.reset_key(args.key)
        if not args.all:
            print(f"{args.key} = {_show(cfg.get(args.key))}")
    else:
        args._parser.print_help()
        return 2
    return 0


def _show(value: Any, *, as_json: bool = False) -> str:
    if as_json:
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)
