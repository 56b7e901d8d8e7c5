"""The admin CLI on the entry point, against a fresh database, also while the server runs."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from horde_core.safety import repo as safety_repo
from horde_core.service import BadRequest, HordeService

ROOT = Path(__file__).resolve().parent.parent


def _env(tmp_path: Path, db_url: str, port: int = 0) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HORDE_")}
    env.update(HORDE_CORE__DATA_DIR=str(tmp_path / "data"), HORDE_CORE__DATABASE_URL=db_url,
               HORDE_API__PORT=str(port or 7001))
    return env


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], env=env, capture_output=True,
                          text=True, timeout=60, cwd=str(ROOT))


def test_user_commands(tmp_path: Path, db_url: str) -> None:
    env = _env(tmp_path, db_url)
    made = cli(env, "user", "create", "alice", "--kudos", "50", "--trusted", "--concurrency", "7")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert len(key) == 22 and " " not in key
    listed = cli(env, "user", "list")
    assert "alice#1" in listed.stdout and " 50 " in listed.stdout and "yes" in listed.stdout
    granted = cli(env, "user", "kudos", "alice", "25")
    assert granted.returncode == 0 and "75 kudos" in granted.stdout
    missing = cli(env, "user", "kudos", "nobody", "5")
    assert missing.returncode == 2 and "nobody" in missing.stderr
    bad = cli(env, "user", "create", "a#b")
    assert bad.returncode == 2


async def test_cli_works_while_the_server_runs(tmp_path: Path, db_url: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = _env(tmp_path, db_url, port)
    server = subprocess.Popen([sys.executable, str(ROOT / "main.py")], env=env, cwd=str(ROOT),  # noqa: ASYNC220
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):  # bounded wait for the server to listen
                try:
                    async with http.get(f"http://127.0.0.1:{port}/api/v2/status/heartbeat") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
            made = await asyncio.to_thread(cli, env, "user", "create", "bob", "--kudos", "12")
            assert made.returncode == 0, made.stderr
            key = made.stdout.strip().splitlines()[-1]
            async with http.get(f"http://127.0.0.1:{port}/api/v2/find_user", headers={"apikey": key}) as r:
                me = await r.json()
            assert r.status == 200 and me["username"] == "bob#1" and me["kudos"] == 12.0
            rekeyed = await asyncio.to_thread(cli, env, "user", "key", "bob")
            assert rekeyed.returncode == 0, rekeyed.stderr
            new_key = rekeyed.stdout.strip().splitlines()[-1]
            assert new_key != key and len(new_key) == 22
            async with http.get(f"http://127.0.0.1:{port}/api/v2/find_user", headers={"apikey": new_key}) as r:
                assert r.status == 200
            if db_url.startswith("postgresql"):  # the server heard it (LISTEN/NOTIFY): the old key is refused
                assert await _refused_within(http, f"http://127.0.0.1:{port}/api/v2/find_user", key, 2.0)
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    assert server.returncode == 0, out
    assert f"http://127.0.0.1:{port}/api/" in out  # it told us where workers attach
    assert "running the horde alone" in out


async def _refused_within(http: aiohttp.ClientSession, url: str, key: str, seconds: float) -> bool:
    """Whether the server refuses `key` within `seconds` (its auth cache would keep it 10 s without the event)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        async with http.get(url, headers={"apikey": key}) as r:
            if r.status in (401, 404):  # find_user answers 404 UserNotFound for a key nobody has
                return True
        await asyncio.sleep(0.02)  # polling the server under test, bounded by the deadline
    return False


def test_safety_check_prints_verdicts_in_order(tmp_path: Path) -> None:
    env = _env(tmp_path, f"sqlite:///{tmp_path}/none/horde.db")
    one = cli(env, "safety", "check", "--negative", "adult, mature", "nude kid")
    verdict = json.loads(one.stdout)
    assert one.returncode == 0 and verdict["blocked"] is True and set(verdict["groups"]) == {"underage", "sexual"}
    lines = [{"prompt": "a child flying a kite"}, {"prompt": "n.a.k.e.d k1d"}, {"prompt": "nude woman", "negative": ""}]
    stream = subprocess.run([sys.executable, str(ROOT / "main.py"), "safety", "check", "--jsonl"], env=env,
                            input="\n".join(json.dumps(x) for x in lines) + "\n", capture_output=True, text=True,
                            timeout=60, cwd=str(ROOT))
    verdicts = [json.loads(line) for line in stream.stdout.splitlines()]
    assert [v["blocked"] for v in verdicts] == [False, True, False]
    assert all({"blocked", "score", "groups"} <= set(v) for v in verdicts)
    assert not (tmp_path / "none").exists()  # checking prompts creates no database


def test_safety_terms_round_trip_through_the_database(tmp_path: Path, db_url: str) -> None:
    env = _env(tmp_path, db_url)
    out = tmp_path / "terms.json"
    assert cli(env, "safety", "terms", "export", str(out)).returncode == 0
    terms = json.loads(out.read_text())
    terms["groups"]["underage"]["en"]["zorblax"] = 1.5
    out.write_text(json.dumps(terms))
    assert cli(env, "safety", "terms", "import", str(out)).returncode == 0
    assert json.loads(cli(env, "safety", "check", "nude zorblax").stdout)["blocked"] is True
    out.write_text('{"groups": 3}')
    bad = cli(env, "safety", "terms", "import", str(out))
    assert bad.returncode == 2 and "not valid" in bad.stderr


def test_user_role_sets_and_shows_roles(tmp_path: Path, db_url: str) -> None:
    env = _env(tmp_path, db_url)
    assert cli(env, "user", "create", "carol").returncode == 0
    shown = cli(env, "user", "role", "carol")
    assert shown.returncode == 0, shown.stderr
    assert "carol#1" in shown.stdout and "roles: none" in shown.stdout
    made = cli(env, "user", "role", "carol", "--moderator", "--customizer", "--trusted")
    assert made.returncode == 0, made.stderr
    assert "roles: moderator, customizer, trusted" in made.stdout
    changed = cli(env, "user", "role", "carol", "--no-moderator", "--flagged", "--no-trusted")
    assert changed.returncode == 0, changed.stderr
    assert "roles: customizer, flagged" in changed.stdout  # --customizer was kept: only named roles change
    assert "roles: customizer, flagged" in cli(env, "user", "role", "carol").stdout
    missing = cli(env, "user", "role", "nobody", "--moderator")
    assert missing.returncode == 2 and "nobody" in missing.stderr
    both = cli(env, "user", "role", "carol", "--moderator", "--no-moderator")
    assert both.returncode == 2  # argparse refuses a role both given and taken


async def test_set_user_roles_cli_writes_one_audited_change(service: HordeService) -> None:
    user, _ = await service.create_user("dave")
    changed = await service.set_user_roles_cli("dave", moderator=True, flagged=True)
    assert (changed.moderator, changed.customizer, changed.flagged, changed.trusted) == (True, False, True, False)
    async with service.db.read() as conn:
        entries = await safety_repo.moderation_log(conn, None)
    assert [(e.action, e.subject, e.client_agent) for e in entries] == [("roles", f"user:{user.id}", "cli")]
    assert "moderator" in entries[0].prompt and "flagged" in entries[0].prompt
    unchanged = await service.set_user_roles_cli("dave")
    assert unchanged == changed
    async with service.db.read() as conn:
        assert len(await safety_repo.moderation_log(conn, None)) == 1  # nothing changed, nothing logged
    with pytest.raises(BadRequest):
        await service.set_user_roles_cli("Anonymous", moderator=True)
