"""How often a save hashes the image: once, for a PNG without metadata (most downloads). Its
content digest is then the file's SHA-256, which the reader computed while reading it
(formats/png.py ``content_digest``). Counted by wrapping ``hashlib.sha256``, not timed."""

from __future__ import annotations

import hashlib
import io
import secrets
from pathlib import Path

import pytest
from native_client import big_png

from dsexport import save_image
from dsexport.formats import png
from dsexport.native.server import handle
from dsexport.native.session import Session
from dsexport.pipeline import Hashed

IMAGE_BYTES = 300_000
SMALL = 64 * 1024
"""Hashes of at most this many bytes are not passes over the image (names, identities)."""


class _Counted:
    """A ``hashlib.sha256`` object that adds every byte it is given to ``passes[-1]``."""

    def __init__(self, passes: list[int], data=b"") -> None:
        self._hash = _real_sha256()
        self._passes = passes
        passes.append(0)
        self._index = len(passes) - 1
        self.update(data)

    def update(self, data) -> None:
        self._passes[self._index] += memoryview(data).nbytes
        self._hash.update(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    def digest(self) -> bytes:
        return self._hash.digest()


_real_sha256 = hashlib.sha256


@pytest.fixture
def passes(monkeypatch) -> list[int]:
    """Bytes hashed by each SHA-256 made while the test runs, in order of construction."""
    counted: list[int] = []
    monkeypatch.setattr(hashlib, "sha256", lambda data=b"": _Counted(counted, data))
    return counted


def image_passes(counted: list[int]) -> list[int]:
    return [n for n in counted if n > SMALL]


def _png_with_text() -> bytes:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "made elsewhere")
    out = io.BytesIO()
    Image.effect_noise((300, 300), 60).convert("RGB").save(out, "PNG", pnginfo=info)
    return out.getvalue()


def test_a_png_without_metadata_has_its_files_sha256_as_content_digest():
    data = big_png(20_000, width=64)
    assert png.content_digest(data) == _real_sha256(data).hexdigest()
    assert png.content_digest(data, file_sha256="f" * 64) == "f" * 64


def test_metadata_chunks_stay_out_of_the_digest_and_a_given_file_hash_is_not_taken():
    data = _png_with_text()
    assert b"tEXt" in data
    digest = png.content_digest(data)
    assert digest != _real_sha256(data).hexdigest()
    assert png.content_digest(data, file_sha256="f" * 64) == digest


def test_saving_a_png_without_metadata_hashes_it_once(home, passes):
    data = big_png(IMAGE_BYTES)
    result = save_image(data, {"prompt": "a cat", "seed": 7})
    assert image_passes(passes) == [len(data)]
    assert result.sha256 == _real_sha256(data).hexdigest()


def test_a_source_hashed_while_read_is_not_hashed_again(home, passes):
    data = big_png(IMAGE_BYTES)
    save_image(Hashed(data, _real_sha256(data).hexdigest()), {"prompt": "a cat"})
    assert image_passes(passes) == []


def test_a_staged_download_is_hashed_once_from_reading_to_the_catalog(home, passes):
    """The real ``save_download`` request, in process: read and hashed block by block by the
    handler; neither the save nor its catalog row hashes the image again."""
    data = big_png(IMAGE_BYTES)
    folder = home / "Downloads" / "dsexport-staging"
    folder.mkdir(parents=True)
    staged = folder / f"dsx-{secrets.token_hex(16)}"
    staged.write_bytes(data)
    session = Session()
    try:
        message = {"type": "save_download", "id": 1, "path": str(staged), "metadata": {}}
        reply = handle(message, session)
    finally:
        session.close()
    assert reply["ok"], reply
    assert sum(image_passes(passes)) == len(data)
    assert not staged.exists()


def test_a_png_with_metadata_and_its_saved_copy_share_the_digest(home):
    from dsexport.catalog import open_catalog

    data = _png_with_text()
    result = save_image(data, {"prompt": "a cat"})
    saved = Path(result.path).read_bytes()
    assert saved != data and b"a cat" in saved
    assert png.content_digest(saved) == png.content_digest(data)
    with open_catalog() as catalog:
        assert catalog.get(result.path).content_sha256 == png.content_digest(data)
    assert save_image(data, {"prompt": "a cat"}).duplicate is True
