"""Browser benchmark: "Save all" through the extension (``saveTab``: scan, fetch, native messaging,
embed, atomic write with fsync, catalog) against the browser's own ``downloads.download`` of the
same image URLs, in the same browser, alternated, in Chromium and in Firefox ESR.

Run: ``python tests/bench/bench_e2e.py [--browser chromium|firefox|both] [--sets 10x2,50x2,200x0.5]
[--rounds 5] [--no-write]``. A set ``NxM`` is N images of about M MB each (PNG of noise, so they
do not compress). Every round serves a new conversation of distinct images (nothing is a
duplicate in the catalog, nothing comes from a cache); within a round both sides fetch the same
URLs, and which side goes first alternates from round to round. Writes the sections "Browser:
Chromium" and "Browser: Firefox" of docs/performance.md. Target: saveTab within 1.5x of the
downloads.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "e2e"))
from report import machine, write_section  # noqa: E402

from dsexport.demo.sample import (  # noqa: E402
    Conversation,
    GenImage,
    Sample,
    Turn,
    build_sample,
    make_image_bytes,
)
from dsexport.demo.server import SampleServer, chromium_args  # noqa: E402

REPO = HERE.parents[1]
EXTENSION_DIR = REPO / "extension"
EXTENSION_ID = "jgaaohokgeldgdegmnjhancfdcganloj"
TARGET_RATIO = 1.5

#: The browser's own download of every URL, finished when its last onChanged "complete" arrives
#: (events, not polling: polling would slow the baseline down).
DOWNLOAD_ALL = """
async (urls) => {
  const downloads = (globalThis.browser ?? globalThis.chrome).downloads;
  const t0 = performance.now();
  const wanted = new Set();
  const complete = new Set();
  let failed = null;
  let started = false;
  let finish;
  const finished = new Promise((resolve) => { finish = resolve; });
  const check = () => {
    const all = started && [...wanted].every((id) => complete.has(id));
    if (failed || all) finish(performance.now());
  };
  const listener = (delta) => {
    if (delta.state?.current === 'complete') complete.add(delta.id);
    if (delta.state?.current === 'interrupted') failed = delta.error?.current ?? 'interrupted';
    check();
  };
  downloads.onChanged.addListener(listener);
  try {
    const ids = await Promise.all(urls.map((url) => downloads.download({url, saveAs: false})));
    ids.forEach((id) => wanted.add(id));
    started = true;
    check();
    const end = await finished;
    if (failed) throw new Error('a download was interrupted: ' + failed);
    const items = (await downloads.search({})).filter((item) => wanted.has(item.id));
    return {ms: end - t0, bytes: items.reduce((n, item) => n + item.fileSize, 0)};
  } finally {
    downloads.onChanged.removeListener(listener);
  }
}
"""

DOWNLOAD_LIST = """
async () => (await (globalThis.browser ?? globalThis.chrome).downloads.search({}))
  .map((item) => ({id: item.id, filename: item.filename, state: item.state}))
"""

TAB_ID = "async (url) => (await API.tabs.query({})).find((t) => (t.url || '').startsWith(url)).id"

ERASE_ALL = "async () => (globalThis.browser ?? globalThis.chrome).downloads.erase({})"

#: The page's own images have loaded (or failed): nothing of the page competes with a side.
IMAGES_LOADED = "[...document.images].every((img) => img.complete)"
SETTLE_S = 0.5


@dataclass(frozen=True)
class ImageSet:
    count: int
    megabytes: float

    @property
    def label(self) -> str:
        return f"{self.count} × {self.megabytes:g} MB"

    @property
    def side(self) -> int:
        # Noise RGB pixels do not compress: 3 bytes a pixel, a little PNG framing on top.
        return int((self.megabytes * 1_000_000 / 3) ** 0.5)


def parse_sets(text: str) -> list[ImageSet]:
    sets = []
    for part in text.split(","):
        count, size = part.lower().split("x")
        sets.append(ImageSet(int(count), float(size)))
    return sets


_serial = [0]


def new_conversation(sample: Sample, image_set: ImageSet) -> Conversation:
    """A conversation of ``image_set`` distinct images, added to the served sample."""
    _serial[0] += 1
    serial = _serial[0]
    turns: list[Turn] = []
    for start in range(0, image_set.count, 10):
        turns.append(Turn("user", f"bench {serial}: images {start + 1} to {start + 10}"))
        images = []
        for k in range(start, min(start + 10, image_set.count)):
            prompt = f"bench {serial} image {k + 1}"
            seed = 100_000 * serial + k
            body = make_image_bytes("png", image_set.side, image_set.side, seed, prompt, noise=True)
            images.append(
                GenImage(prompt, seed, image_set.side, image_set.side, "flux", "png", body, prompt)
            )
        turns.append(Turn("assistant", f"batch {start // 10 + 1}", images=images))
    conv_id = (
        f"b3e0c0de-{serial:04x}-4000-a000-{image_set.count:06d}{int(image_set.megabytes * 10):06d}"
    )
    conv = Conversation(f"bench-{serial}", conv_id, f"Benchmark {serial}: {image_set.label}", turns)
    sample.conversations.append(conv)
    return conv


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):  # Windows
        return float("nan")


def _env(home: Path, downloads: Path) -> dict[str, str]:
    return dict(
        os.environ,
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local/state"),
        XDG_PICTURES_DIR=str(home / "Pictures"),
        XDG_DOWNLOAD_DIR=str(downloads),
    )


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "dsexport", *args], env=env, check=True, capture_output=True
    )


_LOG_LINE = re.compile(r"^(\S+ \S+) .*'(\w+)' id=.* in ([\d.]+) ms")


def host_log(home: Path) -> dict[str, list[tuple[float, float]]]:
    """Request type → [(start, end)] (epoch seconds) of each handler run, from the host log."""
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


def clear_host_log(home: Path) -> None:
    folder = home / ".local" / "state" / "dsexport" / "log"
    for path in folder.glob("host.log*") if folder.exists() else ():
        path.write_bytes(b"")


class ChromiumDriver:
    name = "Chromium"

    def __init__(self, root: Path, server: SampleServer):
        from dsexport.demo.chromium import Chromium, find_chromium

        exe = find_chromium()
        if not exe:
            msg = "no Chromium found"
            raise SystemExit(msg)
        self.home, self.downloads = root / "home", root / "home" / "Downloads"
        profile = root / "profile"
        (profile / "Default").mkdir(parents=True)
        self.downloads.mkdir(parents=True)
        self.env = _env(self.home, self.downloads)
        _cli(
            self.env,
            "install",
            "--user-data-dir",
            str(profile),
            "--extension-dir",
            str(EXTENSION_DIR),
        )
        _cli(self.env, "config", "set", "auto_capture", "false")  # the baseline stays plain
        prefs = {
            "download": {"default_directory": str(self.downloads), "prompt_for_download": False}
        }
        (profile / "Default" / "Preferences").write_text(json.dumps(prefs))
        self.browser = Chromium.launch(
            exe, profile, EXTENSION_DIR, chromium_args(server.port), env=self.env
        )
        self.worker = self.browser.extension_worker(EXTENSION_ID)
        self.browser.wait_for(self.worker, "typeof globalThis.dsexport === 'object'")
        self.browser.evaluate(self.worker, "chrome.storage.local.set({autoCapture: false})")
        self.version = self.browser.send("Browser.getVersion")["product"]

    def js(self, function: str, *args, timeout: float = 600):
        call = f"({function})({', '.join(json.dumps(a) for a in args)})"
        return self.browser.evaluate(self.worker, call, timeout=timeout)

    def open(self, conv: Conversation) -> tuple[int, str]:
        target = self.browser.send("Target.createTarget", {"url": conv.page_url})["targetId"]
        session = self.browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        self.browser.wait_for(
            session, "document.documentElement.dataset.sampleReady === '1'", timeout=60
        )
        # A person clicks "Save all" on a page that has loaded: its own images must not be
        # loading (through the same server) while either side is measured.
        self.browser.wait_for(session, IMAGES_LOADED, timeout=60)
        time.sleep(SETTLE_S)
        tab = self.js(
            TAB_ID.replace("API", "chrome"),
            conv.page_url,
        )
        return tab, target

    def close_tab(self, handle: str) -> None:
        self.browser.send("Target.closeTarget", {"targetId": handle})

    def call(self, name: str, *args, timeout: float = 600):
        return self.js(f"(...a) => globalThis.dsexport.{name}(...a)", *args, timeout=timeout)

    def close(self) -> None:
        self.browser.close()


class FirefoxDriver:
    name = "Firefox"

    def __init__(self, root: Path, server: SampleServer):
        from firefox import EXTENSION_UUID, ConnectProxy, Firefox, write_profile

        exe = shutil.which("firefox-esr") or shutil.which("firefox")
        if not exe:
            msg = "no Firefox found"
            raise SystemExit(msg)
        self.home, self.downloads = root / "home", root / "home" / "Downloads"
        self.downloads.mkdir(parents=True)
        self.env = _env(self.home, self.downloads)
        _cli(self.env, "install", "--browser", "firefox", "--extension-dir", str(EXTENSION_DIR))
        _cli(self.env, "config", "set", "auto_capture", "false")
        self.proxy = ConnectProxy(server.port, lifetime=3600)
        profile = root / "profile"
        write_profile(profile, proxy_port=self.proxy.port, downloads=self.downloads)
        self.ff = Firefox(exe, profile, self.env, root / "firefox.log")
        self.ff.cmd(
            "webExtension.install", extensionData={"type": "path", "path": str(EXTENSION_DIR)}
        )
        self.page = self.ff.open_privileged_tab(
            f"moz-extension://{EXTENSION_UUID}/popup/popup.html"
        )
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(Exception):
                ready = "location.protocol === 'moz-extension:' && typeof browser === 'object'"
                if self.ff.evaluate(self.page, ready):
                    break
            if time.monotonic() > deadline:
                msg = "the extension page did not load in Firefox"
                raise SystemExit(msg)
            time.sleep(0.2)
        self.ff.evaluate(
            self.page, "import('/shared/messages.js').then((m) => { window.__call = m.call; })"
        )
        self.ff.evaluate(self.page, "browser.storage.local.set({autoCapture: false})")
        self.version = (
            "Firefox "
            + subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.split()[-1]
        )

    def js(self, function: str, *args, timeout: float = 600):
        call = f"({function})({', '.join(json.dumps(a) for a in args)})"
        return self.ff.evaluate(self.page, call, timeout=timeout)

    def open(self, conv: Conversation) -> tuple[int, str]:
        context = self.ff.new_tab(conv.page_url)
        deadline = time.monotonic() + 60
        while (
            self.ff.evaluate(context, "document.documentElement.dataset.sampleReady || ''") != "1"
        ):
            if time.monotonic() > deadline:
                msg = f"{conv.page_url} did not render"
                raise SystemExit(msg)
            time.sleep(0.2)
        while not self.ff.evaluate(context, IMAGES_LOADED):
            if time.monotonic() > deadline:
                msg = f"the images of {conv.page_url} did not load"
                raise SystemExit(msg)
            time.sleep(0.1)
        time.sleep(SETTLE_S)
        tab = self.js(
            TAB_ID.replace("API", "browser"),
            conv.page_url,
        )
        return tab, context

    def close_tab(self, handle: str) -> None:
        self.ff.cmd("browsingContext.close", context=handle)

    def call(self, name: str, *args, timeout: float = 600):
        fields = {"tabId": args[0]}
        if len(args) > 1:
            fields["options"] = args[1]
        return self.js(
            "(name, fields) => window.__call(name, fields)", name, fields, timeout=timeout
        )

    def close(self) -> None:
        self.ff.close()
        self.proxy.close()


@dataclass
class Round:
    save: float
    download: float
    load: float
    staged: int
    sent: int
    first_save: float
    host_busy: float
    save_span: float
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.save / self.download


def one_round(driver, sample: Sample, image_set: ImageSet, *, save_first: bool) -> Round:
    conv = new_conversation(sample, image_set)
    n = image_set.count
    tab, handle = driver.open(conv)
    try:
        deadline = time.monotonic() + 60
        while len(driver.call("scanTab", tab)["images"]) < n:
            if time.monotonic() > deadline:
                msg = f"the extension did not find the {n} images"
                raise SystemExit(msg)
            time.sleep(0.5)
        urls = [e.url for e in conv.expected]
        output = driver.home / "Pictures" / "DeepSeek"
        before = set(output.rglob("*.png")) if output.exists() else set()
        clear_host_log(driver.home)
        times: dict[str, float] = {}
        started = {}

        def save() -> None:
            started["at"] = time.time()
            t0 = time.perf_counter()
            summary = driver.call("saveTab", tab, {})
            times["save"] = time.perf_counter() - t0
            problem = json.dumps(summary)[:2000]
            assert len(summary["saved"]) == n and not summary["failed"], problem
            assert not any(s["duplicate"] for s in summary["saved"]), problem
            # Nothing of the save is left in the browser's download list.
            left = driver.js(DOWNLOAD_LIST)
            assert not [d for d in left if "dsexport-staging" in (d["filename"] or "")], left

        def download() -> None:
            t0 = time.perf_counter()
            result = driver.js(DOWNLOAD_ALL, urls)
            times["download"] = time.perf_counter() - t0
            assert result["bytes"] == sum(len(e.body) for e in conv.expected), result

        load = _load()
        for side in (save, download) if save_first else (download, save):
            side()
        saved = set(output.rglob("*.png")) - before
        assert len(saved) == n, f"{len(saved)} files saved, not {n}"
        staging = driver.downloads / "dsexport-staging"
        assert not staging.exists() or not any(staging.iterdir()), sorted(staging.iterdir())
        landed = [p for p in driver.downloads.iterdir() if p.is_file()]
        assert len(landed) == n, f"Downloads holds {len(landed)} files, not the baseline's {n}"
        for path in landed:
            path.unlink()
        driver.js(ERASE_ALL)
        # Only this round's requests: a host of the round before may log its last lines late.
        requests = {
            kind: [span for span in spans if span[0] >= started["at"] - 0.05]
            for kind, spans in host_log(driver.home).items()
        }
        saves = sorted(requests.get("save_download", []) + requests.get("save", []))
        return Round(
            save=times["save"],
            download=times["download"],
            load=load,
            staged=len(requests.get("save_download", [])),
            sent=len(requests.get("save", [])) + len(requests.get("transfer_commit", [])),
            first_save=saves[0][0] - started["at"] if saves else float("nan"),
            host_busy=sum(end - start for start, end in saves),
            save_span=saves[-1][1] - saves[0][0] if saves else float("nan"),
        )
    finally:
        driver.close_tab(handle)


@dataclass
class SetResult:
    image_set: ImageSet
    rounds: list[Round]

    def median(self, key: str) -> float:
        return statistics.median(getattr(r, key) for r in self.rounds)


def run_browser(kind: str, sets: list[ImageSet], rounds: int, server: SampleServer, sample: Sample):
    root = Path(tempfile.mkdtemp(prefix=f"dsexport-bench-{kind}-"))
    driver = None
    try:
        driver = (ChromiumDriver if kind == "chromium" else FirefoxDriver)(root, server)
        # One unmeasured round per browser: the first save of a profile creates the catalog and
        # the output folder, the first download the Downloads machinery.
        one_round(driver, sample, ImageSet(5, 0.1), save_first=True)
        results = []
        for image_set in sets:
            done = []
            for n in range(rounds):
                r = one_round(driver, sample, image_set, save_first=n % 2 == 0)
                done.append(r)
                print(
                    f"{driver.name} {image_set.label} round {n + 1}: saveTab {r.save:.2f} s, "
                    f"downloads.download {r.download:.2f} s, ratio {r.ratio:.2f} "
                    f"(staged {r.staged}, sent {r.sent}; load {r.load:.1f})",
                    flush=True,
                )
            results.append(SetResult(image_set, done))
        return driver.name, driver.version, results
    finally:
        if driver is not None:
            driver.close()
        shutil.rmtree(root, ignore_errors=True)


def section(name: str, version: str, results: list[SetResult], rounds: int, loads: tuple) -> str:
    rows = []
    for res in results:
        s, d = res.median("save"), res.median("download")
        ratio = statistics.median(r.ratio for r in res.rounds)
        n = res.image_set.count
        verdict = "meets" if ratio <= TARGET_RATIO else "misses"
        rows.append(
            f"| {res.image_set.label} | {d:.2f} s ({d / n * 1000:.1f} ms/image) | "
            f"{s:.2f} s ({s / n * 1000:.1f} ms/image) | **{ratio:.2f}×** ({verdict}) | "
            f"{', '.join(f'{r.ratio:.2f}' for r in res.rounds)} |"
        )
    detail = []
    for res in results:
        detail.append(
            f"- {res.image_set.label}: images through staged downloads "
            f"{', '.join(str(r.staged) for r in res.rounds)}, sent as bytes "
            f"{', '.join(str(r.sent) for r in res.rounds)}; from saveTab's call to the host's "
            f"first save {res.median('first_save'):.2f} s, first to last save "
            f"{res.median('save_span'):.2f} s, the host's handlers busy "
            f"{res.median('host_busy'):.2f} s (summed; parallel saves overlap)."
        )
    return f"""
`tests/bench/bench_e2e.py` in {version} with the real extension and host: `saveTab` ("Save all")
against the browser's own `downloads.download` of the same URLs (automatic capture off), {rounds}
rounds per set, each round a new conversation of distinct images served by the local sample
server, the two sides alternated (which goes first swaps every round). Medians:

| images | `downloads.download` (floor) | `saveTab` | ratio (target ≤ {TARGET_RATIO}×) | per round |
|---|---|---|---|---|
{chr(10).join(rows)}

Where the save's time went (medians, from the host log):
{chr(10).join(detail)}

Machine: {machine()}; load average {loads[0]:.1f} before, {loads[1]:.1f} after (other work was
running on the machine; it slows both sides, which is why they alternate).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--browser", choices=("chromium", "firefox", "both"), default="both")
    parser.add_argument("--sets", default="10x2,50x2,200x0.5", type=parse_sets)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print, do not edit the docs")
    args = parser.parse_args(argv)
    sample = build_sample()
    kinds = ("chromium", "firefox") if args.browser == "both" else (args.browser,)
    with SampleServer(sample, lifetime=7200) as server:
        for kind in kinds:
            load_before = _load()
            name, version, results = run_browser(kind, args.sets, args.rounds, server, sample)
            body = section(name, version, results, args.rounds, (load_before, _load()))
            print(body, flush=True)
            if not args.no_write:
                write_section(f"Browser: {name}", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
