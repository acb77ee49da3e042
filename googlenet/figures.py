"""Shared plumbing for every figure the package draws: fonts (Korean included) and Figure -> PIL image.

Matplotlib's object API with the Agg canvas: no pyplot, so no global figure registry that could leak figures over
thousands of requests, and nothing shared between threads.
"""

from __future__ import annotations

import io
import logging
from functools import lru_cache
from typing import Optional

from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

log = logging.getLogger(__name__)

__all__ = ["RC", "CJK_FONTS", "LATIN_FONT", "cjk_font_family", "font_families", "to_image"]

# Fonts with Hangul (and other CJK) glyphs, best first. Noto Sans CJK comes with Debian's fonts-noto-cjk;
# the others are what Windows, macOS and Korean Linux installs usually have.
CJK_FONTS: tuple[str, ...] = (
    "Noto Sans CJK KR",
    "Noto Sans KR",
    "Source Han Sans KR",
    "NanumGothic",
    "Malgun Gothic",
    "Apple SD Gothic Neo",
    "AppleGothic",
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
)
LATIN_FONT = "DejaVu Sans"  # ships with matplotlib: always there


@lru_cache(maxsize=1)
def cjk_font_family() -> Optional[str]:
    """The name of an installed font with Hangul glyphs, or None (Korean text would render as boxes)."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    log.warning("no CJK font found (install fonts-noto-cjk): Korean text in figures will not render")
    return None


def font_families() -> list[str]:
    """Font family list for every text: Latin first, the CJK font as the per-glyph fallback."""
    cjk = cjk_font_family()
    return [LATIN_FONT, cjk] if cjk else [LATIN_FONT]


# Latin text in DejaVu Sans; matplotlib falls back per glyph to the CJK font for Korean.
RC = {"font.family": font_families(), "font.size": 9, "axes.titlesize": 9, "axes.unicode_minus": False}


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
