"""``dsexport demo``: the whole path on a bundled sample, no DeepSeek account needed.

Serves a DeepSeek-like conversation locally, starts the system's Chromium with the real extension
and the host registered into a throw-away profile, saves every image through the extension (the
same ``saveTab`` the toolbar button calls), and prints where each image went and the prompt it
carries.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXTENSION_ID = "jgaaohokgeldgdegmnjhancfdcganloj"

HELP = """\
Run DS Export end to end on a bundled sample conversation: a local fake chat.deepseek.com,
your Chromium (headless unless --show), the real extension and helper. Images are saved to
your configured output folder (see `dsexport config get output_dir`) unless --out is given.

examples:
  dsexport demo
  dsexport demo --show --keep
  dsexport demo --out /tmp/ds-demo --conversation long
"""

#: Characters of each prompt printed (the file holds all of it).
PROMPT_SHOWN = 120
#: Exit status when no Chromium-family browser is installed.
NO_BROWSER = 3


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="save the images of a bundled sample conversation, end to end",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--show", action="store_true", help="show the browser window")
    p.add_argument("--keep", action="store_true", help="keep the temporary browser profile")
    p.add_argument("--out", metavar="DIR", help="save here instead of the configured output folder")
    p.add_argument("--browser", metavar="PATH", help="the Chromium-family browser to start")
    p.add_argument("--extension-dir", metavar="DIR", help="the unpacked extension to load")
    p.add_argument(
        "--conversation",
        default="main",
        choices=("main", "extras", "long", "batch50", "broken"),
        help="which sample conversation to save (default: main)",
    )
    p.add_argument("--timeout", type=float, default=180, help="seconds before giving up")
    p.set_defaults(func=run)


def _fail(message: str, status: int = 1) -> int:
    print(f"dsexport demo: {message}", file=sys.stderr)
    return status


def _private_env(root: Path) -> dict[str, str]:
    """This environment with HOME and the per-user folders moved under ``root``."""
    env = dict(os.environ)
    env.update(
        HOME=str(root),
        XDG_CONFIG_HOME=str(root / ".config"),
        XDG_DATA_HOME=str(root / ".local" / "share"),
        XDG_CACHE_HOME=str(root / ".cache"),
        XDG_STATE_HOME=str(root / ".local" / "state"),
        WIN_PD_OVERRIDE_APPDATA=str(root / "AppData" / "Roaming"),
        WIN_PD_OVERRIDE_LOCAL_APPDATA=str(root / "AppData" / "Local"),
    )
    return env


def _isolated_env(root: Path, out: Path) -> dict[str, str]:
    """Environment for the browser (and so the helper it starts) whose config says ``out``.

    The helper reads its settings from the user's config folder; a separate HOME/XDG tree keeps
    the user's own settings and catalog untouched.
    """
    env = _private_env(root)
    subprocess.run(
        [sys.executable, "-m", "dsexport", "config", "set", "output_dir", str(out)],
        env=env,
        check=True,
        capture_output=True,
    )
    return env


def run(args: argparse.Namespace) -> int:
    from dsexport.demo.chromium import Chromium, DevToolsError, find_chromium
    from dsexport.demo.sample import build_sample
    from dsexport.demo.server import SampleServer, chromium_args
    from dsexport.installer.extension_id import find_extension_dir

    executable = args.browser or find_chromium()
    if not executable:
        return _fail(
            "no Chromium-family browser found (looked for chromium, chromium-browser, "
            "google-chrome). Install Chromium (Debian/Ubuntu: sudo apt-get install chromium) "
            "or pass --browser PATH.",
            NO_BROWSER,
        )
    ext_dir = Path(args.extension_dir).resolve() if args.extension_dir else find_extension_dir()
    if ext_dir is None or not (ext_dir / "manifest.json").is_file():
        return _fail("cannot find the extension folder; pass --extension-dir DIR")

    work = Path(tempfile.mkdtemp(prefix="dsexport-demo-"))
    profile = work / "profile"
    profile.mkdir()
    env = None
    if args.out:
        out = Path(args.out).expanduser().resolve()
        out.mkdir(parents=True, exist_ok=True)
        env = _isolated_env(work / "home", out)
    print("DS Export demo: preparing the sample conversation…", flush=True)
    sample = build_sample()
    conv = sample.conversation(args.conversation)
    # The registration for the throw-away profile (its launcher and install record) goes into
    # the throw-away folder too, so `dsexport doctor` never reports a vanished demo profile.
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "dsexport",
            "install",
            "--user-data-dir",
            str(profile),
            "--extension-dir",
            str(ext_dir),
        ],
        capture_output=True,
        text=True,
        env=env or _private_env(work / "install-home"),
        check=False,
    )
    if install.returncode != 0:
        return _fail(f"registering the helper failed:\n{install.stderr or install.stdout}")
    status = 1
    try:
        with SampleServer(sample, lifetime=args.timeout + 60) as server:
            print(f"  fake chat.deepseek.com on 127.0.0.1:{server.port}", flush=True)
            with Chromium.launch(
                executable,
                profile,
                ext_dir,
                chromium_args(server.port),
                headless=not args.show,
                env=env,
            ) as browser:
                status = _drive(browser, conv, args.timeout)
                if args.show and sys.stdin.isatty():
                    input("Press Enter to close the browser… ")
    except DevToolsError as err:
        status = _fail(str(err))
    finally:
        if args.keep:
            print(f"  browser profile kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return status


def _drive(browser, conv, timeout: float) -> int:
    from dsexport import read_metadata

    worker = browser.extension_worker(EXTENSION_ID)
    # The worker target exists a moment before its module has run and set globalThis.dsexport.
    if not browser.wait_for(worker, "typeof globalThis.dsexport === 'object'"):
        return _fail("the extension started but exposes no globalThis.dsexport")
    host = browser.evaluate(worker, "globalThis.dsexport.hostStatus()")
    if not (host or {}).get("installed"):
        return _fail(f"the extension cannot reach the helper: {json.dumps(host)}")
    page = browser.open_page(conv.page_url)
    if not browser.wait_for(page, "document.documentElement.dataset.sampleReady === '1'"):
        return _fail("the sample page did not load")
    url = json.dumps(conv.page_url)
    find_tab = f"(ts) => (ts.find((t) => (t.url || '').startsWith({url})) || {{}}).id"
    tab_id = browser.evaluate(worker, f"chrome.tabs.query({{}}).then({find_tab})")
    print(f"  opened {conv.page_url}  ({conv.title})", flush=True)
    deadline = time.monotonic() + 20
    found = 0
    while time.monotonic() < deadline:
        scan = browser.evaluate(worker, f"globalThis.dsexport.scanTab({tab_id})")
        found = len(scan.get("images", []))
        if found >= len(conv.expected):
            break
        time.sleep(0.5)
    print(f"  the extension found {found} images; saving…", flush=True)
    summary = browser.evaluate(
        worker, f"globalThis.dsexport.saveTab({tab_id}, {{}})", timeout=timeout
    )
    print()
    for item in summary.get("saved", []):
        path = item["path"]
        meta = read_metadata(path)
        prompt = " ".join(((meta.prompt if meta else None) or "(no prompt)").split())
        if len(prompt) > PROMPT_SHOWN:
            prompt = prompt[: PROMPT_SHOWN - 1] + "…"
        note = "  (already saved before)" if item.get("duplicate") else ""
        print(f"{path}{note}\n    prompt: {prompt}")
    for item in summary.get("failed", []):
        print(f"FAILED {item.get('id')}: {item.get('code')}: {item.get('message')}")
    saved = len(summary.get("saved", []))
    folder = summary.get("folder") or ""
    print(
        f"\n{saved} saved, {len(summary.get('failed', []))} failed"
        + (f", in {folder}" if folder else "")
    )
    return 0 if saved and not summary.get("failed") else 1
