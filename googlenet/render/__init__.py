"""Pictures of what the network computed: one view per module, texts from the locale files (:mod:`.text`).

- :mod:`.figures`: fonts (Korean included), the thread-safe global style, Figure -> PIL image.
- :mod:`.branches`: the branch explorer's overview, heatmaps and channel grid.
- :mod:`.attributions`: attribution maps, comparisons, branch matrices, sanity checks.
- :mod:`.aux_heads`: the main and auxiliary heads' top-5 charts.
- :mod:`.report`: the one-page PNG/PDF report.

Matplotlib's object API on the Agg canvas throughout: no pyplot, so no global figure registry that could leak
figures over thousands of requests, and nothing shared between threads.
"""

from __future__ import annotations

from .figures import to_image, use_style_globally
from .text import TextSet

__all__ = ["TextSet", "to_image", "use_style_globally"]
