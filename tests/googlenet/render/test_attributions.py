"""Rendering of attribution figures: the colours mean what the legend says, and no figure is left open."""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from googlenet import BRANCHES, INCEPTION_MODULES
from googlenet.attributions import Faithfulness
from googlenet.render.attributions import (
    FigureText,
    MapPanel,
    map_scale,
    render_attribution,
    render_branch_maps,
    render_branch_matrix,
    render_comparison,
    render_sanity,
)

GREY = Image.new("RGB", (224, 224), (128, 128, 128))


def quadrant_map(value: float) -> np.ndarray:
    m = np.zeros((224, 224), dtype=np.float32)
    m[:112, :112] = value  # top-left quadrant only
    return m


def centre_colour(image: Image.Image, box: tuple[float, float, float, float]) -> np.ndarray:
    """Mean RGB of a region given as fractions of the image (left, top, right, bottom)."""
    w, h = image.size
    l, t, r, b = box
    return np.asarray(image.crop((int(l * w), int(t * h), int(r * w), int(b * h))), dtype=np.float64).reshape(-1,
                                                                                                           3).mean(0)


def test_signed_maps_are_red_for_positive_and_blue_for_negative_evidence():
    positive = render_attribution(GREY, quadrant_map(1.0), title="pos")
    negative = render_attribution(GREY, quadrant_map(-1.0), title="neg")
    # The map's axes occupy roughly the left 85 % of the figure; sample inside the quadrant.
    pr, _, pb = centre_colour(positive, (0.15, 0.2, 0.3, 0.35))
    nr, _, nb = centre_colour(negative, (0.15, 0.2, 0.3, 0.35))
    assert pr > pb + 60
    assert nb > nr + 60
    # Outside the quadrant the map is 0: the grey photo shows through (no strong colour)
    r, g, b = centre_colour(positive, (0.55, 0.65, 0.65, 0.75))
    assert abs(r - b) < 30


def test_absolute_maps_ignore_the_sign():
    a = np.asarray(render_attribution(GREY, quadrant_map(1.0), absolute=True), dtype=np.int16)
    b = np.asarray(render_attribution(GREY, quadrant_map(-1.0), absolute=True), dtype=np.int16)
    assert a.shape == b.shape
    assert np.abs(a - b).max() <= 2


def test_map_scale_clips_single_outliers():
    m = np.ones((100, 100))
    m[0, 0] = 1e6
    assert map_scale(m) == pytest.approx(1.0)
    assert map_scale(np.zeros((4, 4))) == 1.0


def test_comparison_shared_scale_shows_magnitude_differences_per_map_scale_does_not():
    panels = [MapPanel("big", quadrant_map(10.0)), MapPanel("small", quadrant_map(0.1))]
    shared = render_comparison(GREY, panels, shared_scale=True, title="t")
    per_map = render_comparison(GREY, panels, shared_scale=False, title="t")

    def strongly_red(image: Image.Image) -> tuple[int, int]:
        """Strongly red pixels in the left and right half of the figure (one panel each)."""
        a = np.asarray(image, dtype=np.int16)
        red = (a[..., 0] - a[..., 2]) > 50
        half = a.shape[1] // 2
        return int(red[:, :half].sum()), int(red[:, half:].sum())

    left, right = strongly_red(shared)
    assert left > 5 * max(right, 1)  # the small map is faint next to the big one
    left, right = strongly_red(per_map)
    assert 0.7 < left / max(right, 1) < 1.4  # each map fills its own scale


def test_all_figures_render_without_pyplot():
    f = Faithfulness(fractions=[0, 0.5, 1], deletion=[0.9, 0.3, 0.1], insertion=[0.1, 0.6, 0.9],
                     deletion_auc=0.4, insertion_auc=0.55, ranking="signed")
    images = [
        render_attribution(GREY, quadrant_map(1.0), faithfulness=f, caption="faithfulness +0.15"),
        render_branch_matrix(np.arange(36, dtype=float).reshape(9, 4) - 18, INCEPTION_MODULES, BRANCHES,
                             share=np.full((9, 4), 0.25), title="b"),
        render_branch_maps(GREY, np.random.default_rng(0).normal(size=(4, 14, 14)), [1.0, -2.0, 0.5, 0.0],
                           "inception4c", BRANCHES),
        render_sanity(GREY, quadrant_map(1.0), ["fc", "inception5b"], [quadrant_map(0.5), quadrant_map(-1.0)],
                      [0.9, 0.1], [0.8, -0.2], method="Saliency", mode="cascading"),
        render_attribution(GREY, quadrant_map(1.0), title="기여도", text=replace(FigureText.load("ko"), signed="부호 포함")),
    ]
    for image in images:
        assert isinstance(image, Image.Image) and image.mode == "RGB"
        assert min(image.size) > 200
    # Figures are made with the object API: pyplot (and its global figure registry) is never involved.
    assert "matplotlib.pyplot" not in sys.modules or not sys.modules["matplotlib.pyplot"].get_fignums()
