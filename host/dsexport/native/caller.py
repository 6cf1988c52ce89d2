"""Who started the host: the browser passes the calling extension on the command line.

- Chrome family: ``chrome-extension://<id>/`` as the first argument; on Windows also
  ``--parent-window=<HWND>`` (0 from a service worker), and with native-initiated connections
  ``--reconnect-command=…`` / ``--native-messaging-connect-id=…``.
- Firefox: ``<absolute path of the host manifest> <extension id>``.

The browser has already checked the caller against the manifest's ``allowed_origins`` /
``allowed_extensions``; checking again here is defence in depth against a manifest that lists
more than the installer wrote, or a host started by something else. There is deliberately no
"allow any caller" switch: to run the host by hand, pass the origin the way Chrome does::

    dsexport host chrome-extension://jgaaohokgeldgdegmnjhancfdcganloj/
"""

from __future__ import annotations

import json
import os
import re

TYPE_CHECKING = False  # neither typing nor pathlib: the host starts for every browser call
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

BUILTIN_CALLERS: frozenset[str] = frozenset(
    {
        "chrome-extension://jgaaohokgeldgdegmnjhancfdcganloj/",  # pinned by `key` in the manifest
        "dsexport@dsexport.org",  # browser_specific_settings.gecko.id
    }
)
"""Callers that are always allowed: our own extension in both browser families."""

INSTALL_STATE_KEY = "allowed_callers"
"""Key in ``<data_dir>/install-state.json``: a list of origins and Firefox IDs the installer
registered in the host manifests (e.g. a Web Store build's ID)."""

_CHROME_ORIGIN = r"chrome-extension://([a-p]{32})/"
_CHROME_ENTRY = r"chrome-extension://([a-p]{32})/?"
_CHROME_EXTRA_ARG = r"(?s)--[a-z][a-z-]*(=.*)?"
_FIREFOX_ID = r"[A-Za-z0-9._@{}+-]{1,255}"


class CallerRejected(Exception):
    """Not an error reply: the host exits without writing a frame."""


def _normalise(entry: str) -> str:
    # The installer may record an origin without Chrome's trailing slash.
    match = re.fullmatch(_CHROME_ENTRY, entry.strip())
    if match:
        return f"chrome-extension://{match.group(1)}/"
    return entry.strip()


def allowed_callers(state_file: str | Path | None = None) -> frozenset[str]:
    """Built-in callers plus those in the installer's state file (missing or broken file: only
    the built-ins)."""
    if state_file is None:
        from dsexport import paths

        state_file = os.path.join(paths.data_dir_str(), "install-state.json")
    extra: Iterable[object] = ()
    try:
        with open(state_file, "rb") as fh:
            state = json.loads(fh.read(1024 * 1024))
        if isinstance(state, dict) and isinstance(state.get(INSTALL_STATE_KEY), list):
            extra = state[INSTALL_STATE_KEY]
    except (OSError, ValueError):
        pass
    return BUILTIN_CALLERS | {_normalise(e) for e in extra if isinstance(e, str) and e.strip()}


def identify_caller(argv: Sequence[str]) -> str:
    """The caller named by the browser's arguments, e.g. ``chrome-extension://…/`` or
    ``dsexport@dsexport.org``; raises ``CallerRejected`` if the shape is not a browser's."""
    if not argv:
        msg = "no caller argument: the host is started by the browser"
        raise CallerRejected(msg)
    first = argv[0]
    if first.startswith("chrome-extension://"):
        if first not in BUILTIN_CALLERS and not re.fullmatch(_CHROME_ORIGIN, first):
            msg = f"malformed extension origin {first[:80]!r}"
            raise CallerRejected(msg)
        if not all(re.fullmatch(_CHROME_EXTRA_ARG, a) for a in argv[1:]):
            msg = "unexpected arguments after the extension origin"
            raise CallerRejected(msg)
        return first
    if len(argv) == 2 and first and not first.startswith("-"):
        if not re.fullmatch(_FIREFOX_ID, argv[1]):
            msg = f"malformed Firefox extension id {argv[1][:80]!r}"
            raise CallerRejected(msg)
        return argv[1]
    msg = "the arguments are not those a browser passes (origin, or manifest path and add-on id)"
    raise CallerRejected(msg)


def check_caller(argv: Sequence[str], allowed: frozenset[str] | None = None) -> str:
    """Return the caller if it is allowed; raise ``CallerRejected`` otherwise.

    The state file is read only when the caller is not one of the built-ins, so the common case
    costs no file access.
    """
    caller = identify_caller(argv)
    if allowed is None:
        allowed = BUILTIN_CALLERS if caller in BUILTIN_CALLERS else allowed_callers()
    if caller not in allowed:
        msg = f"caller {caller[:80]!r} is not allowed; run `dsexport install` to register it"
        raise CallerRejected(msg)
    return caller
