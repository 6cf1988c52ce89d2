"""A diagram's identity in the catalog's dedupe (catalog/identity.py): one Mermaid chart rendered
again arrives as other SVG bytes; the same conversation, turn and diagram key is the same picture,
saved once. Only the save request's metadata counts, never a record inside a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsexport import SaveOptions, save_image
from dsexport.catalog import open_catalog
from dsexport.catalog.identity import diagram_identity
from dsexport.catalog.maintain import reindex
from dsexport.model import Metadata

KEY = "1ba2a9d9cb7f1f17415d61891af1"


def chart(render: str) -> bytes:
    """The same chart as two renders give it: the same drawing, other generated ids."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="mermaid-{render}" viewBox="0 0 240 60">'
        f"<style>#mermaid-{render} rect{{fill:#eef}}</style>"
        '<rect x="5" y="15" width="60" height="30"/><text x="15" y="35">日出</text></svg>'
    ).encode()


def meta(**changes) -> dict:
    base = {
        "prompt": "再画一个一天的流程图",
        "origin": "diagram",
        "conversation_id": "c-1",
        "turn_index": 5,
        "extra": {"diagram_key": KEY, "lang": "mermaid"},
    }
    return {**base, **changes}


def files_in(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix == ".svg")


def test_a_chart_rendered_again_is_saved_once(home):
    first = save_image(chart("1730000123456"), meta())
    second = save_image(chart("1730000999999"), meta())
    assert chart("1730000123456") != chart("1730000999999")
    assert not first.duplicate and second.duplicate
    assert second.path == first.path
    assert len(files_in(home / "Pictures" / "DeepSeek")) == 1


@pytest.mark.parametrize(
    "other",
    [
        {"turn_index": 7},
        {"conversation_id": "c-2"},
        {"extra": {"diagram_key": "0aa0e1e4071b49073822adddf578"}},
    ],
)
def test_another_turn_conversation_or_chart_is_another_picture(home, other):
    save_image(chart("1"), meta())
    again = save_image(chart("2"), meta(**other))
    assert not again.duplicate


def test_without_a_key_only_the_bytes_count(home):
    plain = meta(extra={"lang": "mermaid"})
    assert not save_image(chart("1"), plain).duplicate
    assert not save_image(chart("2"), plain).duplicate
    assert save_image(chart("2"), plain).duplicate


def test_the_identity_is_per_format_and_needs_the_file(home):
    first = save_image(chart("1"), meta())
    Path(first.path).unlink()
    again = save_image(chart("2"), meta())
    assert not again.duplicate, "a deleted file is not a duplicate"
    png = save_image(chart("3"), meta(), SaveOptions(format="png"))
    assert png.format == "svg" and png.duplicate  # SVG input stays SVG: same picture, same format


def test_diagram_identity_needs_a_diagram_a_conversation_a_turn_and_a_key():
    good = Metadata(origin="diagram", conversation_id="c", turn_index=0, extra={"diagram_key": KEY})
    assert diagram_identity(good).startswith("diagram:")
    assert diagram_identity(good) != diagram_identity(good.replace(turn_index=1))
    assert diagram_identity(good.replace(origin="generated")) is None
    assert diagram_identity(good.replace(conversation_id=None)) is None
    assert diagram_identity(good.replace(turn_index=None)) is None
    for bad in ("", "xyz", "A" * 28, KEY + "'; DROP TABLE images; --", 1234):
        assert diagram_identity(good.replace(extra={"diagram_key": bad})) is None


def test_reindex_and_removal_keep_no_identity_a_file_could_claim(home):
    """``reindex`` reads metadata from files, which may lie: it records no identity, so a later
    render is saved anew rather than called a duplicate of whatever file claimed the key."""
    first = save_image(chart("1"), meta())
    with open_catalog() as catalog:
        assert catalog.connection.execute("SELECT count(*) FROM identities").fetchone()[0] == 1
        reindex(catalog, full=True)
        assert catalog.connection.execute("SELECT count(*) FROM identities").fetchone()[0] == 0
        catalog.remove(first.path)
    again = save_image(chart("2"), meta())
    assert not again.duplicate
    with open_catalog() as catalog:
        catalog.remove(again.path)
        assert catalog.connection.execute("SELECT count(*) FROM identities").fetchone()[0] == 0
