"""``dsexport`` command line: one module per command, each with ``add_parser`` and ``run``.

Command modules must stay light at import time (no Pillow at module level): building the
parser imports all of them.
"""

from __future__ import annotations

import sys

#: Command name → module under dsexport.cli. Adding a command = one module + one entry here.
COMMANDS: dict[str, str] = {
    "save": "save",
    "inspect": "inspect",
    "convert": "convert",
    "config": "config",
    "host": "host",
    "install": "install",
    "uninstall": "uninstall",
    "doctor": "doctor",
    "extension": "extension",
    "demo": "demo",
    "search": "search",
    "list": "list",
    "stats": "stats",
    "bundle": "bundle",
    "import": "import_",
    "reindex": "reindex",
    "check": "check",
    "library": "library",
}


def _load(name: str):
    import importlib

    return importlib.import_module(f"dsexport.cli.{COMMANDS[name]}")


def build_parser():
    import argparse

    from dsexport import __version__

    parser = argparse.ArgumentParser(
        prog="dsexport",
        description="Save DeepSeek images losslessly with their prompts embedded.",
    )
    parser.add_argument("--version", action="version", version=f"dsexport {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = _load(name)
        except ModuleNotFoundError as err:
            # A command whose module is not there yet must not break the others.
            if err.name != f"dsexport.cli.{COMMANDS[name]}":
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from dsexport.errors import DsError

    argv = sys.argv[1:] if argv is None else argv
    # The native host is started by the browser for every message: skip building the full parser.
    if argv[:1] == ["host"]:
        return _load("host").run_argv(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except DsError as err:
        print(f"dsexport: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # the CLI's outermost edge: one line, not a traceback
        import logging

        logging.getLogger("dsexport").debug("unexpected error", exc_info=True)
        print(f"dsexport: internal error: {type(err).__name__}: {err}", file=sys.stderr)
        return 70
