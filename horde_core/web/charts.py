"""Line charts drawn on the server as inline SVG: no JavaScript, nothing fetched, styled by the stylesheet
(light and dark). Built once per status snapshot, not per visit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 180, 44, 20, 10
POINTS = 288  # 24 h in 5-minute steps


@dataclass(frozen=True, slots=True)
class Line:
    name: str  # the legend and the CSS class (series-<css>)
    css: str
    values: Sequence[float]


def _bucket(values: Sequence[float], points: int, how: str) -> list[float]:
    if len(values) <= points:
        return [float(v) for v in values]
    step = len(values) / points
    out = []
    for i in range(points):
        chunk = values[int(i * step):int((i + 1) * step)] or [0.0]
        out.append(max(chunk) if how == "max" else sum(chunk) / len(chunk))
    return out


def _nice(top: float) -> float:
    if top <= 0:
        return 1.0
    for scale in (1, 2, 5):
        for power in range(0, 12):
            nice = scale * 10**power
            if nice >= top:
                return float(nice)
    return top


def line_chart(title: str, lines: list[Line], *, hours: int, how: str = "mean", unit: str = "") -> Markup:
    """An SVG of `lines` (one value per minute, oldest first), with a legend and the top of the scale."""
    series = [(line, _bucket(line.values, POINTS, how)) for line in lines]
    top = _nice(max((max(v) for _, v in series if v), default=0.0))
    plot_w, plot_h = WIDTH - PAD_LEFT - 6, HEIGHT - PAD_BOTTOM - PAD_TOP
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for frac in (0.0, 0.5, 1.0):
        y = PAD_TOP + plot_h * (1 - frac)
        parts.append(f'<line class="grid" x1="{PAD_LEFT}" y1="{y:.1f}" x2="{WIDTH - 6}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{PAD_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{_label(top * frac)}</text>')
    parts.append(f'<text class="axis" x="{PAD_LEFT}" y="{HEIGHT - 4}">{hours} h ago</text>')
    parts.append(f'<text class="axis" x="{WIDTH - 6}" y="{HEIGHT - 4}" text-anchor="end">now</text>')
    for line, values in series:
        if not values:
            continue
        n = max(1, len(values) - 1)
        points = " ".join(f"{PAD_LEFT + plot_w * i / n:.1f},{PAD_TOP + plot_h * (1 - v / top):.1f}"
                          for i, v in enumerate(values))
        parts.append(f'<polyline class="series series-{line.css}" points="{points}">'
                     f'<title>{escape(line.name)}</title></polyline>')
    x = PAD_LEFT + 8
    for line, values in series:
        latest = values[-1] if values else 0
        label = f"{line.name}: {_label(latest)}{unit}"
        parts.append(f'<rect class="key series-{line.css}" x="{x}" y="{PAD_TOP + 2}" width="10" height="10"/>'
                     f'<text class="legend" x="{x + 14}" y="{PAD_TOP + 11}">{escape(label)}</text>')
        x += 14 + 7 * len(label) + 16
    parts.append("</svg>")
    return Markup("".join(parts))


def _label(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 100 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.1f}"
