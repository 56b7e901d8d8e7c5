"""The operator's documents (terms, privacy, sponsors) and the horde's modes, as AI Horde serves them.

Documents are Markdown from `[documents]` in the config; AI Horde clients ask for `format=html` (the default)
or `format=markdown`, so the Markdown is also rendered to a small, escaped subset of HTML. The defaults say
only what is true of this horde: the privacy text is built from the retention settings.

Modes: AI Horde has maintenance, worker invite-only and raid modes. This horde has none of them (there is no
horde-wide stop, workers join with any registered key, and no answer is ever falsified), so all three are
false; raid_mode is shown to moderators only, as there.
"""

from __future__ import annotations

import html
import re

from horde_core.users.repo import UserRow

from .errors import BadRequest
from .moderation import ModerationMixin

DOCUMENTS = ("terms", "privacy", "sponsors")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_ITEM = re.compile(r"^\s*[-*]\s+(.*)$")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


class DocumentsMixin(ModerationMixin):
    def document(self, name: str) -> str:
        """A document's Markdown: the operator's text, or the default."""
        if name not in DOCUMENTS:
            raise BadRequest(f"No document {name!r}.", rc="InvalidDocument")
        text = str(getattr(self.config.documents, name)).strip()
        return text or self._default_document(name)

    def _default_document(self, name: str) -> str:
        horde = self.config.core.horde_name
        if name == "sponsors":
            return f"# Sponsors\n\n{horde} is run by its operators and the people who lend it their GPUs."
        if name == "terms":
            return (f"# Terms of service\n\n{horde} is a community-run horde: volunteers' workers generate what "
                    "you request. It is offered as is, without any warranty, and may change or stop at any time.\n\n"
                    "- Do not request sexual content involving minors. Such prompts are refused and lead to "
                    "timeouts and suspensions.\n- Do not abuse the horde or its workers; moderators may suspend "
                    "keys, adjust kudos and flag accounts.\n- Kudos have no monetary value.")
        core, safety = self.config.core, self.config.safety
        return (f"# Privacy\n\n{horde} keeps only what it needs to run.\n\n"
                "- Your API key is stored as a hash; the key itself is shown once.\n"
                f"- Requests (prompt and parameters) are kept while they run and up to {core.request_expiry} "
                f"seconds after; generated images for {core.image_retention} seconds unless you share them.\n"
                "- Your client's name (Client-Agent) is recorded with requests and ratings; your address is used "
                "for rate limits and, for anonymous requests, abuse tracking.\n"
                f"- Blocked prompts and moderators' actions are written to a moderation log kept "
                f"{safety.audit_retention_days} days.")

    def horde_modes(self, viewer: UserRow | None) -> dict[str, bool]:
        """GET /v2/status/modes; a key that is sent must be a moderator's (as on AI Horde)."""
        modes = {"maintenance_mode": False, "invite_only_mode": False}
        if viewer is not None:
            self.require_moderator(viewer)
            modes["raid_mode"] = False
        return modes


def _inline(text: str) -> str:
    out = html.escape(text, quote=True)
    out = _LINK.sub(lambda m: f'<a href="{m.group(2)}">{m.group(1)}</a>', out)
    return _BOLD.sub(r"<strong>\1</strong>", out)


def markdown_to_html(text: str) -> str:
    """Headings, bullet lists, paragraphs, links and bold: enough for an operator's documents, everything
    else escaped (an operator's text never becomes script in a client)."""
    out: list[str] = []
    paragraph: list[str] = []
    in_list = False

    def flush() -> None:
        nonlocal in_list
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if in_list:
            out.append("</ul>")
            in_list = False

    for line in text.splitlines():
        heading, item = _HEADING.match(line), _ITEM.match(line)
        if not line.strip():
            flush()
        elif heading:
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2).strip())}</h{level}>")
        elif item:
            if paragraph:
                flush()
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{_inline(item.group(1).strip())}</li>")
        else:
            if in_list:
                flush()
            paragraph.append(line.strip())
    flush()
    return "\n".join(out)


__all__ = ["DOCUMENTS", "DocumentsMixin", "markdown_to_html"]
