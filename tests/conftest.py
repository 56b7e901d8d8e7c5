"""Shared fixtures: a fresh database per test on SQLite and (when it answers) PostgreSQL,
a service on a fake clock, and real HTTP servers on loopback.

horde-sdk reads its base URL and strict mode from the environment when it is imported, so
both are set here, before any test module imports it: the SDK tests serve on SDK_PORT.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp.test_utils import TestServer

from horde_core.api import create_app
from horde_core.clock import FakeClock
from horde_core.config import AppConfig
from horde_core.db import Database
from horde_core.service import HordeService
from horde_core.users.repo import UserRow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SDK_PORT = _free_port()
os.environ["TESTS_ONGOING"] = "1"
os.environ["AI_HORDE_URL"] = f"http://127.0.0.1:{SDK_PORT}/api/"
os.environ.pop("AI_HORDE_DEV_APIKEY", None)

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_REQUIRED = os.environ.get("HORDEBOT_TEST_POSTGRES") == "required"


def _postgres_answers() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


PG_AVAILABLE = _postgres_answers()
S3_REQUIRED = os.environ.get("HORDEBOT_TEST_S3") == "required"


@pytest.fixture(scope="session")
def s3_server():  # type: ignore[no-untyped-def]
    """One SeaweedFS S3 gateway for the session (skipped when it cannot start, required in CI)."""
    from tests.s3server import SeaweedS3

    try:
        server = SeaweedS3().start()
    except Exception as exc:
        if S3_REQUIRED:
            pytest.fail(f"an S3 server is required (HORDEBOT_TEST_S3=required) but did not start: {exc}")
        pytest.skip(f"no S3 server: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and not PG_AVAILABLE:
        if PG_REQUIRED:
            pytest.fail("PostgreSQL is required (HORDEBOT_TEST_POSTGRES=required) but does not answer")
        pytest.skip("PostgreSQL does not answer at 127.0.0.1:5432")
    return str(request.param)


@pytest.fixture
async def db_url(backend: str, tmp_path) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/horde.db"
        return
    import asyncpg

    name = f"hordebot_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        yield f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="postgres")
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config(tmp_path) -> AppConfig:  # type: ignore[no-untyped-def]
    return AppConfig(core={"data_dir": str(tmp_path / "data")},
                     api={"requests_per_second": 1000.0, "request_burst": 1000})


@pytest.fixture
async def service(db_url: str, config: AppConfig, clock: FakeClock) -> AsyncIterator[HordeService]:
    db = Database(db_url)
    await db.create_all()
    svc = HordeService(config, db, clock=clock)
    await svc.bootstrap()
    try:
        yield svc
    finally:
        await db.dispose()


UserFactory = Callable[..., Awaitable[tuple[UserRow, str]]]


@pytest.fixture
def make_user(service: HordeService) -> UserFactory:
    """Create a user with an API key: `user, key = await make_user("alice", kudos=100)`."""
    counter = iter(range(1, 10_000))

    async def make(name: str | None = None, **kwargs: object) -> tuple[UserRow, str]:
        return await service.create_user(name or f"user{next(counter)}", **kwargs)  # type: ignore[arg-type]

    return make


async def _serve(service: HordeService, port: int = 0) -> TestServer:
    server = TestServer(create_app(service, service.config), host="127.0.0.1", port=port)
    await server.start_server()
    service.config.api.public_url = str(server.make_url("")).rstrip("/")
    return server


@pytest.fixture
async def server(service: HordeService) -> AsyncIterator[TestServer]:
    """The real API on a loopback port; `server.make_url('/api/v2/...')`."""
    srv = await _serve(service)
    try:
        yield srv
    finally:
        await srv.close()


@pytest.fixture
async def sdk_server(service: HordeService) -> AsyncIterator[TestServer]:
    """The real API on the port horde-sdk was pointed at (AI_HORDE_URL)."""
    srv = await _serve(service, SDK_PORT)
    try:
        yield srv
    finally:
        await srv.close()
        await asyncio.sleep(0)
