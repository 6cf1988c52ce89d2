"""A process that saves images in a loop, for the fault tests (kill -9, disk full, concurrency).

    python tests/host/fault_worker.py <output_dir> <worker_id> <count> [template]

Image ``i`` of worker ``w`` is ``make_image(w, i)``: deterministic, so a checker can rebuild the
original bytes of any saved file from the ``prompt`` embedded in it (``"img <w>-<i>"``) and check
that the file holds exactly that image. Sizes vary from 2 kB to about 1.5 MB so that a kill lands
inside writes as well as between them. Every tenth save also writes a JSON sidecar, every
seventh converts to JPEG.

Prints one line per finished save (``ok <i> <path>`` or ``err <i> <code>``), flushed, so the
parent knows what completed before the kill.
"""

from __future__ import annotations

import random
import struct
import sys
import zlib


def _chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def make_image(worker: int, i: int) -> bytes:
    rnd = random.Random(worker * 1_000_003 + i)
    width = rnd.choice((16, 64, 256, 512))
    height = rnd.choice((8, 64, 256, 1000))
    row = 1 + 3 * width
    raw = bytearray(rnd.randbytes(row * height))
    raw[::row] = bytes(height)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), 0))
        + _chunk(b"IEND", b"")
    )


def parse_prompt(prompt: str) -> tuple[int, int]:
    _, ids = prompt.split(" ", 1)
    w, i = ids.split("-")
    return int(w), int(i)


def main(argv: list[str]) -> int:
    import dataclasses

    from dsexport import pipeline
    from dsexport.config import defaults
    from dsexport.errors import DsError
    from dsexport.model import SaveOptions

    out, worker, count = argv[0], int(argv[1]), int(argv[2])
    template = argv[3] if len(argv) > 3 else "{date}/{prompt}_{hash:8}"
    start = int(argv[4]) if len(argv) > 4 else 0
    cfg = dataclasses.replace(defaults(), output_dir=out)
    for i in range(start, start + count):
        opts = SaveOptions(
            name_template=template,
            sidecars=("json",) if i % 10 == 0 else (),
            format="jpeg" if i % 7 == 3 else None,
        )
        try:
            result = pipeline.save_image(
                make_image(worker, i), {"prompt": f"img {worker}-{i}"}, opts, config=cfg
            )
        except DsError as err:
            print(f"err {i} {err.code} {err}", flush=True)
            continue
        print(f"ok {i} {result.path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
