"""``dsexport host``: the native-messaging host the browser starts (through the launcher the
installer writes). The launcher calls ``console_main`` directly (``python -c``, not ``-m``), and
``dsexport.cli.main`` calls ``run_argv``, both skipping the full parser: the browser starts a
fresh host for every one-shot message, so argparse is imported only for ``--help``."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

HELP = "the native-messaging host (started by the browser)"
DESCRIPTION = """\
Speak the native-messaging protocol on stdin/stdout (docs/protocol.md) until stdin closes.
The browser passes the calling extension: Chrome-family browsers its origin, Firefox the host
manifest path and the add-on id. Callers other than DS Export's own extension and those recorded
by `dsexport install` are refused (exit status 77, nothing written on stdout).
Logs go to host.log in the DS Export log folder (~/.local/state/dsexport/log on Linux,
~/Library/Logs/dsexport on macOS, %LOCALAPPDATA%\\dsexport\\Logs on Windows)."""
EPILOG = """\
example (what Chrome runs):
  dsexport host chrome-extension://jgaaohokgeldgdegmnjhancfdcganloj/
example (what Firefox runs):
  dsexport host ~/.mozilla/native-messaging-hosts/org.dsexport.host.json dsexport@dsexport.org"""

LAUNCH_CODE = (
    "import sys; sys.path[:1] = [p for p in sys.path[:1] if p]; "
    "from dsexport.cli.host import console_main; sys.exit(console_main())"
)
"""What the installer's launcher runs with ``python -c``: ``-m dsexport host`` would import runpy
(a few milliseconds of every browser call). The empty first ``sys.path`` entry ``-c`` adds is the
working directory, which the browser sets to the launcher's folder: it is dropped, so nothing
there can shadow a module."""


def add_parser(sub) -> argparse.ArgumentParser:
    import argparse

    parser = sub.add_parser(
        "host",
        help=HELP,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "browser_args",
        nargs=argparse.REMAINDER,
        metavar="ARG",
        help="what the browser passes: chrome-extension://<id>/ [--parent-window=N], "
        "or <manifest path> <add-on id>",
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    return run_argv(list(args.browser_args))


def run_argv(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        import argparse

        parser = argparse.ArgumentParser(prog="dsexport")
        add_parser(parser.add_subparsers()).print_help()
        return 0
    from dsexport.native.server import main

    return main(argv)


def console_main() -> int:
    """Entry point of the launcher (``python -c LAUNCH_CODE <browser arguments>``) and of the
    ``dsexport-host`` console script (``dsexport-host = "dsexport.cli.host:console_main"``): on
    Windows Chrome can start an ``.exe`` host directly, without ``cmd.exe``."""
    import sys

    return run_argv(sys.argv[1:])
