"""Several browser windows at once, at scale: 6 long-lived hosts save the same 400 images in
different orders (each image must be saved exactly once, every other save answered
``duplicate``), then 6 hosts save 250 different images each under one name (1,500 files, numbered,
each holding its own pixels, none overwritten). Bounded to about a minute."""

from __future__ import annotations

import random
import threading
import time

from fault_check import check_tree
from fault_worker import make_image
from native_client import Host, b64
from stress_record import record

from dsexport.config import set_values

HOSTS = 6


def _run(windows) -> float:
    started = time.perf_counter()
    threads = [threading.Thread(target=w) for w in windows]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    return time.perf_counter() - started


def test_hosts_saving_the_same_images(home):
    out = home / "out"
    set_values({"output_dir": str(out)})
    replies: list[dict] = []
    lock = threading.Lock()

    def window(n: int):
        def run() -> None:
            with Host(home) as host:
                order = list(range(400))
                random.Random(n).shuffle(order)
                for i in order:
                    reply = host.request(
                        "save",
                        timeout=120,
                        image={"data": b64(make_image(60, i))},
                        metadata={"prompt": f"img 60-{i}"},
                        options={"name_template": "{prompt}_{hash:8}"},
                    )
                    with lock:
                        replies.append(reply)
                assert host.close() == 0

        return run

    seconds = _run([window(n) for n in range(HOSTS)])
    report = check_tree(out, home)
    written = sum(r["ok"] and not r["result"]["duplicate"] for r in replies)
    record(
        "concurrent_same_images",
        hosts=HOSTS,
        saves=len(replies),
        written=written,
        duplicates=sum(r["ok"] and r["result"]["duplicate"] for r in replies),
        errors=sum(not r["ok"] for r in replies),
        files=report.images,
        seconds=round(seconds, 1),
    )
    assert len(replies) == HOSTS * 400 and all(r["ok"] for r in replies)
    assert written == 400
    assert len(report.keys) == 400 and all(len(p) == 1 for p in report.keys.values())


def test_hosts_saving_different_images_under_one_name(home):
    out = home / "out"
    set_values({"output_dir": str(out)})
    paths: list[str] = []
    lock = threading.Lock()

    def window(n: int):
        def run() -> None:
            with Host(home) as host:
                for i in range(250):
                    reply = host.request(
                        "save",
                        timeout=120,
                        image={"data": b64(make_image(70 + n, i))},
                        metadata={"prompt": f"img {70 + n}-{i}"},
                        options={"name_template": "same"},
                    )
                    assert reply["ok"], reply
                    with lock:
                        paths.append(reply["result"]["path"])
                assert host.close() == 0

        return run

    seconds = _run([window(n) for n in range(HOSTS)])
    report = check_tree(out, home)
    record(
        "concurrent_one_name",
        hosts=HOSTS,
        saves=len(paths),
        distinct_paths=len(set(paths)),
        files=report.images,
        seconds=round(seconds, 1),
    )
    assert len(paths) == HOSTS * 250 and len(set(paths)) == HOSTS * 250
    assert report.images == HOSTS * 250 and len(report.keys) == HOSTS * 250
