import base64
import json

import pytest

from dsexport.errors import BadRequest, NotFound
from dsexport.installer.extension_id import (
    chromium_id_from_key,
    chromium_origin,
    find_extension_dir,
    read_ids,
)

# Chromium's own native-messaging test key and the ID its docs pair it with (reference §5.1).
CHROME_DOC_KEY = (
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDcBHwzDvyBQ6bDppkIs9MP4ksKqCMyXQ/A52JivHZKh4YO/9vJsT3oa"
    "YhSpDCE9RPocOEQvwsHsFReW2nUEc6OLLyoCFFxIb7KkLGsmfakkut/fFdNJYh0xOTbSN8YvLWcqph09XAY2Y/f0AL7vf"
    "O1cuCqtkMt8hFrBGWxDdf9CQIDAQAB"
)


def test_pinned_key_in_repository_manifest_gives_documented_id():
    ids = read_ids(find_extension_dir())
    assert ids.chromium == "jgaaohokgeldgdegmnjhancfdcganloj"
    assert ids.firefox == "dsexport@dsexport.org"


def test_chromium_docs_key_gives_chromium_docs_id():
    assert chromium_id_from_key(CHROME_DOC_KEY) == "knldjmfmopnpolahpmmgbagdohdnhkik"


def test_id_uses_only_letters_a_to_p():
    key = base64.b64encode(b"\x00" * 40).decode()
    ext_id = chromium_id_from_key(key)
    assert len(ext_id) == 32 and set(ext_id) <= set("abcdefghijklmnop")


def test_origin_has_trailing_slash():
    assert chromium_origin("a" * 32) == "chrome-extension://" + "a" * 32 + "/"


def test_missing_manifest_tells_to_pass_extension_dir(tmp_path):
    with pytest.raises(NotFound, match="--extension-dir"):
        read_ids(tmp_path)


def test_manifest_without_key_is_refused(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"name": "x"}))
    with pytest.raises(BadRequest, match="key"):
        read_ids(tmp_path)


def test_key_that_is_not_base64_is_refused(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"key": "not base64!!"}))
    with pytest.raises(BadRequest, match="base64"):
        read_ids(tmp_path)


def test_find_extension_dir_walks_up(tmp_path):
    (tmp_path / "extension").mkdir()
    (tmp_path / "extension" / "manifest.json").write_text("{}")
    deep = tmp_path / "host" / "dsexport"
    deep.mkdir(parents=True)
    assert find_extension_dir(deep) == tmp_path / "extension"
