"""Turning a Discord conversation into a text-model prompt, and the answer back into messages (pure).

The prompt is a plain transcript, one "Name: text" turn per speaker change, oldest first, ending with
"<BotName>:" so the model writes the bot's next turn. Text models have a fixed context window, so the
transcript is cut from the oldest end until it fits, keeping room for the answer. Tokens are estimated as
len(text) // 4: close enough for English, and no tokenizer of every model has to ship with the bot.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ANSWER_TOKENS = 200  # about 800 characters: one Discord message, a few kudos per turn
MIN_ANSWER_TOKENS = 16  # the core refuses shorter answers
MIN_CONTEXT, MAX_CONTEXT = 80, 32000  # what the core accepts as max_context_length
MESSAGE_LIMIT = 2000  # characters in one Discord message
MARKER = "💬 hordebot chat"  # footer of a chat's opening message; the bot continues only such threads
_SEP = " · "


@dataclass(frozen=True, slots=True)
class Turn:
    speaker: str
    text: str


def tokens(text: str) -> int:
    return len(text) // 4


def speaker_name(name: str) -> str:
    """One short line without colons, so a name can never look like the start of another turn."""
    return " ".join(name.replace(":", " ").split())[:32] or "Member"


def merge(turns: Iterable[Turn]) -> list[Turn]:
    """Several messages in a row from one person are one turn (people send thoughts in pieces)."""
    out: list[Turn] = []
    for turn in turns:
        text = turn.text.strip()
        if not text:
            continue
        if out and out[-1].speaker == turn.speaker:
            out[-1] = Turn(turn.speaker, f"{out[-1].text}\n{text}")
        else:
            out.append(Turn(turn.speaker, text))
    return out


def build_prompt(turns: Sequence[Turn], bot_name: str, budget: int) -> str:
    """The newest turns that fit in `budget` tokens, oldest first, ending with "<bot_name>:".

    When even the newest turn alone is too long, its end is kept: the member's last words are what the
    bot must answer.
    """
    suffix = f"{bot_name}:"
    max_chars = max(0, budget) * 4 + 3  # the largest length whose len // 4 is still within budget
    room = max_chars - len(suffix)
    kept: list[str] = []
    for turn in reversed(merge(turns)):
        line = f"{turn.speaker}: {turn.text}\n"
        if len(line) <= room:
            kept.append(line)
            room -= len(line)
            continue
        if not kept:
            head = f"{turn.speaker}: …"
            tail = room - len(head) - 1
            if tail > 0:
                kept.append(f"{head}{turn.text[-tail:]}\n")
        break
    return "".join(reversed(kept)) + suffix


def stop_sequences(speakers: Iterable[str], bot_name: str) -> list[str]:
    """Where the model starts writing someone else's turn, the answer ends."""
    names = dict.fromkeys([*speakers, bot_name])
    return [f"\n{name}:" for name in names][:16]


def clean_answer(text: str, stops: Iterable[str]) -> str:
    """Workers do not all honour stop sequences; cut at the first one ourselves."""
    cut = len(text)
    for stop in stops:
        found = text.find(stop)
        if found != -1:
            cut = min(cut, found)
    return text[:cut].strip()


def chunks(text: str, size: int = MESSAGE_LIMIT) -> list[str]:
    """Discord messages hold 2000 characters; split long answers at a line or word break."""
    out: list[str] = []
    rest = text.strip()
    while len(rest) > size:
        cut = rest.rfind("\n", 0, size)
        if cut < size // 2:
            cut = rest.rfind(" ", 0, size)
        if cut < size // 2:
            cut = size
        out.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        out.append(rest)
    return out


def context_limits(reference_context: int | None, workers: Sequence[tuple[int, int]],
                   want: int = ANSWER_TOKENS) -> tuple[int, int] | None:
    """(max_context_length, max_length) a worker serving the model will accept, or None without one.

    A request asking for more context or a longer answer than a worker announced is never given to that
    worker, so we ask for what the most capable one offers, capped by the model's own context size.
    """
    if not workers:
        return None
    context, length = max(workers)
    if reference_context:
        context = min(context, reference_context)
    context = max(MIN_CONTEXT, min(context, MAX_CONTEXT))
    length = max(MIN_ANSWER_TOKENS, min(want, length, context // 2))
    return context, length


def footer(model: str, *, continues: bool) -> str:
    """The marker the bot recognises its chats by, carrying the model so a restart loses nothing."""
    text = f"{MARKER}{_SEP}{model}"
    return f"{text}{_SEP}reply in the thread to continue" if continues else text


def model_from_footer(text: str | None) -> str | None:
    if not text or not text.startswith(MARKER + _SEP):
        return None
    model = text[len(MARKER + _SEP):].split(_SEP)[0].strip()
    return model or None
