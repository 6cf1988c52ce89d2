"""ZIP bundles (dsexport/catalog/bundle.py): contents, metadata.json, prompts.html escaping,
ZIP64, never overwriting, and flat memory for a large total."""

from __future__ import annotations

import json
import os
import struct
import threading
import tracemalloc
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dsexport.catalog import open_catalog
from dsexport.catalog.bundle import CHUNK, write_bundle
from dsexport.errors import BadRequest, NotFound
from dsexport.model import Metadata
from imagebytes import make_image

HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)> "quoted" \'single\''


@pytest.fixture
def catalog(tmp_path):
    with open_catalog(tmp_path / "catalog.sqlite3") as cat:
        yield cat


def add_file(cat, folder: Path, name: str, data: bytes, meta: Metadata) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    cat.add(path=path, sha256=name, format=name.rsplit(".", 1)[-1], size=len(data), metadata=meta)
    return path


def three_images(cat, tmp_path):
    files = [
        add_file(
            cat,
            tmp_path / "a",
            "cat.png",
            make_image("png"),
            Metadata(prompt="一只猫 🐱", seed=2**70, conversation_title="猫咪"),
        ),
        add_file(
            cat,
            tmp_path / "b",
            "cat.png",
            make_image("png", size=(8, 8)),
            Metadata(prompt=HOSTILE, negative_prompt="</p><b>neg</b>"),
        ),
        add_file(
            cat,
            tmp_path / "c",
            "odd #1?.jpeg",
            make_image("jpeg"),
            Metadata(prompt="line one\nline two", page_url="javascript:alert(1)"),
        ),
    ]
    return files, cat.select(order="id")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("href", "src"):
                self.links.append(value)

    def handle_data(self, data):
        self.text.append(data)


def test_zip_holds_the_images_as_saved_metadata_and_page(catalog, tmp_path):
    files, entries = three_images(catalog, tmp_path)
    result = write_bundle(entries, tmp_path / "out.zip")
    assert result.path == str(tmp_path / "out.zip") and result.count == 3
    assert result.bytes == Path(result.path).stat().st_size
    with zipfile.ZipFile(result.path) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        assert names == [
            "images/cat.png",
            "images/cat (2).png",
            "images/odd #1?.jpeg",
            "metadata.json",
            "prompts.html",
        ]
        for path, name in zip(files, names, strict=False):
            assert zf.read(name) == path.read_bytes()
            assert zf.getinfo(name).compress_type == zipfile.ZIP_STORED
        doc = json.loads(zf.read("metadata.json"))
        page = zf.read("prompts.html").decode("utf-8")
    assert doc["schema"] == "dsexport.bundle/1"
    items = doc["images"]
    assert [i["file"] for i in items] == names[:3]
    assert items[0]["metadata"]["prompt"] == "一只猫 🐱" and items[0]["metadata"]["seed"] == 2**70
    assert items[1]["metadata"]["prompt"] == HOSTILE
    assert items[2]["path"] == str(files[2]) and items[2]["format"] == "jpeg"

    parsed = _Collector()
    parsed.feed(page)
    # Only the tags we write: nothing from a prompt became markup.
    assert set(parsed.tags) <= {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "h1",
        "p",
        "code",
        "figure",
        "a",
        "img",
        "figcaption",
        "dl",
        "dt",
        "dd",
        "i",
    }
    assert "<script>" not in page and "onerror=alert(1)>" not in page
    assert HOSTILE in "".join(parsed.text)
    assert "一只猫 🐱" in page and "line one\nline two" in page
    # Thumbnails and links point at the files inside the archive, encoded so '#'/'?' stay names.
    assert parsed.links == [
        "images/cat.png",
        "images/cat.png",
        "images/cat%20%282%29.png",
        "images/cat%20%282%29.png",
        "images/odd%20%231%3F.jpeg",
        "images/odd%20%231%3F.jpeg",
    ]
    assert "javascript:alert(1)" not in parsed.links  # page URLs are shown as text only


def test_an_existing_file_is_never_replaced(catalog, tmp_path):
    _, entries = three_images(catalog, tmp_path)
    (tmp_path / "out.zip").write_bytes(b"the user's own file")
    result = write_bundle(entries, tmp_path / "out.zip")
    assert result.path == str(tmp_path / "out (2).zip")
    assert (tmp_path / "out.zip").read_bytes() == b"the user's own file"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".dsexport-")]
    assert write_bundle(entries, tmp_path / "bundle").path == str(tmp_path / "bundle.zip")


def test_missing_files_are_left_out_and_reported(catalog, tmp_path):
    files, entries = three_images(catalog, tmp_path)
    files[1].unlink()
    result = write_bundle(entries, tmp_path / "out.zip")
    assert result.count == 2 and result.skipped == (str(files[1]),)
    with zipfile.ZipFile(result.path) as zf:
        assert len(json.loads(zf.read("metadata.json"))["images"]) == 2


def test_links_are_not_followed(catalog, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    files, entries = three_images(catalog, tmp_path)
    files[0].unlink()
    files[0].symlink_to(secret)
    result = write_bundle(entries, tmp_path / "out.zip")
    assert result.skipped == (str(files[0]),)
    with zipfile.ZipFile(result.path) as zf:
        assert all(zf.read(n) != b"private" for n in zf.namelist())


def test_a_fifo_swapped_in_after_the_listing_is_skipped_not_waited_on(catalog, tmp_path):
    # The listing checks every path first; a FIFO put in a file's place after that check must
    # not hang the bundle (opening a FIFO for reading waits for a writer that never comes).
    files, entries = three_images(catalog, tmp_path)

    def swap(done, total, size):
        if done == 1:
            files[1].unlink()
            os.mkfifo(files[1])

    outcome = {}
    worker = threading.Thread(
        target=lambda: outcome.setdefault(
            "result", write_bundle(entries, tmp_path / "out.zip", progress=swap)
        ),
        daemon=True,
    )
    worker.start()
    worker.join(30)
    if worker.is_alive():
        with open(files[1], "wb"):  # a writer, so the stuck open returns and the test ends
            pass
        pytest.fail("the bundle waited on a FIFO")
    result = outcome["result"]
    assert result.count == 2 and result.skipped == (str(files[1]),)


def test_nothing_to_bundle(tmp_path):
    with pytest.raises(NotFound):
        write_bundle([], tmp_path / "out.zip")
    assert not (tmp_path / "out.zip").exists()


def _local_headers(data: bytes) -> list[tuple[str, bytes]]:
    """(name, extra field) of every local file header, parsed by hand."""
    out, pos = [], 0
    while (pos := data.find(b"PK\x03\x04", pos)) >= 0:
        name_len, extra_len = struct.unpack("<HH", data[pos + 26 : pos + 30])
        name = data[pos + 30 : pos + 30 + name_len].decode("utf-8")
        out.append((name, data[pos + 30 + name_len : pos + 30 + name_len + extra_len]))
        pos += 30
    return out


def test_zip64_records_when_forced(catalog, tmp_path):
    files, entries = three_images(catalog, tmp_path)
    small = write_bundle(entries, tmp_path / "small.zip")
    big = write_bundle(entries, tmp_path / "z64.zip", force_zip64=True)
    small_headers = _local_headers(Path(small.path).read_bytes())
    big_headers = _local_headers(Path(big.path).read_bytes())
    assert not any(extra.startswith(b"\x01\x00") for _, extra in small_headers)
    # Extra field id 0x0001 is the ZIP64 extended information record.
    assert [n for n, extra in big_headers if extra.startswith(b"\x01\x00")] == [
        "images/cat.png",
        "images/cat (2).png",
        "images/odd #1?.jpeg",
        "metadata.json",
        "prompts.html",
    ]
    with zipfile.ZipFile(big.path) as zf:
        assert zf.testzip() is None
        assert zf.read("images/cat.png") == files[0].read_bytes()


def test_memory_stays_flat_for_a_large_total(catalog, tmp_path):
    """160 MB of images through the bundle: Python's peak allocation stays a few chunks."""
    size = 40 * 1024 * 1024
    block = bytes(range(256)) * 4096  # 1 MiB of varied bytes
    for i in range(4):
        path = tmp_path / "big" / f"{i}.png"
        path.parent.mkdir(exist_ok=True)
        with open(path, "wb") as fh:
            for _ in range(size // len(block)):
                fh.write(block)
        catalog.add(path=path, sha256=str(i), format="png", size=size, metadata=Metadata())
    entries = catalog.select(order="id")
    tracemalloc.start()
    try:
        result = write_bundle(entries, tmp_path / "big.zip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.count == 4 and result.bytes > 4 * size
    assert peak < 4 * CHUNK, f"peak {peak / 1e6:.1f} MB"
    with zipfile.ZipFile(result.path) as zf:
        assert zf.getinfo("images/3.png").file_size == size
        with zf.open("images/3.png") as member:
            assert member.read(len(block)) == block


def test_selection_by_id_hash_path_or_conversation(catalog, tmp_path):
    from dsexport.catalog.bundle import select_entries

    files, entries = three_images(catalog, tmp_path)
    catalog.add(
        path=files[0],
        sha256="s0",
        format="png",
        size=files[0].stat().st_size,
        metadata=Metadata(prompt="p", conversation_id="conv"),
    )
    picked = select_entries(catalog, ids=[entries[2].id], paths=[str(files[1]), "/etc/passwd"])
    assert [e.path for e in picked] == [str(files[1]), str(files[2])]  # unknown paths ignored
    assert [e.path for e in select_entries(catalog, sha256s=["s0"])] == [str(files[0])]
    assert [e.path for e in select_entries(catalog, conversation_id="conv")] == [str(files[0])]
    with pytest.raises(BadRequest):
        select_entries(catalog)


def test_bundle_into_the_output_folder_under_a_safe_name(catalog, tmp_path):
    from dsexport.catalog.bundle import bundle_to_output_folder
    from dsexport.config import Config

    _, entries = three_images(catalog, tmp_path)
    out = tmp_path / "out"
    cfg = Config(output_dir=str(out))
    result = bundle_to_output_folder(entries, "猫 cats", config=cfg)
    assert result.path == str(out / "猫 cats.zip")
    default = bundle_to_output_folder(entries, config=cfg)
    assert Path(default.path).parent == out
    assert Path(default.path).name.startswith("猫咪 ")  # the one conversation title
    assert Path(default.path).suffix == ".zip"
    # Names from a page (conversation titles) are cleaned like saved images' names, never refused
    # and never leaving the output folder.
    for given, expected in [
        ("../evil", "_evil.zip"),
        ("a/b: c", "a_b_ c.zip"),
        ("CON.zip", "_CON.zip"),
        ("x\x00y", "x_y.zip"),
    ]:
        assert bundle_to_output_folder(entries, given, config=cfg).path == str(out / expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "a",
        "b",
        "c",
        "catalog.sqlite3",
        "catalog.sqlite3-shm",
        "catalog.sqlite3-wal",
        "out",
    ]


def test_no_archive_when_every_file_is_gone(catalog, tmp_path):
    files, entries = three_images(catalog, tmp_path)
    for path in files:
        path.unlink()
    with pytest.raises(NotFound, match="dsexport check"):
        write_bundle(entries, tmp_path / "out.zip")
    assert not list(tmp_path.glob("*.zip")) and not list(tmp_path.glob(".dsexport-*"))
