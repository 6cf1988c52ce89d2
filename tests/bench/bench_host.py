"""Benchmark: the native host's cold start and its memory for a large chunked image.

Run: ``python tests/bench/bench_host.py [rounds]`` (default 40). Results go to
docs/performance.md, section "Native host".

1. Cold start: spawn ``python -m dsexport host <origin>`` (what the installer's launcher execs),
   send ``ping``, read the reply, wait for the exit; against ``python -c pass`` with the same
   interpreter. The two alternate within each round, and the ratio of the medians is reported.
   Target: <= 1.5x. Bytecode is enabled, as in an installed copy (pip compiles it at install
   time); the warm-up runs write it. The same measurement with dsexport compiled from source on
   every start (``PYTHONDONTWRITEBYTECODE=1`` and no ``__pycache__``, as in a development checkout
   run that way) is reported too.
2. Memory: a 40 MB PNG sent as ``transfer_begin`` / 4 MiB ``transfer_chunk``s / ``transfer_commit``
   to a long-lived host; growth of the host's peak RSS (Linux ``VmHWM``) over its level after
   ``ping`` and ``config_get``, against the image size. Target: <= 2x.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "host"))
from native_client import ORIGIN, Host, b64, big_png, frame, host_env  # noqa: E402
from report import machine, write_section  # noqa: E402

IMAGE_BYTES = 40 * 1024 * 1024


def _env(home: Path, *, bytecode: bool, tmp: Path) -> dict[str, str]:
    env = host_env(home)
    env.pop("PYTHONPYCACHEPREFIX", None)
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # __pycache__ is written on the warm-up runs
    else:
        # A copy of the package without __pycache__, so dsexport is compiled on every start
        # while the standard library keeps its bytecode.
        import dsexport

        src = tmp / "src"
        shutil.copytree(
            Path(dsexport.__file__).parent,
            src / "dsexport",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPATH"] = str(src)
    return env


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(argv: list[str], data: bytes, env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run."""
    cpu = _cpu()
    started = time.perf_counter()
    proc = subprocess.run(argv, input=data, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if data and b'"ok":true' not in proc.stdout:
        raise SystemExit(f"host failed: {proc.returncode} {proc.stdout[:200]!r} {proc.stderr!r}")
    return elapsed, _cpu() - cpu


def cold_start(rounds: int, *, bytecode: bool) -> dict[str, float]:
    ping = frame({"type": "ping", "id": 1})
    bare = [sys.executable, "-c", "pass"]
    host = [sys.executable, "-m", "dsexport", "host", ORIGIN]
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = _env(home, bytecode=bytecode, tmp=Path(tmp))
        for _ in range(3):  # warm-up: bytecode, the ping caches, the OS file cache
            _time(bare, b"", env)
            _time(host, ping, env)
        times: dict[str, list[float]] = {"bare": [], "host": []}
        cpu: dict[str, list[float]] = {"bare": [], "host": []}
        for i in range(rounds):
            order = [("bare", bare, b""), ("host", host, ping)]
            if i % 2:
                order.reverse()
            for name, argv, data in order:
                wall, used = _time(argv, data, env)
                times[name].append(wall)
                cpu[name].append(used)
    bare_ms = statistics.median(times["bare"]) * 1000
    host_ms = statistics.median(times["host"]) * 1000
    # Each round's pair ran back to back, so its ratio is the least disturbed by other load.
    pair_ratio = statistics.median(h / b for h, b in zip(times["host"], times["bare"], strict=True))
    return {
        "bare_ms": bare_ms,
        "host_ms": host_ms,
        "ratio": pair_ratio,
        "ratio_of_medians": host_ms / bare_ms,
        "cpu_ratio": statistics.median(cpu["host"]) / statistics.median(cpu["bare"]),
        "load": os.getloadavg()[0],
    }


def _vm(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(key)


def chunked_memory() -> dict[str, float]:
    png = big_png(IMAGE_BYTES)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        with Host(home) as h:
            h.result("ping")
            h.result("config_get")
            baseline = _vm(h.proc.pid, "VmHWM")
            started = time.perf_counter()
            tid = h.result("transfer_begin", size=len(png))["transfer_id"]
            chunk = 4 * 1024 * 1024
            for offset in range(0, len(png), chunk):
                h.result(
                    "transfer_chunk",
                    transfer_id=tid,
                    offset=offset,
                    data=b64(png[offset : offset + chunk]),
                )
            after_chunks = _vm(h.proc.pid, "VmHWM")
            h.result("transfer_commit", transfer_id=tid, metadata={"prompt": "benchmark"})
            elapsed = time.perf_counter() - started
            peak = _vm(h.proc.pid, "VmHWM")
            h.close()
    return {
        "image_mb": len(png) / 1e6,
        "baseline_mb": baseline / 1e6,
        "chunks_growth_mb": (after_chunks - baseline) / 1e6,
        "growth_mb": (peak - baseline) / 1e6,
        "ratio": (peak - baseline) / len(png),
        "seconds": elapsed,
    }


def main(rounds: int = 40) -> None:
    warm = cold_start(rounds, bytecode=True)
    cold = cold_start(max(10, rounds // 4), bytecode=False)
    memory = chunked_memory() if Path("/proc/self/status").exists() else None
    lines = [
        f"Measured by `python tests/bench/bench_host.py {rounds}` on {machine()}.",
        "",
        "**Cold start** (spawn `python -m dsexport host <origin>`, send `ping`, read the reply, "
        "wait for exit) against `python -c pass` with the same interpreter, alternated, "
        f"{rounds} rounds; medians, and the median of each round's host/bare ratio (the two ran "
        "back to back, so that ratio is the least disturbed by other load on the machine). "
        "Target: at most 1.5x.",
        "",
        "| Case | bare `python -c pass` | host ping | ratio (median of pairs) "
        "| ratio of medians | CPU-time ratio |",
        "|---|---|---|---|---|---|",
        f"| installed (bytecode cached) | {warm['bare_ms']:.1f} ms | {warm['host_ms']:.1f} ms | "
        f"**{warm['ratio']:.2f}x** | {warm['ratio_of_medians']:.2f}x | {warm['cpu_ratio']:.2f}x |",
        f"| dsexport compiled on every start (`PYTHONDONTWRITEBYTECODE=1`, dev checkout) | "
        f"{cold['bare_ms']:.1f} ms | {cold['host_ms']:.1f} ms | {cold['ratio']:.2f}x | "
        f"{cold['ratio_of_medians']:.2f}x | {cold['cpu_ratio']:.2f}x |",
        "",
        f"Load average during the runs: {warm['load']:.1f} and {cold['load']:.1f} "
        f"({os.cpu_count()} cores). CPU time (user + system, from `getrusage`) is the figure "
        "least affected by other work on the machine.",
        "",
        "`ping` answers from two caches in the user cache folder (Pillow's write capabilities, "
        "keyed by the Pillow version; the effective config, keyed by the config file's stat) and "
        "imports neither Pillow nor the config, naming and model modules; logging is set up only "
        "when something is logged.",
    ]
    if memory:
        lines += [
            "",
            f"**Memory for a chunked image**: a {memory['image_mb']:.1f} MB PNG sent in 4 MiB "
            "chunks (base64) to a long-lived host, then committed (saved with its metadata). "
            "Growth of the host's peak RSS (`VmHWM`) over its level after `ping` and "
            f"`config_get` ({memory['baseline_mb']:.1f} MB). Target: at most 2x the image.",
            "",
            "| Phase | peak RSS growth | x image size |",
            "|---|---|---|",
            f"| after all chunks | {memory['chunks_growth_mb']:.1f} MB | "
            f"{memory['chunks_growth_mb'] / memory['image_mb']:.2f}x |",
            f"| after commit (save) | {memory['growth_mb']:.1f} MB | **{memory['ratio']:.2f}x** |",
            "",
            f"The whole transfer took {memory['seconds']:.2f} s. Chunks go to a temp file, so "
            "receiving costs one chunk (its frame, text and bytes), not the image; the commit "
            "memory-maps the assembled file.",
        ]
    body = "\n".join(lines)
    print(body)
    write_section("Native host", body)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
