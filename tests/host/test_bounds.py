"""Every number and structure from outside is bounded (validate.py, conventions/, catalog/).

A request with a 400-digit ``cfg_scale`` or ``extra`` nested hundreds deep is answered
``bad_request`` by the real host, which goes on serving. Third-party files carrying such values
(A1111 ``Steps: 99999999999999999999999``, a ComfyUI ``cfg`` of ``1e999`` or 400 digits, our own
record nested 800 deep) are skipped by ``import`` and ``reindex`` with their reason while the
rest is catalogued, ``inspect`` explains them instead of crashing, and the JSON we write
afterwards (``search --json``, a bundle's ``metadata.json``) is standard JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from native_client import Host, b64, small_png

from dsexport.catalog import open_catalog
from dsexport.catalog.importer import import_paths
from dsexport.catalog.maintain import reindex

HUGE = "9" * 400
DEEP = "[" * 800 + "]" * 800


def strict_json(text: str):
    """``json.loads`` that refuses NaN and ±Infinity, which standard JSON does not have."""

    def refuse(name: str):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize(
    "metadata",
    [
        f'{{"prompt": "a", "cfg_scale": {HUGE}}}',
        f'{{"prompt": "a", "steps": {HUGE}}}',
        f'{{"prompt": "a", "seed": -{HUGE}}}',
        f'{{"prompt": "a", "extra": {{"x": {DEEP}}}}}',
        f'{{"prompt": "a", "deep": {DEEP}}}',
        '{"prompt": "a", "cfg_scale": 1e400}',
    ],
)
def test_host_answers_bad_request_and_keeps_serving(home, metadata):
    body = (
        '{"type": "save", "id": "s1", "image": {"data": "'
        + b64(small_png())
        + '"}, "metadata": '
        + metadata
        + "}"
    ).encode()
    with Host(home) as host:
        host.send_raw(len(body).to_bytes(4, sys.byteorder) + body)
        reply = host.recv()
        assert reply["ok"] is False and reply["error"]["code"] == "bad_request", reply
        assert host.request("ping")["ok"] is True
    assert not list((home / "Pictures").rglob("*.png"))


def _png(path: Path, **text: str) -> Path:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in text.items():
        info.add_text(key, value)
    Image.new("RGB", (24, 16), (len(path.name) * 7 % 256, 9, 99)).save(path, pnginfo=info)
    return path


def _comfy(cfg: str) -> str:
    return (
        '{"3": {"class_type": "KSampler", "inputs": {"seed": 5, "steps": 20, "cfg": '
        + cfg
        + ', "positive": ["6", 0]}}, "6": {"class_type": "CLIPTextEncode", '
        '"inputs": {"text": "a comfy prompt"}}}'
    )


def _record_png(path: Path) -> Path:
    from dsexport.formats import png

    record = '{"schema":"dsexport.record/1","prompt":"deep","extra":{"x":' + DEEP + "}}"
    packet = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'rdf:about="" xmlns:dsexport="https://dsexport.org/ns/1.0/"><dsexport:record>'
        f"{record}</dsexport:record></rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()
    data = _png(path).read_bytes()
    path.write_bytes(data[:33] + png.itxt_chunk("XML:com.adobe.xmp", packet) + data[33:])
    return path


@pytest.fixture
def hostile(tmp_path) -> Path:
    folder = tmp_path / "mixed"
    folder.mkdir()
    _png(folder / "steps.png", parameters="a\nSteps: 99999999999999999999999, Sampler: x, Seed: 1")
    _png(folder / "cfg-inf.png", prompt=_comfy("1e999"))
    _png(folder / "cfg-digits.png", prompt=_comfy(HUGE))
    _record_png(folder / "nested.png")
    _png(folder / "good.png", parameters="a good prompt\nSteps: 20, Sampler: Euler a, Seed: 42")
    return folder


BAD = {"steps.png", "cfg-inf.png", "cfg-digits.png", "nested.png"}


def test_import_skips_out_of_bounds_files_with_their_reason_and_catalogues_the_rest(home, hostile):
    with open_catalog() as cat:
        report = import_paths(cat, [hostile])
        assert report.imported == 1 and not report.failed
        assert {Path(p).name for p, _ in report.skipped} == BAD
        reasons = dict((Path(p).name, r) for p, r in report.skipped)
        assert "steps" in reasons["steps.png"] and "cfg_scale" in reasons["cfg-inf.png"]
        assert "nests deeper" in reasons["nested.png"]
        [entry] = list(cat.iter_entries())
        assert Path(entry.path).name == "good.png" and entry.seed == 42


def test_reindex_skips_them_too(home, hostile):
    with open_catalog() as cat:
        report = reindex(cat, [hostile])
    assert report.added == 1
    assert {Path(p).name for p, _ in report.skipped} == BAD


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}
    return subprocess.run(
        [sys.executable, "-m", "dsexport", *args], capture_output=True, env=env, timeout=120
    )


def test_cli_import_exits_zero_and_says_why_each_was_skipped(home, hostile):
    proc = _cli(home, "import", str(hostile))
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr.decode()
    for name in BAD:
        assert f"{name}: skipped: " in err


def test_inspect_explains_instead_of_crashing_and_prints_standard_json(home, hostile):
    proc = _cli(home, "inspect", "--json", *sorted(str(p) for p in hostile.iterdir()))
    assert proc.returncode == 0, proc.stderr
    results = {Path(r["file"]).name: r for r in strict_json(proc.stdout.decode())}
    for name in BAD:
        assert results[name]["metadata"] is None and results[name]["problem"], name
    assert results["good.png"]["metadata"]["seed"] == 42
    human = _cli(home, "inspect", str(hostile / "steps.png"))
    assert human.returncode == 0 and b"not usable" in human.stdout


def test_search_and_bundle_write_standard_json_after_importing_them(home, hostile, tmp_path):
    assert _cli(home, "import", str(hostile)).returncode == 0
    search = _cli(home, "search", "--json", "prompt")
    assert search.returncode == 0, search.stderr
    hits = strict_json(search.stdout.decode())
    assert [Path(h["path"]).name for h in hits] == ["good.png"]
    out = tmp_path / "all.zip"
    bundle = _cli(home, "bundle", "--query", "prompt", "--output", str(out))
    assert bundle.returncode == 0, bundle.stderr
    with zipfile.ZipFile(out) as zf:
        strict_json(zf.read("metadata.json").decode())
