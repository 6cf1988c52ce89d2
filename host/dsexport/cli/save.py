"""``dsexport save``: save image files (or base64 from stdin) with metadata embedded."""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from pathlib import Path

from dsexport.model import ORIGINS, OUTPUT_FORMATS

HELP = """\
Save images losslessly with their prompt embedded, into your output folder.

examples:
  dsexport save cat.png --prompt "a cat in a red scarf" --seed 42
  dsexport save *.webp --meta-json meta.json --format png --out ~/Pictures/cats
  base64 cat.png | dsexport save --base64 - --prompt "a cat"
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "save",
        help="save images with their prompt embedded",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="*", metavar="FILE", help="image files to save")
    p.add_argument(
        "--base64", metavar="-", dest="base64_source", help="read base64 from stdin ('-')"
    )
    p.add_argument("--prompt")
    p.add_argument("--negative-prompt")
    p.add_argument("--seed", type=int)
    p.add_argument("--steps", type=int)
    p.add_argument("--sampler")
    p.add_argument("--cfg-scale", type=float)
    p.add_argument("--model")
    p.add_argument("--origin", choices=ORIGINS, default=None, help="default: generated")
    p.add_argument("--meta-json", metavar="FILE", help="a JSON object of metadata fields")
    p.add_argument("--format", choices=OUTPUT_FORMATS, help="default: the config's format")
    p.add_argument("--quality", type=int, help="1-100 for lossy JPEG/WebP/AVIF")
    p.add_argument("--out", metavar="DIR", help="output folder (overrides output_dir)")
    p.add_argument("--json", action="store_true", help="print one JSON result per line")
    p.set_defaults(func=run)


def _metadata(args: argparse.Namespace) -> dict:
    meta: dict = {}
    if args.meta_json:
        text = (
            sys.stdin.read() if args.meta_json == "-" else Path(args.meta_json).read_text("utf-8")
        )
        loaded = json.loads(text)
        if not isinstance(loaded, dict):
            msg = "--meta-json must contain a JSON object"
            raise SystemExit(f"dsexport: error: {msg}")
        meta.update(loaded)
    for key in (
        "prompt",
        "negative_prompt",
        "seed",
        "steps",
        "sampler",
        "cfg_scale",
        "model",
        "origin",
    ):
        value = getattr(args, key)
        if value is not None:
            meta[key] = value
    return meta


def run(args: argparse.Namespace) -> int:
    from dsexport.errors import DsError
    from dsexport.model import SaveOptions
    from dsexport.pipeline import save_image
    from dsexport.validate import metadata_from_dict

    if not args.files and not args.base64_source:
        print("dsexport: error: give FILE… or --base64 -", file=sys.stderr)
        return 2
    meta = metadata_from_dict(_metadata(args))
    options = SaveOptions(
        format=args.format,
        quality=args.quality,
        output_dir=str(Path(args.out).expanduser().resolve()) if args.out else None,
        source="cli",
    )
    sources: list[tuple[str, object]] = [(f, Path(f)) for f in args.files]
    if args.base64_source:
        try:
            data = base64.b64decode(sys.stdin.buffer.read(), validate=False)
        except (binascii.Error, ValueError) as err:
            print(f"dsexport: error: stdin is not base64: {err}", file=sys.stderr)
            return 1
        sources.append(("<stdin>", data))
    failures = 0
    for index, (label, source) in enumerate(sources):
        file_meta = meta
        if isinstance(source, Path) and "file_name" not in meta.extra:
            file_meta = meta.replace(extra={**meta.extra, "file_name": source.name})
        try:
            result = save_image(
                source, file_meta, options.__class__(**{**options.__dict__, "index": index})
            )
        except DsError as err:
            failures += 1
            if args.json:
                print(
                    json.dumps(
                        {
                            "input": label,
                            "ok": False,
                            "error": {"code": err.code, "message": str(err)},
                        },
                        ensure_ascii=False,
                    )
                )
            else:
                print(f"{label}: refused: {err}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps({"input": label, "ok": True, **result.to_dict()}, ensure_ascii=False))
        else:
            note = " (already saved)" if result.duplicate else ""
            print(f"{label} -> {result.path}{note}")
            for warning in result.warnings:
                print(f"  note: {warning}")
    return 1 if failures else 0
