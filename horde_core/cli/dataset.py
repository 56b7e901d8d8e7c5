"""`python main.py dataset import|export`: the rating pool from the console.

`dataset import DIR`: every png/jpg/jpeg/webp image in DIR into the rating pool, with an optional caption
(NAME.txt) and labels (NAME.json: {"caption", "rating", "artifacts"}); a file that is not an image, or has a
bad sidecar, is reported and skipped. `dataset export OUT`: OUT/images/<id>.webp and OUT/manifest.jsonl,
one JSON line per rated image (horde_core/service/datasets.py says what is in it). The files named on the
command line are read and written here, at run time, never at import.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from horde_core.config import AppConfig
from horde_core.ratings.labels import IMAGE_SUFFIXES, LabelError, parse_labels
from horde_core.service import HordeError, HordeService

from .common import OpenCore, fail

NAME = "dataset"


def add_parser(sub: Any) -> None:
    dataset = sub.add_parser(NAME, help="the rating pool: import images, export the ratings") \
        .add_subparsers(dest="action", required=True)
    imp = dataset.add_parser("import", help="add DIR's png/jpg/jpeg/webp images (sidecars NAME.txt, NAME.json)")
    imp.add_argument("dir")
    imp.add_argument("--dataset", default="imported", help="the dataset to add them to (default: imported)")
    imp.add_argument("--gold", action="store_true", help="images with a known rating become hidden gold images")
    imp.add_argument("--nsfw", action="store_true", help="shown on Discord only where NSFW is allowed")
    exp = dataset.add_parser("export", help="write the rated pool (trusted raters only) to OUT")
    exp.add_argument("out")
    exp.add_argument("--dataset", default=None, help="only this dataset (the horde's name: its shared images)")


async def run(args: argparse.Namespace, config: AppConfig, core: OpenCore) -> int:
    async with core() as service:
        if args.action == "import":
            return await _import_images(service, Path(args.dir), args)
        return await _export_images(service, Path(args.out), args.dataset)


async def _import_images(service: HordeService, folder: Path, args: argparse.Namespace) -> int:
    dataset = service.check_dataset(args.dataset)
    if not await asyncio.to_thread(folder.is_dir):
        return fail(f"{folder} is not a directory")
    files = sorted(await asyncio.to_thread(lambda: [p for p in folder.iterdir() if p.is_file()]))
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    sidecars = {p.name for p in files if p.suffix.lower() in (".txt", ".json")}
    counts = dict.fromkeys(("added", "relabelled", "unchanged", "rejected", "gold"), 0)
    for path in images:

        def read(suffix: str, path: Path = path) -> str | None:
            side = path.with_suffix(suffix)
            return side.read_text(encoding="utf-8") if side.name in sidecars else None

        try:
            labels = parse_labels(await asyncio.to_thread(read, ".txt"), await asyncio.to_thread(read, ".json"))
        except LabelError as exc:
            print(f"skipped {path.name}: {path.with_suffix('.json').name}: {exc}", file=sys.stderr)
            counts["rejected"] += 1
            continue
        try:
            _, outcome = await service.import_image(dataset, await asyncio.to_thread(path.read_bytes), labels,
                                                    gold=args.gold, nsfw=args.nsfw, source_name=path.name)
        except HordeError as exc:
            print(f"skipped {path.name}: {exc.message}", file=sys.stderr)
            counts["rejected"] += 1
            continue
        counts[outcome] += 1
        counts["gold"] += bool(args.gold and labels.rating is not None)
    ignored = len(files) - len(images) - sum(1 for p in files if p.name in sidecars)
    print(f"Dataset {dataset}: {counts['added']} added, {counts['relabelled']} relabelled, {counts['unchanged']} "
          f"already there, {counts['rejected']} rejected ({counts['gold']} gold); {ignored} other files ignored.")
    return 0


async def _export_images(service: HordeService, out: Path, dataset: str | None) -> int:
    images = out / "images"
    await asyncio.to_thread(images.mkdir, parents=True, exist_ok=True)
    lines: list[str] = []
    missing = ratings = 0
    async for row, data in service.export_dataset(dataset):
        if data is None:
            missing += 1
            continue
        await asyncio.to_thread((out / row["file"]).write_bytes, data)
        lines.append(json.dumps(row, ensure_ascii=False))
        ratings += len(row["ratings"])
    await asyncio.to_thread((out / "manifest.jsonl").write_text, "".join(f"{line}\n" for line in lines),
                            encoding="utf-8")
    print(f"Exported {len(lines)} images with {ratings} trusted ratings to {out}"
          f"{f' ({missing} images missing from the store were left out)' if missing else ''}.")
    return 0
