"""Files as the source of truth: reindex, check, and concurrent writers
(dsexport/catalog/maintain.py, files.py)."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from dsexport import SaveOptions, save_image
from dsexport.catalog import open_catalog
from dsexport.catalog.files import iter_images, read_file
from dsexport.catalog.maintain import check, reindex
from dsexport.catalog.search import search
from dsexport.model import Metadata
from imagebytes import make_image

SAVES = [
    ("png", {"prompt": "一只戴着红色围巾的猫", "conversation_title": "猫咪", "seed": 1}),
    ("jpeg", {"prompt": "a dog in the rain, 8k", "model": "janus-pro", "seed": 2}),
    ("webp", {"prompt": "party 🐱🧣 time", "conversation_id": "c-1", "seed": 3}),
    ("gif", {"prompt": "熊猫吃竹子 panda", "negative_prompt": "模糊", "seed": 4}),
    ("png", {"prompt": "line one\nline two", "extra": {"file_name": "orig.png"}, "seed": 5}),
]
QUERIES = [
    "围巾",
    "红色围巾",
    "猫",
    "rain",
    "8k",
    "🐱🧣",
    "熊猫",
    "模糊",
    "janus",
    "line two",
    "orig",
]


@pytest.fixture
def saved(home):
    results = []
    for i, (fmt, meta) in enumerate(SAVES):
        image = make_image(fmt, size=(40 + i, 30))
        results.append(save_image(image, meta, SaveOptions(source="toolbar")))
    return results


def snapshot(cat) -> dict[str, list[tuple[str, str]]]:
    return {q: sorted((h.entry.path, h.snippet) for h in search(cat, q)) for q in QUERIES}


def delete_catalog(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def test_saves_are_searchable_at_once(saved):
    with open_catalog() as cat:
        assert cat.count() == len(SAVES)
        [hit] = search(cat, "围巾")
        assert hit.entry.path == saved[0].path and hit.entry.source == "toolbar"


def test_reindex_after_deleting_the_catalog_gives_the_same_results(saved, home):
    with open_catalog() as cat:
        before = snapshot(cat)
        rows_before = {e.path: e for e in cat.iter_entries()}
        db = cat.path
    assert all(before[q] for q in QUERIES)
    delete_catalog(db)

    with open_catalog() as cat:
        assert cat.count() == 0
        report = reindex(cat)  # default: the configured output folder
        assert report.added == len(SAVES) and not report.skipped
        assert snapshot(cat) == before
        for entry in cat.iter_entries():
            old = rows_before[entry.path]
            for field in (
                "content_sha256",
                "format",
                "bytes",
                "width",
                "height",
                "prompt",
                "seed",
                "model",
                "conversation_id",
                "captured_at",
                "negative_prompt",
            ):
                assert getattr(entry, field) == getattr(old, field), field
    # Deduplication works again: the same image is recognised as already saved.
    again = save_image(make_image("png", size=(40, 30)), SAVES[0][1])
    assert again.duplicate and again.path == saved[0].path


def test_reindex_skips_unchanged_files_and_forgets_deleted_ones(saved, home):
    with open_catalog() as cat:
        report = reindex(cat)
        assert report.unchanged == len(SAVES) and report.added == 0
        Path(saved[1].path).unlink()
        report = reindex(cat)
        assert report.removed == 1 and cat.get(saved[1].path) is None
        assert search(cat, "rain") == []
        report = reindex(cat, full=True)
        assert report.updated == len(SAVES) - 1


def test_reindex_reports_files_that_are_not_images(home, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "page.png").write_bytes(b"<html>not an image</html>")
    (folder / "cat.png").write_bytes(make_image("png"))
    (folder / "notes.txt").write_text("ignored")
    (folder / ".dsexport-1234.tmp").write_bytes(b"partial")
    with open_catalog(tmp_path / "c.sqlite3") as cat:
        report = reindex(cat, [folder])
        assert report.added == 1 and [p for p, _ in report.skipped] == [str(folder / "page.png")]


def test_sidecar_metadata_is_read_for_files_that_could_not_take_it(tmp_path):
    """C2PA/AVIF files keep their bytes; their record is the .json the pipeline put beside them."""
    from dsexport.conventions import record

    plain = tmp_path / "plain.png"
    plain.write_bytes(make_image("png", size=(9, 9)))
    assert read_file(plain).metadata is None
    meta = Metadata(prompt="sidecar only 侧车", sha256="cd" * 32)
    (tmp_path / "plain.json").write_text(record.encode(meta), "utf-8")
    facts = read_file(plain)
    assert facts.metadata.prompt == "sidecar only 侧车" and facts.convention == "sidecar"
    # Identity comes from the bytes, never from the hash a record claims.
    assert facts.sha256 == hashlib.sha256(plain.read_bytes()).hexdigest() != "cd" * 32
    (tmp_path / "plain.json").write_text('{"prompt": "not our record"}', "utf-8")
    assert read_file(plain).metadata is None


def test_check_follows_moved_files_and_forgets_deleted_ones(saved, home):
    moved_from = Path(saved[0].path)
    moved_to = moved_from.parent / "sorted" / "renamed cat.png"
    moved_to.parent.mkdir()
    os.rename(moved_from, moved_to)
    Path(saved[1].path).unlink()
    with open_catalog() as cat:
        dry = check(cat, repair=False)
        assert dry.moved == [(str(moved_from), str(moved_to))]
        assert dry.missing == [saved[1].path]
        assert cat.get(moved_from) is not None  # nothing changed yet

        report = check(cat)
        assert report.moved == dry.moved and report.missing == dry.missing
        assert cat.get(moved_from) is None and cat.get(saved[1].path) is None
        [hit] = search(cat, "围巾")
        assert hit.entry.path == str(moved_to)
        assert check(cat).ok == len(SAVES) - 1


def test_check_finds_a_file_moved_into_another_folder_it_is_told_about(saved, home, tmp_path):
    elsewhere = tmp_path / "backup"
    elsewhere.mkdir()
    shutil.move(saved[2].path, elsewhere / "kept.webp")
    with open_catalog() as cat:
        assert check(cat, repair=False).missing == [saved[2].path]
        report = check(cat, [elsewhere])
        assert report.moved == [(saved[2].path, str(elsewhere / "kept.webp"))]
        assert [h.entry.path for h in search(cat, "🐱🧣")] == [str(elsewhere / "kept.webp")]


def test_check_reads_changed_files_again(saved, home):
    from dsexport import embed_file

    target = Path(saved[3].path)
    with open_catalog() as cat:
        cat.add(path=target, sha256=saved[3].sha256, format="gif", size=1, metadata=Metadata())
        assert search(cat, "模糊") == []  # the negative prompt; the file name holds the prompt
        report = check(cat)
        assert report.changed == [str(target)]
        assert [h.entry.path for h in search(cat, "模糊")] == [str(target)]
    embed_file(target, {"prompt": "edited 新的"}, allowed_roots=[target.parent])
    with open_catalog() as cat:
        assert [h.entry.path for h in search(cat, "新的")] == [str(target)]  # embed updated it


def test_walk_does_not_follow_links(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "a.png").write_bytes(b"x")
    root = tmp_path / "root"
    root.mkdir()
    (root / "b.png").write_bytes(b"x")
    (root / "link").symlink_to(real, target_is_directory=True)
    (root / "c.png").symlink_to(real / "a.png")
    assert [p.name for p in iter_images([root])] == ["b.png"]


def _writer(path: str, worker: int, count: int) -> None:
    with open_catalog(path) as cat:
        for i in range(count):
            meta = Metadata(prompt=f"worker {worker} image {i} 并发测试")
            cat.add(
                path=f"/w/{worker}/{i}.png",
                sha256=f"{worker}-{i}",
                format="png",
                size=i,
                metadata=meta,
                source="toolbar",
            )
            if i % 10 == 0:  # the same row from every process: upserts racing
                cat.add(
                    path="/w/shared.png",
                    sha256="s",
                    format="png",
                    size=worker,
                    metadata=Metadata(prompt=f"shared by {worker}"),
                )


def test_concurrent_adds_from_several_processes(tmp_path):
    db = tmp_path / "c.sqlite3"
    with open_catalog(db):
        pass
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(str(db), w, 60)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(120)
        assert p.exitcode == 0
    with open_catalog(db) as cat:
        assert cat.count() == 4 * 60 + 1
        assert len(search(cat, "并发测试", limit=None)) == 4 * 60
        assert len(search(cat, '"worker 3 image"', limit=None)) == 60
        assert len(search(cat, "shared by")) == 1
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO images_fts (images_fts) VALUES ('integrity-check')")
    conn.execute("INSERT INTO images_grams (images_grams) VALUES ('integrity-check')")
    conn.close()


def test_read_many_on_threads_keeps_order_and_returns_errors(tmp_path):
    from dsexport.catalog.files import FileFacts, read_many
    from dsexport.errors import DsError

    paths = []
    for i in range(150):  # more than the read-ahead window
        path = tmp_path / f"{i:03d}.png"
        path.write_bytes(make_image("png", size=(8 + i % 5, 8)) if i % 7 else b"not an image")
        paths.append(path)
    results = list(read_many(paths, workers=3))
    assert [p for p, _ in results] == [str(p) for p in paths]
    for i, (_, facts) in enumerate(results):
        if i % 7:
            assert isinstance(facts, FileFacts) and facts.width == 8 + i % 5
        else:
            assert isinstance(facts, DsError)


def _saver(home: str, worker: int) -> None:
    os.environ["HOME"] = home
    for i in range(8):
        # Image 0 is the same bytes in every process: it must be saved exactly once.
        image = make_image("png", size=(20, 20 + (0 if i == 0 else worker * 10 + i)))
        save_image(image, {"prompt": f"并发 worker {worker} image {i}"}, SaveOptions(source="menu"))


def _reindexer(home: str) -> None:
    os.environ["HOME"] = home
    with open_catalog() as cat:
        for _ in range(5):
            reindex(cat)


def test_saves_and_a_reindex_from_several_processes_at_once(home):
    """Two browser windows' hosts saving while the CLI reindexes: every file is catalogued once,
    the shared image is saved once, and the full-text indexes stay consistent."""
    (home / "Pictures" / "DeepSeek").mkdir(parents=True)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_saver, args=(str(home), w)) for w in range(3)]
    procs.append(ctx.Process(target=_reindexer, args=(str(home),)))
    for p in procs:
        p.start()
    for p in procs:
        p.join(180)
        assert p.exitcode == 0
    files = sorted(str(p) for p in (home / "Pictures" / "DeepSeek").rglob("*.png"))
    assert len(files) == 3 * 7 + 1
    with open_catalog() as cat:
        assert sorted(e.path for e in cat.iter_entries()) == files
        assert len(search(cat, "并发", limit=None)) == len(files)
        db = cat.path
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO images_fts (images_fts) VALUES ('integrity-check')")
    conn.execute("INSERT INTO images_grams (images_grams) VALUES ('integrity-check')")
    conn.close()


def test_reindex_keeps_how_a_file_was_saved(saved, home):
    """A row the pipeline wrote (source "toolbar") is not turned into "reindex", even when the
    catalog row appeared while reindex was reading the file."""
    from dsexport.catalog.maintain import add_facts

    with open_catalog() as cat:
        facts = read_file(saved[0].path)
        assert add_facts(cat, facts, source="reindex") is False  # same file: nothing to do
        os.utime(saved[0].path, ns=(1, 1))
        facts = read_file(saved[0].path)
        assert add_facts(cat, facts, source="reindex") is True
        assert cat.get(saved[0].path).source == "toolbar"
        reindex(cat, full=True)
        assert {e.source for e in cat.iter_entries()} == {"toolbar"}
