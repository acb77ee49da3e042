"""Shared plumbing for every figure the package draws: fonts (Korean included) and Figure -> PIL image.

Matplotlib's object API with the Agg canvas: no pyplot, so no global figure registry that could leak figures over
thousands of requests, and nothing shared between threads.
"""

from __future__ import annotations

import io

from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

__all__ = ["RC", "to_image"]

# Korean labels need a CJK font; use one when the system has it (matplotlib falls back per glyph).
_FAMILIES = ["DejaVu Sans"] + [
    name for name in ("Noto Sans CJK KR", "NanumGothic", "Noto Sans KR")
    if any(f.name == name for f in font_manager.fontManager.ttflist)
][:1]
RC = {"font.family": _FAMILIES, "font.size": 9, "axes.titlesize": 9, "axes.unicode_minus": False}


def to_image(fig: Figure, dpi: int = 110) -> Image.Image:
    """Render ``fig`` to an RGB PIL image and release its artists."""
    FigureCanvasAgg(fig)  # attach the Agg canvas explicitly: no GUI backend, no pyplot
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        fig.clear()  # release the artists now; the Figure is not registered anywhere else
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")
