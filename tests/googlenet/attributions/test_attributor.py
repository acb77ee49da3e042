"""Attributions: every method works on our model, costs are honest, the shared model is never touched, and the
maps point where a synthetic model's answer really comes from.

Inputs are small (64x64 / 96x96) where the point allows: the network is fully convolutional up to its adaptive
pooling, and the suite must stay fast on a 2-core machine.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn as nn

from googlenet import INCEPTION_MODULES
from googlenet.attributions import (
    BRANCH_METHODS,
    LAYER_METHODS,
    METHODS,
    AttributionError,
    AttributionSettings,
    Attributor,
    BudgetExceeded,
    Cost,
    Throughput,
    branch_cost,
    declared_cost,
    deletion_insertion,
    spearman,
)
from googlenet.integrity import hook_count as model_hook_counts
from support import EXAMPLE_PHOTOS


pytestmark = [
    # Captum's notices about the hooks and gradient flags it sets (and removes) on our private replicas
    pytest.mark.filterwarnings("ignore:Setting backward hooks on ReLU"),
    pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require gradients"),
    pytest.mark.filterwarnings("ignore:Multiple layers provided"),
]


def small_input(size: int = 96, seed: int = 0) -> torch.Tensor:
    return torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def attributor(engine) -> Attributor:
    return Attributor.for_engine(engine, pool_size=2)


# ---------------------------------------------------------------------------------------------------------------
# Every method
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_every_method_gives_a_finite_nonzero_map_of_the_input_size(attributor, method):
    x = small_input(96)
    settings = AttributionSettings(method, preset="fast", layer="inception4c")
    result = attributor.attribute(x, settings, faithfulness_steps=None)
    assert result.map.shape == (96, 96)
    assert result.attributions.shape[-2:] == (96, 96)
    assert np.isfinite(result.map).all()
    assert np.abs(result.map).max() > 0
    # The declared cost is what really went through the network (counted by the replica wrapper).
    assert result.counted_forward == declared_cost(result.settings, (96, 96)).forward
    assert result.target == int(attributor_top1(attributor, x))


def attributor_top1(attributor: Attributor, x: torch.Tensor) -> int:
    with attributor.pool.acquire() as replica, torch.no_grad():
        return int(replica(x).argmax())


@pytest.mark.parametrize("layer", ["inception3a", "inception5b"])
def test_layer_gradcam_on_first_and_last_module_is_upsampled_to_the_input(attributor, layer):
    result = attributor.attribute(small_input(64), AttributionSettings("layer_gradcam", layer=layer),
                                  faithfulness_steps=None)
    assert result.map.shape == (64, 64)
    assert np.isfinite(result.map).all() and np.abs(result.map).max() > 0


def test_occlusion_cost_matches_captum_window_count():
    # ceil((224 - 24) / 12) + 1 = 18 positions per side, plus one unoccluded pass
    assert declared_cost(AttributionSettings("occlusion", preset="thorough")).forward == 18 * 18 + 1
    assert declared_cost(AttributionSettings("integrated_gradients", steps=50)) == Cost(52, 50)
    assert branch_cost("layer_integrated_gradients", steps=8) == Cost(12 * 9, 8 * 9)


def test_bad_requests_are_clear_errors(attributor):
    x = small_input(64)
    with pytest.raises(AttributionError, match="unknown attribution method"):
        attributor.attribute(x, AttributionSettings("deeplift"))
    with pytest.raises(AttributionError, match="unknown layer"):
        attributor.attribute(x, AttributionSettings("layer_gradcam", layer="inception9z"))
    with pytest.raises(AttributionError, match="outside"):
        attributor.attribute(x, AttributionSettings("saliency"), target=1000)
    with pytest.raises(AttributionError, match="larger than the image"):
        attributor.attribute(x, AttributionSettings("occlusion", window=80), faithfulness_steps=None)
    with pytest.raises(RuntimeError, match="inference_mode"), torch.inference_mode():
        attributor.attribute(x, AttributionSettings("saliency"))


# ---------------------------------------------------------------------------------------------------------------
# Properties of the methods
# ---------------------------------------------------------------------------------------------------------------


def test_integrated_gradients_completeness_within_the_reported_delta(attributor, engine):
    x = small_input(64, seed=1)
    result = attributor.attribute(x, AttributionSettings("integrated_gradients", steps=32, baseline="black"),
                                  faithfulness_steps=None)
    baseline = attributor.baseline(x, "black")
    with torch.no_grad():  # f(x) and f(baseline) from the shared reference model, independently of the attributor
        logits = engine.reference(torch.cat([x, baseline]))[:, result.target]
    difference = float(logits[0] - logits[1])
    total = float(result.attributions.sum())
    assert result.convergence_delta is not None
    tolerance = 1e-3 * max(1.0, abs(difference))
    assert abs(total - difference) <= abs(result.convergence_delta) + tolerance
    assert result.target_logit - result.baseline_logit == pytest.approx(difference, abs=tolerance)


def test_guided_backprop_differs_from_plain_gradients(attributor):
    """Guided Backprop hooks our ReLU *modules*; if it did not see them it would equal the plain gradient."""
    x = small_input(96, seed=2)
    gradient = attributor.attribute(x, AttributionSettings("saliency"), faithfulness_steps=None)
    guided = attributor.attribute(x, AttributionSettings("guided_backprop"), faithfulness_steps=None)
    assert gradient.target == guided.target
    assert not np.allclose(gradient.attributions, guided.attributions, rtol=1e-3, atol=1e-6)
    assert spearman(gradient.map, guided.map) < 0.95


def test_changing_the_target_changes_the_map(attributor):
    x = small_input(64, seed=3)
    for method in ("saliency", "layer_gradcam", "occlusion"):
        a = attributor.attribute(x, AttributionSettings(method, preset="fast"), target=1, faithfulness_steps=None)
        b = attributor.attribute(x, AttributionSettings(method, preset="fast"), target=2, faithfulness_steps=None)
        assert (a.target, b.target) == (1, 2)
        assert not np.allclose(a.map, b.map), method


# ---------------------------------------------------------------------------------------------------------------
# A synthetic model whose answer depends only on the top-right quadrant
# ---------------------------------------------------------------------------------------------------------------


class QuadrantNet(nn.Module):
    """Two classes; the logits read only the top-right quadrant (a flipped or transposed map would miss it)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, kernel_size=3, padding=1)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(4, 2)
        with torch.no_grad():
            self.conv.weight.fill_(0.02)
            self.conv.bias.zero_()
            self.fc.weight.copy_(torch.tensor([[2.0, 2.0, 2.0, 2.0], [-2.0, -2.0, -2.0, -2.0]]))
            self.fc.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        quadrant = x[:, :, : h // 2, w // 2:]  # N x 3 x H/2 x W/2: rows from the top, columns from the right
        features = self.relu(self.conv(quadrant)).mean(dim=(2, 3))  # N x 4
        return self.fc(features)  # N x 2


def quadrant_share(attribution_map: np.ndarray) -> float:
    h, w = attribution_map.shape
    mass = np.abs(attribution_map)
    return float(mass[: h // 2, w // 2:].sum() / mass.sum())


@pytest.fixture()
def quadrant_attributor() -> Attributor:
    return Attributor(QuadrantNet().eval(), pool_size=1, channels_last=False)


def quadrant_input() -> torch.Tensor:
    return 0.5 + torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(4))  # positive everywhere


@pytest.mark.parametrize("settings", [
    AttributionSettings("integrated_gradients", steps=16, baseline="mean"),
    AttributionSettings("occlusion", window=8, stride=4, baseline="mean"),
], ids=["integrated_gradients", "occlusion"])
def test_attribution_mass_lies_in_the_quadrant_the_answer_depends_on(quadrant_attributor, settings):
    result = quadrant_attributor.attribute(quadrant_input(), settings, target=0, faithfulness_steps=None)
    assert quadrant_share(result.map) > 0.8
    assert result.map[: 32, 32:].sum() > 0  # the quadrant's pixels raise class 0


def test_deletion_insertion_rewards_the_faithful_map(quadrant_attributor):
    x = quadrant_input()
    result = quadrant_attributor.attribute(x, AttributionSettings("integrated_gradients", steps=16,
                                                                  baseline="mean"), target=0, faithfulness_steps=10)
    good = result.faithfulness
    model = QuadrantNet().eval()
    reversed_map = deletion_insertion(model, x, -result.map, 0, steps=10)
    assert good is not None and len(good.deletion) == 11
    assert good.deletion[0] == pytest.approx(good.insertion[-1], abs=1e-5)  # both are the unaltered photo
    assert good.deletion_auc < reversed_map.deletion_auc
    assert good.score > reversed_map.score


# ---------------------------------------------------------------------------------------------------------------
# Budget and progress
# ---------------------------------------------------------------------------------------------------------------


def test_budget_scales_expensive_settings_down_and_says_so(engine):
    # a fixed throughput: the estimates must not depend on the machine's load
    attributor = Attributor.for_engine(engine, throughput=Throughput(forward_s=0.05, backward_s=0.15))
    plan = attributor.fit_to_budget(AttributionSettings("integrated_gradients", preset="thorough"), 3.0)
    assert plan.settings.steps < 64 and plan.seconds <= 3.0
    assert plan.note and "64 -> " in str(plan.note)
    occlusion = attributor.fit_to_budget(AttributionSettings("occlusion", preset="thorough"), 5.0)
    assert occlusion.settings.stride > 12 and occlusion.settings.window >= occlusion.settings.stride
    assert occlusion.seconds <= 5.0 and occlusion.note
    unchanged = attributor.fit_to_budget(AttributionSettings("saliency"), 30.0)
    assert unchanged.note is None
    with pytest.raises(BudgetExceeded):
        attributor.fit_to_budget(AttributionSettings("saliency"), 0.01)


def test_progress_is_reported_in_steps_up_to_one(attributor):
    updates: list[float] = []
    attributor.attribute(small_input(64), AttributionSettings("integrated_gradients", steps=16,
                                                              internal_batch_size=4),
                         faithfulness_steps=4, progress=lambda f, desc: updates.append(f))
    assert len(updates) >= 6
    assert updates == sorted(updates)
    assert updates[-1] == 1.0 and 0 < updates[0] < 0.2


# ---------------------------------------------------------------------------------------------------------------
# Branch attribution and sanity check
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", BRANCH_METHODS)
def test_branch_attribution_covers_every_branch_of_every_module(attributor, engine, method):
    x = small_input(64, seed=5)
    result = attributor.branch_attribution(x, method=method, steps=4)
    assert result.values.shape == (9, 4)
    assert np.isfinite(result.values).all() and np.abs(result.values).max() > 0
    for i, module in enumerate(INCEPTION_MODULES):
        # each cell is the sum of its branch map
        np.testing.assert_allclose(result.maps[module].reshape(4, -1).sum(axis=1), result.values[i], rtol=1e-5,
                                   atol=1e-5)
    np.testing.assert_allclose(result.share().sum(axis=1), 1.0, rtol=1e-6)
    if method == "layer_integrated_gradients":
        baseline = attributor.baseline(x, "black")
        with torch.no_grad():
            logits = engine.reference(torch.cat([x, baseline]))[:, result.target]
        difference = float(logits[0] - logits[1])
        for i in range(9):  # completeness per module, within its reported delta
            assert abs(result.values[i].sum() - difference) <= abs(result.deltas[i]) + 1e-3 * max(1, abs(difference))


def test_spearman_matches_definition_with_ties():
    a = np.array([1.0, 2.0, 2.0, 3.0, 5.0])
    b = np.array([2.0, 1.0, 4.0, 3.0, 9.0])
    ranks_a = np.array([1, 2.5, 2.5, 4, 5])
    ranks_b = np.array([2, 1, 4, 3, 5])
    assert spearman(a, b) == pytest.approx(np.corrcoef(ranks_a, ranks_b)[0, 1])
    assert spearman(a, a) == pytest.approx(1.0)
    assert spearman(a, -a) == pytest.approx(-1.0)
    assert spearman(a, np.ones_like(a)) == 0.0


@pytest.mark.parametrize("mode", ["cascading", "independent"])
def test_sanity_check_randomises_a_private_copy(attributor, mode):
    x = small_input(64, seed=6)
    result = attributor.sanity_check(x, AttributionSettings("saliency"), mode=mode,
                                     blocks=("fc", "inception5b", "inception4a", "stem"))
    assert [s.block for s in result.steps] == ["fc", "inception5b", "inception4a", "stem"]
    for step in result.steps:
        assert -1.0 <= step.spearman_abs <= 1.0 and step.map.shape == (64, 64)
    # Randomising the stem changes every gradient: the map must change (this fails if the copy was not altered).
    assert result.steps[-1].spearman_signed < 0.9
    assert result.cost == declared_cost(result.settings, (64, 64)) * 5


# ---------------------------------------------------------------------------------------------------------------
# The shared model is never changed
# ---------------------------------------------------------------------------------------------------------------


def model_snapshot(model: nn.Module) -> dict:
    return {
        "state": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "requires_grad": {k: p.requires_grad for k, p in model.named_parameters()},
        "training": {k: m.training for k, m in model.named_modules()},
        "hooks": model_hook_counts(model),
    }


def assert_same(before: dict, after: dict) -> None:
    assert before["state"].keys() == after["state"].keys()
    for key in before["state"]:
        assert torch.equal(before["state"][key], after["state"][key]), key
    assert before["requires_grad"] == after["requires_grad"]
    assert before["training"] == after["training"]
    assert after["hooks"] == 0


def test_shared_models_are_unchanged_and_no_hooks_are_left(attributor, engine):
    before = {"reference": model_snapshot(engine.reference), "fast": model_snapshot(engine.fast)}
    assert not any(before["fast"]["requires_grad"].values())
    x = small_input(64, seed=7)
    for method in METHODS:
        attributor.attribute(x, AttributionSettings(method, preset="fast", steps=4 if method in (
            "integrated_gradients", "smoothgrad", "gradient_shap") else None), faithfulness_steps=2)
    attributor.branch_attribution(x, method="layer_integrated_gradients", steps=4)
    attributor.branch_attribution(x)
    attributor.sanity_check(x, AttributionSettings("guided_gradcam"), blocks=("fc", "stem"))
    assert_same(before["reference"], model_snapshot(engine.reference))
    assert_same(before["fast"], model_snapshot(engine.fast))
    # the pool's replicas are clean too, and in eval mode
    with attributor.pool.acquire() as replica:
        assert model_hook_counts(replica) == 0 and not replica.training
        assert not any(p.requires_grad for p in replica.parameters())


def test_attributions_in_threads_do_not_change_concurrent_classify(engine):
    attributor = Attributor.for_engine(engine, pool_size=2)
    photo = EXAMPLE_PHOTOS[0]
    expected = engine.classify(photo).probabilities
    _, x = engine.prepare(photo)
    x = torch.nn.functional.interpolate(x, size=(96, 96), mode="bilinear")
    errors: list[BaseException] = []
    stop = threading.Event()

    def work(methods: tuple[str, ...]) -> None:
        try:
            while not stop.is_set():
                for method in methods:
                    attributor.attribute(x, AttributionSettings(method, preset="fast", layer="inception4e"),
                                         faithfulness_steps=None)
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(("guided_backprop", "layer_gradcam"),)),
               threading.Thread(target=work, args=(("guided_gradcam", "saliency"),))]
    for t in threads:
        t.start()
    try:
        for _ in range(8):
            got = engine.classify(photo).probabilities
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)
    assert not errors, errors
    assert model_hook_counts(engine.fast) == 0 and model_hook_counts(engine.reference) == 0


def test_settings_resolve_presets_and_reject_bad_values():
    s = AttributionSettings("occlusion", preset="fast").resolved()
    assert (s.window, s.stride, s.steps) == (56, 28, None)
    assert AttributionSettings("integrated_gradients", preset="thorough").resolved().steps == 64
    assert AttributionSettings("smoothgrad", steps=12).resolved().steps == 12
    with pytest.raises(AttributionError):
        AttributionSettings("smoothgrad", steps=1000).resolved()
    with pytest.raises(AttributionError):
        AttributionSettings("saliency", preset="instant").resolved()
    with pytest.raises(AttributionError):
        replace(AttributionSettings("integrated_gradients"), baseline="white").resolved()
    assert LAYER_METHODS <= set(METHODS)
