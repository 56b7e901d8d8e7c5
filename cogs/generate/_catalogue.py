"""LoRAs and textual inversions in /generate: autocomplete from the catalogue (the shipped entries and the
guild's own, limited to the chosen model's base family), and what a pick changes in the request.

A pick is checked by the core (`catalogue_check`) before anything is queued: an unknown name or a model of
another base family is refused privately, with the core's reason. With no model chosen the request may run
only on models of the entry's family. Workers get the entry's `horde_name` (a CivitAI id or exact name); a
LoRA's trigger words join the prompt; a textual inversion is injected by the worker (`inject_ti`) into the
negative prompt when it is a negative embedding (most shipped ones are), into the prompt otherwise.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.errors import UserFacingError
from bot.settings import scope
from horde_core.service import CatalogueItem as Entry

MAX_MODELS = 50  # what the core accepts in one request
NEGATIVE_HINTS = ("neg", "bad")  # how negative embeddings are named: EasyNegative, badhandv4, ng_deepnegative


async def choices(service: Any, interaction: discord.Interaction, kind: str,
                  current: str) -> list[app_commands.Choice[str]]:
    """The best 25 entries for what was typed, of the family of the model already chosen (if any)."""
    model = getattr(interaction.namespace, "model", None) or ""
    family = service.model_family(model) if model else None
    found = await service.catalogue_search(scope(interaction.guild_id or 0), kind, current, family=family)
    return [app_commands.Choice(name=e.label, value=e.name) for e in found]


async def resolve(service: Any, guild_id: int, model: str, lora: str, ti: str) -> list[Entry]:
    """The picked entries, each checked against the chosen model; refused (privately) when one does not fit."""
    picked: list[Entry] = []
    for kind, name in (("lora", lora), ("ti", ti)):
        if not name:
            continue
        check = await service.catalogue_check(scope(guild_id), kind, name, model or None)
        if not check.ok or check.entry is None:
            raise UserFacingError(check.message)
        picked.append(check.entry)
    if len({e.family for e in picked}) > 1:
        lo, emb = picked
        raise UserFacingError("The LoRA `{lora}` is made for {lora_family} models and the textual inversion `{ti}` "
                              "for {ti_family} models: pick two of the same family.", lora=lo.name,
                              lora_family=lo.family, ti=emb.name, ti_family=emb.family)
    return picked


def is_negative(entry: Entry) -> bool:
    words = [entry.name, *entry.triggers]
    return any(hint in w.casefold() for w in words for hint in NEGATIVE_HINTS)


def _with_triggers(prompt: str, triggers: list[str]) -> str:
    positive, sep, negative = prompt.partition(" ### ")
    have = positive.casefold()
    extra = [t for t in triggers if t.casefold() not in have]
    if extra:
        positive = ", ".join([positive, *extra])
    return positive + sep + negative


def apply(request: dict[str, Any], picked: list[Entry], default_model: str, family_of: Any,
          models_of_family: Any) -> None:
    """Put the picks into the request; with no model chosen by the member, keep the guild's default only if it is
    of the picks' family, else let any model of that family run it."""
    if not picked:
        return
    params = request["params"]
    triggers: list[str] = []
    for entry in picked:
        if entry.kind == "lora":
            params.setdefault("loras", []).append({"name": entry.horde_name, "model": 1.0, "clip": 1.0})
            triggers += entry.triggers
        else:
            params.setdefault("tis", []).append({"name": entry.horde_name, "strength": 1.0,
                                                 "inject_ti": "negprompt" if is_negative(entry) else "prompt"})
    request["prompt"] = _with_triggers(request["prompt"], triggers)
    family = picked[0].family
    chosen = request.get("models") or []
    if chosen and chosen[0] != default_model:
        return  # the member's own model, already checked
    if default_model and family_of(default_model) == family:
        request["models"] = [default_model]
    else:
        request["models"] = models_of_family(family)[:MAX_MODELS]
