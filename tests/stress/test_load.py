"""Load: 1,000 images through one long-lived host connection, and through 1,000 one-shot host
processes. All saved (every file checked against its original), memory flat, throughput recorded.

Images are ``fault_worker.make_image`` PNGs: 16x8 to 512x1000 random pixels, 0.4 kB to 1.5 MB,
about 0.3 MB on average. Memory of the long-lived host is sampled from ``/proc/<pid>/status``
(VmRSS) every 50 saves; "flat" means the last sample is within 16 MB of the sample after the
first 100 saves (warm-up: imports, caches, sqlite page cache). For one-shot hosts each process's
peak RSS (VmHWM, read after its reply) must not grow over the run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from fault_check import check_tree
from fault_worker import make_image
from native_client import ORIGIN, Host, b64, frame, host_argv, host_env, parse_frames
from stress_record import record

from dsexport.config import set_values

N = int(os.environ.get("DSEXPORT_LOAD_IMAGES", "1000"))
FLAT_BYTES = 16 * 1024 * 1024


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def save_frame(worker: int, i: int) -> dict:
    return {
        "type": "save",
        "id": i,
        "image": {"data": b64(make_image(worker, i))},
        "metadata": {"prompt": f"img {worker}-{i}"},
        "options": {"name_template": "{prompt}_{hash:8}"},
    }


def test_load_one_long_lived_connection(home):
    out = home / "out"
    set_values({"output_dir": str(out)})
    samples: list[tuple[int, int]] = []
    total_bytes = 0
    with Host(home) as host:
        host.result("ping")
        started = time.perf_counter()
        for i in range(N):
            request = save_frame(40, i)
            total_bytes += len(make_image(40, i))
            host.send(request)
            reply = host.recv(60)
            assert reply["ok"] and reply["id"] == i, reply
            assert not reply["result"]["duplicate"]
            if i % 50 == 49:
                samples.append((i + 1, rss(host.proc.pid)))
        peak = vm_hwm(host.proc.pid)
        elapsed = time.perf_counter() - started
        assert host.close() == 0
    report = check_tree(out, home)
    warm = next(r for n, r in samples if n >= 100)
    last = samples[-1][1]
    record(
        "load_long_lived",
        images=N,
        saved=report.images,
        seconds=round(elapsed, 2),
        images_per_second=round(N / elapsed, 1),
        mb_per_second=round(total_bytes / elapsed / 1e6, 1),
        input_mb=round(total_bytes / 1e6, 1),
        rss_mb_after_100=round(warm / 2**20, 1),
        rss_mb_at_end=round(last / 2**20, 1),
        rss_mb_max_sampled=round(max(r for _, r in samples) / 2**20, 1),
        peak_rss_mb_vmhwm=round(peak / 2**20, 1),
        rss_samples_mb=[round(r / 2**20, 1) for _, r in samples],
    )
    assert report.images == N and len(report.keys) == N
    assert last - warm < FLAT_BYTES, samples


def vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def _read_frame(stream) -> bytes:
    header = stream.read(4)
    body = stream.read(int.from_bytes(header, sys.byteorder)) if len(header) == 4 else b""
    return header + body


def _one_shot(env: dict[str, str], i: int) -> tuple[bool, int, float]:
    """Spawn, send one save, read the reply, then (still before closing stdin, as the browser
    would next) read the process's peak RSS (VmHWM: this process image only; wait4's ru_maxrss
    would include the fork from this test process); close stdin and wait for the exit."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        host_argv(ORIGIN),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    timer = threading.Timer(60, proc.kill)
    timer.start()
    try:
        proc.stdin.write(frame(save_frame(41, i)))
        proc.stdin.flush()
        reply = _read_frame(proc.stdout)
        peak = vm_hwm(proc.pid)
        proc.stdin.close()
        rest = proc.stdout.read()
        proc.wait()
    finally:
        timer.cancel()
        proc.stdout.close()
    replies = parse_frames(reply + rest)
    ok = proc.returncode == 0 and len(replies) == 1 and replies[0]["ok"]
    return ok, peak, time.perf_counter() - started


def test_load_one_shot_processes(home):
    """1,000 one-shot hosts (runtime.sendNativeMessage), two at a time (the machine's cores)."""
    out = home / "out"
    set_values({"output_dir": str(out)})
    env = host_env(home)
    results: list[tuple[int, bool, int, float]] = []
    lock = threading.Lock()
    next_i = [0]
    parallel = max(1, min(4, os.cpu_count() or 1))

    def lane() -> None:
        while True:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= N:
                return
            ok, peak, seconds = _one_shot(env, i)
            with lock:
                results.append((i, ok, peak, seconds))

    started = time.perf_counter()
    lanes = [threading.Thread(target=lane) for _ in range(parallel)]
    for t in lanes:
        t.start()
    for t in lanes:
        t.join(900)
    elapsed = time.perf_counter() - started
    results.sort()
    failed = [i for i, ok, _, _ in results if not ok]
    peaks = [p for _, _, p, _ in results]
    first, last = statistics.median(peaks[:100]), statistics.median(peaks[-100:])
    report = check_tree(out, home)
    record(
        "load_one_shot",
        processes=N,
        parallel=parallel,
        saved=report.images,
        failed=len(failed),
        seconds=round(elapsed, 2),
        images_per_second=round(N / elapsed, 1),
        median_process_seconds=round(statistics.median(s for *_, s in results), 3),
        peak_rss_mb_median_first_100=round(first / 2**20, 1),
        peak_rss_mb_median_last_100=round(last / 2**20, 1),
        peak_rss_mb_max=round(max(peaks) / 2**20, 1),
    )
    assert not failed, failed[:20]
    assert report.images == N and len(report.keys) == N
    assert last - first < FLAT_BYTES
