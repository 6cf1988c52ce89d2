"""Catalog search, listings and statistics (dsexport/catalog/search.py) and schema migration."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timezone

import pytest

from dsexport.catalog import SCHEMA_VERSION, open_catalog
from dsexport.catalog import db as catalog_db
from dsexport.catalog.search import (
    MARK,
    list_entries,
    list_groups,
    parse_terms,
    parse_time,
    search,
    stats,
)
from dsexport.errors import BadRequest
from dsexport.model import Metadata

ROWS = {
    "scarf": Metadata(
        prompt="A cat wearing a RED scarf, watercolour",
        negative_prompt="blurry",
        model="janus-pro-7b",
        conversation_id="conv-a",
        conversation_title="Cats in winter",
        captured_at="2026-11-20T10:00:00+00:00",
    ),
    "zh": Metadata(
        prompt="一只戴着红色围巾的猫坐在窗台上",
        negative_prompt="模糊，低质量",
        model="janus-pro-7b",
        conversation_id="conv-b",
        conversation_title="猫咪对话",
        captured_at="2026-11-22T18:30:00+08:00",
    ),
    "emoji": Metadata(
        prompt="party 🐱🧣✨ time",
        model="flux-dev",
        conversation_id="conv-a",
        conversation_title="Cats in winter",
        captured_at="2026-11-24T09:00:00+00:00",
        extra={"file_name": "upload-42.png", "note": "Sonderzeichen äöü"},
    ),
    "rtl": Metadata(
        prompt="قطة ترتدي وشاحًا أحمر\nline two",
        seed=2**70,
        captured_at="2026-10-01T00:00:00-05:00",
    ),
}


@pytest.fixture
def catalog(tmp_path):
    with open_catalog(tmp_path / "catalog.sqlite3") as cat:
        for i, (name, meta) in enumerate(ROWS.items()):
            cat.add(
                path=tmp_path / f"{name}.png",
                sha256=f"{i:064x}",
                format="png",
                size=100 + i,
                metadata=meta,
                source="toolbar",
            )
        yield cat


def names(hits) -> list[str]:
    return sorted(h.entry.path.rsplit("/", 1)[-1].removesuffix(".png") for h in hits)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("scarf", ["scarf"]),
        ("Red Scarf", ["scarf"]),  # every word, any case
        ('"red scarf"', ["scarf"]),  # a phrase
        ('"scarf red"', []),
        ("cat", ["emoji", "scarf"]),  # prompt or title ("Cats in winter")
        ("at wear", ["scarf"]),  # substrings, not words
        ("winter", ["emoji", "scarf"]),  # conversation title
        ("janus", ["scarf", "zh"]),  # model
        ("blurry", ["scarf"]),  # negative prompt
        ("upload-42", ["emoji"]),  # file name kept in extra
        ("emoji.png", ["emoji"]),  # the catalogued file's name
        ("äöü", ["emoji"]),  # extra values
        ("zebra", []),
    ],
)
def test_latin_queries(catalog, query, expected):
    assert names(search(catalog, query)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("红色围巾", ["zh"]),  # trigram index
        ("围巾", ["zh"]),  # two characters: bigram index
        ("窗台", ["zh"]),
        ("猫咪", ["zh"]),  # title
        ("低质", ["zh"]),  # negative prompt
        ("猫", ["zh"]),  # one character: scan
        ("色围", ["zh"]),  # any two adjacent characters, not words
        ("围巾 猫", ["zh"]),
        ("红围", []),  # not adjacent in the text
        ("斑马", []),
        ("围巾 scarf", []),  # every term must match the same entry
    ],
)
def test_chinese_queries_of_two_or_more_characters(catalog, query, expected):
    assert names(search(catalog, query)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [("🐱🧣", ["emoji"]), ("🧣", ["emoji"]), ("🐱🧣✨", ["emoji"]), ("وشاح", ["rtl"])],
)
def test_emoji_and_right_to_left(catalog, query, expected):
    assert names(search(catalog, query)) == expected


def test_snippet_marks_the_match_and_flattens_newlines(catalog):
    [hit] = search(catalog, "围巾")
    assert f"{MARK[0]}围巾{MARK[1]}" in hit.snippet
    assert hit.snippet.replace(MARK[0], "").replace(MARK[1], "") == ROWS["zh"].prompt
    [hit] = search(catalog, "two")
    assert "\n" not in hit.snippet and f"{MARK[0]}two{MARK[1]}" in hit.snippet


def test_snippet_of_a_long_prompt_is_cut_around_the_match(tmp_path):
    prompt = "x" * 500 + " needle " + "y" * 500
    with open_catalog(tmp_path / "c.sqlite3") as cat:
        cat.add(
            path=tmp_path / "a.png",
            sha256="1",
            format="png",
            size=1,
            metadata=Metadata(prompt=prompt),
        )
        [hit] = search(cat, "needle")
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert f"{MARK[0]}needle{MARK[1]}" in hit.snippet
    assert len(hit.snippet) < 140


def test_filters(catalog):
    assert names(search(catalog, "", conversation="conv-a")) == ["emoji", "scarf"]
    assert names(search(catalog, "", conversation="猫咪对话")) == ["zh"]  # exact title
    assert names(search(catalog, "cat", model="JANUS")) == ["scarf"]
    assert names(search(catalog, "", model="flux")) == ["emoji"]
    # 2026-11-22T18:30+08:00 is 10:30 UTC: the offset is honoured.
    assert names(search(catalog, "", since="2026-11-22T10:00:00+00:00")) == ["emoji", "zh"]
    assert names(search(catalog, "", since="2026-11-22T11:00:00+00:00")) == ["emoji"]
    assert names(search(catalog, "", until="2026-10-31")) == ["rtl"]
    assert names(search(catalog, "", since="2026-11-01", until="2026-11-21")) == ["scarf"]


def test_results_are_newest_first_and_limited(catalog):
    hits = search(catalog, "")
    assert [h.entry.id for h in hits] == sorted((h.entry.id for h in hits), reverse=True)
    assert len(search(catalog, "", limit=2)) == 2


def test_results_follow_updates_and_removals(catalog, tmp_path):
    path = tmp_path / "scarf.png"
    catalog.add(path=path, sha256="1", format="png", size=1, metadata=Metadata(prompt="a dog"))
    assert names(search(catalog, "watercolour")) == []
    assert names(search(catalog, "dog")) == ["scarf"]
    catalog.remove(path)
    assert search(catalog, "dog") == []
    assert names(search(catalog, "围巾")) == ["zh"]
    catalog.remove(tmp_path / "zh.png")
    assert search(catalog, "围巾") == [] and search(catalog, "红色围巾") == []


def test_quotes_and_fts_syntax_are_plain_text(catalog):
    for query in ['"', "scarf AND", "NEAR(cat scarf)", "sc*", "a'b", "-cat", "cat OR dog"]:
        search(catalog, query)  # no sqlite syntax error
    assert search(catalog, "NEAR(cat") == []


def test_relative_and_named_times():
    now = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc).timestamp()
    assert parse_time("7d", now=now) == int(now) - 7 * 86400
    assert parse_time("12h", now=now) == int(now) - 12 * 3600
    assert parse_time(None) is None
    today = parse_time("today", now=now)
    assert parse_time("today", end=True, now=now) - today == 86400
    assert today - parse_time("yesterday", now=now) == 86400
    with pytest.raises(BadRequest, match="cannot read the time"):
        parse_time("last tuesday")


def test_terms():
    assert parse_terms('cat "red scarf"  猫 ""') == ["cat", "red scarf", "猫"]
    with pytest.raises(BadRequest):
        parse_terms("x" * 5000)


def test_list_by_conversation_and_day(catalog):
    groups = list_groups(catalog, "conversation")
    by_key = {g.key: g for g in groups}
    assert by_key["conv-a"].count == 2 and by_key["conv-a"].title == "Cats in winter"
    assert by_key[None].count == 1
    assert groups[0].key == "conv-a"  # most recent capture first
    days = [g.key for g in list_groups(catalog, "day")]
    assert days == ["2026-11-24", "2026-11-22", "2026-11-20", "2026-10-01"]
    assert [e.path.endswith("zh.png") for e in list_entries(catalog, day="2026-11-22")] == [True]
    assert len(list_entries(catalog, conversation="conv-a")) == 2
    with pytest.raises(BadRequest):
        list_groups(catalog, "model")


def test_stats(catalog):
    data = stats(catalog)
    assert data["images"] == 4 and data["bytes"] == 100 + 101 + 102 + 103
    assert data["conversations"] == 2 and data["days"] == 4
    assert data["formats"] == {"png": {"count": 4, "bytes": 406}}
    assert data["sources"]["toolbar"]["count"] == 4
    assert data["models"]["janus-pro-7b"]["count"] == 2
    assert data["substring_index"] is True
    json.dumps(data)


def test_huge_seed_round_trips_through_search(catalog):
    [hit] = search(catalog, "وشاح")
    assert hit.entry.seed == str(2**70)
    assert hit.to_dict()["snippet"] and "record_json" not in hit.to_dict()


def test_version_1_catalog_is_migrated_without_losing_rows(tmp_path):
    """A catalog written by schema 1 gains the new columns and indexes, rows kept and searchable."""
    target = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(target)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for statement in catalog_db.MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version VALUES (1)")
    record = json.dumps({"prompt": "一只猫 cat", "steps": 20, "extra": {"file_name": "x.png"}})
    conn.execute(
        "INSERT INTO images (path, sha256, format, bytes, prompt, conversation_title,"
        " captured_at, saved_at, record_json, source)"
        " VALUES ('/a/old.png', 'ab', 'png', 5, '一只猫 cat', '旧对话',"
        " '2026-01-02T03:04:05+01:00', '2026-01-02T02:04:05+00:00', ?, 'menu')",
        (record,),
    )
    conn.commit()
    conn.close()
    with open_catalog(target) as cat:
        assert cat.count() == 1
        [hit] = search(cat, "一只")
        assert hit.entry.source == "menu" and hit.entry.steps == 20
        assert hit.entry.captured_ts == int(
            datetime(2026, 1, 2, 2, 4, 5, tzinfo=timezone.utc).timestamp()
        )
        assert names(search(cat, "旧对话")) == ["old"]
        assert names(search(cat, "x.png")) == ["old"]
        assert names(search(cat, "cat", since="2026-01-01", until="2026-01-03")) == ["old"]
    conn = sqlite3.connect(target)
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    conn.close()


def test_search_stays_fast_on_a_few_thousand_rows(tmp_path):
    """Not the benchmark (tests/bench/bench_catalog.py): a guard against an accidental full scan
    per row, which would show even at this size."""
    with open_catalog(tmp_path / "c.sqlite3") as cat:
        with cat.batch():
            for i in range(3000):
                cat.add(
                    path=f"/x/{i}.png",
                    sha256=str(i),
                    format="png",
                    size=1,
                    metadata=Metadata(prompt=f"图片 {i} 一只猫 cat number {i}"),
                )
        started = time.perf_counter()
        for query in ("cat number", "一只猫", "图片", "number 2999"):
            assert search(cat, query, limit=20)
        assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("8k", ["end", "middle"]),  # at the very end of a value, and inside one
        ("8K", ["end", "middle"]),
        ("hd", ["middle"]),
        ("ea", ["end"]),  # "sea": the last two letters of the title
        ("猫a", ["mixed"]),
        ("a猫", []),
        ("鲸", ["mixed"]),  # one CJK character at the end of a run
        ("猫", ["mixed"]),  # one CJK character followed by another
        ("q", ["middle"]),  # one Latin letter: scanned
        ("zq", []),
        ("k,", ["middle"]),  # punctuation: scanned
        ("ж", ["cyr"]),  # one character, the last of a value
        ("ир", ["cyr"]),
        ("v", ["punct"]),  # next to last, before punctuation
        ("zv", ["punct"]),
    ],
)
@pytest.mark.parametrize("dense_docs", [2000, 0], ids=["indexed", "scanned"])
def test_one_and_two_character_terms(tmp_path, monkeypatch, query, expected, dense_docs):
    from dsexport.catalog import search as search_module

    monkeypatch.setattr(search_module, "DENSE_DOCS", dense_docs)
    rows = {
        "end": Metadata(prompt="a lighthouse, 8k", conversation_title="by the sea"),
        "middle": Metadata(prompt="8k, hd, q"),
        "mixed": Metadata(prompt="猫a 猫鲸"),
        "cyr": Metadata(prompt="мир ж"),
        "punct": Metadata(prompt="zzv."),
    }
    with open_catalog(tmp_path / "c.sqlite3") as cat:
        for name, meta in rows.items():
            cat.add(path=f"/p/{name}", sha256=name, format="png", size=1, metadata=meta)
        assert sorted(h.entry.path.rsplit("/", 1)[1] for h in search(cat, query)) == expected


def test_without_the_trigram_tokenizer_search_still_finds_substrings(tmp_path, monkeypatch):
    """sqlite older than 3.34 has no trigram tokenizer: the catalog gets word tokens and search
    answers every term by scanning, with the same results."""
    real_execute = sqlite3.Connection.execute

    class NoTrigram(sqlite3.Connection):
        def execute(self, sql, *args):
            if "tokenize='trigram'" in sql:
                raise sqlite3.OperationalError("no such tokenizer: trigram")
            return real_execute(self, sql, *args)

    real_connect = sqlite3.connect
    monkeypatch.setattr(
        catalog_db.sqlite3, "connect", lambda *a, **kw: real_connect(*a, factory=NoTrigram, **kw)
    )
    with open_catalog(tmp_path / "old-sqlite.sqlite3") as cat:
        assert cat.substring_index is False
        for i, (name, meta) in enumerate(ROWS.items()):
            cat.add(
                path=tmp_path / f"{name}.png", sha256=str(i), format="png", size=1, metadata=meta
            )
        assert names(search(cat, "red scarf")) == ["scarf"]
        assert names(search(cat, "at wear")) == ["scarf"]
        assert names(search(cat, "红色围巾")) == ["zh"]
        assert names(search(cat, "围巾")) == ["zh"]
        assert names(search(cat, "🐱🧣✨")) == ["emoji"]


def test_snippet_marks_every_term(catalog):
    [hit] = search(catalog, "scarf cat")
    assert hit.snippet == "A «cat» wearing a RED «scarf», watercolour"
    [hit] = search(catalog, "围巾 一只戴着")
    assert hit.snippet == "«一只戴着»红色«围巾»的猫坐在窗台上"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["emoji", "scarf"]),
        ("cat", ["emoji", "scarf"]),
        ("scarf", ["scarf"]),
        ("🐱🧣", ["emoji"]),
        ("🧣", ["emoji"]),
        ("围巾", []),
        ("ar", ["emoji", "scarf"]),  # "party", "scarf"
        ("zq", []),
        ("🐱", ["emoji"]),
        ("7", ["scarf"]),  # "janus-pro-7b"
    ],
)
def test_conversation_filter_with_every_kind_of_term(catalog, query, expected):
    assert names(search(catalog, query, conversation="conv-a")) == expected
    assert names(search(catalog, query, conversation="Cats in winter")) == expected
