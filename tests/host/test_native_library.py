"""The library's requests through a real ``dsexport host`` subprocess on a seeded library:
search and pages, one entry in full, conversations, facets, thumbnails (made in the background,
then served from the cache), full-size reads in pieces, repairs with ``check``, bundles with
progress read from a second host, and what a hostile page or a tampered file cannot make the
host do."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from native_client import Host

from library_seed import seed_library

REPLY_CAP = 128 * 1024


@pytest.fixture
def seeded(home):
    return seed_library()


@pytest.fixture
def host(home, seeded):
    with Host(home) as h:
        yield h


def test_search_page_and_entry(host, seeded):
    first = host.result("catalog_query", query="猫", limit=2)
    want = [r.id for r in seeded if "猫" in r.prompt]
    assert [e["id"] for e in first["entries"]] == want[:2]
    assert first["offset"] == 0 and first["result"]
    status = first
    deadline = time.monotonic() + 30
    while not status["complete"]:
        assert time.monotonic() < deadline
        status = host.result("catalog_page", result=first["result"], limit=0)
    assert status["total"] == len(want)
    rest = host.result("catalog_page", result=first["result"], offset=2, limit=50)
    assert [e["id"] for e in rest["entries"]] == want[2:]
    ids = host.result("catalog_page", result=first["result"], ids_only=True, limit=10_000)
    assert ids["ids"] == want

    entry = host.result("catalog_entry", entry_id=want[0])
    assert entry["metadata"]["prompt"] == seeded[0].prompt or entry["entry"]["id"] == want[0]
    assert entry["file"] == "ok" and entry["conversation_url"].startswith("https://chat.deepseek")

    facets = host.result("catalog_facets")
    assert facets["total"] == len(seeded)
    convs = host.result("catalog_conversations", result=host.result("catalog_query")["result"])
    assert convs["total"] == 4 and sum(c["count"] for c in convs["conversations"]) == len(seeded)


def test_filters_reach_the_query(host, seeded):
    got = host.result("catalog_query", format="svg", origin="diagram", limit=100)
    assert [e["id"] for e in got["entries"]] == [r.id for r in seeded if r.format == "svg"]
    assert got["complete"] and got["total"] == 2
    err = host.error("catalog_query", origin="evil")
    assert err["code"] == "bad_request"
    assert host.error("catalog_page", result="r999", limit=1)["code"] == "not_found"
    assert host.error("catalog_entry", entry_id=10**9)["code"] == "not_found"
    assert host.error("catalog_query", query="x" * 1001)["code"] == "too_large"


def test_thumbnails_are_made_in_the_background_then_served(host, seeded, home):
    ids = [r.id for r in seeded]
    first = host.result("thumbnails", ids=ids, size=256)
    raster = [r.id for r in seeded if r.format != "svg"]
    assert sorted(first["pending"] + [t["id"] for t in first["thumbs"]]) == sorted(raster)
    assert [s["id"] for s in first["svg"]] == [r.id for r in seeded if r.format == "svg"]
    # The host answers other requests while the thumbnails are made.
    assert host.result("catalog_facets")["total"] == len(seeded)
    got: dict[int, dict] = {t["id"]: t for t in first["thumbs"]}
    deadline = time.monotonic() + 60
    while len(got) < len(raster):
        assert time.monotonic() < deadline, f"thumbnails missing: {set(raster) - set(got)}"
        time.sleep(0.1)
        reply = host.result("thumbnails", ids=[i for i in raster if i not in got], size=256)
        assert not reply["failed"] and not reply["missing"]
        got.update({t["id"]: t for t in reply["thumbs"]})
    import io

    from PIL import Image

    for t in got.values():
        im = Image.open(io.BytesIO(base64.b64decode(t["data"])))
        assert t["mime"] == Image.MIME[im.format] and im.format in ("JPEG", "WEBP")
        assert max(im.size) <= 256
    cache = home / ".cache" / "dsexport" / "thumbnails"
    assert len(list(cache.rglob("*.thumb"))) == len(raster)
    info = host.result("thumbnail_cache")
    assert info["files"] == len(raster) and info["limit_bytes"] == 300 * 1024 * 1024
    assert host.result("thumbnail_cache", clear=True)["files"] == 0


def test_replies_stay_under_the_cap(home):
    from dsexport.catalog import open_catalog

    seed_library()
    big_prompt = "一只戴着红色围巾的猫，水彩画风格，" * 40
    with open_catalog() as cat:
        for n in range(600):
            cat.add(
                path=f"/nowhere/{n}.png",
                sha256=f"{n:064x}",
                format="png",
                size=1,
                metadata=None,
            )
        cat.connection.execute("UPDATE images SET prompt = ?", (big_prompt,))
    with Host(home) as h:
        first = h.result("catalog_query", limit=500)
        page = h.result("catalog_page", result=first["result"], offset=0, limit=500)
        for reply in (first, page):
            body = json.dumps(reply, ensure_ascii=True)
            assert len(body) < REPLY_CAP
            assert 0 < len(reply["entries"]) < 500  # cut to fit; the page asks for the rest
        assert "truncated" not in page


def test_full_size_reads_in_pieces(host, seeded):
    for row in (seeded[0], next(r for r in seeded if r.format == "svg")):
        original = Path(row.path).read_bytes()
        got, offset = b"", 0
        while True:
            piece = host.result("read_chunk", entry_id=row.id, offset=offset, length=4096)
            assert piece["size"] == len(original) and piece["offset"] == offset
            data = base64.b64decode(piece["data"])
            got += data
            offset += len(data)
            if piece["eof"]:
                break
        assert got == original
        assert piece["mime"] == ("image/svg+xml" if row.format == "svg" else f"image/{row.format}")
    big = host.request("read_chunk", entry_id=seeded[0].id, length=90 * 1024)
    assert big["ok"] and len(json.dumps(big)) < REPLY_CAP
    assert host.error("read_chunk", entry_id=seeded[0].id, length=91 * 1024)["code"] == "too_large"
    assert host.error("read_chunk", entry_id=10**9)["code"] == "not_found"
    assert host.error("read_chunk", path="/etc/passwd")["code"] == "bad_request"


def test_tampered_files_are_never_served(host, seeded, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("password=hunter2")
    link, fifo, html, gone = [r for r in seeded if r.format != "svg"][:4]
    os.unlink(link.path)
    os.symlink(secret, link.path)
    os.unlink(fifo.path)
    os.mkfifo(fifo.path)
    Path(html.path).write_bytes(b"<!doctype html><script>alert(1)</script>")
    os.unlink(gone.path)
    assert host.error("read_chunk", entry_id=link.id)["code"] == "forbidden_path"
    assert host.error("read_chunk", entry_id=fifo.id)["code"] == "not_found"
    assert host.error("read_chunk", entry_id=html.id)["code"] == "unsupported_format"
    assert host.error("read_chunk", entry_id=gone.id)["code"] == "not_found"
    reply = host.result("thumbnails", ids=[link.id, fifo.id, gone.id, html.id])
    assert sorted(reply["missing"]) == sorted([link.id, fifo.id, gone.id])
    deadline = time.monotonic() + 30
    while html.id not in [f["id"] for f in reply["failed"]]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
        reply = host.result("thumbnails", ids=[html.id])
    assert "hunter2" not in json.dumps(reply)
    assert secret.read_text() == "password=hunter2"


def test_check_repairs_moved_and_deleted_files(host, seeded):
    moved, deleted = seeded[0], seeded[1]
    new_place = Path(moved.path).with_name("moved-here" + Path(moved.path).suffix)
    os.rename(moved.path, new_place)
    os.unlink(deleted.path)
    assert set(host.result("thumbnails", ids=[moved.id, deleted.id])["missing"]) == {
        moved.id,
        deleted.id,
    }
    dry = host.result("check", repair=False)
    assert (dry["moved"], dry["missing"], dry["repaired"]) == (1, 1, False)
    report = host.result("check")
    assert report["checked"] == len(seeded) and report["moved"] == 1 and report["missing"] == 1
    assert report["moved_files"] == [{"from": moved.path, "to": str(new_place)}]
    assert report["missing_files"] == [deleted.path]
    assert host.result("catalog_entry", entry_id=moved.id)["entry"]["path"] == str(new_place)
    assert host.error("catalog_entry", entry_id=deleted.id)["code"] == "not_found"


def test_bundle_with_progress_seen_from_a_second_host(home, seeded):
    token = "0123456789abcdef0123456789abcdef"
    ids = [r.id for r in seeded]
    with Host(home) as main, Host(home) as worker:
        assert main.result("bundle_progress", progress=token) == {"running": False}
        worker.send({"type": "bundle", "id": 1, "ids": ids, "output": "mine", "progress": token})
        seen = []
        deadline = time.monotonic() + 60
        reply = None
        while reply is None:
            assert time.monotonic() < deadline
            seen.append(main.result("bundle_progress", progress=token))
            import select

            ready, _, _ = select.select([worker.proc.stdout.fileno()], [], [], 0.02)
            if ready:
                reply = worker.recv()
        assert reply["ok"], reply
        result = reply["result"]
        assert result["count"] == len(seeded)
        with zipfile.ZipFile(result["path"]) as zf:
            assert len([n for n in zf.namelist() if n.startswith("images/")]) == len(seeded)
        assert all(s["running"] is False or s["total"] in (0, len(seeded)) for s in seen)
        assert main.result("bundle_progress", progress=token) == {"running": False}
        assert main.error("bundle_progress", progress="../../etc")["code"] == "bad_request"
        assert worker.error("bundle", ids=ids, progress="nope")["code"] == "bad_request"
    progress_dir = home / ".cache" / "dsexport" / "progress"
    assert not list(progress_dir.glob("*.json"))


def test_bundle_progress_is_written_as_it_goes(home, seeded, monkeypatch):
    from dsexport.native.handlers import HANDLERS
    from dsexport.native.handlers import bundle_progress as bp
    from dsexport.native.session import Request, Session

    monkeypatch.setattr(bp, "EVERY_S", 0.0)
    token = "f" * 32
    seen = []
    from dsexport.catalog import bundle as bundle_mod

    real_stream = bundle_mod._stream

    def watching(*args, **kwargs):
        for chunk in real_stream(*args, **kwargs):
            seen.append(
                bp.bundle_progress(Request(1, "bundle_progress", {"progress": token}), None)
            )
            yield chunk

    monkeypatch.setattr(bundle_mod, "_stream", watching)
    req = {"type": "bundle", "id": 1, "ids": [r.id for r in seeded], "progress": token}
    HANDLERS["bundle"](Request(1, "bundle", req), Session())
    done = [s["done"] for s in seen if s["running"]]
    assert done == sorted(done) and done[-1] == len(seeded) - 1
    assert {s["total"] for s in seen if s["running"] and s["done"]} == {len(seeded)}


def test_reveal_by_catalog_id(home, seeded, tmp_path):
    from dsexport.native.handlers import HANDLERS
    from dsexport.native.session import Request, Session

    ran: list[list[list[str]]] = []
    session = Session(opener=lambda cmds: ran.append(cmds) or "x")
    HANDLERS["reveal"](Request(1, "reveal", {"entry_id": seeded[0].id}), session)
    assert ran and ran[0][-1][-1] == str(Path(seeded[0].path).parent)
    os.unlink(seeded[1].path)
    os.symlink(tmp_path, seeded[1].path)
    from dsexport.errors import ForbiddenPath, NotFound

    with pytest.raises(ForbiddenPath):
        HANDLERS["reveal"](Request(2, "reveal", {"entry_id": seeded[1].id}), session)
    with pytest.raises(NotFound):
        HANDLERS["reveal"](Request(3, "reveal", {"entry_id": 10**9}), session)


def test_a_ping_loads_none_of_the_library(home):
    code = (
        "import sys, io\n"
        "from dsexport.native.server import handle\n"
        "from dsexport.native.session import Session\n"
        "reply = handle({'type': 'ping', 'id': 1}, Session())\n"
        "assert reply['ok'], reply\n"
        "names = ('dsexport.catalog', 'dsexport.thumbnails', 'sqlite3',\n"
        "         'dsexport.native.handlers.library_state')\n"
        "print(sorted(m for m in sys.modules if m.startswith(names)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]", out.stdout


LIBRARY_REQUESTS = (
    "catalog_query",
    "catalog_page",
    "catalog_entry",
    "catalog_conversations",
    "catalog_facets",
    "thumbnails",
    "thumbnail_cache",
    "read_chunk",
    "check",
    "bundle_progress",
)
"""(``reveal`` by ``entry_id`` starts a file manager, so it is tested in-process above.)"""


@pytest.mark.parametrize("req_type", LIBRARY_REQUESTS)
def test_hostile_fields_get_an_answer_never_an_internal_error(home, req_type, tmp_path):
    from hostile import ERROR_CODES
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    rows = seed_library(
        (
            ("c-cats", "a cat 猫", "m", "generated", "png", 10),
            ("c-flow", "flow", None, "diagram", "svg", 20),
        )
    )
    secret = tmp_path / "secret.txt"
    secret.write_text("hunter2")
    leaf = (
        st.none()
        | st.booleans()
        | st.integers(-(2**70), 2**70)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=30)
        | st.just("\ud800")
        | st.just(str(secret))
    )
    value = st.recursive(
        leaf,
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c),
        max_leaves=10,
    )
    ids = st.lists(st.sampled_from([r.id for r in rows]) | st.integers(-5, 2**64), max_size=300)
    fields = {
        "query": st.text(max_size=40) | st.just('"unclosed') | value,
        "conversation": st.sampled_from(["c-cats", "", "%", "' OR 1=1 --"]) | value,
        "since": st.sampled_from(["7d", "2026-01-01", "yesterday", "9999999d", "nope"]) | value,
        "until": st.sampled_from(["2026-12-31", "", "0000-00-00"]) | value,
        "model": st.sampled_from(["m", "", "%"]) | value,
        "origin": st.sampled_from(["generated", "diagram", "x"]) | value,
        "format": st.sampled_from(["png", "svg", "bmp"]) | value,
        "limit": st.integers(-10, 20_000) | value,
        "offset": st.integers(-10, 2**64) | value,
        "result": st.sampled_from(["r1", "r2", "r0", "../r1"]) | value,
        "ids_only": value,
        "entry_id": st.sampled_from([r.id for r in rows]) | st.integers(-5, 2**64) | value,
        "ids": ids | value,
        "size": st.sampled_from([256, 512, 0, 1024]) | value,
        "length": st.integers(-1, 200_000) | value,
        "clear": st.just(False) | value,
        "repair": st.just(False) | value,
        "progress": st.text(alphabet="0123456789abcdef./", max_size=34) | value,
        "path": st.just(str(secret)) | value,
    }
    with Host(home) as h:
        h.result("catalog_query")

        @settings(
            max_examples=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(data=st.data())
        def fuzz(data):
            names = data.draw(st.sets(st.sampled_from(sorted(fields)), max_size=5))
            chosen = {n: data.draw(fields[n]) for n in names}
            reply = h.request(req_type, timeout=30, **chosen)
            if not reply["ok"]:
                assert reply["error"]["code"] in ERROR_CODES, (chosen, reply)
            assert "hunter2" not in json.dumps(reply)
            assert h.request("ping", timeout=30)["ok"]

        fuzz()
    assert secret.read_text() == "hunter2"


def test_a_new_search_stops_the_one_still_collecting(home, seeded):
    from dsexport.errors import NotFound
    from dsexport.native.handlers import HANDLERS
    from dsexport.native.session import Request, Session

    session = Session()

    def call(kind, **fields):
        return HANDLERS[kind](Request(1, kind, {"type": kind, "id": 1, **fields}), session)

    typed = call("catalog_query", query="c", limit=2)  # collects after a short delay
    done = call("catalog_query", query="猫", limit=100)  # complete in its first reply
    assert done["complete"] and not typed["complete"]
    latest = call("catalog_query", query="ca", limit=2)
    with pytest.raises(NotFound):
        call("catalog_page", result=typed["result"], limit=0)
    assert call("catalog_page", result=done["result"], limit=0)["total"] == done["total"]
    deadline = time.monotonic() + 30
    status = latest
    while not status["complete"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
        status = call("catalog_page", result=latest["result"], limit=0)
    assert status["total"] == len(
        [r for r in seeded if "ca" in (r.prompt + r.conversation_title).lower()]
    )
