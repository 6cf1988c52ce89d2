"""Saves pipelined through one real ``dsexport host``: they run on worker threads, the replies
still come in request order, a reply means the image's catalog row is committed (another
connection sees it), the same image in flight twice is written once, and a request after the
saves sees all of them. Also ``catalog.batch.SaveBatch`` on its own (rollback, exclusive use)."""

from __future__ import annotations

import secrets
import sqlite3
import threading
from pathlib import Path

import pytest
from native_client import Host, b64, big_png


def staged(home: Path, data: bytes) -> Path:
    folder = home / "Downloads" / "dsexport-staging"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"dsx-{secrets.token_hex(16)}"
    path.write_bytes(data)
    return path


def catalog_paths(home: Path) -> set[str]:
    """What another process sees in the catalog: committed rows only."""
    db = home / ".local" / "share" / "dsexport" / "catalog.sqlite3"
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute("SELECT path FROM images")}


def images(n: int) -> list[bytes]:
    """``n`` different PNGs (random pixels), about 20 kB each."""
    return [big_png(20_000, width=64) for _ in range(n)]


def test_pipelined_saves_answer_in_order_each_row_committed_before_its_reply(home):
    data = images(24)
    paths = [staged(home, d) for d in data]
    with Host(home) as host:
        assert host.result("ping", prepare=True)["version"]
        for i, path in enumerate(paths):
            fields = {
                "path": str(path),
                "metadata": {"prompt": f"cat {i}"},
                "options": {"index": i},
            }
            host.send({"type": "save_download", "id": i, **fields})
        saved = []
        for i in range(len(paths)):
            reply = host.recv()
            assert reply["id"] == i, f"reply {reply['id']} came in place of {i}"
            assert reply["ok"], reply
            result = reply["result"]
            assert not result["duplicate"] and result["removed"], result
            assert result["path"] in catalog_paths(home), "replied before its row was committed"
            saved.append(Path(result["path"]))
        assert host.close() == 0
    assert len(set(saved)) == len(data)
    assert all(p.is_file() for p in saved)
    assert not any(p.exists() for p in paths), "a staged file was left behind"
    # One log line per request, though the save threads logged their first lines at once.
    log = (home / ".local" / "state" / "dsexport" / "log" / "host.log").read_text("utf-8")
    assert sum("'save_download'" in line for line in log.splitlines()) == len(data), log


def test_the_same_image_in_flight_twice_is_written_once(home):
    (data,) = images(1)
    with Host(home) as host:
        for i in range(4):
            host.send({"type": "save_download", "id": i, "path": str(staged(home, data))})
        results = [host.recv() for _ in range(4)]
        host.close()
    assert [r["id"] for r in results] == [0, 1, 2, 3]
    assert all(r["ok"] for r in results), results
    written = [r["result"] for r in results if not r["result"]["duplicate"]]
    assert len(written) == 1, results
    assert {r["result"]["path"] for r in results} == {written[0]["path"]}
    assert len(list((home / "Pictures" / "DeepSeek").rglob("*.png"))) == 1


def test_a_request_after_saves_waits_for_them_and_errors_keep_their_place(home):
    data = images(6)
    with Host(home) as host:
        for i, d in enumerate(data):
            host.send({"type": "save", "id": i, "image": {"data": b64(d)}})
        host.send({"type": "save", "id": "bad", "image": {"data": "not base64!"}})
        host.send({"type": "config_get", "id": "after"})
        replies = [host.recv() for _ in range(len(data) + 2)]
        host.close()
    assert [r["id"] for r in replies] == [*range(len(data)), "bad", "after"]
    assert all(r["ok"] for r in replies[: len(data)])
    assert replies[-2]["error"]["code"] == "bad_request"
    assert len(catalog_paths(home)) == len(data)


def test_two_hosts_pipelining_the_same_images_write_each_once(home):
    data = images(8)
    hosts = [Host(home), Host(home)]
    try:
        for host in hosts:
            for i, d in enumerate(data):
                host.send({"type": "save", "id": i, "image": {"data": b64(d)}})
        replies = [[h.recv() for _ in data] for h in hosts]
        for host in hosts:
            host.close()
    finally:
        for host in hosts:
            host.kill()
    for i in range(len(data)):
        pair = [replies[0][i], replies[1][i]]
        assert all(r["ok"] and r["id"] == i for r in pair), pair
        assert sorted(r["result"]["duplicate"] for r in pair) == [False, True], pair
        assert pair[0]["result"]["path"] == pair[1]["result"]["path"]
    assert len(list((home / "Pictures" / "DeepSeek").rglob("*.png"))) == len(data)
    assert len(catalog_paths(home)) == len(data)


def test_a_one_shot_ping_with_prepare_exits_cleanly(home):
    from native_client import frame, parse_frames, run_once

    proc = run_once(home, frame({"type": "ping", "id": 1, "prepare": True}))
    assert proc.returncode == 0, proc.stderr
    (reply,) = parse_frames(proc.stdout)
    assert reply["ok"] and reply["id"] == 1


# --- SaveBatch in-process ------------------------------------------------------------------------


@pytest.fixture
def batch(tmp_path):
    from dsexport.catalog import open_catalog
    from dsexport.catalog.batch import SaveBatch

    catalog = open_catalog(tmp_path / "catalog.sqlite3", threads=True)
    yield SaveBatch(catalog)
    catalog.close()


def _record(slot, path: Path, sha: str) -> None:
    path.write_bytes(b"x")
    slot.record(path=str(path), sha256=sha, content_sha256=sha, format="png", size=1)


def test_rows_become_visible_to_others_only_when_their_ticket_is_settled(batch, tmp_path):
    with batch.slot("a" * 64, "png", tmp_path) as slot:
        assert slot.existing is None
        _record(slot, tmp_path / "a.png", "a" * 64)
    other = sqlite3.connect(batch.catalog.path, timeout=0)
    assert other.execute("SELECT count(*) FROM images").fetchone()[0] == 0
    assert slot.ticket.wait() is None
    assert other.execute("SELECT count(*) FROM images").fetchone()[0] == 1
    other.close()
    # A second save of the same bytes finds the first.
    with batch.slot("a" * 64, "png", tmp_path) as again:
        assert again.existing == str(tmp_path / "a.png")


def test_a_failed_record_rolls_back_the_group_and_every_ticket_says_so(batch, tmp_path):
    with batch.slot("b" * 64, "png", tmp_path) as first:
        _record(first, tmp_path / "b.png", "b" * 64)
    with batch.slot("c" * 64, "png", tmp_path) as second, pytest.raises(sqlite3.Error):
        # format is NOT NULL: sqlite refuses the row.
        second.record(path=str(tmp_path / "c.png"), sha256="c" * 64, format=None, size=1)
    trouble = first.ticket.wait()
    assert trouble and "could not record" in trouble
    assert batch.catalog.count() == 0
    # The batch goes on with a new transaction.
    with batch.slot("d" * 64, "png", tmp_path) as third:
        _record(third, tmp_path / "d.png", "d" * 64)
    assert third.ticket.wait(eager=True) is None
    assert batch.catalog.count() == 1


def test_a_second_save_of_one_image_waits_for_the_first(batch, tmp_path):
    entered = threading.Event()
    release = threading.Event()
    seen: list[str | None] = []

    def first() -> None:
        with batch.slot("e" * 64, "png", tmp_path) as slot:
            entered.set()
            release.wait(10)
            _record(slot, tmp_path / "e.png", "e" * 64)

    def second() -> None:
        entered.wait(10)
        with batch.slot("e" * 64, "png", tmp_path) as slot:
            seen.append(slot.existing)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    entered.wait(10)
    assert seen == []  # still waiting for the first save of the same image
    release.set()
    for t in threads:
        t.join(10)
    assert seen == [str(tmp_path / "e.png")]


def test_exclusive_commits_the_open_group_first(batch, tmp_path):
    with batch.slot("f" * 64, "png", tmp_path) as slot:
        _record(slot, tmp_path / "f.png", "f" * 64)
    with batch.exclusive() as catalog:
        catalog.add(path=str(tmp_path / "g.png"), sha256="g" * 64, format="png", size=1)
    assert slot.ticket.wait() is None
    other = sqlite3.connect(batch.catalog.path)
    assert other.execute("SELECT count(*) FROM images").fetchone()[0] == 2
    other.close()


def test_a_group_syncs_each_new_folder_once_before_its_commit(home, monkeypatch):
    from dsexport import pipeline, storage

    events: list[tuple[str, ...]] = []
    real_sync = storage.sync_folder
    monkeypatch.setattr(
        storage,
        "sync_folder",
        lambda folder: (events.append(("sync", str(folder))), real_sync(folder)),
    )
    with pipeline.save_batch() as batch:
        real_commit = batch.catalog.commit
        monkeypatch.setattr(
            batch.catalog, "commit", lambda: (events.append(("commit",)), real_commit())
        )
        saved = [
            pipeline.save_image(data, {"prompt": f"cat {i}"}).path
            for i, data in enumerate(images(3))
        ]
        assert events == [], "nothing is synced or committed before the group ends"
        batch.flush()
    folders = {str(Path(p).parent) for p in saved}
    assert events == [*(("sync", f) for f in sorted(folders)), ("commit",)], events
    assert len(folders) == 1, "three images of one day share one folder, synced once"
