"""Benchmark: the native host's CPU per staged image, "Save all" as Chromium sends it.

Run: ``python tests/bench/bench_host_saves.py [rounds] [images]`` (default 7 rounds of 50).
Results go to docs/performance.md, section "Save path: the host's CPU per image".

Each round stages fresh 2 MB PNGs (random pixels, no metadata: what a chat page serves) in
``<Downloads>/dsexport-staging/`` of a private HOME and, in alternating order:

- **host**: starts ``python -m dsexport host`` as Chrome does, sends ``ping {prepare: true}``,
  then every ``save_download`` at once (pipelined, as the extension does, with a chat's
  metadata: prompt, conversation, page) and reads the replies;
  the CPU time (user + system, all threads) the process used from the first request to the last
  reply, per image, and the wall time of the same span. Start-up (spawn, imports, ``ping``, the
  save engine loaded by ``prepare``) and exit are counted apart: the process's whole CPU time
  minus the saves'.
- **bare**: the least any save of these files can do, in this process on one thread: read each
  staged file while hashing it (SHA-256), write it to a new file in the output folder, fsync it,
  delete the staged file, and fsync the folder once at the end.

The figures are the medians over rounds of each round's host/bare ratio (the two ran seconds
apart, so load from other work weighs on both), with the load average before and after.
Nothing is timed against a fixed limit; the ratios are for docs/performance.md.
"""

from __future__ import annotations

import hashlib
import os
import resource
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "host"))
from native_client import Host, big_png  # noqa: E402
from report import machine, write_section  # noqa: E402

IMAGE_BYTES = 2_000_000

METADATA = {
    "prompt": (
        "A lighthouse on a rocky cliff at dusk, waves breaking below, warm light in the lamp "
        "room, oil painting, dramatic clouds. 黄昏时悬崖上的灯塔，海浪拍打岩石，油画风格。"
    ),
    "conversation_title": "Lighthouse paintings",
    "conversation_id": "3f2a9c1e-5b7d-4e8a-9c0f-1d2e3f4a5b6c",
    "page_url": "https://chat.deepseek.com/a/chat/s/3f2a9c1e-5b7d-4e8a-9c0f-1d2e3f4a5b6c",
    "origin": "generated",
}
"""What the extension sends with each image of a chat (prompt, conversation, page)."""
READ_BLOCK = 1024 * 1024


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _wait_for_prepare(pid: int) -> None:
    """``prepare`` loads the save engine on a thread of its own (unnamed to the OS before
    Python 3.14): wait until the process has used no CPU for 3 samples in a row, so that work
    counts as start-up, not as the saves'."""
    deadline = time.monotonic() + 30
    last, still = _process_cpu(pid), 0
    while still < 3:
        if time.monotonic() > deadline:
            raise SystemExit("the host did not go idle after ping within 30 s")
        time.sleep(0.025)
        now = _process_cpu(pid)
        still = still + 1 if now == last else 0
        last = now


def _stage(folder: Path, images: list[bytes]) -> list[Path]:
    paths = []
    for data in images:
        path = folder / f"dsx-{secrets.token_hex(16)}"
        path.write_bytes(data)
        paths.append(path)
    os.sync()  # the writes' flush must not land in either side's measurement
    return paths


def run_host(home: Path, paths: list[Path]) -> dict[str, float]:
    before = _children_cpu()
    with Host(home) as host:
        host.result("ping", prepare=True)
        _wait_for_prepare(host.proc.pid)
        cpu0 = _process_cpu(host.proc.pid)
        started = time.perf_counter()
        for i, path in enumerate(paths):
            host.send(
                {
                    "type": "save_download",
                    "id": i,
                    "path": str(path),
                    "url": f"https://cdn.deepseek.example/images/{i}.png",
                    "metadata": {**METADATA, "turn_index": i},
                    "options": {"index": i + 1, "source": "toolbar"},
                }
            )
        for _ in paths:
            reply = host.recv()
            if not reply.get("ok"):
                raise SystemExit(f"host failed: {reply}")
        wall = time.perf_counter() - started
        saves = _process_cpu(host.proc.pid) - cpu0
        host.close()
    total = _children_cpu() - before
    return {"cpu": saves, "wall": wall, "other": total - saves}


def run_bare(out: Path, paths: list[Path]) -> dict[str, float]:
    out.mkdir(parents=True, exist_ok=True)
    cpu0 = time.thread_time()
    started = time.perf_counter()
    for path in paths:
        size = path.stat().st_size
        data = bytearray(size)
        view = memoryview(data)
        hasher = hashlib.sha256()
        with open(path, "rb", buffering=0) as src:
            got = 0
            while got < size:
                n = src.readinto(view[got : got + READ_BLOCK])
                hasher.update(view[got : got + n])
                got += n
        hasher.hexdigest()
        fd = os.open(out / f"{path.name}.png", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, view)
            os.fsync(fd)
        finally:
            os.close(fd)
        view.release()
        path.unlink()
    folder = os.open(out, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return {"cpu": time.thread_time() - cpu0, "wall": time.perf_counter() - started}


def measure(rounds: int, count: int) -> dict[str, float]:
    # As an installed copy runs: bytecode cached (pip compiles it), written by the warm-up.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        staging = home / "Downloads" / "dsexport-staging"
        staging.mkdir(parents=True)
        bare_out = Path(tmp) / "bare"
        run_host(home, _stage(staging, [big_png(IMAGE_BYTES) for _ in range(4)]))  # warm-up
        load_before = os.getloadavg()[0]
        host: list[dict[str, float]] = []
        bare: list[dict[str, float]] = []
        for i in range(rounds):
            for_host = _stage(staging, [big_png(IMAGE_BYTES) for _ in range(count)])
            for_bare = _stage(staging, [big_png(IMAGE_BYTES) for _ in range(count)])
            for side in ("host", "bare") if i % 2 == 0 else ("bare", "host"):
                if side == "host":
                    host.append(run_host(home, for_host))
                else:
                    bare.append(run_bare(bare_out / str(i), for_bare))
        load_after = os.getloadavg()[0]

    def median_ratio(key: str) -> float:
        return statistics.median(h[key] / b[key] for h, b in zip(host, bare, strict=True))

    return {
        "host_cpu_ms": statistics.median(h["cpu"] for h in host) / count * 1000,
        "bare_cpu_ms": statistics.median(b["cpu"] for b in bare) / count * 1000,
        "cpu_ratio": median_ratio("cpu"),
        "host_wall_ms": statistics.median(h["wall"] for h in host) * 1000,
        "bare_wall_ms": statistics.median(b["wall"] for b in bare) * 1000,
        "wall_ratio": median_ratio("wall"),
        "start_cpu_ms": statistics.median(h["other"] for h in host) * 1000,
        "load_before": load_before,
        "load_after": load_after,
    }


def main(rounds: int = 7, count: int = 50) -> None:
    r = measure(rounds, count)
    row = (
        f"| {r['host_cpu_ms']:.2f} ms | {r['bare_cpu_ms']:.2f} ms | **{r['cpu_ratio']:.2f}×** "
        f"| {r['host_wall_ms']:.0f} ms | {r['bare_wall_ms']:.0f} ms | {r['wall_ratio']:.2f}× "
        f"| {r['start_cpu_ms']:.0f} ms | {r['load_before']:.1f}–{r['load_after']:.1f} |"
    )
    print(row)
    body = "\n".join(
        [
            f"Measured by `python tests/bench/bench_host_saves.py {rounds} {count}` on "
            f"{machine()}, with other helpers' tests running on the machine. {count} staged "
            "2 MB PNGs per round, pipelined to a real `dsexport host` as `save_download`, "
            "alternated with a bare loop (read while hashing, write, fsync, delete the staged "
            "file; one folder fsync); medians over rounds of each round's ratio.",
            "",
            "| host CPU / image | bare CPU / image | CPU ratio | host wall | bare wall "
            "| wall ratio | host start + exit CPU | load |",
            "|---|---|---|---|---|---|---|---|",
            row,
        ]
    )
    write_section("Save path: the host's CPU per image (last run)", body)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
