"""What the operator controls and sees: budgets per day and per guild, `is_possible` with the upstream as
the only worker, and `python main.py upstream status` beside a running horde."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from horde_core.clock import FakeClock
from horde_core.service import HordeService
from horde_core.upstream import UpstreamRelay
from horde_core.upstream.relay import OFFER_TTL
from tests.helpers import image_request
from tests.public_horde import Public

ROOT = Path(__file__).resolve().parent.parent.parent


def _stamp_head(sync_conn: object) -> None:
    from alembic import command

    from horde_core.db import alembic_config

    command.stamp(alembic_config(sync_conn), "head")


async def _round(relay: UpstreamRelay, public: Public) -> None:
    await relay.tick()
    await public.work_images()
    await relay.tick()


async def test_a_guild_over_its_daily_budget_waits_for_local_workers(
        service: HordeService, public: Public, relay: UpstreamRelay, clock: FakeClock, make_user) -> None:
    service.config.upstream.daily_budget_per_community = 1.0
    member, _ = await make_user("member", kudos=500)
    await service.request_images(member, image_request("a first fox", proxied_account="discord:1:1"))
    await _round(relay, public)
    over = await service.request_images(member, image_request("a second fox", proxied_account="discord:1:1"))
    other = await service.request_images(member, image_request("a third fox", proxied_account="discord:2:1"))
    await relay.tick()
    assert [b["prompt"] for b in public.sent()] == ["a first fox", "a third fox"]
    assert (await service.check(over.id)).waiting == 1 and (await service.check(other.id)).processing == 1
    clock.advance(86400)  # a new day, a new budget
    await relay.tick()
    assert public.sent()[-1]["prompt"] == "a second fox"


async def test_the_daily_budget_stops_everything_when_spent(service: HordeService, public: Public,
                                                           relay: UpstreamRelay, make_user) -> None:
    service.config.upstream.daily_budget = 1.0
    member, _ = await make_user("member", kudos=500)
    await service.request_images(member, image_request("a first owl", proxied_account="discord:1:1"))
    await _round(relay, public)
    await service.request_images(member, image_request("a second owl", proxied_account="discord:2:1"))
    await relay.tick()
    assert len(public.sent()) == 1


async def test_the_upstream_makes_requests_possible_without_local_workers(
        service: HordeService, public: Public, relay: UpstreamRelay, make_user) -> None:
    service.config.upstream.wait_seconds = 60
    member, _ = await make_user("member", kudos=500)
    accepted = await service.request_images(member, image_request("a heron"))
    assert not (await service.check(accepted.id)).is_possible
    await public.work_images()  # the public worker is online: the upstream offers its model
    await relay.tick()
    assert (await service.check(accepted.id)).is_possible
    assert service.upstream_serves_model("image", "stable_diffusion")
    assert not service.upstream_serves_model("image", "some_model_nobody_serves")


async def _cli(service: HordeService, public: Public, *args: str) -> tuple[int, str, str]:
    """`python main.py upstream ...` in its own process, on the test's database, against the public horde."""
    await service.db.run_sync(_stamp_head)  # the fixture built the tables from the models; the CLI migrates
    env = {k: v for k, v in os.environ.items() if not k.startswith("HORDE_")}
    env.update(HORDE_CORE__DATABASE_URL=service.db.url, HORDE_CORE__DATA_DIR=service.config.core.data_dir,
               HORDE_UPSTREAM__ENABLED="true", HORDE_UPSTREAM__URL=public.url("/api/"),
               HORDE_UPSTREAM__API_KEY=public.operator_key)
    proc = await asyncio.create_subprocess_exec(sys.executable, str(ROOT / "main.py"), "upstream", *args, env=env,
                                                cwd=str(ROOT), stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return int(proc.returncode or 0), out.decode(), err.decode()


async def test_upstream_status_shows_account_spend_and_pauses(service: HordeService, public: Public,
                                                             relay: UpstreamRelay, make_user) -> None:
    member, _ = await make_user("member", kudos=500)
    await service.request_images(member, image_request("a wren", proxied_account="discord:4242:1"))
    await _round(relay, public)
    code, text, err = await _cli(service, public, "status")
    assert code == 0, err
    assert "Upstream reachable: yes" in text and "hordebot operator" in text
    assert "discord:4242" in text
    assert "Proxying: off" in text  # no passkey yet: and it says what that risks
    assert public.operator_key not in text  # the key is never printed


async def test_the_kudos_the_operators_account_lost_are_on_the_books(
        service: HordeService, public: Public, relay: UpstreamRelay, clock: FakeClock, make_user) -> None:
    member, _ = await make_user("member", kudos=500)
    await service.request_images(member, image_request("a robin", proxied_account="discord:1:1"))
    await _round(relay, public)
    clock.advance(OFFER_TTL)
    await relay.tick()  # the relay looks at the operator's account again
    operator = await public.service.authenticate(public.operator_key)
    now_left = (await public.service.user_info(operator.id)).kudos
    report = await service.upstream_report()
    assert report["account_spent_today"] == 100_000 - now_left > 0
    code, text, err = await _cli(service, public, "status")
    assert code == 0, err
    assert f"{100_000 - now_left:.1f}" in text


async def test_the_passkey_command_makes_one_upstream_and_keeps_it_unprinted(
        service: HordeService, public: Public, relay: UpstreamRelay, make_user) -> None:
    code, text, err = await _cli(service, public, "passkey")
    assert code == 0, err
    passkey = public.rules.proxy_passkey
    assert passkey and await service.upstream_passkey() == (passkey, "database")
    assert passkey not in text + err and passkey[-4:] in text  # only its end, to tell keys apart
    code, text, err = await _cli(service, public, "status")
    assert code == 0, err
    assert "Proxying: on" in text and passkey not in text + err

    member, _ = await make_user("member", kudos=500)
    await service.request_images(member, image_request("a wren", proxied_account="discord:1:1"))
    await relay.tick()
    [entry] = [e for e in public.log if e["path"] == "/api/v2/generate/async"]
    assert entry["headers"]["Proxy-Authorization"] == passkey
    assert entry["headers"]["Proxied-For"] == await service.upstream_proxied_for("member:discord:1:1")


async def test_the_passkey_command_needs_a_service_account(service: HordeService, public: Public) -> None:
    public.rules.service_account = False
    code, text, err = await _cli(service, public, "passkey")
    assert code == 2
    assert "service account" in err and not public.rules.proxy_passkey
    assert await service.upstream_passkey() == ("", "")
