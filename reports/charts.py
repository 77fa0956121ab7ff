"""Report charts: matplotlib (Agg, no pyplot) to SVG, made safe to inline many times.

Matplotlib writes ids (``clipPath`` "p…", markers "m…", groups "patch_1") that
repeat from one chart to the next, and a global ``*{…}`` style; inlined side by
side in one page they would collide. :func:`scope_svg` drops the ids nothing
refers to, prefixes the rest, and moves the style onto the root element.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence
from html import escape

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402 - the backend must be chosen first

ACCENT = "#b3261e"
MUTED = "#9aa5b1"
DARK = "#1f4e79"
LIGHT = "#c6d6e8"

_RC = {
    "svg.fonttype": "none",          # text stays text: the browser's fonts draw Vietnamese
    "svg.hashsalt": "dophu",         # the same report gives the same SVG
    "font.family": ["DejaVu Sans"],
    "font.size": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
# rcParams are process-global; two threads rendering at once must not mix them.
_LOCK = threading.Lock()

_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_ID = re.compile(r'\sid="([^"]+)"')
_URL_REF = re.compile(r"url\(#([^)]+)\)")
_HREF_REF = re.compile(r'((?:xlink:)?href)="#([^"]+)"')


def _to_svg(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue().decode("utf-8")


def scope_svg(svg: str, prefix: str, title: str = "") -> str:
    """An inline-ready ``<svg>``: no XML prolog, metadata or global style; ids prefixed."""
    if not _PREFIX.match(prefix):
        raise ValueError(f"not a usable id prefix: {prefix!r}")
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r"\s*<style[^>]*>.*?</style>", "", svg, flags=re.S)
    svg = re.sub(r"\s*<defs>\s*</defs>", "", svg)
    referenced = set(_URL_REF.findall(svg)) | {m[1] for m in _HREF_REF.findall(svg)}

    def rename_id(match: re.Match[str]) -> str:
        name = match.group(1)
        return f' id="{prefix}-{name}"' if name in referenced else ""

    svg = _ID.sub(rename_id, svg)
    svg = _URL_REF.sub(lambda m: f"url(#{prefix}-{m.group(1)})", svg)
    svg = _HREF_REF.sub(lambda m: f'{m.group(1)}="#{prefix}-{m.group(2)}"', svg)
    label = escape(title, quote=True)
    svg = svg.replace(
        "<svg ", f'<svg class="chart" role="img" aria-label="{label}" '
        'style="stroke-linejoin: round; stroke-linecap: butt" ', 1)
    if title:
        head_end = svg.index(">") + 1
        svg = svg[:head_end] + f"<title>{escape(title)}</title>" + svg[head_end:]
    return svg.strip()


def sparkline(values: Sequence[int], prefix: str, title: str = "") -> str:
    """A small bar chart of a theme's counts; the last bar (the report's period) in red."""
    with _LOCK, matplotlib.rc_context(_RC):
        fig = Figure(figsize=(1.5, 0.36))
        ax = fig.add_axes((0.01, 0.06, 0.98, 0.9))
        positions = list(range(len(values)))
        colors = [MUTED] * len(values)
        if colors:
            colors[-1] = ACCENT
        ax.bar(positions, values, color=colors, width=0.75)
        ax.axhline(0, color="#666666", linewidth=0.6)
        ax.set_ylim(0, max([1, *values]) * 1.05)
        ax.set_xlim(-0.6, max(len(values) - 0.4, 0.4))
        ax.set_axis_off()
        return scope_svg(_to_svg(fig), prefix, title)


def _tick_step(count: int, room: int = 16) -> int:
    return max(1, -(-count // room))


def overview_chart(labels: Sequence[str], items: Sequence[int], relevant: Sequence[int],
                   prefix: str, title: str = "") -> str:
    """All items and the plan's items per period, side by side."""
    with _LOCK, matplotlib.rc_context(_RC):
        fig = Figure(figsize=(7.0, 2.1))
        ax = fig.add_axes((0.07, 0.2, 0.91, 0.72))
        positions = list(range(len(labels)))
        width = 0.4 if len(labels) <= 40 else 0.45
        ax.bar([p - width / 2 for p in positions], items, width=width, color=LIGHT,
               label="Tất cả tin bài")
        ax.bar([p + width / 2 for p in positions], relevant, width=width, color=DARK,
               label="Thuộc phạm vi kế hoạch")
        step = _tick_step(len(labels))
        ax.set_xticks(positions[::step], [str(x) for x in labels[::step]])
        ax.set_ylim(0, max([1, *items]) * 1.15)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.legend(loc="upper left", frameon=False, ncols=2, fontsize=7)
        ax.grid(axis="y", color="#e5e5e5", linewidth=0.5)
        ax.set_axisbelow(True)
        return scope_svg(_to_svg(fig), prefix, title)


def themes_chart(names: Sequence[str], current: Sequence[int], previous: Sequence[int],
                 prefix: str, title: str = "", current_label: str = "Tuần này",
                 previous_label: str = "Tuần trước") -> str:
    """Horizontal bars per theme: this period against the period before."""
    with _LOCK, matplotlib.rc_context(_RC):
        height = 0.3 + 0.26 * max(len(names), 1)
        fig = Figure(figsize=(7.0, height))
        ax = fig.add_axes((0.36, 0.55 / height, 0.62, 1 - 0.75 / height))
        positions = list(range(len(names)))[::-1]
        ax.barh([p + 0.2 for p in positions], previous, height=0.38, color=LIGHT,
                label=previous_label)
        ax.barh([p - 0.2 for p in positions], current, height=0.38, color=DARK,
                label=current_label)
        ax.set_yticks(positions, list(names))
        ax.set_xlim(0, max([1, *current, *previous]) * 1.1)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(loc="lower right", frameon=False, fontsize=7)
        ax.grid(axis="x", color="#e5e5e5", linewidth=0.5)
        ax.set_axisbelow(True)
        return scope_svg(_to_svg(fig), prefix, title)
