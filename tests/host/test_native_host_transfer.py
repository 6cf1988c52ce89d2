"""A 40 MB image through ``transfer_*`` to the real host, as the extension sends it: 4 MiB
chunks, base64, then commit. The pixels arrive intact and the host's memory stays bounded."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from native_client import Host, b64, big_png

from imagebytes import png_image_stream

IMAGE_BYTES = 40 * 1024 * 1024


def peak_rss(pid: int) -> int:
    """Peak resident set size of a live process (Linux ``VmHWM``), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def send_in_chunks(h: Host, data: bytes, chunk: int, *, sha256: str | None = None) -> str:
    fields = {"size": len(data)} | ({"sha256": sha256} if sha256 else {})
    tid = h.result("transfer_begin", **fields)["transfer_id"]
    for offset in range(0, len(data), chunk):
        part = data[offset : offset + chunk]
        got = h.result("transfer_chunk", transfer_id=tid, offset=offset, data=b64(part))
        assert got["received"] == offset + len(part)
    return tid


def test_a_40_mb_image_arrives_whole_in_4_mib_chunks(home):
    png = big_png(IMAGE_BYTES)
    sha = hashlib.sha256(png).hexdigest()
    with Host(home) as h:
        chunk = h.result("ping")["limits"]["chunk_bytes"]
        assert chunk == 4 * 1024 * 1024
        tid = send_in_chunks(h, png, chunk, sha256=sha)
        result = h.result(
            "transfer_commit",
            transfer_id=tid,
            metadata={"prompt": "forty megabytes of noise", "seed": 40},
        )
        saved = Path(result["path"]).read_bytes()
        assert result["sha256"] == sha and result["format"] == "png"
        assert png_image_stream(saved) == png_image_stream(png)
        assert len(saved) == result["bytes_written"] > len(png)
        transfers = home / ".cache" / "dsexport" / "transfers"
        assert list(transfers.iterdir()) == []
        assert h.close() == 0
    from dsexport import read_metadata

    assert read_metadata(result["path"]).prompt == "forty megabytes of noise"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_memory_for_a_40_mb_transfer_stays_under_twice_the_image(home):
    png = big_png(IMAGE_BYTES)
    with Host(home) as h:
        h.result("ping")
        h.result("config_get")  # load the config and naming modules before the baseline
        baseline = peak_rss(h.proc.pid)
        tid = send_in_chunks(h, png, 4 * 1024 * 1024)
        after_chunks = peak_rss(h.proc.pid)
        h.result("transfer_commit", transfer_id=tid, metadata={"prompt": "x"})
        growth = peak_rss(h.proc.pid) - baseline
        # Receiving costs a few chunk-sized buffers (frame, text, bytes, allocator slack), not
        # the image: holding the chunks would grow by more than the whole image.
        assert after_chunks - baseline < 0.75 * len(png), after_chunks - baseline
        assert growth <= 2 * len(png), f"peak grew by {growth / len(png):.2f}x the image"
