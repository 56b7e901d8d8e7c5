"""`python main.py user create|list|kudos|key|role`: accounts from the operator's console."""

from __future__ import annotations

import argparse
from typing import Any

from horde_core.config import AppConfig
from horde_core.service.roles import ROLES, role_names

from .common import OpenCore

NAME = "user"


def add_parser(sub: Any) -> None:
    user = sub.add_parser(NAME, help="manage users").add_subparsers(dest="action", required=True)
    create = user.add_parser("create", help="create a user and print its API key last")
    create.add_argument("name")
    create.add_argument("--kudos", type=int, default=0)
    create.add_argument("--trusted", action="store_true")
    create.add_argument("--concurrency", type=int, default=None)
    user.add_parser("list", help="list users")
    rekey = user.add_parser("key", help="replace a user's API key (the old one stops working on every node)")
    rekey.add_argument("name")
    grant = user.add_parser("kudos", help="grant kudos through the ledger")
    grant.add_argument("name")
    grant.add_argument("amount", type=int)
    grant.add_argument("--note", default="granted from the command line")
    role = user.add_parser("role", help="set a user's roles (only the ones named change), then show them")
    role.add_argument("name")
    for name in ROLES:
        both = role.add_mutually_exclusive_group()
        both.add_argument(f"--{name}", dest=name, action="store_const", const=True, default=None,
                          help=f"give the {name} role")
        both.add_argument(f"--no-{name}", dest=name, action="store_const", const=False, help="take it away")


async def run(args: argparse.Namespace, config: AppConfig, core: OpenCore) -> int:
    async with core() as service:
        if args.action == "create":
            user, key = await service.create_user(args.name, kudos=args.kudos, trusted=args.trusted,
                                                  concurrency=args.concurrency)
            print(f"Created {user.display_name} with {user.kudos} kudos"
                  f"{' (trusted)' if user.trusted else ''}. API key (shown once):")
            print(key)
        elif args.action == "list":
            print(f"{'id':>6}  {'username':<30} {'kudos':>10}  trusted  concurrency")
            for u in await service.list_users():
                print(f"{u.id:>6}  {u.display_name:<30} {u.kudos:>10}  {'yes' if u.trusted else 'no':<7}  "
                      f"{u.concurrency}")
        elif args.action == "kudos":
            user = await service.grant_kudos(args.name, args.amount, args.note)
            print(f"{user.display_name} now has {user.kudos} kudos.")
        elif args.action == "key":
            user = await service.user_by_name(args.name)
            key = await service.regenerate_key(user.id)
            print(f"{user.display_name} has a new API key; the old one no longer works. API key (shown once):")
            print(key)
        elif args.action == "role":
            changes = {name: getattr(args, name) for name in ROLES if getattr(args, name) is not None}
            user = await service.set_user_roles_cli(args.name, **changes)
            print(f"{user.display_name}: roles: {', '.join(role_names(user)) or 'none'}")
    return 0
