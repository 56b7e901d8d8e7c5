"""A bystander's heartbeat while the horde converts large source images, beside an idle baseline (same run).

Run by hand: `.venv/bin/python bench/image_load.py [--images 12] [--parallel 4] [--size 3072]`. The horde runs
as `python main.py` in its own process (fresh SQLite in a temp dir); this process sends anonymous img2img
requests with SIZExSIZE source images, PARALLEL at a time, while another client polls the heartbeat. Before
the fix, twelve 3072x3072 images four at a time pushed the heartbeat to p50 1.5 s, max 3 s: the images were
decoded on the event loop. Now they are decoded in the image pool (`core.image_threads`), so the heartbeat
stays near its idle figure. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def source_image(size: int) -> str:
    """A photo-like JPEG (gradients and noise): cheap to send, every pixel to decode."""
    noise = Image.effect_noise((size // 8, size // 8), 60).resize((size, size)).convert("L")
    img = Image.merge("RGB", (noise, Image.linear_gradient("L").resize((size, size)), noise.transpose(0)))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=85)
    return base64.b64encode(out.getvalue()).decode()


async def heartbeats(http: aiohttp.ClientSession, base: str, stop: asyncio.Event, every: float = 0.02) -> list[float]:
    times: list[float] = []
    while not stop.is_set():
        start = time.perf_counter()
        async with http.get(f"{base}/api/v2/status/heartbeat") as r:
            await r.read()
        times.append(time.perf_counter() - start)
        await asyncio.sleep(every)
    return times


def summary(name: str, times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    figures = {"p50": statistics.median(ordered), "p99": p99, "max": ordered[-1]}
    print(f"{name:<28} n={len(times):<5} p50 {figures['p50'] * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms   "
          f"max {figures['max'] * 1000:7.1f} ms")
    return figures


async def run(base: str, images: int, parallel: int, size: int) -> int:
    payload = source_image(size)
    print(f"source image: {size}x{size} JPEG, {len(payload) * 3 // 4 / 1e6:.1f} MB")
    async with aiohttp.ClientSession() as http:
        stop = asyncio.Event()
        idle_task = asyncio.create_task(heartbeats(http, base, stop))
        await asyncio.sleep(3.0)
        stop.set()
        idle = summary("heartbeat, idle", await idle_task)

        slots = asyncio.Semaphore(parallel)
        answers: list[int] = []

        async def one() -> None:
            async with slots, http.post(f"{base}/api/v2/generate/async", json={
                    "prompt": "a lighthouse", "source_image": payload, "source_processing": "img2img"}) as r:
                answers.append(r.status)

        stop = asyncio.Event()
        busy_task = asyncio.create_task(heartbeats(http, base, stop))
        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(images)))
        took = time.perf_counter() - start
        stop.set()
        busy = summary(f"heartbeat, {images} images", await busy_task)
    print(f"images: {images} in {took:.1f} s, answers {sorted(set(answers))}")
    print(f"ratio to idle: p50 x{busy['p50'] / idle['p50']:.1f}, p99 x{busy['p99'] / idle['p99']:.1f}, "
          f"max x{busy['max'] / idle['max']:.1f}")
    return 0 if all(a == 202 for a in answers) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--size", type=int, default=3072)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="hordebot-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HORDE_")}
        env.update({"HORDE_CORE__DATA_DIR": str(Path(tmp) / "data"), "HORDE_API__PORT": str(port),
                    "HORDE_API__REQUESTS_PER_SECOND": "1000", "HORDE_API__REQUEST_BURST": "1000",
                    "HORDE_CORE__ANONYMOUS_CONCURRENCY": "1000"})
        server = subprocess.Popen([sys.executable, "main.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    time.sleep(0.1)
            return asyncio.run(run(base, args.images, args.parallel, args.size))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
