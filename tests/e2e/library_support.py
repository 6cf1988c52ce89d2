"""Shared by the Library page's end-to-end tests: a seeded library in the test's HOME, and what a
person sees on the page, read from its DOM."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from library_seed import Seeded

#: What the page reports, read in the page: the ids of the tiles on screen in result order, the
#: result count once known, whether every visible tile shows its picture.
SHOWN_IDS = """() => [...document.querySelectorAll('#grid .tile:not([hidden])')]
    .filter((t) => t.dataset.id && t.dataset.index !== '')
    .sort((a, b) => a.dataset.index - b.dataset.index)
    .map((t) => Number(t.dataset.id))"""

PICTURES_SHOWN = """() => {
    const tiles = [...document.querySelectorAll('#grid .tile:not([hidden])')]
      .filter((t) => t.dataset.id);
    return tiles.length > 0 && tiles.every((t) => {
      const img = t.querySelector('img');
      return t.classList.contains('missing')
        || (img.complete && img.naturalWidth > 0 && !t.classList.contains('waiting'));
    });
}"""

FOCUSED_INDEX = "() => document.activeElement?.dataset?.index ?? null"


def expect_ids(rows: list[Seeded], pred) -> list[int]:
    return [r.id for r in rows if pred(r)]


def zip_images(path: str) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist() if n.startswith("images/")}


def zip_prompts(path: str) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return [i["metadata"].get("prompt") for i in json.loads(zf.read("metadata.json"))["images"]]


def file_bytes(rows: list[Seeded], ids: list[int]) -> list[bytes]:
    by_id = {r.id: r for r in rows}
    return [Path(by_id[i].path).read_bytes() for i in ids]
