"""Path attacks through names, templates, config values and ``embed`` paths.

The output folder lives in ``<tmp>/tree/out`` beside a decoy folder ``<tmp>/tree/outside``;
HOME (config, catalog, logs) is elsewhere. Every test snapshots ``<tmp>/tree`` before and after
and asserts that nothing changed outside ``out`` (for ``embed``: outside the allowed folders),
whatever the name, template, link or race.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
import time
from pathlib import Path

import pytest
from hostile import assert_clear_error, bounded, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from native_client import Host, b64, small_png

from dsexport import naming, pipeline, storage
from dsexport.config import defaults, set_values
from dsexport.errors import BadConfig, DsError, ForbiddenPath
from dsexport.model import Metadata, SaveOptions

PNG = small_png()

EVIL = [
    "..",
    "../..",
    "../../outside/x",
    "/etc/passwd",
    "/",
    "//server/share",
    "C:\\Windows\\System32",
    "C:",
    "\\\\?\\C:\\x",
    "..\\..\\outside",
    "CON",
    "con.png",
    "NUL.txt",
    "COM1",
    "LPT9.tar.gz",
    "COM¹",
    "AUX ",
    "CONIN$",
    "x.png:Zone.Identifier",
    "x.png::$DATA",
    "file:stream:$DATA",
    "a\u2215..\u2215..\u2215outside",  # DIVISION SLASH
    "a\u2044b",  # FRACTION SLASH
    "\uff0e\uff0e\uff0foutside",  # FULLWIDTH ..
    "a\uff3cb",  # FULLWIDTH REVERSE SOLIDUS
    "\u202egnp.exe",  # RLO
    "a\x00b",
    "a\nb\rc\td",
    "...",
    ". .",
    " ..",
    ".hidden",
    "trailing.",
    "trailing ",
    "\u0338",
    "a" * 300,
    "界" * 200,
    "🐱" * 100,
    "e\u0301" * 200,
    ".dsexport-0123456789abcdef.tmp",
    "{hash}/../../x",
    "~",
    "~root",
    "$HOME",
    "%APPDATA%",
]


@pytest.fixture
def tree(tmp_path, home):
    root = tmp_path / "tree"
    (root / "out").mkdir(parents=True)
    (root / "outside").mkdir()
    (root / "outside" / "victim.png").write_bytes(PNG)
    return root


def cfg_for(out: Path, **kw):
    return dataclasses.replace(defaults(), output_dir=str(out), **kw)


def assert_only_out_changed(root: Path, before: dict) -> None:
    after = snapshot(root)
    changed = {
        p
        for p in set(before) | set(after)
        if before.get(p) != after.get(p) and not (p == "out" or p.startswith("out/"))
    }
    assert not changed, f"changed outside the output folder: {sorted(changed)}"


def assert_inside(path: str | Path, out: Path) -> None:
    real = Path(os.path.realpath(path))
    assert real.is_relative_to(os.path.realpath(out)), f"{path} resolves outside {out}"
    rel = Path(path).relative_to(out)
    for part in rel.parts:
        assert naming.is_safe_component(part), f"unsafe component {part!r} in {rel}"


# --- names and templates ------------------------------------------------------------------------


@pytest.mark.parametrize("evil", EVIL)
def test_hostile_metadata_values_stay_inside(tree, evil):
    out = tree / "out"
    before = snapshot(tree)
    meta = {
        "prompt": evil,
        "model": evil,
        "conversation_title": evil,
        "conversation_id": evil,
        "seed": 1,
    }
    template = "{conversation}/{model}/{prompt}_{conversation_id}_{hash:8}"
    try:
        meta_obj = Metadata(**meta)
    except Exception:
        pytest.skip("not representable")
    result, err = bounded(
        lambda: pipeline.save_image(
            PNG, meta_obj, SaveOptions(name_template=template), config=cfg_for(out)
        )
    )
    if err is not None:
        assert_clear_error(err, evil)
    else:
        assert_inside(result.path, out)
    assert_only_out_changed(tree, before)


@pytest.mark.parametrize("evil", EVIL)
def test_hostile_literal_templates_are_refused_or_contained(tree, evil):
    out = tree / "out"
    before = snapshot(tree)
    for template in (evil, f"{evil}/{{hash}}", f"{{hash}}/{evil}", f"{evil}{{prompt}}"):
        result, err = bounded(
            lambda t=template: pipeline.save_image(
                PNG, {"prompt": "p"}, SaveOptions(name_template=t), config=cfg_for(out)
            )
        )
        if err is not None:
            code = assert_clear_error(err, template)
            assert code in ("bad_config", "bad_request", "forbidden_path"), (template, err)
        else:
            assert_inside(result.path, out)
    assert_only_out_changed(tree, before)


_PIECES = [
    *'./\\:*?"<>|~ $%{}\x00\n\t',
    *("..", "CON", "nul", "COM1", "\u2215", "\uff0f", "\u202e", "e\u0301", "界", "🐱", "a", "b"),
]
component = st.lists(st.sampled_from(_PIECES), max_size=20).map("".join)


@settings(
    max_examples=int(os.environ.get("DSEXPORT_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(prompt=component, template=component, model=component)
def test_random_names_and_templates_never_leave_the_output_folder(tree, prompt, template, model):
    out = tree / "out"
    before = snapshot(tree)
    meta = {"prompt": prompt or None, "model": model or None}
    result, err = bounded(
        lambda: pipeline.save_image(
            PNG,
            meta,
            SaveOptions(name_template=template + "{hash}"),
            config=cfg_for(out),
        )
    )
    if err is not None:
        assert_clear_error(err, (prompt, template, model))
    else:
        assert_inside(result.path, out)
    assert_only_out_changed(tree, before)


def test_over_long_names_are_cut_to_fit(tree):
    out = tree / "out"
    for prompt in ("a" * 100_000, "界" * 50_000, "🐱" * 30_000, "e\u0301" * 60_000):
        template = "/".join(["{prompt}"] * 16) + "_{hash}"
        result = pipeline.save_image(
            PNG,
            {"prompt": prompt},
            SaveOptions(name_template=template),
            config=cfg_for(out),
        )
        assert_inside(result.path, out)
        rel = Path(result.path).relative_to(out)
        assert len(str(rel).encode()) <= naming.MAX_PATH_BYTES
        assert all(len(p.encode()) <= 255 for p in rel.parts)


# --- config values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("output_dir", "relative/folder"),
        ("output_dir", ".."),
        ("output_dir", ""),
        ("output_dir", "out\x00side"),
        ("output_dir", 7),
        ("output_dir", ["/tmp"]),
        ("name_template", "/abs/{hash}"),
        ("name_template", "\\\\server\\share\\{hash}"),
        ("name_template", "C:/{hash}"),
        ("name_template", "{"),
        ("name_template", "{nonsense}"),
        ("name_template", "a\x00b"),
        ("name_template", "x" * 5000),
        ("download_dirs", ["relative"]),
        ("download_dirs", ".."),
        ("download_dirs", [""]),
        ("download_dirs", ["/ok", 3]),
        ("format", "../../png"),
        ("sidecars", ["../json"]),
        ("jpeg_background", "#ffffff; rm -rf /"),
    ],
)
def test_hostile_config_values_are_refused(home, key, value):
    cfg_file = home / "cfg.json"
    with pytest.raises(BadConfig):
        set_values({key: value}, path=cfg_file)
    assert not cfg_file.exists() or "rm -rf" not in cfg_file.read_text()


def test_dot_dot_inside_an_absolute_output_dir_is_normalised(tree, home):
    cfg = set_values(
        {"output_dir": str(tree / "out" / "sub" / ".." / "real")}, path=home / "c.json"
    )
    assert ".." not in Path(cfg.output_dir).parts
    result = pipeline.save_image(PNG, {}, config=cfg)
    assert_inside(result.path, tree / "out")


# --- links inside the output folder ---------------------------------------------------------------


def test_symlinked_subfolder_is_refused(tree):
    out = tree / "out"
    (out / "sub").symlink_to(tree / "outside")
    before = snapshot(tree)
    with pytest.raises(ForbiddenPath):
        pipeline.save_image(PNG, {}, SaveOptions(name_template="sub/{hash}"), config=cfg_for(out))
    assert_only_out_changed(tree, before)
    assert sorted(p.name for p in (tree / "outside").iterdir()) == ["victim.png"]


def test_symlinked_deeper_subfolder_is_refused(tree):
    out = tree / "out"
    (out / "a").mkdir()
    (out / "a" / "b").symlink_to(tree / "outside")
    before = snapshot(tree)
    with pytest.raises(ForbiddenPath):
        pipeline.save_image(PNG, {}, SaveOptions(name_template="a/b/c/{hash}"), config=cfg_for(out))
    assert_only_out_changed(tree, before)


def test_symlink_at_the_final_name_is_not_followed(tree):
    out = tree / "out"
    name = "target"
    (out / f"{name}.png").symlink_to(tree / "outside" / "victim.png")
    (out / f"{name}.json").symlink_to(tree / "outside" / "victim.json")
    before = snapshot(tree)
    result = pipeline.save_image(
        PNG,
        {"prompt": "p"},
        SaveOptions(name_template=name, sidecars=("json",)),
        config=cfg_for(out),
    )
    assert Path(result.path).name == f"{name} (2).png"
    assert (tree / "outside" / "victim.png").read_bytes() == PNG
    assert not (tree / "outside" / "victim.json").exists()
    assert_only_out_changed(tree, before)


def test_dangling_symlink_at_the_final_name_is_not_created_through(tree):
    out = tree / "out"
    (out / "x.png").symlink_to(tree / "outside" / "created-through-link.png")
    pipeline.save_image(PNG, {}, SaveOptions(name_template="x"), config=cfg_for(out))
    assert not (tree / "outside" / "created-through-link.png").exists()


def test_output_folder_itself_may_be_a_link(tree, tmp_path):
    """The user's own choice (Pictures on another disk): followed, once, at the root."""
    real = tmp_path / "real-out"
    real.mkdir()
    link = tree / "out" / "link-root"
    link.symlink_to(real)
    result = pipeline.save_image(PNG, {}, config=cfg_for(link))
    assert Path(os.path.realpath(result.path)).is_relative_to(real)


def swap_once(sub: Path, parked: Path, target: Path, n: int) -> None:
    """Replace the folder ``sub`` by a link to ``target`` for half a millisecond, then put it
    back. A save that finds no ``sub`` for an instant creates a new, real one (inside the allowed
    folder, as it should): that one is set aside as ``sub.new<n>.<k>``."""

    def aside() -> None:
        for k in range(1000):
            try:
                os.rename(sub, sub.parent / f"sub.new{n}.{k}")
                return
            except FileExistsError:
                continue
            except FileNotFoundError:
                return

    os.rename(sub, parked)
    while True:
        try:
            os.symlink(target, sub)
            break
        except FileExistsError:
            aside()
    time.sleep(0.0005)
    os.unlink(sub)
    while True:
        try:
            os.rename(parked, sub)
            break
        except OSError:
            aside()
    time.sleep(0.0005)


class Swapping:
    """A thread running ``swap_once`` on ``sub`` until the ``with`` block ends; ``swaps`` counts
    the rounds, so a test can check that the race really ran."""

    def __init__(self, sub: Path, parked: Path, target: Path) -> None:
        self.args = (sub, parked, target)
        self.swaps = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            swap_once(*self.args, self.swaps)
            self.swaps += 1

    def __enter__(self) -> Swapping:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


def test_racing_thread_swaps_a_folder_for_a_symlink_while_saves_run(tree):
    """A thread keeps replacing ``out/sub`` with a link to ``outside`` and back while saves run
    into ``sub/`` (until 50 have landed and 50 were refused): each save either lands inside
    ``out`` or fails with forbidden_path / io_error; ``outside`` never gets a byte."""
    out = tree / "out"
    sub, parked = out / "sub", out / "sub.real"
    sub.mkdir()

    before = snapshot(tree / "outside")
    ok = refused = 0
    with Swapping(sub, parked, tree / "outside") as race:
        cfg = cfg_for(out)
        for i in range(3000):
            if ok >= 50 and refused >= 50:
                break
            data = PNG + i.to_bytes(4, "big")  # distinct hashes, so no dedupe
            try:
                result = pipeline.save_image(
                    data, {}, SaveOptions(name_template="sub/{hash}"), config=cfg
                )
            except DsError as err:
                assert err.code in ("forbidden_path", "io_error"), err
                refused += 1
                continue
            ok += 1
            assert Path(result.path).is_relative_to(out)
    assert race.swaps > 10, "the race did not run"
    assert ok > 0 and refused > 0, (ok, refused)
    assert snapshot(tree / "outside") == before
    saved = [p for p in out.rglob("*.png") if p.is_file() and not p.is_symlink()]
    assert len(saved) == ok


# --- embed paths --------------------------------------------------------------------------------


@pytest.fixture
def dl(tree):
    d = tree / "out" / "Downloads"
    d.mkdir()
    (d / "cat.png").write_bytes(PNG)
    return d


@pytest.mark.parametrize(
    "make",
    [
        lambda t, d: str(t / "outside" / "victim.png"),
        lambda t, d: str(d / ".." / ".." / "outside" / "victim.png"),
        lambda t, d: "relative/cat.png",
        lambda t, d: (d / "link.png").symlink_to(t / "outside" / "victim.png") or d / "link.png",
        lambda t, d: (d / "ld").symlink_to(t / "outside") or d / "ld" / "victim.png",
        lambda t, d: str(d) + "\u2215..\u2215..\u2215outside\u2215victim.png",
        lambda t, d: str(d / "cat.png:stream"),
        lambda t, d: "/proc/self/root" + str(t / "outside" / "victim.png"),
        lambda t, d: "/dev/null",
    ],
    ids=[
        "outside",
        "dotdot",
        "relative",
        "file-link",
        "folder-link",
        "lookalike-slash",
        "ads",
        "proc-root",
        "devnull",
    ],
)
def test_embed_never_touches_anything_outside_allowed_folders(tree, dl, make):
    path = make(tree, dl)
    before = snapshot(tree)
    _, err = bounded(
        lambda: pipeline.embed_file(path, {"prompt": "x"}, allowed_roots=[dl], config=cfg_for(dl))
    )
    assert err is not None, f"embed of {path} succeeded"
    assert_clear_error(err, str(path))
    assert (tree / "outside" / "victim.png").read_bytes() == PNG
    after = snapshot(tree)
    assert {p for p in after if after[p] != before.get(p)} == set(), "something changed"


def test_embed_through_a_hard_link_changes_only_the_allowed_name(tree, dl):
    """A hard link in Downloads to a file outside: embed replaces the Downloads name only."""
    os.link(tree / "outside" / "victim.png", dl / "hard.png")
    pipeline.embed_file(dl / "hard.png", {"prompt": "x"}, allowed_roots=[dl], config=cfg_for(dl))
    assert (tree / "outside" / "victim.png").read_bytes() == PNG
    assert (dl / "hard.png").read_bytes() != PNG


def test_embed_while_a_subfolder_is_swapped_for_a_link(tree, dl):
    """A folder inside the downloads folder is swapped for a link to ``outside`` while embeds
    run on the file in it: the file outside is never replaced. (The allowed folder itself being
    a link is the user's choice and is followed, like the output folder.)"""
    sub, parked = dl / "sub", dl / "sub.real"
    sub.mkdir()
    (sub / "cat.png").write_bytes(PNG)
    (tree / "outside" / "cat.png").write_bytes(PNG)

    outcomes: dict[str, int] = {}
    with Swapping(sub, parked, tree / "outside") as race:
        # At least 300 rounds, and on until both outcomes were seen: under load the swapper
        # thread can be starved for a while (bounded: 5,000 rounds).
        for i in range(5000):
            if i >= 300 and outcomes.get("ok") and outcomes.get("forbidden_path"):
                break
            try:
                pipeline.embed_file(
                    sub / "cat.png", {"prompt": f"p{i}"}, allowed_roots=[dl], config=cfg_for(dl)
                )
                outcomes["ok"] = outcomes.get("ok", 0) + 1
            except DsError as err:
                assert err.code in ("forbidden_path", "io_error", "not_found"), err
                outcomes[err.code] = outcomes.get(err.code, 0) + 1
    assert race.swaps > 10, outcomes
    assert outcomes.get("ok") and outcomes.get("forbidden_path"), (race.swaps, outcomes)
    assert (tree / "outside" / "cat.png").read_bytes() == PNG
    assert sorted(p.name for p in (tree / "outside").iterdir()) == ["cat.png", "victim.png"]


def test_write_new_refuses_hostile_relpaths(tree):
    out = tree / "out"
    for rel in ("../x.png", "/x.png", "a/../../x.png", "a\\..\\x.png", "C:x.png", "x.png:s", ""):
        with pytest.raises(ForbiddenPath):
            storage.write_new(out, rel, [b"x"])
    assert not list((tree / "outside").glob("x*"))


# --- through the host ---------------------------------------------------------------------------


def test_hostile_names_and_paths_through_the_host(tree, home):
    out = tree / "out"
    set_values({"output_dir": str(out)})
    before = snapshot(tree)
    with Host(home) as host:
        for i, evil in enumerate(EVIL):
            reply = host.request(
                "save",
                image={"data": b64(PNG + i.to_bytes(2, "big"))},
                metadata={"prompt": evil.replace("\x00", ""), "conversation_title": evil},
                options={"name_template": "{conversation}/{prompt}_{hash:8}"},
            )
            if reply["ok"]:
                assert_inside(reply["result"]["path"], out)
            else:
                assert reply["error"]["code"] != "internal", reply
            reply = host.request("preview_name", template=evil, metadata={"prompt": evil})
            if reply["ok"]:
                assert not Path(reply["result"]["name"]).is_absolute()
                assert ".." not in Path(reply["result"]["name"]).parts
            assert host.error("save", image={"data": b64(PNG)}, options={"output_dir": "/tmp"})[
                "code"
            ] == ("bad_request")
            for path in (evil, str(tree / "outside" / "victim.png"), f"{out}/../outside"):
                for kind in ("embed", "reveal"):
                    reply = host.request(kind, path=path)
                    assert not reply["ok"], (kind, path, reply)
                    assert reply["error"]["code"] != "internal", reply
        assert host.result("ping")
    assert_only_out_changed(tree, before)


def test_regression_is_within_survives_a_link_vanishing_mid_resolution(tree, monkeypatch):
    """Found by the swap race above: os.path.realpath lstat()s a link, then readlink()s it; a
    link swapped away in between raised FileNotFoundError out of storage.is_within (and so out
    of embed_file, an ``internal`` error) instead of a refusal."""
    link = tree / "out" / "link"
    link.symlink_to(tree / "outside")

    def vanished(path, *a, **kw):
        raise FileNotFoundError(2, "No such file or directory", str(path))

    monkeypatch.setattr(os, "readlink", vanished)
    assert storage.is_within(link / "victim.png", [tree / "out"]) is False
    with pytest.raises(ForbiddenPath):
        storage.replace_file(link / "victim.png", [PNG], allowed_roots=[tree / "out"])


def test_regression_embed_request_when_a_link_vanishes_mid_resolution_is_refused(
    tree, home, monkeypatch
):
    """native/handlers.py's own _is_within called os.path.realpath unguarded: a link swapped
    away mid-resolution raised FileNotFoundError, answered ``internal``."""
    from dsexport.native import server
    from dsexport.native.handlers import Session

    downloads = home / "Downloads"
    downloads.mkdir()
    (downloads / "ld").symlink_to(tree / "outside")

    def vanished(path, *a, **kw):
        raise FileNotFoundError(2, "No such file or directory", str(path))

    monkeypatch.setattr(os, "readlink", vanished)
    reply = server.handle(
        {"type": "embed", "id": 1, "path": str(downloads / "ld" / "victim.png")}, Session()
    )
    assert reply["ok"] is False
    assert reply["error"]["code"] == "forbidden_path", reply


def test_embed_never_copies_a_file_from_outside_into_the_allowed_folder(tree, dl):
    """The read side of the swap race: a folder swapped for a link between embed's folder check
    and its open() would make it read the file outside and write those bytes (with metadata)
    over the file inside. The file inside must only ever hold its own pixels. (Found here: before
    storage.open_for_reading, embed_file opened the path itself and leaked within 5,000 rounds.)"""
    from native_client import big_png

    from imagebytes import png_image_stream

    sub, parked = dl / "sub", dl / "sub.real"
    sub.mkdir()
    mine, theirs = big_png(3000, width=32), big_png(3000, width=32)
    assert png_image_stream(mine) != png_image_stream(theirs)
    (sub / "cat.png").write_bytes(mine)
    (tree / "outside" / "cat.png").write_bytes(theirs)

    with Swapping(sub, parked, tree / "outside") as race:
        for i in range(int(os.environ.get("DSEXPORT_RACE_ROUNDS", "3000"))):
            with contextlib.suppress(DsError):
                pipeline.embed_file(
                    sub / "cat.png", {"prompt": f"p{i}"}, allowed_roots=[dl], config=cfg_for(dl)
                )
    assert race.swaps > 10
    for f in dl.rglob("cat.png"):
        if f.parent != dl:  # the dl fixture's own cat.png is another image
            held = png_image_stream(f.read_bytes())
            assert held == png_image_stream(mine), f"{f} holds outside pixels"
    assert (tree / "outside" / "cat.png").read_bytes() == theirs


def test_save_download_when_a_link_vanishes_mid_resolution_is_refused_not_internal(
    tree, home, monkeypatch
):
    from dsexport.native import server
    from dsexport.native.handlers import Session

    downloads = home / "Downloads"
    downloads.mkdir()
    (downloads / "dsexport-staging").symlink_to(tree / "outside")
    staged = downloads / "dsexport-staging" / ("dsx-" + "0" * 32 + ".png")

    def vanished(path, *a, **kw):
        raise FileNotFoundError(2, "No such file or directory", str(path))

    monkeypatch.setattr(os, "readlink", vanished)
    reply = server.handle({"type": "save_download", "id": 1, "path": str(staged)}, Session())
    assert reply["ok"] is False
    assert reply["error"]["code"] == "forbidden_path", reply


@pytest.mark.parametrize(
    "name",
    [
        "../escape.zip",
        "../../escape",
        "/tmp/escape.zip",
        "sub/inner.zip",
        "CON",
        "nul.zip",
        "x.zip:stream",
        "\u2215..\u2215escape.zip",
        "\uff0e\uff0e\uff0fescape.zip",
        ".dsexport-0123456789abcdef.tmp",
        "a" * 200,
        "\u202egnp.zip",
        "..",
        ".",
        " ",
    ],
)
def test_bundle_output_names_stay_inside(tree, home, name):
    """The ZIP bundle's name comes from the extension: it never leaves the output folder."""
    from dsexport.native import server
    from dsexport.native.handlers import Session

    out = tree / "out"
    set_values({"output_dir": str(out)})
    session = Session()
    saved = server.handle({"type": "save", "id": 1, "image": {"data": b64(PNG)}}, session)
    assert saved["ok"], saved
    before = snapshot(tree)
    reply = server.handle(
        {"type": "bundle", "id": 2, "sha256s": [saved["result"]["sha256"]], "output": name},
        session,
    )
    session.close()
    if reply["ok"]:
        assert_inside(reply["result"]["path"], out)
    else:
        assert reply["error"]["code"] not in ("internal",), reply
    assert_only_out_changed(tree, before)
