"""``dsexport.native.transfer`` in-process: ordering, caps, hashes, and the sweep of abandoned
temp files (other hosts' live transfers are left alone)."""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from dsexport.errors import BadRequest, NotFound, TooLarge
from dsexport.native import transfer
from dsexport.native.transfer import Transfers, sweep


def test_chunks_assemble_in_order_and_finish_hands_over_the_file(tmp_path):
    t = Transfers(tmp_path)
    data = os.urandom(1000)
    started = t.begin(len(data), hashlib.sha256(data).hexdigest())
    for offset in range(0, 1000, 300):
        t.chunk(started.id, offset, data[offset : offset + 300])
    done = t.finish(started.id)
    assert done.path.read_bytes() == data
    done.discard()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(NotFound):
        t.get(started.id)


def test_offsets_sizes_and_hashes_are_checked(tmp_path):
    t = Transfers(tmp_path)
    tid = t.begin(10, "ab" * 32).id
    with pytest.raises(BadRequest, match="expected offset 0"):
        t.chunk(tid, 3, b"abc")
    with pytest.raises(TooLarge):
        t.chunk(tid, 0, b"x" * 11)
    t.chunk(tid, 0, b"x" * 10)
    with pytest.raises(BadRequest, match="sha256"):
        t.finish(tid)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(TooLarge):
        t.begin(transfer.MAX_IMAGE_BYTES + 1)


def test_idle_transfers_expire(tmp_path, monkeypatch):
    t = Transfers(tmp_path)
    tid = t.begin(10).id
    later = time.monotonic() + transfer.ABANDONED_AFTER_SECONDS + 1
    monkeypatch.setattr(transfer.time, "monotonic", lambda: later)
    t.sweep()
    with pytest.raises(NotFound):
        t.get(tid)
    assert list(tmp_path.iterdir()) == []


def test_sweep_removes_old_and_orphaned_files_only(tmp_path):
    names = {
        "dead": f"{2**22 + 7}-{'1' * 32}.part",
        "live_recent": f"{os.getppid()}-{'2' * 32}.part",
        "live_old": f"{os.getppid()}-{'3' * 32}.part",
        "mine_old": f"{os.getpid()}-{'4' * 32}.part",
        "other": "README",
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"x")
    old = time.time() - transfer.ABANDONED_AFTER_SECONDS - 5
    os.utime(tmp_path / names["live_old"], (old, old))
    os.utime(tmp_path / names["mine_old"], (old, old))
    assert sweep(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [names["live_recent"], names["mine_old"], names["other"]]
    )
    assert sweep(tmp_path / "missing") == 0
