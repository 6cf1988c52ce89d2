"""kill -9 at random points during many saves, for about 80 s per test.

``test_kill9_workers``: three processes save in a loop through the Python API (fault_worker.py)
and are killed at random moments, then restarted at the image they were on. ``test_kill9_hosts``:
the same through real ``dsexport host`` processes fed ``save`` frames and chunked transfers.

Afterwards every file under a final name must be whole (it sniffs, probes, its metadata reads
back, its pixels are those of the original its prompt names), the catalog must pass
``integrity_check`` with every row naming an existing file of the recorded size, and the
temporary files left by the kills must be exactly what ``storage.sweep_temp_files`` removes.
"""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

from fault_check import check_tree
from fault_worker import make_image
from native_client import Host, b64, host_env
from stress_record import record

from dsexport import storage
from dsexport.config import set_values

DURATION = float(os.environ.get("DSEXPORT_KILL_SECONDS", "80"))
HOST_TESTS = Path(__file__).resolve().parent.parent / "host"


def _sweep(out: Path) -> int:
    removed = 0
    for dirpath, _dirs, _files in os.walk(out):
        removed += storage.sweep_temp_files(Path(dirpath), max_age_s=0)
    return removed


def test_kill9_workers(tmp_path):
    home, out = tmp_path / "home", tmp_path / "out"
    home.mkdir()
    env = host_env(home)
    env["PYTHONPATH"] = os.pathsep.join([str(HOST_TESTS), str(HOST_TESTS.parent)])
    kills = finished = 0
    lock = threading.Lock()
    deadline = time.monotonic() + DURATION

    def slot(worker: int) -> None:
        nonlocal kills, finished
        rnd = random.Random(worker)
        start = 0
        while time.monotonic() < deadline:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    str(HOST_TESTS / "fault_worker.py"),
                    *(str(out), str(worker), "100000", "{prompt}_{hash:8}", str(start)),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
                text=True,
            )
            time.sleep(rnd.uniform(0.25, 1.5))
            proc.kill()
            stdout, _ = proc.communicate(timeout=60)
            done = [line for line in stdout.splitlines() if line.startswith(("ok ", "err "))]
            assert not [line for line in done if line.startswith("err ")], done
            with lock:
                kills += 1
                finished += len(done)
            start += len(done)  # resume at the image in flight: it may or may not have landed

    threads = [threading.Thread(target=slot, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DURATION + 120)
    report = check_tree(out, home)
    removed = _sweep(out)
    doubles = sum(len(p) - 1 for p in report.keys.values())
    record(
        "kill9_workers",
        seconds=DURATION,
        kills=kills,
        saves_finished_before_kill=finished,
        files_checked=report.images + report.sidecars,
        images=report.images,
        distinct_images=len(report.keys),
        resaved_in_flight_copies=doubles,
        temp_files_left=report.temp_files,
        temp_files_swept=removed,
        catalog_rows=report.catalog_rows,
    )
    assert kills > DURATION
    assert removed == report.temp_files
    assert len(report.keys) >= finished
    # A kill between publishing a file and committing its catalog row, then a re-save of the same
    # image, gives a second copy: never an overwrite, at most one per kill.
    assert doubles <= kills


def _feed(host: Host, first: int, counter: list[int], killed: threading.Event) -> None:
    """Saves and chunked transfers, one after another, until the host is killed."""
    try:
        for k in range(first, first + 10_000):
            data = make_image(20, k)
            meta = {"prompt": f"img 20-{k}"}
            options = {"name_template": "{prompt}_{hash:8}"}
            if k % 4 == 0:
                tid = host.result("transfer_begin", size=len(data))["transfer_id"]
                half = len(data) // 2
                host.result("transfer_chunk", transfer_id=tid, offset=0, data=b64(data[:half]))
                host.result("transfer_chunk", transfer_id=tid, offset=half, data=b64(data[half:]))
                reply = host.request(
                    "transfer_commit", transfer_id=tid, metadata=meta, options=options
                )
            else:
                reply = host.request(
                    "save", image={"data": b64(data)}, metadata=meta, options=options
                )
            assert reply["ok"], reply
            counter[0] += 1
    except (AssertionError, OSError, ValueError) as err:
        if not killed.is_set():  # a real failure, not the kill
            raise AssertionError(f"host failed while alive: {err}") from err


def test_kill9_hosts(home):
    out = home / "out"
    set_values({"output_dir": str(out)})
    rnd = random.Random(7)
    kills = 0
    done = [0]
    first = 0
    deadline = time.monotonic() + DURATION
    while time.monotonic() < deadline:
        host = Host(home)
        try:
            errors: list[BaseException] = []
            killed = threading.Event()

            def run(h=host, f=first, k=killed, errs=errors) -> None:
                try:
                    _feed(h, f, done, k)
                except BaseException as err:
                    errs.append(err)

            t = threading.Thread(target=run, daemon=True)
            t.start()
            time.sleep(rnd.uniform(0.3, 1.2))
            killed.set()
            host.proc.kill()
            host.proc.wait(30)
            t.join(30)
            assert not errors, errors
        finally:
            host.kill()
            for stream in (host.proc.stdin, host.proc.stdout, host.proc.stderr):
                with contextlib.suppress(OSError):
                    stream.close()
        kills += 1
        first += 10_000
    report = check_tree(out, home)
    removed = _sweep(out)
    transfers = home / ".cache" / "dsexport" / "transfers"
    leftovers = list(transfers.glob("*")) if transfers.exists() else []
    with Host(home) as host:  # the next host to start sweeps transfers left by killed ones
        assert host.result("ping")
        assert host.close() == 0
    still = [p for p in leftovers if p.exists()]
    record(
        "kill9_hosts",
        seconds=DURATION,
        kills=kills,
        saves_answered_before_kill=done[0],
        files_checked=report.images + report.sidecars,
        images=report.images,
        temp_files_left=report.temp_files,
        temp_files_swept=removed,
        transfer_files_left_by_kills=len(leftovers),
        transfer_files_after_next_start=len(still),
        catalog_rows=report.catalog_rows,
    )
    assert kills > DURATION / 2 and report.images >= done[0] > 0
    assert removed == report.temp_files
    assert all(len(p) == 1 for p in report.keys.values())
    assert not still
