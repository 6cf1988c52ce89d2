"""Browser benchmark: where "Save all" stands against what the browser itself can do, path by
path, without DS Export's host in the way.

Run: ``python tests/bench/bench_save_floors.py [--browser chromium|firefox|both] [--rounds 5]
[--no-write]``. 50 images of about 2 MB (PNG of noise), each round a new conversation of
distinct images; every side below runs once per round, in an order that rotates from round to
round, and is reported as a ratio to the browser's own ``downloads.download`` of the same URLs
in the same round:

- Chromium: ``staged`` — the same downloads as saveTab's staged ones (a file name in
  ``dsexport-staging/``, the download UI switched off), without the host: what staging alone
  costs the browser.
- Firefox (which never stages, see docs/performance.md): ``fetch`` — the images read into an
  extension page and turned into base64, four at a time, and dropped; ``sink`` — the same, each
  image then sent as one message over native messaging to a stand-in host that only reads it and
  answers (its pipe grown to 1 MiB like the real host's): Firefox's side of the transport, the
  least any helper reached by native messaging can cost.
- Both: ``no-op`` — saveTab itself with DS Export's host registration pointed at a stand-in that
  answers ``ping`` and, for each image, reads and deletes the staged file (or takes the bytes)
  and saves nothing: the extension's and the browser's part of a save; ``durable`` — saveTab
  with a stand-in that does the least a durable save must do (hash, write a new file, fsync,
  name it, delete the staged file; no metadata, no catalog, no checks); then ``save``, saveTab
  with the real host. no-op to durable is what durability costs; durable to save is DS Export's
  own work.
- Chromium: ``move`` — saveTab with a stand-in that hashes and fsyncs each staged file and
  renames it into place: durable without a second copy, which no host that writes the prompt
  before the image data (where readers look for it) can do.

Every side runs with the conversation's page open and its images loaded.

Writes the section "Save path floors" of docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_e2e as e2e  # noqa: E402
from report import machine, write_section  # noqa: E402

from dsexport.demo.server import SampleServer  # noqa: E402

IMAGES = e2e.ImageSet(50, 2)
SINK_NAME = "org.dsexport.bench_sink"

#: Both stand-in hosts grow their stdin pipe to 1 MiB, as the real host does (Linux).
GROW_PIPE = """
import fcntl
try:
    fcntl.fcntl(0, 1031, 1 << 20)  # F_SETPIPE_SZ, as the real host does
except OSError:
    pass
"""

#: A stand-in native host that does nothing with a message but read it and answer.
SINK = (
    GROW_PIPE
    + """
import struct, sys
read, write = sys.stdin.buffer.read, sys.stdout.buffer
reply = b'{"ok":true}'
while True:
    header = read(4)
    if len(header) < 4:
        break
    read(struct.unpack("=I", header)[0])
    write.write(struct.pack("=I", len(reply)) + reply)
    write.flush()
"""
)

#: A stand-in for DS Export's host behind saveTab: answers ``ping``; for ``save_download`` reads
#: the staged file and deletes it, for ``save`` takes the bytes; saves nothing. saveTab with it
#: is the extension's and the browser's part of a save, without the host's work.
NO_OP_HOST = (
    GROW_PIPE
    + """
import json, os, struct, sys
read, out = sys.stdin.buffer.read, sys.stdout.buffer
def send(reply):
    body = json.dumps(reply).encode()
    out.write(struct.pack("=I", len(body)) + body)
    out.flush()
while True:
    header = read(4)
    if len(header) < 4:
        break
    message = json.loads(read(struct.unpack("=I", header)[0]))
    kind, rid, result = message.get("type"), message.get("id"), {}
    if kind == "ping":
        result = {"version": "0", "protocol": 1, "capabilities": {}, "limits": {},
                  "config": {"output_dir": os.devnull}}
    elif kind in ("save_download", "save"):
        if kind == "save_download":
            with open(message["path"], "rb") as staged:
                staged.read()
            os.unlink(message["path"])
        result = {"path": os.devnull, "duplicate": False, "format": "png", "removed": True,
                  "warnings": []}
    send({"id": rid, "ok": True, "result": result})
"""
)

#: A stand-in for DS Export's host that does the least a durable save must do with each image,
#: on three threads like the real host: read it while hashing (SHA-256), write a new file beside
#: the others, fsync it, give it its name, delete the staged file; one folder fsync per eight
#: files (the real host's catalog batches its folder fsyncs too). No metadata, no catalog, no
#: checks: saveTab with it is the floor for any host that keeps "fsync kept". Registered as
#: ``move_host.py`` it does even less (Chromium's staged files): it hashes the staged file, fsyncs
#: it and renames it into the folder, no second copy; no host that writes the prompt into the
#: file can do less.
DURABLE_HOST = (
    GROW_PIPE
    + """
import base64, hashlib, json, os, struct, sys, threading
from concurrent.futures import ThreadPoolExecutor
MOVE = sys.argv[0].endswith("move_host.py")
read, out = sys.stdin.buffer.read, sys.stdout.buffer
folder = os.path.join(os.path.dirname(sys.argv[0]), "durable-out")
os.makedirs(folder, exist_ok=True)
lock = threading.Lock()
count = [0]
def send(reply):
    body = json.dumps(reply).encode()
    with lock:
        out.write(struct.pack("=I", len(body)) + body)
        out.flush()
def save(message):
    digest = hashlib.sha256()
    if message["type"] == "save_download" and MOVE:
        # The least of all: no second copy; the staged file itself, fsynced, takes its name.
        with open(message["path"], "rb") as staged:
            while chunk := staged.read(1 << 20):
                digest.update(chunk)
            os.fsync(staged.fileno())
        name = os.path.join(folder, digest.hexdigest()[:16] + os.urandom(4).hex())
        os.rename(message["path"], name)
        return finish(message, name)
    if message["type"] == "save_download":
        parts = []
        with open(message["path"], "rb") as staged:
            while chunk := staged.read(1 << 20):
                digest.update(chunk)
                parts.append(chunk)
        data = b"".join(parts)
    else:
        data = base64.b64decode(message["image"]["data"])
        digest.update(data)
    name = os.path.join(folder, digest.hexdigest()[:16] + os.urandom(4).hex())
    temp = name + ".tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.link(temp, name)
    os.unlink(temp)
    if message["type"] == "save_download":
        os.unlink(message["path"])
    finish(message, name)
def finish(message, name):
    with lock:
        count[0] += 1
        sync = count[0] % 8 == 0
    if sync:
        dfd = os.open(folder, os.O_RDONLY)
        os.fsync(dfd)
        os.close(dfd)
    send({"id": message["id"], "ok": True, "result": {"path": name, "duplicate": False,
          "format": "png", "removed": True, "warnings": []}})
pool = ThreadPoolExecutor(3)
while True:
    header = read(4)
    if len(header) < 4:
        break
    message = json.loads(read(struct.unpack("=I", header)[0]))
    kind, rid = message.get("type"), message.get("id")
    if kind in ("save_download", "save"):
        pool.submit(save, message)
        continue
    result = {}
    if kind == "ping":
        result = {"version": "0", "protocol": 1, "capabilities": {}, "limits": {},
                  "config": {"output_dir": folder}}
    send({"id": rid, "ok": True, "result": result})
pool.shutdown()
"""
)

#: Chromium: saveTab's staged downloads without the host (names and options as staging.js).
STAGED = """
async (urls) => {
  const downloads = chrome.downloads;
  const name = () => 'dsx-' + [...crypto.getRandomValues(new Uint8Array(16))]
    .map((b) => b.toString(16).padStart(2, '0')).join('');
  downloads.setUiOptions({enabled: false});
  const t0 = performance.now();
  const wanted = new Set();
  const complete = new Set();
  let started = false;
  let finish;
  const finished = new Promise((resolve) => { finish = resolve; });
  const check = () => {
    if (started && [...wanted].every((id) => complete.has(id))) finish(performance.now());
  };
  const listener = (delta) => {
    if (delta.state?.current === 'complete') complete.add(delta.id);
    check();
  };
  downloads.onChanged.addListener(listener);
  try {
    const ids = await Promise.all(urls.map((url) => downloads.download(
      {url, filename: `dsexport-staging/${name()}`, saveAs: false, conflictAction: 'uniquify'})));
    ids.forEach((id) => wanted.add(id));
    started = true;
    check();
    return {ms: (await finished) - t0};
  } finally {
    downloads.onChanged.removeListener(listener);
    await downloads.setUiOptions({enabled: true});
  }
}
"""

#: Firefox: fetch + base64 four at a time, and (sink) each image as one native message.
FETCH = """
async ([urls, host]) => {
  const t0 = performance.now();
  let port = null;
  let answered = 0;
  let finish;
  const finished = new Promise((resolve) => { finish = resolve; });
  if (host) {
    port = browser.runtime.connectNative(host);
    port.onMessage.addListener(() => { answered += 1; if (answered === urls.length) finish(); });
  }
  let next = 0;
  const reader = async () => {
    while (next < urls.length) {
      const url = urls[next++];
      const bytes = new Uint8Array(await (await fetch(url, {cache: 'no-store'})).arrayBuffer());
      const data = bytes.toBase64();
      if (port) port.postMessage({type: 'sink', id: next, data});
    }
  };
  await Promise.all([reader(), reader(), reader(), reader()]);
  if (port) {
    await finished;
    port.disconnect();
  }
  return {ms: performance.now() - t0};
}
"""


def register_sink(driver, root: Path) -> None:
    script = root / "sink.py"
    script.write_text(f"#!{sys.executable}\n{SINK}")
    script.chmod(0o755)
    folder = driver.home / ".mozilla" / "native-messaging-hosts"
    manifest = {
        "name": SINK_NAME,
        "description": "DS Export benchmark stand-in",
        "path": str(script),
        "type": "stdio",
        "allowed_extensions": ["dsexport@dsexport.org"],
    }
    (folder / f"{SINK_NAME}.json").write_text(json.dumps(manifest))


class HostSwitch:
    """Points DS Export's host registration at a stand-in (``"no-op"``, ``"durable"``) or back at
    the real host (``None``). The browser reads the manifest each time saveTab starts a host."""

    def __init__(self, root: Path) -> None:
        self.manifests = [p for p in root.rglob("org.dsexport.host.json") if p.is_file()]
        assert self.manifests, "DS Export's host is not registered"
        self.real = {p: p.read_text() for p in self.manifests}
        self.scripts = {}
        stand_ins = (("no-op", NO_OP_HOST), ("durable", DURABLE_HOST), ("move", DURABLE_HOST))
        for name, source in stand_ins:
            script = root / f"{name.replace('-', '_')}_host.py"
            script.write_text(f"#!{sys.executable}\n{source}")
            script.chmod(0o755)
            self.scripts[name] = script

    def use(self, stand_in: str | None) -> None:
        for path, text in self.real.items():
            doc = json.loads(text)
            if stand_in is not None:
                doc["path"] = str(self.scripts[stand_in])
            path.write_text(json.dumps(doc))


def clean(driver) -> None:
    for path in list(driver.downloads.rglob("*")):
        if path.is_file():
            path.unlink()
    driver.js(e2e.ERASE_ALL)


def run_side(driver, sample, side: str, hosts: HostSwitch) -> float:
    conv = e2e.new_conversation(sample, IMAGES)
    urls = [e.url for e in conv.expected]
    # Every side runs with the conversation open and its images loaded, as a person's would be.
    tab, handle = driver.open(conv)
    try:
        if side == "download":
            result = driver.js(e2e.DOWNLOAD_ALL, urls)
            assert result["bytes"] == sum(len(e.body) for e in conv.expected), result
            seconds = result["ms"] / 1000
        elif side == "staged":
            seconds = driver.js(STAGED, urls)["ms"] / 1000
            staged = list((driver.downloads / "dsexport-staging").iterdir())
            assert len(staged) == IMAGES.count, f"{len(staged)} staged files"
        elif side in ("fetch", "sink"):
            host = SINK_NAME if side == "sink" else None
            seconds = driver.js(FETCH, [urls, host])["ms"] / 1000
        else:
            hosts.use(side if side in hosts.scripts else None)
            deadline = time.monotonic() + 60
            while len(driver.call("scanTab", tab)["images"]) < IMAGES.count:
                assert time.monotonic() < deadline, "the extension did not find the images"
                time.sleep(0.3)
            t0 = time.perf_counter()
            summary = driver.call("saveTab", tab, {})
            seconds = time.perf_counter() - t0
            assert len(summary["saved"]) == IMAGES.count and not summary["failed"], summary
    finally:
        hosts.use(None)
        driver.close_tab(handle)
    clean(driver)
    return seconds


def run_browser(kind: str, rounds: int, server, sample):
    if kind == "chromium":
        sides = ["download", "staged", "no-op", "move", "durable", "save"]
    else:
        sides = ["download", "fetch", "sink", "no-op", "durable", "save"]
    root = Path(tempfile.mkdtemp(prefix=f"dsexport-floors-{kind}-"))
    driver = None
    try:
        driver = (e2e.ChromiumDriver if kind == "chromium" else e2e.FirefoxDriver)(root, server)
        if kind == "firefox":
            register_sink(driver, root)
        hosts = HostSwitch(root)
        for side in sides:  # unmeasured: the catalog, the folders, the first download
            run_side(driver, sample, side, hosts)
        ratios: dict[str, list[float]] = {side: [] for side in sides[1:]}
        times: dict[str, list[float]] = {side: [] for side in sides}
        loads = []
        for n in range(rounds):
            order = sides[n % len(sides) :] + sides[: n % len(sides)]
            loads.append(os.getloadavg()[0])
            got = {side: run_side(driver, sample, side, hosts) for side in order}
            for side in sides:
                times[side].append(got[side])
            for side in sides[1:]:
                ratios[side].append(got[side] / got["download"])
            print(
                f"{driver.name} round {n + 1}: "
                + ", ".join(f"{side} {got[side]:.2f} s" for side in sides)
                + f" (load {loads[-1]:.1f})",
                flush=True,
            )
        return driver.name, driver.version, sides, times, ratios, loads
    finally:
        if driver is not None:
            driver.close()
        shutil.rmtree(root, ignore_errors=True)


WHAT = {
    "download": "`downloads.download` of the URLs (the floor)",
    "staged": "the same as staged downloads (a name in `dsexport-staging/`, UI off), no host",
    "fetch": "fetch + base64 in an extension page, four at a time, dropped",
    "sink": "fetch + base64 + one native message per image to a stand-in host that only reads it",
    "no-op": "`saveTab` with a stand-in host that reads and deletes each file, saves nothing",
    "durable": "`saveTab` with a stand-in host that only hashes, writes and fsyncs each file",
    "move": "`saveTab` with a stand-in host that hashes and fsyncs each staged file and renames it",
    "save": "`saveTab` (Save all), the real host",
}


def section(results, rounds: int) -> str:
    parts = []
    for _name, version, sides, times, ratios, loads in results:
        rows = []
        for side in sides:
            ratio = "1×"
            if side in ratios:
                each = ", ".join(f"{r:.2f}" for r in ratios[side])
                ratio = f"**{statistics.median(ratios[side]):.2f}×** ({each})"
            rows.append(f"| {WHAT[side]} | {statistics.median(times[side]):.2f} s | {ratio} |")
        loads_text = f"load average {min(loads):.1f} to {max(loads):.1f}"
        parts.append(
            f"""{version}, {IMAGES.label}, {rounds} rounds, {loads_text}:

| path | median | ratio to the floor, median (per round) |
|---|---|---|
{chr(10).join(rows)}
"""
        )
    return (
        "`tests/bench/bench_save_floors.py`: each path of a save against the browser's own "
        "download of the same URLs in the same round (the sides rotate). It separates what a "
        "path costs the browser from what DS Export's host adds.\n\n"
        + "\n".join(parts)
        + f"\nMachine: {machine()} (other work may have been running; it slows every side).\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--browser", choices=("chromium", "firefox", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print, do not edit the docs")
    args = parser.parse_args(argv)
    sample = e2e.build_sample()
    kinds = ("chromium", "firefox") if args.browser == "both" else (args.browser,)
    with SampleServer(sample, lifetime=7200) as server:
        results = [run_browser(kind, args.rounds, server, sample) for kind in kinds]
    body = section(results, args.rounds)
    print(body, flush=True)
    if not args.no_write and args.browser == "both":
        write_section("Save path floors", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
