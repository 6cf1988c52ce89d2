from __future__ import annotations

import pytest
from format_samples import samples

from dsexport.errors import UnsupportedFormat
from dsexport.formats import FORMATS
from dsexport.sniff import sniff


@pytest.mark.parametrize("name", FORMATS)
def test_every_sample_is_sniffed_as_its_format(name):
    for data in samples(name).values():
        assert sniff(data) == name
        assert sniff(memoryview(data)) == name


def test_svg_with_a_long_prolog_is_sniffed():
    data = b"<?xml version='1.0'?>\n<!--" + b" licence text " * 200 + b"-->\n<svg/>"
    assert len(data) > 64
    assert sniff(data) == "svg"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "HTML page"),
        (b"\n  <html lang='en'>", "HTML page"),
        (b"<!-- x --><HEAD><title>Login</title>", "HTML page"),
        (b'{"error": "rate limited"}', "JSON"),
        (b"  [1, 2]", "JSON"),
        (b"BM\x36\0\0\0", "BMP"),
        (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", "HEIC"),
        (b"<?xml version='1.0'?><rss/>", "XML"),
        (b"\x00\x01\x02\x03garbage", "unknown file format (first bytes: 00 01 02 03"),
    ],
)
def test_non_images_get_a_message_that_says_what_they_are(data, words):
    with pytest.raises(UnsupportedFormat, match="(?i)" + words.replace("(", r"\(")):
        sniff(data)


def test_html_message_tells_the_user_what_happened():
    with pytest.raises(UnsupportedFormat) as err:
        sniff(b"<html><body>Not Found</body></html>")
    assert "the server probably returned an error" in str(err.value)
