"""Branch figures: sizes, not blank, scales, no figure leak."""

from __future__ import annotations

import gc
from dataclasses import replace

import matplotlib
import numpy as np
import pytest
import torch
from PIL import Image

from googlenet.activations import capture, overview_shares
from googlenet.render.branches import (BranchText, mean_activation_map, render_channels, render_heatmaps,
                                       render_overview, top_channels)
from googlenet.transforms import preprocess


@pytest.fixture(scope="module")
def session(random_state_dict):
    from googlenet.model import GoogLeNet

    model = GoogLeNet()
    model.load_state_dict(random_state_dict)
    crop, x = preprocess(Image.open("assets/chelsea.png").convert("RGB"))
    return capture(model.eval(), x), crop


def not_blank(image: Image.Image) -> bool:
    array = np.asarray(image.convert("L"), dtype=np.float32)
    return array.std() > 10 and len(np.unique(array)) > 50


def test_overview_figure(session):
    cap, _ = session
    image = render_overview(overview_shares(cap, "l2_energy"), "L2 energy")
    assert image.width > 600 and image.height > 350 and not_blank(image)


def test_overview_rejects_a_wrong_matrix():
    with pytest.raises(ValueError):
        render_overview(np.ones((3, 4)), "x")


@pytest.mark.parametrize("shared", [True, False])
def test_heatmaps_figure(session, shared):
    cap, crop = session
    image = render_heatmaps(cap, "inception4c", crop, shared)
    assert image.width > 1000 and 250 < image.height < 600 and not_blank(image)


def test_per_branch_scale_draws_four_colour_bars(session):
    cap, crop = session
    shared = render_heatmaps(cap, "inception3b", crop, True)
    separate = render_heatmaps(cap, "inception3b", crop, False)
    assert shared.size != separate.size or not np.array_equal(np.asarray(shared), np.asarray(separate))


@pytest.mark.parametrize("n", [1, 4, 16])
def test_channel_grid(session, n):
    cap, _ = session
    image = render_channels(cap, "inception5b", n, shared_scale=False)
    assert image.height > 400 and not_blank(image)
    assert image.width > (250 if n == 1 else 600)


def test_top_channels_are_the_most_active(session):
    cap, _ = session
    ranks = top_channels(cap, "inception4a", 5)
    for branch_ranks, part in zip(ranks, cap.branches["inception4a"]):
        means = part.astype(np.float32).mean(axis=(1, 2))
        assert [r.index for r in branch_ranks] == list(np.argsort(-means, kind="stable")[:5])
        assert branch_ranks[0].mean_activation == pytest.approx(float(means.max()))
    assert ranks[1][0].global_index == 192 + ranks[1][0].index


def test_mean_activation_map_is_upsampled_channel_mean():
    part = np.stack([np.full((7, 7), 1.0), np.full((7, 7), 3.0)]).astype(np.float16)
    up = mean_activation_map(part, (224, 224))
    assert up.shape == (224, 224) and np.allclose(up, 2.0)


def test_translated_text_is_used(session):
    cap, crop = session
    text = replace(BranchText.load("ko"), heatmap_title="{module} 가지별 평균")
    assert not_blank(render_heatmaps(cap, "inception4a", crop, True, text))


def test_no_figure_leak_over_many_renders(session):
    cap, crop = session
    gc.collect()
    import matplotlib.pyplot as plt

    before = len(plt.get_fignums())
    for _ in range(15):
        render_overview(overview_shares(cap, "activation_sum"), "sum")
        render_heatmaps(cap, "inception4a", crop, True)
    assert len(plt.get_fignums()) == before == 0
    assert matplotlib.get_backend().lower() == "agg" or before == 0


def test_channel_mosaic_tiles_are_the_coloured_feature_maps():
    """Every tile is exactly cmap(value / its row's scale), upscaled by an integer factor, at its recorded origin."""
    from matplotlib import colormaps

    from googlenet.render.branches import HEAT_CMAP, channel_mosaic

    rng = np.random.default_rng(0)
    rows = [[rng.random((7, 7)).astype(np.float32) * 3 for _ in range(3)],
            [rng.random((7, 7)).astype(np.float32) for _ in range(2)]]  # a shorter row stays white at the end
    scales = [3.0, 0.5]  # the second row saturates above 0.5
    mosaic = channel_mosaic(rows, scales, target=84, gap=6, band=16)
    factor = 84 // 7
    assert mosaic.tile_shape == (7 * factor, 7 * factor)
    side = 7 * factor
    cmap = colormaps[HEAT_CMAP]
    for r, (maps, scale) in enumerate(zip(rows, scales)):
        for (x, y), fmap in zip(mosaic.origins[r], maps):
            tile = mosaic.pixels[y:y + side, x:x + side]
            expected = cmap(np.clip(fmap / scale, 0, 1), bytes=True)[..., :3]
            assert np.array_equal(tile[::factor, ::factor], expected)
            assert np.array_equal(tile[factor - 1::factor, factor - 1::factor], expected)  # nearest, not blurred
    x, y = mosaic.origins[0][2]
    assert (mosaic.pixels[y:y + side, x:x + side] != 255).any()
    _, y1 = mosaic.origins[1][0]
    assert (mosaic.pixels[y1:y1 + side, x:x + side] == 255).all()  # no third tile in row 2
    assert (mosaic.pixels[:mosaic.band] == 255).all()  # the label band is empty


def test_overlay_heat_blends_colour_over_the_photo():
    from matplotlib import colormaps

    from googlenet.render.branches import HEAT_CMAP, overlay_heat

    grey = np.linspace(0, 1, 16, dtype=np.float32).reshape(4, 4)
    values = np.full((4, 4), 2.0, dtype=np.float32)
    out = overlay_heat(grey, values, scale=4.0, alpha=0.75)
    colour = np.asarray(colormaps[HEAT_CMAP](0.5)[:3])
    expected = np.round((0.75 * colour[None, None] + 0.25 * grey[..., None]) * 255).astype(np.uint8)
    assert out.dtype == np.uint8 and np.array_equal(out, expected)


def test_to_image_trims_to_the_content():
    from matplotlib.figure import Figure

    from googlenet.render.figures import to_image

    fig = Figure(figsize=(4, 3), dpi=100)
    ax = fig.add_axes((0.25, 0.25, 0.5, 0.5))
    ax.set_axis_off()
    ax.imshow(np.zeros((10, 10, 3)))  # a black square in the middle of a white canvas
    image = np.asarray(to_image(fig, dpi=100, margin=3))
    black = (image.sum(axis=2) == 0)
    rows, cols = np.flatnonzero(black.any(axis=1)), np.flatnonzero(black.any(axis=0))
    assert rows[0] == 3 and cols[0] == 3 and image.shape[0] - 1 - rows[-1] == 3 and image.shape[1] - 1 - cols[-1] == 3
    assert 140 <= rows.size <= 152  # the square: half of 300 px (imshow keeps it square inside the 200x150 axes)


def test_render_views_in_threads_equals_one_by_one(session, monkeypatch):
    """The parallel path (style global) draws exactly what the sequential path draws, Korean text included."""
    import googlenet.render.branches as rb
    from googlenet.render.figures import RC, style_is_global

    cap, crop = session
    shares = overview_shares(cap, "activation_sum")
    text = replace(BranchText.load("ko"), heatmap_title="{module} 가지별 평균", channels_title="{module}: 상위 {n}개 채널")
    args = (cap, "inception4d", crop, shares, "합", 5, False, text)
    with matplotlib.rc_context(RC):  # the style made global for the duration of the test
        assert style_is_global()
        parallel = rb.render_views(*args)
    with matplotlib.rc_context({"font.size": RC["font.size"] + 1}):  # not global: drawn one by one
        assert not style_is_global()
        sequential = rb.render_views(*args)
    for a, b in zip((parallel.overview, parallel.heatmaps, parallel.channels),
                    (sequential.overview, sequential.heatmaps, sequential.channels)):
        assert a.size == b.size and np.array_equal(np.asarray(a), np.asarray(b))
    assert np.array_equal(np.asarray(sequential.channels), np.asarray(render_channels(cap, "inception4d", 5, False,
                                                                                      text)))


def test_channel_grid_of_a_non_square_input(random_state_dict):
    """A 257x300 photo gives non-square feature maps: the tiles keep their aspect and the figure still draws."""
    from googlenet.model import GoogLeNet
    from googlenet.render.branches import channel_mosaic

    model = GoogLeNet()
    model.load_state_dict(random_state_dict)
    cap = capture(model.eval(), torch.randn(1, 3, 257, 300, generator=torch.Generator().manual_seed(3)))
    part = cap.branches["inception4a"][0]
    assert part.shape[1] != part.shape[2]
    mosaic = channel_mosaic([[part[0].astype(np.float32)]], [1.0])
    factor = 84 // max(part.shape[1:])
    assert mosaic.tile_shape == (part.shape[1] * factor, part.shape[2] * factor)
    assert not_blank(render_channels(cap, "inception4a", 3, shared_scale=True))
