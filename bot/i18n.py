"""Command names, descriptions and replies in each member's language, through discord.py's Translator.

Translations live in `bot/locales/<language>.json` as two tables keyed by the English original:
`names` (command, group and option names: lowercase, no spaces, as Discord requires) and `text`
(descriptions, choice names and replies). English is the key, so a text nobody translated yet simply
stays English. Replies go through `tr(interaction, "English {placeholder}", placeholder=...)`, which picks
the member's locale (`interaction.locale`); the tables are read once, when the bot sets its translator.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Where

# Discord locales we have a table for -> the table's file (bot/locales/<stem>.json).
LANGUAGES: dict[discord.Locale, str] = {discord.Locale.german: "de"}
_NAMES = (Where.command_name, Where.group_name, Where.parameter_name)


class Translations:
    """Every language's tables, read from the package (works from a wheel too)."""

    def __init__(self, tables: dict[str, dict[str, dict[str, str]]]) -> None:
        self.tables = tables

    @classmethod
    def load(cls) -> Translations:
        folder = resources.files(__package__) / "locales"
        tables = {}
        for stem in LANGUAGES.values():
            data = json.loads((folder / f"{stem}.json").read_text(encoding="utf-8"))
            tables[stem] = {"names": dict(data.get("names", {})), "text": dict(data.get("text", {}))}
        return cls(tables)

    def _table(self, locale: discord.Locale | str | None, kind: str) -> dict[str, str]:
        try:
            known = locale if isinstance(locale, discord.Locale) else discord.Locale(str(locale))
        except ValueError:  # a locale discord.py does not know: English
            return {}
        return self.tables.get(LANGUAGES.get(known, ""), {}).get(kind, {})

    def text(self, locale: discord.Locale | str | None, english: str) -> str:
        return self._table(locale, "text").get(english, english)

    def find(self, locale: discord.Locale | str | None, english: str) -> str | None:
        return self._table(locale, "text").get(english)

    def name(self, locale: discord.Locale | str | None, english: str) -> str | None:
        return self._table(locale, "names").get(english)


class HordeTranslator(app_commands.Translator):
    """Hands Discord the translated names and descriptions when commands sync."""

    def __init__(self, translations: Translations | None = None) -> None:
        self.translations = translations

    async def load(self) -> None:
        if self.translations is None:
            self.translations = Translations.load()

    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        if self.translations is None:
            return None
        if context.location in _NAMES:
            return self.translations.name(locale, string.message)
        return self.translations.find(locale, string.message)


def translations_of(client: Any) -> Translations | None:
    tree = getattr(client, "tree", None)
    translator = getattr(tree, "translator", None)
    return getattr(translator, "translations", None)


def tr_for(client: Any, locale: discord.Locale | str | None, english: str, /, **params: Any) -> str:
    """`english` in `locale` (English when there is no translation), with `params` filled in. For messages
    no interaction asked for, e.g. posted in a channel in the guild's `preferred_locale`."""
    translations = translations_of(client)
    template = translations.text(locale, english) if translations is not None else english
    return template.format(**params) if params else template


def tr(interaction: discord.Interaction, english: str, /, **params: Any) -> str:
    """A reply in the member's language (English when there is no translation), with `params` filled in."""
    return tr_for(interaction.client, interaction.locale, english, **params)
