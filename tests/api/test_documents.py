"""The operator's documents and the horde's modes (issue 16): AI Horde's shapes, the operator's text or an
honest default, HTML that never carries the operator's markup through unescaped."""

from __future__ import annotations

from horde_core.service import HordeService
from horde_core.service.documents import markdown_to_html

from .calls import call


async def test_documents_in_html_or_markdown(service: HordeService, server) -> None:  # type: ignore[no-untyped-def]
    service.config.documents.terms = "# Our terms\n\nBe **kind**.\n\n- one\n- two <script>"
    assert await call(server, "GET", "/documents/terms", format="markdown") == (
        200, {"markdown": service.config.documents.terms})
    status, out = await call(server, "GET", "/documents/terms")
    assert status == 200 and list(out) == ["html"]
    assert out["html"] == ("<h1>Our terms</h1>\n<p>Be <strong>kind</strong>.</p>\n<ul>\n<li>one</li>\n"
                           "<li>two &lt;script&gt;</li>\n</ul>")
    service.config.core.image_retention = 1234
    status, out = await call(server, "GET", "/documents/privacy", format="markdown")
    assert status == 200 and "1234 seconds" in out["markdown"]  # the default states the settings in force
    status, out = await call(server, "GET", "/documents/sponsors", format="html")
    assert status == 200 and out["html"].startswith("<h1>Sponsors</h1>")
    assert (await call(server, "GET", "/documents/terms", format="pdf"))[1]["rc"] == "InvalidQuery"
    assert (await call(server, "GET", "/documents/secrets"))[0] == 404


def test_markdown_links_and_lists_close() -> None:
    assert markdown_to_html("- a\ntail [x](https://e.org/?a=1&b=2) [y](javascript:alert(1))") == (
        '<ul>\n<li>a</li>\n</ul>\n<p>tail <a href="https://e.org/?a=1&amp;b=2">x</a> [y](javascript:alert(1))</p>')


async def test_modes_are_all_off_and_raid_is_for_moderators(service: HordeService, server, make_user) -> None:  # type: ignore[no-untyped-def]
    assert await call(server, "GET", "/status/modes") == (200, {"maintenance_mode": False,
                                                               "invite_only_mode": False})
    member, key = await make_user("member")
    status, out = await call(server, "GET", "/status/modes", key)
    assert (status, out["rc"]) == (403, "NotModerator")
    assert (await call(server, "GET", "/status/modes", "y" * 22))[0] == 401
    service.config.web.admins = ["member"]
    assert await call(server, "GET", "/status/modes", key) == (200, {"maintenance_mode": False,
                                                                    "invite_only_mode": False, "raid_mode": False})
