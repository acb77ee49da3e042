"""Branch figures: sizes, not blank, scales, no figure leak."""

from __future__ import annotations

import gc

import matplotlib
import numpy as np
import pytest
from PIL import Image

from googlenet.activations import capture, overview_shares
from googlenet.render_branches import (BranchText, mean_activation_map, render_channels, render_heatmaps,
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
    text = BranchText(heatmap_title="{module} 가지별 평균")
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
