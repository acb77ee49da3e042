"""Pictures of attributions: overlays on the 224x224 crop, method comparisons, branch matrices, sanity checks.

Matplotlib's object API with the Agg canvas (no pyplot, so no global figure registry and nothing shared between
threads); every figure is rendered to a PIL image and then closed. Texts come from the locale files
(:class:`FigureText`), in the language the caller asks for.

Colour conventions, stated on every figure:

- signed maps: a diverging map centred on 0 (red = evidence for the target class, blue = evidence against);
- absolute maps: a sequential map from 0;
- the colour range is clipped at the 99.5th percentile of |value|, so a few extreme pixels do not wash out the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional, Sequence

import numpy as np
import torch
from captum.attr import LayerAttribution
from matplotlib import colormaps, rc_context
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from PIL import Image

from ..attributions import Faithfulness
from ..model import branch_display_name, module_display_name
from .figures import RC, to_image
from .text import TextSet

__all__ = [
    "FigureText",
    "MapPanel",
    "CLIP_PERCENTILE",
    "map_scale",
    "render_attribution",
    "render_comparison",
    "render_branch_matrix",
    "render_branch_maps",
    "render_sanity",
]

CLIP_PERCENTILE = 99.5
SIGNED_CMAP = "RdBu_r"  # red positive, blue negative, white zero
ABSOLUTE_CMAP = "inferno"

_RC = RC


@dataclass(frozen=True)
class FigureText(TextSet):
    """Every text an attribution figure may show (keys ``attributions.fig.<field>`` in the locale files)."""

    PREFIX: ClassVar[str] = "attributions.fig"
    signed: str
    absolute: str
    shared_scale: str
    per_map_scale: str
    clip_note: str
    deletion: str
    insertion: str
    fraction: str
    probability: str
    original: str
    randomised: str
    spearman_abs: str
    spearman_signed: str
    sanity_title: str
    sanity_axis: str
    correlation: str
    branch_title: str
    branch_value: str
    module: str
    branch: str
    branch_maps_title: str
    stem: str


@dataclass(frozen=True)
class MapPanel:
    title: str
    map: np.ndarray  # H x W
    caption: str = ""  # e.g. the faithfulness score


def map_scale(attribution_map: np.ndarray, absolute: bool = False, percentile: float = CLIP_PERCENTILE) -> float:
    """The colour range's end: the ``percentile`` of |value| (never 0)."""
    values = np.abs(attribution_map)
    scale = float(np.percentile(values, percentile)) if values.size else 0.0
    if scale <= 0:
        scale = float(values.max()) if values.size else 0.0
    return scale if scale > 0 else 1.0


_to_image = to_image


def _norm(absolute: bool, scale: float) -> Normalize:
    return Normalize(vmin=0.0, vmax=scale) if absolute else Normalize(vmin=-scale, vmax=scale)


def _overlay(ax, crop: Image.Image, attribution_map: np.ndarray, absolute: bool, scale: float) -> ScalarMappable:
    """The crop in grey, the map on top; transparency follows |value| so the photo shows where the map is ~0."""
    h, w = attribution_map.shape
    grey = np.asarray(crop.convert("L").resize((w, h)), dtype=np.float32) / 255.0
    ax.imshow(grey, cmap="gray", vmin=0, vmax=1)
    values = np.abs(attribution_map) if absolute else attribution_map
    norm = _norm(absolute, scale)
    cmap = colormaps[ABSOLUTE_CMAP if absolute else SIGNED_CMAP]
    rgba = cmap(norm(values))
    rgba[..., 3] = np.clip(np.abs(values) / scale, 0.0, 1.0) * 0.85 + 0.1
    ax.imshow(rgba)
    ax.set_xticks([])
    ax.set_yticks([])
    return ScalarMappable(norm=norm, cmap=cmap)


def _legend(text: FigureText, absolute: bool) -> str:
    return f"{text.absolute if absolute else text.signed}; {text.clip_note}"


def render_attribution(
    crop: Image.Image,
    attribution_map: np.ndarray,
    *,
    absolute: bool = False,
    title: str = "",
    caption: str = "",
    faithfulness: Optional[Faithfulness] = None,
    text: Optional[FigureText] = None,
) -> Image.Image:
    """One map over the crop with a colour bar; with ``faithfulness``, its deletion/insertion curves beside it."""
    text = text or FigureText.load()
    with rc_context(_RC):
        fig = Figure(layout="constrained", figsize=(8.2 if faithfulness else 4.6, 4.4))
        if faithfulness is not None:
            ax, ax_curves = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})
        else:
            ax, ax_curves = fig.subplots(1, 1), None
        scale = map_scale(attribution_map, absolute)
        mappable = _overlay(ax, crop, attribution_map, absolute, scale)
        fig.colorbar(mappable, ax=ax, fraction=0.046, pad=0.03)
        ax.set_title(title)
        ax.set_xlabel(caption)
        if ax_curves is not None:
            _curves(ax_curves, faithfulness, text)
        fig.supxlabel(_legend(text, absolute), fontsize=8)
        return _to_image(fig)


def _curves(ax, f: Faithfulness, text: FigureText) -> None:
    ax.plot(f.fractions, f.deletion, color="tab:blue", marker=".", label=f"{text.deletion}: {f.deletion_auc:.3f}")
    ax.plot(f.fractions, f.insertion, color="tab:red", marker=".", label=f"{text.insertion}: {f.insertion_auc:.3f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(text.fraction)
    ax.set_ylabel(text.probability)
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)


def render_comparison(
    crop: Image.Image,
    panels: Sequence[MapPanel],
    *,
    absolute: bool = False,
    shared_scale: bool = False,
    title: str = "",
    text: Optional[FigureText] = None,
) -> Image.Image:
    """Several maps side by side, on one shared colour scale or one scale per map (stated on the figure).

    A shared scale compares magnitudes, which only mean the same thing for methods with the same units (e.g.
    Integrated Gradients and GradientShap both sum to a logit difference); per-map scales compare where each
    method looks.
    """
    text = text or FigureText.load()
    if not panels:
        raise ValueError("nothing to compare")
    n = len(panels)
    cols = min(n, 4)
    rows = int(np.ceil(n / cols))
    shared = max(map_scale(p.map, absolute) for p in panels) if shared_scale else None
    with rc_context(_RC):
        fig = Figure(layout="constrained", figsize=(3.3 * cols + (0.6 if shared_scale else 0), 3.5 * rows + 0.6))
        axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
        mappable = None
        for ax, panel in zip(axes, panels):
            scale = shared if shared is not None else map_scale(panel.map, absolute)
            mappable = _overlay(ax, crop, panel.map, absolute, scale)
            ax.set_title(panel.title)
            ax.set_xlabel(panel.caption, fontsize=8)
            if shared is None:
                fig.colorbar(mappable, ax=ax, fraction=0.046, pad=0.03)
        for ax in axes[n:]:
            ax.set_visible(False)
        if shared is not None and mappable is not None:
            fig.colorbar(mappable, ax=list(axes[:n]), fraction=0.02, pad=0.02)
        scale_note = text.shared_scale if shared_scale else text.per_map_scale
        fig.suptitle(f"{title}\n{scale_note} · {_legend(text, absolute)}", fontsize=9)
        return _to_image(fig)


def render_branch_matrix(
    values: np.ndarray,
    modules: Sequence[str],
    branches: Sequence[str],
    *,
    share: Optional[np.ndarray] = None,
    title: str = "",
    text: Optional[FigureText] = None,
) -> Image.Image:
    """Module x branch matrix of signed contributions (diverging, centred on 0), each cell annotated."""
    text = text or FigureText.load()
    scale = float(np.abs(values).max()) or 1.0
    with rc_context(_RC):
        fig = Figure(layout="constrained", figsize=(5.6, 6.0))
        ax = fig.subplots()
        image = ax.imshow(values, cmap=SIGNED_CMAP, norm=Normalize(-scale, scale), aspect="auto")
        ax.set_xticks(range(len(branches)), [branch_display_name(b, text.lang) for b in branches])
        ax.set_yticks(range(len(modules)), [module_display_name(m) for m in modules])
        ax.set_xlabel(text.branch)
        ax.set_ylabel(text.module)
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                label = f"{values[i, j]:+.2f}"
                if share is not None:
                    label += f"\n{share[i, j] * 100:.0f}%"
                dark = abs(values[i, j]) > 0.6 * scale
                ax.text(j, i, label, ha="center", va="center", fontsize=7, color="white" if dark else "black")
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03, label=text.branch_value)
        ax.set_title(title)
        return _to_image(fig)


def render_branch_maps(
    crop: Image.Image,
    maps: np.ndarray,
    values: Sequence[float],
    module: str,
    branches: Sequence[str],
    *,
    absolute: bool = False,
    text: Optional[FigureText] = None,
) -> Image.Image:
    """The four branch maps of one module (upsampled to the crop), on one shared colour scale."""
    text = text or FigureText.load()
    h, w = crop.size[1], crop.size[0]
    # 4 x h' x w' -> 4 x H x W with Captum's own interpolation (as Layer GradCAM does)
    up = LayerAttribution.interpolate(torch.from_numpy(np.ascontiguousarray(maps))[None].float(), (h, w),
                                      interpolate_mode="bilinear")[0].numpy()
    scale = max(map_scale(m, absolute) for m in up)
    with rc_context(_RC):
        fig = Figure(layout="constrained", figsize=(13.2, 3.9))
        axes = fig.subplots(1, len(branches))
        mappable = None
        for ax, m, value, branch in zip(axes, up, values, branches):
            mappable = _overlay(ax, crop, m, absolute, scale)
            ax.set_title(f"{branch_display_name(branch, text.lang)}  ({value:+.2f})")
        if mappable is not None:
            fig.colorbar(mappable, ax=list(axes), fraction=0.015, pad=0.01)
        title = text.branch_maps_title.format(module=module_display_name(module))
        fig.suptitle(f"{title}\n{text.shared_scale} · {_legend(text, absolute)}", fontsize=9)
        return _to_image(fig)


def render_sanity(
    crop: Image.Image,
    original: np.ndarray,
    blocks: Sequence[str],
    maps: Sequence[np.ndarray],
    spearman_abs: Sequence[float],
    spearman_signed: Sequence[float],
    *,
    method: str,
    mode: str,
    absolute: bool = True,
    text: Optional[FigureText] = None,
) -> Image.Image:
    """Top: the original map and each randomised map (own scales); bottom: rank correlation per step."""
    text = text or FigureText.load()
    n = len(maps) + 1
    cols = min(n, 6)
    rows = int(np.ceil(n / cols))
    labels = [_block_label(b, text) for b in blocks]
    with rc_context(_RC):
        fig = Figure(layout="constrained", figsize=(2.3 * cols, 2.5 * rows + 3.0))
        grid = fig.add_gridspec(rows + 1, cols, height_ratios=[1.0] * rows + [1.3])
        panels = [(text.original, original)] + [(text.randomised.format(block=l), m) for l, m in zip(labels, maps)]
        for k, (title, m) in enumerate(panels):
            ax = fig.add_subplot(grid[k // cols, k % cols])
            _overlay(ax, crop, m, absolute, map_scale(m, absolute))
            ax.set_title(title, fontsize=8)
        ax = fig.add_subplot(grid[rows, :])
        x = np.arange(len(blocks))
        ax.plot(x, spearman_abs, marker="o", color="tab:purple", label=text.spearman_abs)
        ax.plot(x, spearman_signed, marker="s", color="tab:green", label=text.spearman_signed)
        ax.axhline(0.0, color="grey", lw=0.8)
        ax.set_xticks(x, labels)
        ax.set_ylim(-1.05, 1.05)
        ax.set_xlabel(text.sanity_axis)
        ax.set_ylabel(text.correlation)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.suptitle(text.sanity_title.format(mode=mode, method=method) + f"\n{_legend(text, absolute)}",
                     fontsize=9)
        return _to_image(fig)


def _block_label(block: str, text: FigureText) -> str:
    if block == "stem":
        return text.stem
    return module_display_name(block) if block.startswith("inception") else block
