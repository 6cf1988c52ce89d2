"""Coverage-guided fuzzing (atheris / libFuzzer) of the code that reads untrusted bytes:
the frame reader, request parsing, sniffing, and every container module's probe / extract /
embed.

    pip install atheris
    python tests/stress/fuzz_atheris.py -max_total_time=120 -rss_limit_mb=2048 [corpus_dir]

One input drives everything: its first byte picks a target, the rest is the data. Only
``DsError`` may come out (a documented, clear error); any other exception, a crash, a hang
(``-timeout``, default 20 s per input) or memory over ``-rss_limit_mb`` is a finding and stops the
run with libFuzzer's report. libFuzzer prints ``Done N runs in T second(s)`` at the end;
``tests/stress/test_atheris.py`` runs this file and records that count.
Seeds: one valid sample of each format (built at start-up) plus any corpus folder given.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

import atheris

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "host"), str(HERE.parent)]

with atheris.instrument_imports(include=["dsexport"]):
    from dsexport.errors import DsError
    from dsexport.formats import FORMATS
    from dsexport.native import framing, server
    from dsexport.sniff import sniff

_FORMATS = list(FORMATS.items())


def _payload():
    from format_samples import payload

    return payload()


PAYLOAD = None


def target_frames(data: bytes) -> None:
    stream = io.BytesIO(data)
    for _ in range(64):
        try:
            message = framing.read_frame(stream, max_bytes=1 << 20)
        except framing.FrameTooLarge as err:
            try:
                framing.skip_exactly(stream, err.length)
            except framing.TruncatedFrame:
                return
            continue
        except framing.TruncatedFrame:
            return  # the stream cannot continue; the server answers and exits 1
        except DsError:
            continue  # bad_frame: the body was read whole, the stream is in sync
        if message is framing.EOF:
            return
        with contextlib.suppress(DsError):
            server.parse_request(message)


def target_image(data: bytes) -> None:
    head = data[:4096]
    try:
        name = sniff(data)
    except DsError:
        name = None
    for fmt, module in _FORMATS:
        if name is not None and fmt != name and not module.accepts(head):
            continue
        for call in (module.probe, module.extract, lambda d, m=module: m.embed(d, PAYLOAD)):
            try:
                parts = call(memoryview(data))
                if isinstance(parts, list):
                    b"".join(bytes(p) for p in parts)
            except DsError:
                pass


def target_forced(data: bytes) -> None:
    """Skip sniffing: every container module gets the bytes, behind a valid magic prefix."""
    magic = {
        "png": b"\x89PNG\r\n\x1a\n",
        "jpeg": b"\xff\xd8\xff",
        "webp": b"RIFF\0\0\0\0WEBP",
        "gif": b"GIF89a",
        "avif": b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf",
        "svg": b'<svg xmlns="http://www.w3.org/2000/svg">',
    }
    if not data:
        return
    fmt, module = _FORMATS[data[0] % len(_FORMATS)]
    body = magic.get(fmt, b"") + data[1:]
    for call in (module.probe, module.extract, lambda d: module.embed(d, PAYLOAD)):
        with contextlib.suppress(DsError):
            call(memoryview(body))


TARGETS = (target_frames, target_image, target_forced)


def test_one_input(data: bytes) -> None:
    if not data:
        return
    TARGETS[data[0] % len(TARGETS)](data[1:])


def _seeds(folder: Path) -> None:
    from format_samples import SVG_SAMPLE, samples

    folder.mkdir(parents=True, exist_ok=True)
    for fmt in ("png", "jpeg", "webp", "gif", "avif"):
        for kind, data in samples(fmt).items():
            (folder / f"{fmt}-{kind}").write_bytes(b"\x01" + data)
    (folder / "svg").write_bytes(b"\x01" + SVG_SAMPLE)
    ping = b'{"type":"ping","id":1}'
    (folder / "frame").write_bytes(b"\x00" + len(ping).to_bytes(4, sys.byteorder) + ping)


def main() -> None:
    global PAYLOAD
    sys.path.insert(0, str(HERE.parent / "host"))
    PAYLOAD = _payload()
    args = list(sys.argv)
    dirs = [a for a in args[1:] if not a.startswith("-")]
    if not dirs:
        seed_dir = Path(os.environ.get("DSEXPORT_ATHERIS_CORPUS", "/tmp/dsexport-atheris-corpus"))
        _seeds(seed_dir)
        args.append(str(seed_dir))
    if not any(a.startswith("-timeout") for a in args):
        args.append("-timeout=20")
    if not any(a.startswith("-artifact_prefix") for a in args):
        args.append("-artifact_prefix=/tmp/dsexport-atheris-")
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
