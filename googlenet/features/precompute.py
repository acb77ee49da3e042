"""``python -m googlenet render-features``: visualizations of every unit of some modules, rendered ahead of time.

It writes the disk cache's layout (:mod:`.cache`) for the app's default settings, so a folder rendered once (on a
GPU: seconds per module) serves classroom machines with ``--features DIR``. Resumable: an entry already there is
skipped, so an interrupted run continues where it stopped and a finished one does nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence

from ..messages import KeyedError
from ..model import GoogLeNet, INCEPTION_MODULES
from ..units import Unit, all_units
from .cache import FeatureCache
from .render import final, visualize
from .settings import FeatureSettings

__all__ = ["RenderSummary", "UnknownModules", "render_features", "units_of", "default_cache_dir"]

log = logging.getLogger(__name__)


class UnknownModules(KeyedError, ValueError):
    """``--modules`` named something that is not an Inception module."""


@dataclass(frozen=True)
class RenderSummary:
    rendered: int
    skipped: int  # already in the folder (a resumed run)
    seconds: float


def units_of(model: GoogLeNet, modules: Sequence[str]) -> list[Unit]:
    """Every unit of the given modules, in network order."""
    unknown = [m for m in modules if m not in INCEPTION_MODULES]
    if unknown:
        raise UnknownModules("errors.unknown_module", value=", ".join(unknown), choices=", ".join(INCEPTION_MODULES))
    return [unit for unit in all_units(model) if unit.module in set(modules)]


def render_features(model: GoogLeNet, weights: str, units: Iterable[Unit], cache: FeatureCache,
                    settings: FeatureSettings = FeatureSettings(), *, progress: bool = True,
                    limit: Optional[int] = None) -> RenderSummary:
    """Render each unit's visualization into ``cache`` unless it is there; ``limit``: stop after rendering that
    many (tests interrupt a run this way)."""
    import time

    from tqdm import tqdm

    units = list(units)
    rendered = skipped = 0
    started = time.perf_counter()
    bar = tqdm(units, desc="render-features", unit="unit", disable=not progress)
    for unit in bar:
        if cache.get(weights, unit, settings) is not None:
            skipped += 1
            continue
        if limit is not None and rendered >= limit:
            break
        visualization = final(visualize(model, unit, settings))
        if cache.put(weights, visualization) is None:
            raise OSError(f"cannot write to {cache.root}")
        rendered += 1
        bar.set_postfix_str(unit.key)
    bar.close()
    return RenderSummary(rendered, skipped, time.perf_counter() - started)


def default_cache_dir() -> Path:
    """Where the app keeps visualizations without ``--features``: ``$XDG_CACHE_HOME`` (or ``~/.cache``)."""
    import os

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "googlenet-explorer" / "features"
