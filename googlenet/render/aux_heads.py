"""The aux-heads tab's picture: main, aux1 and aux2 top-5 as probability charts side by side."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar, Mapping

import numpy as np
from PIL import Image

from ..aux_heads import HEADS, AuxResult
from ..labels import shown_name
from .figures import font_families
from .text import TextSet

__all__ = ["ChartText", "render_head_charts"]


# ---------------------------------------------------------------------------------------------------------------
# Rendering: three probability charts side by side
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartText(TextSet):
    """Every word drawn on the charts: fixed labels (keys ``aux.chart.<field>``) and, per head, its title and an
    optional notice drawn across its chart (they depend on the loaded heads: :meth:`with_heads`)."""

    PREFIX: ClassVar[str] = "aux.chart"
    probability: str
    eval_marker: str
    spread: str
    not_run: str

    @classmethod
    def keys(cls) -> dict[str, str]:
        return {name: key for name, key in super().keys().items() if name not in ("titles", "notices")}

    def with_heads(self, titles: Mapping[str, str], notices: Mapping[str, str]) -> "ChartText":
        return replace(self, titles=dict(titles), notices=dict(notices))

    titles: Mapping[str, str] = field(default_factory=dict)  # head -> title
    notices: Mapping[str, str] = field(default_factory=dict)  # head -> notice drawn across its chart


def _wrap(text: str, width: int) -> str:
    """Wrap at spaces; Hangul and other wide glyphs take about two columns, so they get a narrower width."""
    import textwrap

    if any(ord(c) >= 0x1100 for c in text):
        width = max(8, int(width * 0.7))
    return "\n".join(textwrap.wrap(text, width)) if " " in text else text


def render_head_charts(result: AuxResult, text: ChartText, *, dpi: int = 100) -> Image.Image:
    """Main, aux1 and aux2 top-5 as horizontal bar charts side by side, as a PIL image.

    Uses a bare ``matplotlib.figure.Figure`` (no pyplot): it is never registered globally, so concurrent requests
    cannot interfere and there is no figure left open to leak.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context({"font.family": font_families(), "font.size": 9}):
        fig = Figure(figsize=(13.5, 3.9), dpi=dpi, layout="constrained")
        # A free strip at the top, where image viewers put their buttons, so no title is covered.
        fig.get_layout_engine().set(rect=(0, 0, 1, 0.93))
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, 3)
        colors = {"main": "#3b6fb6", "aux1": "#d08a2c", "aux2": "#5a9b5a"}
        for ax, head in zip(axes, HEADS):
            ax.set_title(_wrap(text.titles.get(head, head), 38), fontsize=10)
            ax.set_xlim(0, 1)
            ax.set_xlabel(text.probability)
            hr = result.heads.get(head)
            if hr is None:
                ax.set_yticks([])
                ax.set_xticks([])
                ax.set_xlabel("")
                ax.text(0.5, 0.5, _wrap(text.not_run, 30), ha="center", va="center", transform=ax.transAxes,
                        color="#555555", fontsize=11)
            else:
                names = [shown_name(s.index, s.name, text.lang) for s in hr.top][::-1]
                values = [s.probability for s in hr.top][::-1]
                ys = np.arange(len(names))
                ax.barh(ys, values, color=colors[head], alpha=0.85)
                # The value goes into the tick label, where no whisker or marker can cover it.
                ax.set_yticks(ys, labels=[f"{n}  {v * 100:.1f}%" for n, v in zip(names, values)])
                if len(hr.run_top1) > 1:
                    lo = np.array([v - lo for v, (lo, _) in zip(values, hr.spread[::-1])])
                    hi = np.array([hi - v for v, (_, hi) in zip(values, hr.spread[::-1])])
                    ax.errorbar(values, ys, xerr=[lo, hi], fmt="none", ecolor="black", capsize=3, lw=1,
                                label=text.spread)
                if head == "main" and result.options.train_mode:
                    # The eval-mode probability of the same classes: the difference train mode makes.
                    eval_values = [float(result.eval_main.probabilities[s.index]) for s in hr.top][::-1]
                    ax.scatter(eval_values, ys, marker="|", s=260, color="#c0392b", linewidths=2.5, zorder=3,
                               label=text.eval_marker)
                if head == "main" and (result.options.train_mode or len(hr.run_top1) > 1):
                    ax.legend(loc="lower right", fontsize=7, framealpha=0.8)
            notice = text.notices.get(head)
            if notice:
                ax.text(0.5, 0.5, _wrap(notice, 34), ha="center", va="center", transform=ax.transAxes,
                        fontsize=10, fontweight="bold", color="#8b0000", zorder=5,
                        bbox=dict(boxstyle="round,pad=0.5", facecolor="#fff3cd", edgecolor="#8b0000", alpha=0.93))
        fig.canvas.draw()
        rgba = np.asarray(fig.canvas.buffer_rgba())
        image = Image.fromarray(rgba[..., :3].copy())
        fig.clear()
    return image
