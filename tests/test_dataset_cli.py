"""`main.py dataset import|export` on the entry point: what an operator runs to build and publish the dataset."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image

from horde_core.config import AppConfig
from horde_core.db import Database
from horde_core.ratings.labels import Labels
from horde_core.service import HordeService
from tests.helpers import tiny_png
from tests.test_cli import _env, cli


def _image(fmt: str, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), colour).save(out, format=fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    return out.getvalue()


async def test_import_adds_images_with_labels_and_reports_what_it_skipped(tmp_path: Path, db_url: str) -> None:
    env = _env(tmp_path, db_url)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.png").write_bytes(_image("PNG", (200, 0, 0)))
    (folder / "a.txt").write_text("a red square\n")
    (folder / "b.jpg").write_bytes(_image("JPEG", (0, 200, 0)))
    (folder / "b.json").write_text(json.dumps({"caption": "a green square", "rating": 7, "artifacts": 1}))
    (folder / "c.webp").write_bytes(_image("WEBP", (0, 0, 200)))
    (folder / "fake.png").write_text("this is not an image")
    (folder / "d.png").write_bytes(_image("PNG", (9, 9, 9)))
    (folder / "d.json").write_text('{"rating": 11}')
    (folder / "notes.md").write_text("ignored")

    first = cli(env, "dataset", "import", str(folder), "--dataset", "squares", "--gold")
    assert first.returncode == 0, first.stderr
    assert "3 added, 0 relabelled, 0 already there, 2 rejected (1 gold); 1 other files ignored" in first.stdout
    assert "fake.png: not an image" in first.stderr and "d.json: rating must be" in first.stderr
    again = cli(env, "dataset", "import", str(folder), "--dataset", "squares", "--gold")
    assert "0 added, 0 relabelled, 3 already there" in again.stdout
    refused = cli(env, "dataset", "import", str(folder), "--dataset", "hordebot")
    assert refused.returncode == 2 and "horde's own shared images" in refused.stderr

    db = Database(db_url)
    service = HordeService(AppConfig(core={"data_dir": str(tmp_path / "data")}), db)
    try:
        await service.bootstrap()
        rater, _ = await service.create_user("rater")
        seen = {}
        while (image := await service.next_to_rate(rater)) is not None:
            outline, data = await service.job_outline(image["id"])
            seen[outline["prompt"]] = Image.open(io.BytesIO(data or b"")).getpixel((0, 0))
            await service.rate_shared(rater, image["id"], 5, None)
        assert seen.keys() == {"a red square", "a green square", ""}  # the gold image is served too
        assert (seen["a red square"], seen[""]) == ((200, 0, 0), (0, 0, 200))  # imports keep every pixel
    finally:
        await db.dispose()


async def test_export_writes_images_and_a_manifest_of_trusted_ratings(tmp_path: Path, db_url: str) -> None:
    env = _env(tmp_path, db_url)
    db = Database(db_url)
    await db.migrate()
    service = HordeService(AppConfig(core={"data_dir": str(tmp_path / "data")}), db)
    try:
        await service.bootstrap()
        kept, _ = await service.import_image("faces", tiny_png(1), Labels(caption="kept"))
        await service.import_image("faces", tiny_png(2), Labels(caption="only unproven raters"))
        operator, _ = await service.create_user("operator", trusted=True)
        stranger, _ = await service.create_user("stranger")
        await service.rate_shared(operator, kept, 9, 0, client_agent="op:1:x")
        await service.rate_shared(stranger, kept, 2, None)
        image = await service.image_bytes(kept)
    finally:
        await db.dispose()
    out = tmp_path / "out"
    done = cli(env, "dataset", "export", str(out))
    assert done.returncode == 0, done.stderr
    assert f"Exported 1 images with 1 trusted ratings to {out}" in done.stdout
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["id"] == kept and rows[0]["caption"] == "kept"
    assert (rows[0]["rating_mean"], rows[0]["rating_count"], rows[0]["raters"]) == (9.0, 1, 1)
    assert rows[0]["ratings"][0]["client_agent"] == "op:1:x" and rows[0]["ratings"][0]["artifacts"] == 0
    assert (out / rows[0]["file"]).read_bytes() == image
    assert sorted(p.name for p in (out / "images").iterdir()) == [f"{kept}.webp"]
    again = cli(env, "dataset", "export", str(tmp_path / "again"), "--dataset", "faces")
    rows_again = [json.loads(line) for line in (tmp_path / "again" / "manifest.jsonl").read_text().splitlines()]
    assert again.returncode == 0 and rows_again[0]["ratings"][0]["rater"] == rows[0]["ratings"][0]["rater"]
