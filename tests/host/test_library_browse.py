"""The library's catalog queries (``catalog.browse``) and checked reads (``catalog.reading``) on a
real seeded library: images saved by the real pipeline into a temporary HOME."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dsexport.catalog import open_catalog
from dsexport.catalog.browse import (
    CARD_PROMPT_CHARS,
    Filters,
    ResultSet,
    card,
    conversation_url,
    describe_conversations,
    detail,
    entries_by_ids,
    facets,
    file_state,
    group_by_conversation,
)
from dsexport.catalog.reading import check_path, open_checked, read_range
from dsexport.errors import BadRequest, ForbiddenPath, NotFound, UnsupportedFormat
from library_seed import CONVERSATIONS, seed_library


@pytest.fixture
def seeded(home):
    return seed_library()


def all_ids(catalog, **filters) -> list[int]:
    rs = ResultSet.start(catalog, Filters(**filters), first=3)
    assert rs.wait(30)
    return rs.ids(0, 10_000)


def expect(seeded, pred) -> list[int]:
    return [r.id for r in seeded if pred(r)]


def test_everything_newest_first_and_pages_cover_the_result_exactly_once(seeded):
    with open_catalog() as cat:
        rs = ResultSet.start(cat, Filters(), first=7)
        assert [e.id for e in rs.head] == [r.id for r in seeded[:7]]
        assert rs.wait(30) and rs.total == len(seeded)
        pages = [e.id for off in range(0, 30, 6) for e in rs.page(cat, off, 6)]
        assert pages == [r.id for r in seeded]


def test_search_any_word_any_substring_english_and_chinese(seeded):
    with open_catalog() as cat:
        assert all_ids(cat, query="scarf") == expect(seeded, lambda r: "scarf" in r.prompt)
        assert all_ids(cat, query="RED scarf") == expect(
            seeded, lambda r: "red" in r.prompt.lower() and "scarf" in r.prompt
        )
        # One Chinese character is enough.
        cat_ids = all_ids(cat, query="猫")
        assert cat_ids == expect(seeded, lambda r: "猫" in r.prompt)
        assert len(cat_ids) == 4
        assert all_ids(cat, query="围巾") == expect(seeded, lambda r: "围巾" in r.prompt)
        # Conversation titles are searched too.
        assert set(all_ids(cat, query="赛博朋克")) == {
            r.id for r in seeded if r.conversation_id == "c-city" or "赛博朋克" in r.prompt
        }
        assert all_ids(cat, query="zebra") == []


def test_filters_each_and_together(seeded):
    with open_catalog() as cat:
        assert all_ids(cat, conversation="c-garden") == expect(
            seeded, lambda r: r.conversation_id == "c-garden"
        )
        assert all_ids(cat, model="flux-dev") == expect(seeded, lambda r: r.model == "flux-dev")
        assert all_ids(cat, model="") == expect(seeded, lambda r: r.model is None)
        for origin in ("generated", "uploaded", "diagram"):
            assert all_ids(cat, origin=origin) == expect(seeded, lambda r, o=origin: r.origin == o)
        for fmt in ("png", "jpeg", "webp", "gif", "avif", "svg"):
            got = all_ids(cat, format=fmt)
            assert got == expect(seeded, lambda r, f=fmt: r.format == f) and got, fmt
        # Dates: since is inclusive from local midnight, until to the end of that day.
        day = seeded[5].captured_at[:10]
        assert all_ids(cat, since=day, until=day) == [seeded[5].id]
        assert all_ids(cat, query="cat", origin="generated", format="jpeg") == expect(
            seeded,
            lambda r: "cat" in r.prompt.lower() and r.origin == "generated" and r.format == "jpeg",
        )
        with pytest.raises(BadRequest):
            Filters(origin="evil")
        with pytest.raises(BadRequest):
            Filters(format="bmp")


def test_a_search_lists_only_rows_that_existed_when_it_started(seeded):
    with open_catalog() as cat:
        rs = ResultSet.start(cat, Filters(), first=2, background=False)
        head = [e.id for e in rs.head]
        cat.add(path="/nowhere/new.png", sha256="0" * 64, format="png", size=1)
        later = ResultSet.start(cat, Filters(), first=2, background=False)
        assert rs.total == len(seeded) and rs.ids(0, 2) == head
        assert later.total == len(seeded) + 1


def test_a_replaced_search_stops_and_says_so(seeded):
    with open_catalog() as cat:
        rs = ResultSet.start(cat, Filters(), first=1)
        rs.close()
        # Either it had finished already, or it was interrupted: never a wrong answer.
        try:
            rs.wait(30)
        except NotFound:
            return
        assert rs.total == len(seeded)


def test_cards_are_small_and_details_complete(seeded):
    with open_catalog() as cat:
        entry = cat.by_id(seeded[0].id)
        long = entry.__class__(**{**entry.__dict__, "prompt": "猫" * 500})
        assert len(card(long)["prompt"]) == CARD_PROMPT_CHARS
        assert set(card(entry)) == {
            "id",
            "format",
            "width",
            "height",
            "bytes",
            "prompt",
            "captured_at",
            "origin",
        }
        generated = next(r for r in seeded if r.origin == "generated" and r.format == "png")
        d = detail(cat.by_id(generated.id))
        assert d["metadata"]["prompt"] == generated.prompt
        assert d["parameters"].startswith(generated.prompt + "\nNegative prompt: blurry, lowres")
        assert "Seed: " in d["parameters"] and "Sampler: DPM++ 2M" in d["parameters"]
        assert (
            d["conversation_url"]
            == f"https://chat.deepseek.com/a/chat/s/{generated.conversation_id}"
        )
        assert d["file"] == "ok"
        assert "record_json" not in d["entry"]


@pytest.mark.parametrize(
    ("page_url", "conv", "want"),
    [
        ("https://chat.deepseek.com/a/chat/s/abc", None, "https://chat.deepseek.com/a/chat/s/abc"),
        (
            "https://chat.deepseek.com.evil.example/a",
            "abc",
            "https://chat.deepseek.com/a/chat/s/abc",
        ),
        ("javascript:alert(1)", None, None),
        ("https://user@chat.deepseek.com/a", None, None),
        ("https://chat.deepseek.com:8443/a", None, None),
        (None, "../../etc", None),
        (None, "0d5c1a7e-x_y", "https://chat.deepseek.com/a/chat/s/0d5c1a7e-x_y"),
    ],
)
def test_the_conversation_link_only_ever_points_at_deepseek(page_url, conv, want):
    assert conversation_url(page_url, conv) == want


def test_conversations_group_the_result(seeded):
    with open_catalog() as cat:
        ids = all_ids(cat, query="cat")
        groups = group_by_conversation(cat, ids)
        matching = [r for r in seeded if r.id in ids]
        assert [g.key for g in groups] == list(dict.fromkeys(r.conversation_id for r in matching))
        for group in groups:
            mine = [r.id for r in matching if r.conversation_id == group.key]
            assert group.count == len(mine) and group.covers == mine[:4]
        described = describe_conversations(cat, groups)
        assert {d["id"]: d["title"] for d in described} == {
            g.key: CONVERSATIONS[g.key] for g in groups
        }
        cats = next(d for d in described if d["id"] == "c-cats")
        assert cats["total"] == 6 and cats["url"].endswith("/c-cats")


def test_images_without_a_conversation_form_one_group(seeded):
    with open_catalog() as cat:
        new_id = cat.add(path="/nowhere/import.png", sha256="1" * 64, format="png", size=1)
        groups = group_by_conversation(cat, [new_id, seeded[0].id])
        assert [g.key for g in groups] == [None, seeded[0].conversation_id]
        described = describe_conversations(cat, groups)
        assert described[0]["id"] is None and described[0]["url"] is None
        assert described[0]["total"] == 1


def test_facets(seeded):
    with open_catalog() as cat:
        f = facets(cat)
    assert f["total"] == len(seeded)
    models = {m["value"]: m["count"] for m in f["models"]}
    assert models == {
        m or "": sum(1 for r in seeded if r.model == m) for m in {r.model for r in seeded}
    }
    assert f["first"] == min(r.captured_at for r in seeded)
    assert "svg" in f["formats"] and "diagram" in f["origins"]


def test_entries_by_ids_keeps_order_and_skips_unknown(seeded):
    with open_catalog() as cat:
        ids = [seeded[3].id, 999_999, seeded[1].id]
        assert [e.id for e in entries_by_ids(cat, ids)] == [seeded[3].id, seeded[1].id]


# --- checked reads ------------------------------------------------------------------------------


def test_reads_are_of_the_catalogued_regular_file_only(seeded, tmp_path):
    png = next(r for r in seeded if r.format == "png")
    data, st = read_range(png.path, 0, 1 << 20, expect_format="png")
    assert data == Path(png.path).read_bytes() and st.st_size == len(data)
    part, _ = read_range(png.path, 10, 5)
    assert part == data[10:15]

    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    os.unlink(png.path)
    os.symlink(secret, png.path)
    with pytest.raises(ForbiddenPath):
        read_range(png.path, 0, 100)
    os.unlink(png.path)
    with pytest.raises(NotFound):
        check_path(png.path)
    os.mkfifo(png.path)  # a FIFO must neither be read nor block
    with pytest.raises(NotFound):
        read_range(png.path, 0, 100)
    os.unlink(png.path)
    Path(png.path).write_bytes(b"<!doctype html><html><script>alert(1)</script>")
    with pytest.raises(UnsupportedFormat):
        read_range(png.path, 0, 100, expect_format="png")


def test_a_file_swapped_between_lstat_and_open_is_refused(seeded, tmp_path, monkeypatch):
    png = next(r for r in seeded if r.format == "png")
    other = tmp_path / "other.png"
    other.write_bytes(Path(png.path).read_bytes())
    import dsexport.catalog.reading as reading

    real = reading.check_path
    monkeypatch.setattr(reading, "check_path", lambda p: real(str(other)))
    with pytest.raises(ForbiddenPath), open_checked(png.path):
        pass


def test_file_state(seeded):
    with open_catalog() as cat:
        entry = cat.by_id(seeded[0].id)
    assert file_state(entry.path, entry) == "ok"
    with open(entry.path, "ab") as fh:
        fh.write(b"\0")
    assert file_state(entry.path, entry) == "changed"
    os.unlink(entry.path)
    assert file_state(entry.path, entry) == "missing"
