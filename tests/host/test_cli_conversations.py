"""``--conversation`` as a person types it (an id prefix, a part of a title, a URL) in ``search``,
``list`` and ``bundle``; ``list`` shows short ids; ambiguous and unknown values explained."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from dsexport.catalog import open_catalog
from dsexport.catalog.conversations import (
    AmbiguousConversation,
    NoSuchConversation,
    resolve_conversation,
    short_ids,
)
from dsexport.model import Metadata
from imagebytes import make_image
from testutil import run_dsexport

CATS = "7c0e5a52-3f4b-4a8e-9b61-2d0f5c1e8a90"
CATS_TWIN = "7c0e5a52-9999-4a8e-9b61-000000000001"  # shares 9 characters with CATS
DOGS = "b41d0c33-0000-4000-8000-00000000d065"
ROBOTS = "e0f1a2b3-1111-4111-8111-111111111111"

SAVES = [
    (CATS, "猫咪插画与流程图 🎨", "a cat in a red scarf"),
    (CATS, "猫咪插画与流程图 🎨", "a cat in a blue hat"),
    (CATS_TWIN, "Kitten sketches", "a kitten asleep"),
    (DOGS, "Dog Portraits", "a dog in the snow"),
    (ROBOTS, "Robot dogs", "a robot dog"),
]


run = run_dsexport


@pytest.fixture
def catalog_home(home, tmp_path):
    """Five saves in four conversations, two of whose ids share their first 9 characters."""
    for n, (cid, title, prompt) in enumerate(SAVES):
        src = tmp_path / f"src{n}.png"
        src.write_bytes(make_image("png", size=(16 + n, 16)))
        meta = tmp_path / f"meta{n}.json"
        url = f"https://chat.deepseek.com/a/chat/s/{cid}"
        meta.write_text(
            json.dumps({"conversation_id": cid, "conversation_title": title, "page_url": url}),
            "utf-8",
        )
        proc = run(home, "save", str(src), "--prompt", prompt, "--meta-json", str(meta))
        assert proc.returncode == 0, proc.stderr
    return home


# --- the resolver ------------------------------------------------------------------------------


def _add(catalog, tmp_path, n, cid, title):
    path = tmp_path / f"f{n}.png"
    path.write_bytes(b"x")
    meta = Metadata(conversation_id=cid, conversation_title=title)
    catalog.add(path=path, sha256=f"{n:064x}", format="png", size=1, metadata=meta)


@pytest.fixture
def catalog(home, tmp_path):
    with open_catalog() as cat:
        for n, (cid, title, _prompt) in enumerate(SAVES):
            _add(cat, tmp_path, n, cid, title)
        yield cat


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (CATS, CATS),  # the full id
        ("7c0e5a52-3", CATS),  # a prefix longer than what the twins share
        ("7C0E5A52-3F4B", CATS),  # any case
        ("b41d", DOGS),  # four characters are enough when unique
        ("猫咪", CATS),  # a part of a Chinese title
        ("插画与流程", CATS),
        ("portraits", DOGS),  # any case
        ("Robot dogs", ROBOTS),  # the exact title
        ("kitten", CATS_TWIN),
        (f"https://chat.deepseek.com/a/chat/s/{DOGS}", DOGS),  # a URL
        (f"https://chat.deepseek.com/a/chat/s/{ROBOTS}?from=sidebar", ROBOTS),
        (f"https://chat.deepseek.com/share/{CATS_TWIN}", CATS_TWIN),
    ],
)
def test_resolves(catalog, value, expected):
    assert resolve_conversation(catalog, value).id == expected


@pytest.mark.parametrize(
    ("value", "matches"),
    [
        ("7c0e", {CATS, CATS_TWIN}),  # a prefix both ids share
        ("7c0e5a52", {CATS, CATS_TWIN}),
        ("dog", {DOGS, ROBOTS}),  # in two titles
    ],
)
def test_ambiguous_lists_every_match(catalog, value, matches):
    with pytest.raises(AmbiguousConversation) as info:
        resolve_conversation(catalog, value)
    assert {c.id for c in info.value.matches} == matches
    assert all(c.count >= 1 for c in info.value.matches)


@pytest.mark.parametrize("value", ["7c0", "zzzz", "", "  ", "https://example.com/nothing"])
def test_no_match(catalog, value):
    """Three characters are never taken as a prefix: they would match by accident."""
    with pytest.raises(NoSuchConversation):
        resolve_conversation(catalog, value)


def test_exact_title_beats_a_longer_title_containing_it(home, tmp_path):
    with open_catalog() as cat:
        _add(cat, tmp_path, 1, "aaaa-1", "Cats")
        _add(cat, tmp_path, 2, "bbbb-2", "Cats and dogs")
        assert resolve_conversation(cat, "Cats").id == "aaaa-1"
        with pytest.raises(AmbiguousConversation):
            resolve_conversation(cat, "cats")  # not exact: a part of both


def test_an_older_title_still_finds_the_conversation(home, tmp_path):
    with open_catalog() as cat:
        _add(cat, tmp_path, 1, "aaaa-1", "New chat")
        _add(cat, tmp_path, 2, "aaaa-1", "Watercolour cats")
        assert resolve_conversation(cat, "new chat").id == "aaaa-1"
        assert resolve_conversation(cat, "watercolour").id == "aaaa-1"


def test_short_ids_are_unique_and_at_least_eight():
    ids = [CATS, CATS_TWIN, DOGS, ROBOTS, "conv-1"]
    short = short_ids(ids)
    assert short[CATS] == "7c0e5a52-3" and short[CATS_TWIN] == "7c0e5a52-9"
    assert short[DOGS] == "b41d0c33" and short["conv-1"] == "conv-1"
    for cid, prefix in short.items():
        assert cid.startswith(prefix)
        assert [o for o in ids if o.lower().startswith(prefix.lower())] == [cid]


# --- the commands ------------------------------------------------------------------------------


def test_list_prints_short_ids_that_work_as_values(catalog_home):
    proc = run(catalog_home, "list")
    assert proc.returncode == 0, proc.stderr
    keys = [line.split()[0] for line in proc.stdout.splitlines() if not line.startswith(" ")]
    assert sorted(keys) == sorted(["7c0e5a52-3", "7c0e5a52-9", "b41d0c33", "e0f1a2b3"])
    assert CATS not in proc.stdout
    for key in keys:  # what list prints, list --conversation takes back
        again = run(catalog_home, "list", "--conversation", key)
        assert again.returncode == 0, again.stderr

    full = json.loads(run(catalog_home, "list", "--json").stdout)
    assert {g["key"] for g in full} == {CATS, CATS_TWIN, DOGS, ROBOTS}


@pytest.mark.parametrize("command", ["search", "list", "bundle"])
def test_prefix_and_title_work_everywhere(catalog_home, tmp_path, command):
    for value in ("b41d0c33", "Dog Portraits", "PORTRAIT"):
        args = {
            "search": ["search", "", "--conversation", value, "--json"],
            "list": ["list", "--conversation", value, "--json"],
            "bundle": ["bundle", "--conversation", value, "-o", str(tmp_path / "d.zip"), "--json"],
        }[command]
        proc = run(catalog_home, *args)
        assert proc.returncode == 0, proc.stderr
        if command == "bundle":
            result = json.loads(proc.stdout)
            assert result["count"] == 1
            with zipfile.ZipFile(result["path"]) as zf:
                meta = json.loads(zf.read("metadata.json"))
            assert [m["metadata"]["prompt"] for m in meta["images"]] == ["a dog in the snow"]
            Path(result["path"]).unlink()
        else:
            rows = json.loads(proc.stdout)
            assert [r["prompt"] for r in rows] == ["a dog in the snow"]


def test_search_within_a_conversation_by_title_part(catalog_home):
    proc = run(catalog_home, "search", "scarf", "--conversation", "猫咪", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [h["prompt"] for h in json.loads(proc.stdout)] == ["a cat in a red scarf"]


@pytest.mark.parametrize("command", ["search", "list", "bundle"])
def test_ambiguous_value_lists_matches_with_status_3(catalog_home, tmp_path, command):
    args = {
        "search": ["search", "--conversation", "7c0e"],
        "list": ["list", "--conversation", "7c0e"],
        "bundle": ["bundle", "--conversation", "7c0e", "-o", str(tmp_path / "x.zip")],
    }[command]
    proc = run(catalog_home, *args)
    assert proc.returncode == 3
    assert "matches 2 conversations" in proc.stderr
    assert "7c0e5a52-3  猫咪插画与流程图 🎨  (2 images)" in proc.stderr
    assert "7c0e5a52-9  Kitten sketches  (1 image)" in proc.stderr
    assert not (tmp_path / "x.zip").exists()


@pytest.mark.parametrize("command", ["search", "list", "bundle"])
def test_no_match_says_so_and_suggests_list(catalog_home, tmp_path, command):
    args = {
        "search": ["search", "--conversation", "nothing-like-this"],
        "list": ["list", "--conversation", "nothing-like-this"],
        "bundle": ["bundle", "--conversation", "nothing-like-this", "-o", str(tmp_path / "x.zip")],
    }[command]
    proc = run(catalog_home, *args)
    assert proc.returncode == 1
    assert "no catalogued conversation matches 'nothing-like-this'" in proc.stderr
    assert "dsexport list" in proc.stderr
    assert not (tmp_path / "x.zip").exists()
