"""How a description is delivered: the alt text where the member asked (privately unless they asked for it in
public), or privately why there is none. The courier (bot/deliveries.py) decides where it can still go."""

from __future__ import annotations

from typing import Any

from bot.targets import Target
from horde_core.service import Delivery, RequestNotFound

FEATURE = "describe"
FINISHED = frozenset({"done", "faulted", "cancelled"})
ALT_TEXT_HINT = ("-# Paste it as the image's description (alt text) so people using screen readers know what it "
                 "shows.")
LATE = "No alchemist described the image in time; unused kudos were refunded. Try again later."


def answer_text(caption: str, nsfw: bool | None, checked: bool) -> str:
    lines = [f"Alt text: {caption}"]
    if checked:
        verdict = {True: "likely NSFW", False: "looks safe", None: "not available right now"}[nsfw]
        lines.append(f"NSFW check: {verdict}")
    lines.append(ALT_TEXT_HINT)
    return "\n".join(lines)


class Descriptions:
    """The renderer the courier calls for "describe" deliveries."""

    def __init__(self, service: Any) -> None:
        self.service = service

    async def finished(self, d: Delivery) -> bool:
        status = await self.service.interrogation_status(d.request_id)
        return all(f.state in FINISHED for f in status.forms)

    async def progress(self, d: Delivery) -> None:
        return None

    async def cancel(self, d: Delivery) -> None:
        await self.service.cancel_interrogation(d.request_id)

    async def deliver(self, d: Delivery, target: Target, *, timed_out: bool = False) -> None:
        try:
            status = await self.service.interrogation_status(d.request_id)
        except RequestNotFound:
            await target.refuse(LATE)
            return
        results = {f.form: (f.result or {}).get(f.form) for f in status.forms if f.state == "done"}
        caption = str(results.get("caption") or "").strip()
        if not caption:
            await target.refuse(LATE if timed_out else "The alchemist could not describe this image; your kudos "
                                "were refunded. Try again later.")
            return
        nsfw = results.get("nsfw")
        await target.first(content=answer_text(caption, bool(nsfw) if nsfw is not None else None,
                                               bool(d.context.get("checked"))))
