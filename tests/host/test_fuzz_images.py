"""Hostile image bytes through the save engine, the container modules and the real host.

Every input gets, within a time bound, either a clean save (a whole file under the output folder,
named with the extension of the format the bytes really are, that sniffs, probes and reads back)
or a ``DsError`` with a documented code; never another exception, never a hang, never a byte
outside the output folder. Through ``dsexport host`` the same corpus goes to one long-lived
process, which must still answer ``ping`` after each input.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from hostile import (
    ERROR_CODES,
    assert_clear_error,
    bounded,
    corpus,
    snapshot,
    valid_images,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from native_client import Host, b64

from dsexport import pipeline
from dsexport.config import defaults
from dsexport.formats import FORMATS
from dsexport.model import SaveOptions
from dsexport.sniff import sniff

CORPUS = corpus()
VALID = valid_images()
TIME_BOUND = 30.0

#: Inputs that are not a usable image of an accepted format: they must be refused.
MUST_REFUSE = {
    name
    for name in CORPUS
    if name.split("/")[0] in ("lying", "html", "corrupt", "bomb", "truncated")
    and name not in ("bomb/svg-deep-nesting", "bomb/svg-many-attrs")
    and not name.startswith("truncated/svg")  # an SVG cut after its root element is whole
}
#: Expected code where it is not a judgement call.
EXPECTED_CODE = {
    **{n: "unsupported_format" for n in CORPUS if n.startswith("html/")},
    "bomb/png-header-65535x65535": "corrupt_image",
    "bomb/png-zlib-bomb-20000x20000": "corrupt_image",
    "bomb/jpeg-sof-65535x65535": "corrupt_image",
    "bomb/webp-vp8x-16384": "corrupt_image",
    "bomb/gif-65535x65535": "corrupt_image",
    "bomb/svg-billion-laughs": "unsupported_format",
    "svg/external-entity": "unsupported_format",
    "svg/parameter-entity": "unsupported_format",
    "lying/empty": "unsupported_format",
    "polyglot/html-then-png": "unsupported_format",
}


@pytest.fixture
def cfg(home: Path):
    out = home / "Pictures" / "DeepSeek"
    out.mkdir(parents=True)
    return dataclasses.replace(defaults(), output_dir=str(out))


def check_saved(result, out: Path, what: str) -> None:
    """A successful save is a whole, readable file of the format the bytes are."""
    path = Path(result.path)
    assert path.is_relative_to(out), f"{what}: wrote {path} outside {out}"
    assert not path.is_symlink()
    data = path.read_bytes()
    fmt = sniff(data)
    assert fmt == result.format, f"{what}: saved as {result.format} but the file sniffs as {fmt}"
    assert path.suffix == "." + FORMATS[fmt].EXTENSION, f"{what}: extension {path.suffix}"
    FORMATS[fmt].probe(data)
    pipeline.inspect(path)


def save_outcome(data: bytes, cfg, fmt: str, what: str) -> str:
    """Save under a time bound; return ``"ok"`` or the error code (after checking it)."""
    out = Path(cfg.output_dir)
    result, err = bounded(
        lambda: pipeline.save_image(data, {"prompt": what}, SaveOptions(format=fmt), config=cfg),
        TIME_BOUND,
    )
    if err is None:
        check_saved(result, out, what)
        return "ok"
    return assert_clear_error(err, what)


@pytest.mark.parametrize("name", sorted(CORPUS))
@pytest.mark.parametrize("fmt", ["original", "png"])
def test_hostile_corpus_through_save_image(name, fmt, cfg, home):
    outside = snapshot(home.parent)
    outcome = save_outcome(CORPUS[name], cfg, fmt, name)
    if name in MUST_REFUSE:
        assert outcome != "ok", f"{name} was saved; it must be refused"
    if name in EXPECTED_CODE:
        assert outcome == EXPECTED_CODE[name], f"{name}: {outcome}"
    after = snapshot(home.parent)
    new = {p for p in set(after) - set(outside) if not p.startswith("home/")}
    assert not new, f"{name}: files appeared outside HOME: {new}"
    stray = [p for p in after if "/.dsexport-" in p or p.startswith(".dsexport-")]
    assert not stray, f"{name}: temporary files left behind: {stray}"


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_hostile_corpus_through_inspect_and_embed(name, cfg, home, tmp_path):
    data = CORPUS[name]
    _, err = bounded(lambda: pipeline.inspect(data), TIME_BOUND)
    if err is not None:
        assert_clear_error(err, f"inspect {name}")
    downloads = tmp_path / "dl"
    downloads.mkdir()
    target = downloads / "image.bin"
    target.write_bytes(data)
    result, err = bounded(
        lambda: pipeline.embed_file(target, {"prompt": "x"}, allowed_roots=[downloads], config=cfg),
        TIME_BOUND,
    )
    if err is not None:
        assert_clear_error(err, f"embed {name}")
        if data:  # a refused embed leaves the file exactly as it was
            assert target.read_bytes() == data
    else:
        assert Path(result.path) == target
        assert sniff(target.read_bytes()) == result.format
    assert {p.name for p in downloads.iterdir()} <= {"image.bin", "image.json"}


# --- mutations of valid files (hypothesis) ----------------------------------------------------

mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 2**20), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.integers(0, 2**20), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 2**20), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("delete"), st.integers(0, 2**20), st.integers(1, 64)),
    st.tuples(st.just("len32"), st.integers(0, 2**20), st.integers(0, 2**32 - 1)),
)


def mutate(data: bytes, ops) -> bytes:
    buf = bytearray(data)
    for op, at, arg in ops:
        if not buf:
            break
        at %= len(buf)
        if op == "flip":
            buf[at] ^= arg
        elif op == "cut":
            del buf[at:]
        elif op == "insert":
            buf[at:at] = arg
        elif op == "delete":
            del buf[at : at + arg]
        elif op == "len32":  # a length field that lies
            buf[at : at + 4] = arg.to_bytes(4, "big")
    return bytes(buf)


@settings(
    max_examples=int(os.environ.get("DSEXPORT_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sample=st.sampled_from(sorted(VALID)),
    ops=st.lists(mutation, min_size=1, max_size=4),
    fmt=st.sampled_from(["original", "original", "png", "jpeg"]),
)
def test_mutated_images_save_or_refuse_cleanly(sample, ops, fmt, cfg, home):
    data = mutate(VALID[sample], ops)
    save_outcome(data, cfg, fmt, f"{sample} {ops}")


@settings(
    max_examples=int(os.environ.get("DSEXPORT_FUZZ_EXAMPLES", "300")) * 2,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(sample=st.sampled_from(sorted(VALID)), ops=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_images_through_every_container_module(sample, ops):
    """probe, extract and embed straight on the container modules (below the pipeline's
    checks): only DsError may come out."""
    from format_samples import payload

    data = mutate(VALID[sample], ops)
    for name, module in FORMATS.items():
        if not module.accepts(data[:4096]):
            continue
        for call in (
            lambda m=module: m.probe(data),
            lambda m=module: m.extract(data),
            lambda m=module: b"".join(bytes(p) for p in m.embed(data, payload())),
        ):
            _, err = bounded(call, TIME_BOUND)
            if err is not None:
                assert_clear_error(err, f"{name} {sample} {ops}")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300))
def test_random_bytes_are_refused(data):
    _, err = bounded(lambda: pipeline.inspect(data), TIME_BOUND)
    if err is not None:
        assert_clear_error(err, repr(data[:40]))


# --- through the real host ---------------------------------------------------------------------


def test_hostile_corpus_through_one_long_lived_host(home):
    """One ``dsexport host`` process gets every hostile image as a ``save`` (and as a chunked
    transfer), answers each with a result or a documented code, and still answers ``ping``."""
    out = home / "Pictures" / "DeepSeek"
    before = snapshot(home.parent)
    codes: dict[str, str] = {}
    with Host(home) as host:
        assert host.result("ping")["version"]
        for name, data in sorted(CORPUS.items()):
            if not data:
                continue
            reply = host.request("save", timeout=TIME_BOUND, image={"data": b64(data)})
            if reply["ok"]:
                path = Path(reply["result"]["path"])
                assert path.is_relative_to(out), (name, path)
                assert sniff(path.read_bytes()) == reply["result"]["format"]
                codes[name] = "ok"
            else:
                assert reply["error"]["code"] in ERROR_CODES, (name, reply)
                assert reply["error"]["message"]
                codes[name] = reply["error"]["code"]
            assert host.result("ping", timeout=10)["protocol"] == 1, name
        # The same bytes through a transfer take the same path to the save engine.
        for name in ("bomb/png-zlib-bomb-20000x20000", "polyglot/png+zip", "html/404"):
            data = CORPUS[name]
            tid = host.result("transfer_begin", size=len(data))["transfer_id"]
            host.result("transfer_chunk", transfer_id=tid, offset=0, data=b64(data))
            reply = host.request("transfer_commit", timeout=TIME_BOUND, transfer_id=tid)
            assert ("ok" if reply["ok"] else reply["error"]["code"]) == codes[name], name
            assert host.result("ping", timeout=10)
        assert host.close() == 0
    for name in MUST_REFUSE & set(codes):
        assert codes[name] != "ok", f"{name} was saved through the host"
    for name, code in EXPECTED_CODE.items():
        if name in codes:
            assert codes[name] == code, (name, codes[name])
    after = snapshot(home.parent)
    new = {p for p in set(after) - set(before) if not p.startswith("home/")}
    assert not new, f"files appeared outside HOME: {new}"


def test_regression_corrupt_avif_alpha_plane_is_corrupt_image_when_converting(cfg):
    """Found by the mutation fuzzer: Pillow's AVIF plugin raises RuntimeError ("Decoding of
    alpha plane failed"), which convert.py let through as an internal error."""
    from dsexport.errors import CorruptImage

    data = mutate(VALID["avif-rgba"], [("flip", 134, 1)])
    with pytest.raises(CorruptImage, match="could not be decoded"):
        pipeline.save_image(data, {}, SaveOptions(format="png"), config=cfg)


def _animation_bomb(frames: int = 100, side: int = 1000) -> bytes:
    """A GIF of ``frames`` full-canvas frames that differ by one pixel: ~100 kB of file that
    decodes to ``frames * side * side`` pixels."""
    import io

    from PIL import Image

    out = []
    for i in range(frames):
        im = Image.new("P", (side, side), 0)
        im.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
        im.putpixel((i, 0), 1)
        out.append(im)
    buf = io.BytesIO()
    out[0].save(buf, "GIF", save_all=True, append_images=out[1:], duration=10, loop=0)
    return buf.getvalue()


def test_regression_animation_bomb_is_refused_before_decoding(tmp_path, cfg):
    """Found here: convert decoded every frame of an animation onto the full canvas and kept them
    all, so a 325 kB GIF (400 frames of 3000x3000) took over 23 GB and was OOM-killed. Run in a
    subprocess with a 2 GB address-space limit, so a regression fails instead of eating RAM."""
    import resource
    import subprocess
    import sys

    bomb = tmp_path / "bomb.gif"
    bomb.write_bytes(_animation_bomb())
    code = (
        "import sys, dataclasses\n"
        "from dsexport import pipeline\n"
        "from dsexport.model import SaveOptions\n"
        "from dsexport.config import defaults\n"
        "from dsexport.errors import DsError\n"
        f"cfg = dataclasses.replace(defaults(), output_dir={cfg.output_dir!r})\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "for fmt in ('webp', 'png', 'avif'):\n"
        "    try:\n"
        "        pipeline.save_image(data, {}, SaveOptions(format=fmt), config=cfg)\n"
        "        print(fmt, 'saved')\n"
        "    except DsError as err:\n"
        "        print(fmt, err.code, 'frames' in str(err))\n"
    )

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    proc = subprocess.run(
        [sys.executable, "-c", code, str(bomb)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit,
        check=False,
    )
    # Refused by the frame count, not by running out of memory under the limit (MemoryError
    # would also come out as corrupt_image, through _decoding).
    expected = [f"{fmt} corrupt_image True" for fmt in ("webp", "png", "avif")]
    assert proc.stdout.splitlines() == expected, proc.stdout + proc.stderr[-2000:]
    # The same file is kept as it is (nothing decoded) when no conversion is asked for.
    result = pipeline.save_image(bomb.read_bytes(), {}, config=cfg)
    assert result.format == "gif"
