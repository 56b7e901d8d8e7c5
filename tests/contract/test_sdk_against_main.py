"""The issue's acceptance, literally: `python main.py` serves, `python main.py user create` makes the keys,
and a horde-sdk client and worker (strict mode) complete an image request against it over real HTTP."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from horde_sdk.ai_horde_api.ai_horde_clients import AIHordeAPIAsyncManualClient
from horde_sdk.ai_horde_api.apimodels import (
    ImageGenerateAsyncRequest,
    ImageGenerateAsyncResponse,
    ImageGenerateCheckRequest,
    ImageGenerateCheckResponse,
    ImageGenerateJobPopRequest,
    ImageGenerateJobPopResponse,
    ImageGenerateStatusRequest,
    ImageGenerateStatusResponse,
    ImageGenerationInputPayload,
    ImageGenerationJobSubmitRequest,
    JobSubmitResponse,
)
from horde_sdk.ai_horde_api.consts import GENERATION_STATE
from PIL import Image

from tests.conftest import SDK_PORT
from tests.contract.sdk import call, tiny_webp

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def backend() -> str:
    return "sqlite"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HORDE_")}
    env.update(HORDE_CORE__DATA_DIR=str(tmp_path / "data"), HORDE_API__PORT=str(SDK_PORT))
    return env


def _key(env: dict[str, str], name: str) -> str:
    made = subprocess.run([sys.executable, str(ROOT / "main.py"), "user", "create", name, "--kudos", "100"],
                          env=env, capture_output=True, text=True, timeout=60, cwd=str(ROOT))
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


@pytest.fixture
def horde(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = _env(tmp_path)
    keys = {"client": _key(env, "client"), "worker": _key(env, "worker")}
    server = subprocess.Popen([sys.executable, str(ROOT / "main.py")], env=env, cwd=str(ROOT),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield keys
    finally:
        server.terminate()
        server.wait(timeout=30)


async def _up(http: aiohttp.ClientSession) -> None:
    for _ in range(300):  # bounded: the server is listening within a few seconds
        try:
            async with http.get(f"http://127.0.0.1:{SDK_PORT}/api/v2/status/heartbeat") as r:
                if r.status == 200:
                    return
        except aiohttp.ClientError:
            await asyncio.sleep(0.05)
    raise AssertionError("python main.py never answered")


async def test_sdk_client_and_worker_against_python_main(horde: dict[str, str]) -> None:
    async with aiohttp.ClientSession() as http:
        await _up(http)
        sdk = AIHordeAPIAsyncManualClient(http)
        accepted = await call(sdk, ImageGenerateAsyncRequest(
            apikey=horde["client"], prompt="a lighthouse at dusk", models=["stable_diffusion"],
            params=ImageGenerationInputPayload(width=512, height=512, steps=20, n=1)), ImageGenerateAsyncResponse)
        pop = await call(sdk, ImageGenerateJobPopRequest(
            apikey=horde["worker"], name="SDK Worker", models=["stable_diffusion"], max_pixels=512 * 512,
            bridge_agent="AI Horde Worker reGen:8.0.1-citests:https://example.invalid", nsfw=False, threads=1,
            amount=1), ImageGenerateJobPopResponse)
        assert pop.id_ is not None and pop.r2_upload
        async with http.put(pop.r2_upload, data=tiny_webp((10, 200, 30))) as put:
            assert put.status == 200
        reward = await call(sdk, ImageGenerationJobSubmitRequest(
            apikey=horde["worker"], id=pop.id_, generation="R2", state=GENERATION_STATE.ok, seed=1),
            JobSubmitResponse)
        assert reward.reward > 0
        check = await call(sdk, ImageGenerateCheckRequest(id=accepted.id_), ImageGenerateCheckResponse)
        assert check.done and check.finished == 1
        status = await call(sdk, ImageGenerateStatusRequest(id=accepted.id_), ImageGenerateStatusResponse)
        async with http.get(status.generations[0].img) as got:
            image = Image.open(io.BytesIO(await got.read()))
        assert image.size == (64, 64) and image.convert("RGB").getpixel((5, 5)) == (10, 200, 30)
