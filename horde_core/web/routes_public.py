"""Pages anyone may read: status, workers, models, leaderboard, ratings statistics, gallery."""

from __future__ import annotations

from aiohttp import web

from horde_core.service.web_dto import StatusBoard

from .charts import Line, line_chart
from .keys import CHARTS
from .render import SESSION_COOKIE, render, sort_rows, svc

routes = web.RouteTableDef()
KIND_CSS = {"image": "image", "text": "text", "interrogation": "alchemy"}


def charts_of(request: web.Request, board: StatusBoard, hours: int) -> dict[str, object]:
    """The two charts of a board, drawn once per board (the board is rebuilt every few seconds)."""
    drawn_for = request.app[CHARTS]
    hit = drawn_for.get("board")
    if hit is not None and hit[0] is board:
        return hit[1]
    labels = {k.kind: k.label for k in board.kinds}
    drawn = {
        "finished": line_chart("Finished jobs per minute", [
            Line(labels[k], KIND_CSS[k], s.finished) for k, s in board.series.items()], hours=hours),
        "queue": line_chart("Jobs waiting", [
            Line(labels[k], KIND_CSS[k], s.queued) for k, s in board.series.items()], hours=hours, how="max"),
    }
    drawn_for["board"] = (board, drawn)
    return drawn


@routes.get("/")
async def status(request: web.Request) -> web.Response:
    service = svc(request)
    board = await service.status_board()
    anonymous = SESSION_COOKIE not in request.cookies
    cache = request.app[CHARTS]
    if anonymous:  # every visitor without a session sees the same page for a board: render it once per board
        hit = cache.get("pages")
        if hit is not None and hit[0] is board and request.query_string in hit[1]:
            return web.Response(text=hit[1][request.query_string], content_type="text/html")
    models, sort, order = sort_rows(request, board.models, {
        "name": lambda m: m.name.casefold(), "kind": lambda m: (m.kind, m.name.casefold()),
        "workers": lambda m: m.count, "queue": lambda m: m.jobs, "eta": lambda m: m.eta}, "workers", descending=True)
    response = await render(request, "status.html", {
        "board": board, "charts": charts_of(request, board, service.config.web.chart_hours), "models": models[:50],
        "more_models": max(0, len(models) - 50), "sort": sort, "order": order,
        "gallery": (await service.gallery())[:8]})
    if anonymous and response.text is not None:
        hit = cache.get("pages")
        pages = hit[1] if hit is not None and hit[0] is board and len(hit[1]) < 32 else {}
        pages[request.query_string] = response.text
        cache["pages"] = (board, pages)
    return response


@routes.get("/workers")
async def workers(request: web.Request) -> web.Response:
    rows = await svc(request).workers_table()
    kind = request.query.get("kind", "")
    if kind in ("image", "text", "interrogation"):
        rows = [w for w in rows if w.kind == kind]
    else:
        kind = ""
    rows, sort, order = sort_rows(request, rows, {
        "name": lambda w: w.name.casefold(), "kind": lambda w: w.kind, "owner": lambda w: w.owner.casefold(),
        "online": lambda w: (w.online, not w.maintenance_mode), "threads": lambda w: w.threads,
        "jobs": lambda w: w.requests_fulfilled, "kudos": lambda w: w.kudos_generated, "uptime": lambda w: w.uptime,
        "models": lambda w: len(w.models)}, "online", descending=True)
    return await render(request, "workers.html", {"workers": rows[:1000], "total": len(rows), "sort": sort,
                                                  "order": order, "kind": kind})


@routes.get("/models")
async def models(request: web.Request) -> web.Response:
    board = await svc(request).status_board()
    rows, sort, order = sort_rows(request, board.models, {
        "name": lambda m: m.name.casefold(), "kind": lambda m: (m.kind, m.name.casefold()),
        "workers": lambda m: m.count, "queue": lambda m: m.jobs, "units": lambda m: m.queued,
        "eta": lambda m: m.eta, "speed": lambda m: m.performance}, "workers", descending=True)
    return await render(request, "models.html", {"models": rows, "sort": sort, "order": order})


@routes.get("/leaderboard")
async def leaderboard(request: web.Request) -> web.Response:
    return await render(request, "leaderboard.html", {"board": await svc(request).leaderboard()})


@routes.get("/ratings")
async def ratings(request: web.Request) -> web.Response:
    return await render(request, "ratings.html", {"stats": await svc(request).ratings_summary()})


@routes.get("/gallery")
async def gallery(request: web.Request) -> web.Response:
    service = svc(request)
    if not service.config.web.gallery:
        raise web.HTTPNotFound()
    return await render(request, "gallery.html", {"images": await service.gallery()})
