"""docs/protocol.md is the contract: its request list, error table and limits must match the
code (``HANDLERS``, ``ERRORS``, the limits ``ping`` reports)."""

from __future__ import annotations

import re
from pathlib import Path

from dsexport.errors import ERRORS
from dsexport.native.handlers import HANDLERS

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def section(title_prefix: str) -> str:
    text = DOC.read_text("utf-8")
    match = re.search(rf"^## {re.escape(title_prefix)}.*?$(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"docs/protocol.md has no section '## {title_prefix}…'"
    return match.group(1)


def _reasons() -> set[str]:
    return set(table_first_column(section("5. Error reasons")))


def table_first_column(text: str) -> list[str]:
    return re.findall(r"^\| `([a-z_]+)` \|", text, re.M)


def test_every_request_type_is_documented_and_nothing_else():
    documented = re.findall(r"^### `([a-z_]+)`$", section("3. Requests"), re.M)
    assert len(documented) == len(set(documented)), "a request is documented twice"
    assert set(documented) == set(HANDLERS)


def test_the_error_table_matches_errors_py_exactly():
    codes = table_first_column(section("4. Error codes"))
    assert len(codes) == len(set(codes)), "an error code is listed twice"
    assert set(codes) == set(ERRORS)


def test_every_error_code_the_docs_mention_exists():
    text = DOC.read_text("utf-8")
    for mentioned in re.findall(r"`([a-z]+_[a-z_]+)`", text):
        if mentioned.endswith(("_bytes", "_transfers", "_formats", "_dirs", "_id")):
            continue
        if mentioned in ERRORS or mentioned in HANDLERS or mentioned in _reasons():
            continue
        assert mentioned in _OTHER_NAMES, f"`{mentioned}` is neither a code, a request nor known"


_OTHER_NAMES = {
    "name_template",
    "embed_fields",
    "auto_capture",
    "jpeg_background",
    "output_dir",
    "negative_prompt",
    "cfg_scale",
    "page_url",
    "image_url",
    "conversation_title",
    "turn_index",
    "captured_at",
    "bytes_written",
    "metadata_in",
    "not_writable",
    "allowed_callers",
    "config_error",
    # the library page's requests
    "conversation_url",
    "ids_only",
    "mtime_ns",
    "saved_at",
    "thumbnail_cache_mb",
    # export_begin / export_turns
    "created_at",
    "updated_at",
    "image_missing",
    "reasoning_seconds",
    "published_at",
    "is_image",
    "file_name",
    "max_turns_per_part",
}


def test_the_limits_table_matches_what_ping_reports(home):
    from dsexport.native.handlers.ping import ping
    from dsexport.native.session import Request, Session

    reported = ping(Request(1, "ping", {}), Session())["limits"]
    rows = re.findall(r"^\| `([a-z_]+)` \| ([\d,]+)", section("2. Limits"), re.M)
    assert {name: int(value.replace(",", "")) for name, value in rows} == reported
