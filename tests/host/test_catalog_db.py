"""The sqlite catalog: schema, dedupe lookups, cross-process save lock (dsexport/catalog/db.py)."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import time
from pathlib import Path

import pytest

from dsexport import paths, storage
from dsexport.catalog import SCHEMA_VERSION, open_catalog
from dsexport.catalog import db as catalog_db
from dsexport.model import Metadata

SHA = "ab" * 32


@pytest.fixture
def catalog(tmp_path):
    with open_catalog(tmp_path / "catalog.sqlite3") as cat:
        yield cat


def saved_file(folder: Path, name: str, data: bytes = b"image bytes") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def test_default_location_is_the_data_folder(home):
    with open_catalog() as cat:
        assert cat.path == paths.data_dir() / "catalog.sqlite3"
    assert (paths.data_dir() / "catalog.sqlite3").is_file()


def test_schema_wal_and_version(tmp_path):
    with open_catalog(tmp_path / "c.sqlite3"):
        pass
    conn = sqlite3.connect(tmp_path / "c.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    columns = [row[1] for row in conn.execute("PRAGMA table_info(images)")]
    assert columns == ["id", *catalog_db._COLUMNS]
    indexes = {row[1] for row in conn.execute("PRAGMA index_list(images)")}
    assert {"idx_images_sha256", "idx_images_conversation", "idx_images_captured_at"} <= indexes
    conn.close()


def test_reopening_does_not_migrate_again(tmp_path):
    target = tmp_path / "c.sqlite3"
    with open_catalog(target) as cat:
        cat.add(path=tmp_path / "a.png", sha256=SHA, format="png", size=1)
    with open_catalog(target) as cat:
        assert cat.count() == 1


def test_add_and_get_keep_every_field(catalog, tmp_path):
    meta = Metadata(
        prompt="一只猫 🐱",
        negative_prompt="blurry",
        seed=42,
        model="janus",
        conversation_title="Cats",
        conversation_id="c1",
        page_url="https://chat.deepseek.com/a/chat/s/c1",
        image_url="https://cdn.example/cat.png",
        origin="generated",
        captured_at="2026-11-25T09:14:03+00:00",
        width=640,
        height=480,
        extra={"source": "menu"},
    )
    row_id = catalog.add(
        path=tmp_path / "cat.png", sha256=SHA, format="png", size=123, metadata=meta, source="menu"
    )
    entry = catalog.get(tmp_path / "cat.png")
    assert entry.id == row_id
    assert (entry.prompt, entry.seed, entry.width, entry.height) == ("一只猫 🐱", 42, 640, 480)
    assert (entry.bytes, entry.format, entry.source, entry.origin) == (
        123,
        "png",
        "menu",
        "generated",
    )
    assert entry.page_url == meta.page_url
    assert json.loads(entry.record_json)["extra"] == {"source": "menu"}
    assert entry.saved_at.endswith("+00:00")


def test_add_same_path_updates_the_row(catalog, tmp_path):
    first = catalog.add(path=tmp_path / "a.png", sha256=SHA, format="png", size=1)
    second = catalog.add(path=tmp_path / "a.png", sha256="cd" * 32, format="png", size=2)
    assert first == second
    assert catalog.count() == 1
    assert catalog.get(tmp_path / "a.png").sha256 == "cd" * 32


def test_huge_seeds_are_kept_exactly(catalog, tmp_path):
    seed = 2**64 + 12345
    catalog.add(
        path=tmp_path / "a.png", sha256=SHA, format="png", size=1, metadata=Metadata(seed=seed)
    )
    assert int(catalog.get(tmp_path / "a.png").seed) == seed


def test_find_duplicate_returns_an_existing_file_of_the_same_size(catalog, tmp_path):
    root = tmp_path / "out"
    path = saved_file(root / "d", "cat.png")
    catalog.add(path=path, sha256=SHA, content_sha256=SHA, format="png", size=path.stat().st_size)
    assert catalog.find_duplicate(SHA, "png", root) == str(path)
    assert catalog.find_duplicate(SHA, "png", str(root)) == str(path)


def test_find_duplicate_ignores_other_formats_hashes_and_roots(catalog, tmp_path):
    root = tmp_path / "out"
    path = saved_file(root, "cat.png")
    catalog.add(path=path, sha256=SHA, content_sha256=SHA, format="png", size=path.stat().st_size)
    assert catalog.find_duplicate(SHA, "webp", root) is None
    assert catalog.find_duplicate("cd" * 32, "png", root) is None
    assert catalog.find_duplicate(SHA, "png", tmp_path / "elsewhere") is None
    assert catalog.find_duplicate(None, "png", root) is None


def test_find_duplicate_ignores_deleted_changed_or_replaced_files(catalog, tmp_path):
    root = tmp_path / "out"
    gone = saved_file(root, "gone.png")
    changed = saved_file(root, "changed.png")
    swapped = saved_file(root, "swapped.png")
    for p in (gone, changed, swapped):
        catalog.add(path=p, sha256=SHA, content_sha256=SHA, format="png", size=p.stat().st_size)
    gone.unlink()
    changed.write_bytes(b"edited by the user, longer now")
    swapped.unlink()
    swapped.symlink_to(changed)
    assert catalog.find_duplicate(SHA, "png", root) is None


def test_find_duplicate_ignores_rows_without_a_content_digest_and_files_touched_since(
    catalog, tmp_path
):
    """Only a digest computed from bytes identifies a picture: a row recorded without one (an
    older catalog, before reindex) or whose file changed since is never a duplicate."""
    root = tmp_path / "out"
    old = saved_file(root, "old.png")
    catalog.add(path=old, sha256=SHA, format="png", size=old.stat().st_size)
    assert catalog.find_duplicate(SHA, "png", root) is None
    touched = saved_file(root, "touched.png")
    catalog.add(
        path=touched, sha256=SHA, content_sha256=SHA, format="png", size=touched.stat().st_size
    )
    assert catalog.find_duplicate(SHA, "png", root) == str(touched)
    os.utime(touched, ns=(1, 1))
    assert catalog.find_duplicate(SHA, "png", root) is None


def test_find_duplicate_prefers_the_newest_valid_copy(catalog, tmp_path):
    root = tmp_path / "out"
    old = saved_file(root, "old.png")
    new = saved_file(root, "new.png")
    catalog.add(path=old, sha256=SHA, content_sha256=SHA, format="png", size=old.stat().st_size)
    catalog.add(path=new, sha256=SHA, content_sha256=SHA, format="png", size=new.stat().st_size)
    assert catalog.find_duplicate(SHA, "png", root) == str(new)
    new.unlink()
    assert catalog.find_duplicate(SHA, "png", root) == str(old)


def test_remove(catalog, tmp_path):
    catalog.add(path=tmp_path / "a.png", sha256=SHA, format="png", size=1)
    assert catalog.remove(tmp_path / "a.png") is True
    assert catalog.remove(tmp_path / "a.png") is False
    assert catalog.get(tmp_path / "a.png") is None


def test_save_lock_rolls_back_on_error(catalog, tmp_path):
    with pytest.raises(RuntimeError), catalog.save_lock():
        catalog.add(path=tmp_path / "a.png", sha256=SHA, format="png", size=1)
        raise RuntimeError
    assert catalog.count() == 0
    with catalog.save_lock():
        catalog.add(path=tmp_path / "a.png", sha256=SHA, format="png", size=1)
    assert catalog.count() == 1


def test_save_lock_blocks_another_connection_until_released(tmp_path):
    target = tmp_path / "c.sqlite3"
    with open_catalog(target) as first, open_catalog(target) as second:
        second._conn.execute("PRAGMA busy_timeout = 100")
        with first.save_lock(), pytest.raises(sqlite3.OperationalError, match="locked"):
            second.add(path=tmp_path / "b.png", sha256=SHA, format="png", size=1)
        second.add(path=tmp_path / "b.png", sha256=SHA, format="png", size=1)
        assert first.count() == 1


def test_a_corrupt_catalog_is_moved_aside_and_recreated(tmp_path):
    target = tmp_path / "catalog.sqlite3"
    target.write_bytes(b"this is not a database" * 100)
    with open_catalog(target) as cat:
        assert cat.count() == 0
    asides = [p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name]
    assert len(asides) == 1
    assert (tmp_path / asides[0]).read_bytes().startswith(b"this is not a database")


def _save_once(args):
    """What the pipeline does: under the lock, look for a duplicate, else write and record."""
    db_path, root, data, worker = args
    with open_catalog(db_path) as cat, cat.save_lock():
        existing = cat.find_duplicate(SHA, "png", root)
        if existing:
            return ("duplicate", existing)
        time.sleep(0.05)  # widen the race window a check without a lock would lose
        path = storage.write_new(Path(root), "same.png", [data])
        cat.add(
            path=path,
            sha256=SHA,
            content_sha256=SHA,
            format="png",
            size=len(data),
            source=f"w{worker}",
        )
        return ("saved", str(path))


def test_concurrent_hosts_save_the_same_image_exactly_once(tmp_path):
    root = tmp_path / "out"
    root.mkdir()
    db_path = str(tmp_path / "catalog.sqlite3")
    open_catalog(db_path).close()
    data = os.urandom(50_000)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(8) as pool:
        results = pool.map(_save_once, [(db_path, str(root), data, w) for w in range(8)])
    saved = [p for kind, p in results if kind == "saved"]
    assert len(saved) == 1
    assert {p for _, p in results} == {saved[0]}
    assert [p.name for p in root.iterdir()] == ["same.png"]
    with open_catalog(db_path) as cat:
        assert cat.count() == 1


def _open_and_add(args):
    db_path, worker = args
    with open_catalog(db_path) as cat:
        cat.add(path=f"/images/{worker}.png", sha256=SHA, format="png", size=worker)
    return worker


def test_many_processes_creating_the_catalog_at_once(tmp_path):
    db_path = str(tmp_path / "fresh.sqlite3")
    ctx = multiprocessing.get_context("spawn")
    for _ in range(2):  # the first round creates the file, the second opens it
        with ctx.Pool(8) as pool:
            assert sorted(pool.map(_open_and_add, [(db_path, w) for w in range(8)])) == list(
                range(8)
            )
    with open_catalog(db_path) as cat:
        assert cat.count() == 8
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 1
    conn.close()


def _png(colour: tuple[int, int, int]) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "PNG")
    return out.getvalue()


def _forget_content_digests() -> None:
    """As in a catalog written before content digests existed (migration 4 left them empty)."""
    conn = sqlite3.connect(paths.data_dir() / "catalog.sqlite3")
    with conn:
        conn.execute("UPDATE images SET content_sha256 = NULL")
    conn.close()


def test_a_save_from_before_content_digests_is_still_found_by_its_bytes(home, tmp_path):
    """Upgrading must not make every picture saved before it a new file: a row without a digest
    is found by the hash of the bytes being saved, and taken only when its file's own digest,
    computed now, is the new picture's."""
    from dsexport import save_image

    data = _png((200, 30, 30))
    first = save_image(data, {"prompt": "a red card"})
    _forget_content_digests()

    again = save_image(data, {"prompt": "a red card"})

    assert again.duplicate is True and again.path == first.path
    assert len(list(Path(first.path).parent.iterdir())) == 1


def test_a_row_from_before_content_digests_is_not_taken_for_another_picture(home, tmp_path):
    """The old row's hash says it is this picture; its file, replaced by another picture of the
    same size, says otherwise: the bytes win, and the picture is saved anew."""
    from dsexport import save_image

    red, blue = _png((200, 30, 30)), _png((30, 30, 200))
    assert len(red) == len(blue)
    first = save_image(red, {"prompt": "card one"})
    _forget_content_digests()
    other = save_image(blue, {"prompt": "card two"})
    assert Path(other.path).stat().st_size == Path(first.path).stat().st_size
    Path(first.path).write_bytes(Path(other.path).read_bytes())  # same size, another picture

    again = save_image(red, {"prompt": "card one"})

    assert again.duplicate is False and again.path != first.path


def _png_digest_before_schema_7(data: bytes) -> str:
    """PNG's content digest as catalogs of schema 6 and earlier hold it: the non-metadata
    chunks and any trailer, without the signature."""
    import hashlib

    from dsexport.formats import png

    chunks, end = png.split(data)
    digest = hashlib.sha256()
    for c in chunks:
        if c.type not in png.METADATA_TYPES:
            digest.update(data[c.start : c.end])
    digest.update(data[end:])
    return digest.hexdigest()


def test_a_png_saved_under_the_old_digest_is_still_found_after_the_upgrade(home):
    """A catalog left by the previous release holds PNG digests of the old definition, which
    today's save never computes: opening it must forget them (the migration), and the save of
    the same picture must then find the old file through its source hash and the file's
    digest computed now (``_older_duplicate``), not write a second copy."""
    from dsexport import save_image

    data = _png((20, 160, 90))
    first = save_image(data, {"prompt": "a green card"})
    old_digest = _png_digest_before_schema_7(Path(first.path).read_bytes())
    conn = sqlite3.connect(paths.data_dir() / "catalog.sqlite3")
    with conn:
        assert conn.execute("SELECT content_sha256 FROM images").fetchone()[0] != old_digest
        conn.execute("UPDATE images SET content_sha256 = ?", (old_digest,))
        conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION - 1,))
    conn.close()

    again = save_image(data, {"prompt": "a green card"})

    assert again.duplicate is True and again.path == first.path
    assert len(list(Path(first.path).parent.iterdir())) == 1
    with open_catalog() as cat:
        assert [e.content_sha256 for e in cat.select()] == [None]  # until reindex reads it


def test_the_png_migration_forgets_only_png_digests(tmp_path):
    target = tmp_path / "c.sqlite3"
    with open_catalog(target) as cat:
        cat.add(path=tmp_path / "a.png", sha256=SHA, format="png", size=1, content_sha256=SHA)
        cat.add(path=tmp_path / "b.jpg", sha256=SHA, format="jpeg", size=1, content_sha256=SHA)
    conn = sqlite3.connect(target)
    with conn:
        conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION - 1,))
    conn.close()
    with open_catalog(target) as cat:
        digests = {Path(e.path).name: e.content_sha256 for e in cat.select()}
    assert digests == {"a.png": None, "b.jpg": SHA}
