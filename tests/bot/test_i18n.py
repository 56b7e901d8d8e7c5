"""Languages: every command of the translated features has German names and descriptions Discord accepts,
every reply text they use has a German translation with the same placeholders, and members whose Discord
speaks German read German."""

from __future__ import annotations

import ast
import json
import re
import string
from pathlib import Path

import discord

from bot import settings as guild_settings
from bot.errors import HINTS
from bot.i18n import HordeTranslator, Translations
from tests.bot.harness import DiscordHarness
from tests.bot.social import admin

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = ["cogs/info", "cogs/gallery", "cogs/party", "cogs/settings", "cogs/account", "cogs/kudos/_cog.py",
              "cogs/kudos/_views.py", "bot/settings.py", "bot/kudos_emoji.py", "bot/role_rules.py", "bot/errors.py"]
COGS = ("cogs.info.", "cogs.gallery.", "cogs.party.", "cogs.settings.", "cogs.account.", "cogs.kudos.")
TEMPLATE_CALLS = {"tr": 1, "tr_for": 2, "say": 0, "UserFacingError": 0, "SettingError": 0}
NAME = re.compile(r"^[-_\w]{1,32}$")


def _files() -> list[Path]:
    found: list[Path] = []
    for entry in TRANSLATED:
        path = ROOT / entry
        found += sorted(path.glob("*.py")) if path.is_dir() else [path]
    return found


def _texts(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _texts(node.body) + _texts(node.orelse)
    return []


def english_texts() -> set[str]:
    """Every English template the translated features hand to tr(), say() or a refusal, and the texts they
    look up by value (setting descriptions, hints, ledger reasons)."""
    texts: set[str] = set()
    for path in _files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                index = TEMPLATE_CALLS.get(func)
                if index is not None and len(node.args) > index:
                    texts.update(_texts(node.args[index]))
    from cogs.kudos._views import REASONS

    texts.update(s.description for s in guild_settings.SETTINGS.values())
    texts.update(h for h in HINTS.values())
    texts.update(REASONS.values())
    return {t for t in texts if t.strip()}


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_reply_text_has_a_german_translation_with_the_same_placeholders() -> None:
    german = Translations.load().tables["de"]["text"]
    texts = english_texts()
    missing = sorted(t for t in texts if t not in german)
    assert not missing, "untranslated:\n" + "\n".join(json.dumps(t) for t in missing)
    for english in texts:
        assert _fields(german[english]) == _fields(english), english


async def test_every_command_has_german_names_and_descriptions_discord_accepts(h: DiscordHarness) -> None:
    tree = h.bot.tree
    translator = tree.translator
    assert isinstance(translator, HordeTranslator)
    checked = 0
    top: list[str] = []
    for command in tree.get_commands():
        if not (command.module or "").startswith(COGS):
            continue
        payload = await command.get_translated_payload(tree, translator)
        top.append(payload.get("name_localizations", {}).get("de") or payload["name"])
        todo = [payload]
        while todo:
            item = todo.pop()
            checked += 1
            german = item.get("name_localizations", {}).get("de")
            assert german and NAME.match(german) and german == german.lower(), (item["name"], german)
            assert item.get("description_localizations", {}).get("de"), item["name"]
            for choice in item.get("choices", []):
                assert choice.get("name_localizations", {}).get("de"), (item["name"], choice["name"])
            siblings = [o for o in item.get("options", []) if isinstance(o, dict)]
            names = [o.get("name_localizations", {}).get("de") for o in siblings]
            assert len(names) == len(set(names)), (item["name"], names)
            todo += siblings
    assert checked > 70  # commands, groups and options: the walk really happened
    others = [c.name for c in tree.get_commands() if not (c.module or "").startswith(COGS)]
    assert len(set(top + others)) == len(top + others), top  # no German name clashes with another command


async def test_members_whose_discord_speaks_german_read_german(h: DiscordHarness) -> None:
    news = await h.slash("news", user=h.member(1), locale="de")
    assert news.embeds[0]["title"] == "Neuigkeiten"
    empty = await h.slash("gallery", user=h.member(1), locale="de")
    assert "noch keine Bilder" in empty.content
    boss = await admin(h, 0)
    bad = await h.slash("settings set", {"key": "max_steps", "value": "9000"}, user=boss, locale="de")
    assert bad.ephemeral and bad.content == "`max_steps` ist höchstens 500."
    english = await h.slash("settings set", {"key": "max_steps", "value": "9000"}, user=boss, locale="en-GB")
    assert english.content == "`max_steps` is at most 500."
    assert (await h.slash("kudos balance", user=h.member(1), locale=discord.Locale.german.value)).content.startswith(
        "Du hast")
