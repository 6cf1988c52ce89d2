"""The native ``bundle`` request (the popup's "Save as ZIP") through a real ``dsexport host``
subprocess: save a few images, then bundle exactly those."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from native_client import Host, b64

from imagebytes import make_image


@pytest.fixture
def host(home: Path):
    with Host(home) as h:
        yield h


def output_dir(home: Path) -> Path:
    return home / "Pictures" / "DeepSeek"


def save_three(host) -> list[dict]:
    replies = []
    for i, prompt in enumerate(["一只戴着红色围巾的猫", "a <b>cat</b> & dog", "熊猫 🐼"]):
        replies.append(
            host.result(
                "save",
                image={"data": b64(make_image("png", size=(10 + i, 10)))},
                metadata={"prompt": prompt, "conversation_id": "c-9", "conversation_title": "猫咪"},
                options={"source": "toolbar"},
            )
        )
    return replies


def test_bundle_the_files_just_saved(home, host):
    saved = save_three(host)
    result = host.result("bundle", paths=[r["path"] for r in saved[:2]], output="two cats")
    assert result == {
        "path": str(output_dir(home) / "two cats.zip"),
        "count": 2,
        "bytes": Path(result["path"]).stat().st_size,
        "skipped": 0,
    }
    with zipfile.ZipFile(result["path"]) as zf:
        images = [n for n in zf.namelist() if n.startswith("images/")]
        assert [zf.read(n) for n in images] == [Path(r["path"]).read_bytes() for r in saved[:2]]
        prompts = [i["metadata"]["prompt"] for i in json.loads(zf.read("metadata.json"))["images"]]
        assert prompts == ["一只戴着红色围巾的猫", "a <b>cat</b> & dog"]
        assert "&lt;b&gt;cat&lt;/b&gt; &amp; dog" in zf.read("prompts.html").decode()
    # The same name again: a numbered file, the first one untouched.
    again = host.result("bundle", sha256s=[saved[2]["sha256"]], output="two cats.zip")
    assert again["path"] == str(output_dir(home) / "two cats (2).zip") and again["count"] == 1


def test_bundle_a_whole_conversation_by_default_name(home, host):
    save_three(host)
    result = host.result("bundle", conversation_id="c-9")
    assert result["count"] == 3
    assert Path(result["path"]).parent == output_dir(home)
    assert Path(result["path"]).name.startswith("猫咪 ")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({}, "bad_request"),
        ({"paths": "/etc/passwd"}, "bad_request"),
        ({"paths": ["relative.png"]}, "bad_request"),
        ({"paths": [7]}, "bad_request"),
        ({"paths": ["/x\ud800.png"]}, "bad_request"),
        ({"ids": [True]}, "bad_request"),
        ({"ids": [2**70]}, "bad_request"),
        ({"sha256s": ["abc"]}, "bad_request"),
        ({"paths": ["/a.png"] * 10_001}, "too_large"),
        ({"paths": ["/etc/passwd"]}, "not_found"),  # not catalogued: never packed
        ({"conversation_id": "nope"}, "not_found"),
        ({"conversation_id": "c-9", "output": ""}, "bad_request"),
    ],
)
def test_bad_bundle_requests_are_refused_and_the_host_goes_on(home, host, fields, code):
    save_three(host)
    assert host.error("bundle", **fields)["code"] == code
    assert host.result("ping")["version"]
    assert not list(home.rglob("evil*"))


def test_a_title_as_output_name_is_cleaned_into_the_output_folder(home, host):
    save_three(host)
    result = host.result("bundle", conversation_id="c-9", output="../evil: a/b")
    assert result["path"] == str(output_dir(home) / "_evil_ a_b.zip")
    assert not list(home.parent.glob("evil*"))
