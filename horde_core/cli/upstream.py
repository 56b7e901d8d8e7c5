"""`python main.py upstream status|passkey`: the public horde behind the local one, from the console.

`status` shows the account at the upstream (asked live), spend per community and day, pauses, and the relay's
last success and error (from the database, so it works beside a running server). `passkey` asks the upstream
for a new proxy passkey and keeps it in the database (the relay picks it up within a minute); it is never
printed in full, and a new one replaces the old one upstream too.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from horde_core.config import AppConfig

from .common import OpenCore, fail

NAME = "upstream"


def add_parser(sub: Any) -> None:
    upstream = sub.add_parser(NAME, help="upstream mode: a public horde behind the local one")
    upstream.add_argument("action", choices=["status", "passkey"],
                          help="status | passkey (generate the service account's proxy passkey and keep it)")
    upstream.add_argument("--days", type=int, default=7, help="days of spend to show")


async def run(args: argparse.Namespace, config: AppConfig, core: OpenCore) -> int:
    if args.action == "passkey":
        return await _passkey(config, core)
    async with core() as service:
        report = await service.upstream_report(args.days)
    up = config.upstream
    print(f"Upstream mode: {'on' if up.enabled and up.url else 'off'}"
          f"{f' ({up.url})' if up.url else ' (set [upstream] url, api_key and enabled)'}")
    if up.url:
        print(await _account(config))
    if report["proxying"]:
        print(f"Proxying: on (passkey from the {report['passkey_source']}): each member's requests carry their own "
              "Proxied-For value, so the upstream times out that member, not the operator's address")
    else:
        print("Proxying: off: every member shares the operator's address upstream, and one refused prompt times "
              "it out for everyone; run `python main.py upstream passkey` (needs a service account)")
    if report["account_spent_today"]:
        print(f"The operator's account lost {report['account_spent_today']:.1f} kudos today (as the relay saw it)")
    health = report["health"]
    if health:
        print(f"Relay: last success {_ago(health.get('last_ok'))}, last error {_ago(health.get('last_error_at'))}"
              f"{': ' + health['last_error'] if health.get('last_error') else ''}")
    print(f"Kinds: {', '.join(up.kinds)}; models: {', '.join(up.models) or 'any'}; "
          f"after {up.wait_seconds:.0f} s without a local worker; budget per day "
          f"{up.daily_budget or 'unlimited'}, per community {up.daily_budget_per_community or 'unlimited'}")
    print(f"\n{'day':<11} {'community':<32} {'kudos':>10} {'sent':>6} {'done':>6} {'failed':>6} {'refused':>7}")
    for row in report["days"]:
        print(f"{row['day']:<11} {row['community']:<32} {row['kudos']:>10.1f} {row['sent']:>6} {row['done']:>6} "
              f"{row['failed']:>6} {row['refused']:>7}")
    if not report["days"]:
        print("(nothing went upstream in these days)")
    for pause in report["pauses"]:
        what = "held back" if pause["community"].startswith(("member:", "user:", "ip:")) else "paused"
        who = "everyone" if pause["community"] == "*" else pause["community"]
        print(f"{what}: {who} until {_when(pause['until'])} ({pause['reason']})")
    return 0


async def _account(config: AppConfig) -> str:
    """One line: is the upstream reachable, and whose account is the operator's key."""
    from horde_core.upstream import UpstreamError, client_for

    client = client_for(config)
    try:
        alive = await client.heartbeat()
        try:
            account = await client.find_user()
            who = f"{account.get('username', '?')} with {account.get('kudos', '?')} kudos"
            if account.get("service") is False:
                who += " (NOT a service account: proxied_account and passkeys are refused)"
        except UpstreamError as exc:
            who = f"unknown ({exc.message})"
    finally:
        await client.close()
    return f"Upstream reachable: {'yes' if alive else 'no'}; account: {who}"


async def _passkey(config: AppConfig, core: OpenCore) -> int:
    from horde_core.upstream import UpstreamError, client_for

    up = config.upstream
    if not up.url:
        return fail("set [upstream] url and api_key first")
    if up.proxy_passkey:
        return fail("[upstream] proxy_passkey is set in the config or environment and wins over a stored one; a new "
                    "passkey would invalidate it. Remove it, then run this again.")
    client = client_for(config)
    try:
        passkey = await client.generate_passkey()
    except UpstreamError as exc:
        hint = " (the account must be a service account: ask the upstream moderators)" if exc.status == 403 else ""
        return fail(f"the upstream did not give a passkey: {exc.message}{hint}")
    finally:
        await client.close()
    async with core() as service:
        await service.upstream_store_passkey(passkey)
    print(f"Stored a new proxy passkey (...{passkey[-4:]}) in the database; it replaces any earlier one. Running "
          "relays use it within a minute: every request then names its member (Proxied-For).")
    return 0


def _when(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _ago(at: float | None) -> str:
    return "never" if not at else _when(at)
