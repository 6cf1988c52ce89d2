"""Every request type with fuzzed fields (hypothesis), through the real handlers and save engine
in a private HOME: each gets a reply, and no input is answered ``internal`` (a bug) except by a
bug. ``config_set`` is left out: random but valid values could point the output folder anywhere.
"""

from __future__ import annotations

import base64
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from native_client import small_png

from dsexport.native import server
from dsexport.native.handlers import HANDLERS, Session

FUZZED_TYPES = sorted(set(HANDLERS) - {"config_set"})

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_value = st.recursive(
    json_leaf,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
    max_leaves=12,
)
PNG = small_png()
image_bytes = st.sampled_from(
    [
        PNG,
        PNG[:50],
        PNG[:-12],
        b"<!doctype html><title>404</title>",
        b"GIF89a" + b"\0" * 20,
        b"\xff\xd8\xff\xe0" + b"\0" * 30,
        b"RIFF\0\0\0\0WEBPVP8 ",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"",
    ]
) | st.binary(max_size=64)
base64_text = image_bytes.map(lambda b: base64.b64encode(b).decode())
field_values = {
    "image": st.fixed_dictionaries(
        {}, optional={"data": base64_text | json_value, "url": json_value, "mime": json_value}
    )
    | json_value,
    "metadata": st.dictionaries(
        st.sampled_from(["prompt", "seed", "steps", "cfg_scale", "origin", "extra", "width", "x"]),
        json_value,
        max_size=4,
    )
    | json_value,
    "options": st.dictionaries(
        st.sampled_from(["format", "quality", "sidecars", "index", "name_template", "y"]),
        json_value,
        max_size=3,
    )
    | json_value,
    "size": st.integers(-5, 2**40) | json_value,
    "sha256": st.text("0123456789abcdef", min_size=64, max_size=64) | json_value,
    "transfer_id": st.text("0123456789abcdef", min_size=32, max_size=32) | json_value,
    "offset": st.integers(-5, 100) | json_value,
    "data": base64_text | json_value,
    "path": st.sampled_from(["/", "/etc/passwd", "relative", "", "/tmp/../etc"]) | json_value,
    "template": st.sampled_from(["{prompt}", "{nope}", "../{seed}", "{", "a/b/c"]) | json_value,
}
requests = st.builds(
    lambda t, fields, rid: {"type": t, "id": rid, **fields},
    st.sampled_from(FUZZED_TYPES),
    st.fixed_dictionaries({}, optional=field_values),
    st.integers(0, 1000) | st.text(max_size=10),
)


@pytest.fixture
def session(home, monkeypatch):
    monkeypatch.setattr(server._LazyLog, "_logger", None)
    opened: list[list[list[str]]] = []
    s = Session(opener=lambda commands: opened.append(commands) or "recorded")
    yield s
    s.close()
    logging.getLogger("dsexport").handlers.clear()


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(requests, min_size=1, max_size=6))
def test_fuzzed_requests_of_every_type_never_hit_a_bug(session, batch):
    for message in batch:
        reply = server.handle(message, session)
        assert reply["id"] == message["id"]
        if not reply["ok"]:
            assert reply["error"]["code"] != "internal", (message, reply)
