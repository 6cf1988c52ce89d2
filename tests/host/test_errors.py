"""Error replies: the code, the English message, and the reason + parameters the extension words
in the person's language (dsexport/errors.py ``error_fields``)."""

from __future__ import annotations

import errno
import re
from pathlib import Path

import pytest

from dsexport.errors import BadConfig, IoError, error_fields

HOST = Path(__file__).resolve().parents[2] / "host" / "dsexport"


def raised_from(cause: BaseException, err: Exception) -> Exception:
    try:
        raise err from cause
    except Exception as caught:
        return caught


@pytest.mark.parametrize(
    ("number", "name"),
    [(errno.ENOSPC, "ENOSPC"), (errno.EACCES, "EACCES"), (errno.EROFS, "EROFS")],
)
def test_an_error_raised_from_an_os_error_names_its_errno(number, name):
    err = raised_from(OSError(number, "text in the OS's language"), IoError("cannot write x"))
    assert error_fields(err) == {"params": {"errno": name}}


def test_reason_and_params_are_bounded_and_plain_json():
    err = BadConfig("x", reason="template_unknown_field", field="f" * 5000, known=["a", "b"])
    fields = error_fields(err)
    assert fields["reason"] == "template_unknown_field"
    assert len(fields["params"]["field"]) == 300
    assert fields["params"]["known"] == "a, b"
    many = BadConfig("x", **{f"k{i}": i for i in range(20)})
    assert len(error_fields(many)["params"]) == 8


def test_a_plain_error_adds_nothing():
    assert error_fields(BadConfig("plain")) == {}


def test_every_reason_the_host_raises_is_documented():
    raised = set()
    for path in HOST.rglob("*.py"):
        text = path.read_text("utf-8")
        raised |= set(re.findall(r'reason="([a-z_]+)"', text))
        # naming.py's _bad(message, "reason", …): the reason is a string alone on its line
        raised |= set(re.findall(r'^\s*"(template_[a-z_]+)",?$', text, re.M))
        raised |= set(re.findall(r'_bad\("[^"]*"(?: \+ [A-Z_]+)?, "([a-z_]+)"', text))
        raised |= set(re.findall(r'return msg, "([a-z_]+)"', text))
    doc = (HOST.parents[1] / "docs" / "protocol.md").read_text("utf-8")
    reasons = re.search(r"^## 5\. Error reasons$(.*?)^## ", doc, re.S | re.M)
    assert reasons, "docs/protocol.md has no '## 5. Error reasons' section"
    documented = set(re.findall(r"^\| `([a-z_]+)` \| [a-z_]+ \|", reasons.group(1), re.M))
    assert raised, "no reasons found: the pattern above no longer matches the code"
    assert raised == documented, (
        f"undocumented: {raised - documented}; stale: {documented - raised}"
    )
