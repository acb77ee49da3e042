"""Feature visualization on random weights with calibrated BatchNorm: the image excites its own unit (measured by an
independent torchvision forward, with the app's preprocessing), the objective rises, seeds and channels behave,
and the shared models are left exactly as they were, also under concurrent requests."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from googlenet.features import ClassTarget, FeatureSettings, FeatureSettingsError, Preview, final, visualize
from googlenet.images import open_image
from googlenet.integrity import hook_count, model_fingerprint
from googlenet.transforms import preprocess
from googlenet.units import Unit, UnitError
from support import EXAMPLE_PHOTOS

TINY = FeatureSettings(steps=4, size=64)


@pytest.fixture(scope="module")
def independent(random_state_dict) -> torchvision.models.GoogLeNet:
    """torchvision's own GoogLeNet with the same weights, built the way the app loads a checkpoint file
    (transform_input on): nothing of this project's model code is in this measurement."""
    model = torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=False, transform_input=True)
    model.load_state_dict(random_state_dict)
    return model.eval()


def branch_means(model: torchvision.models.GoogLeNet, image: Image.Image, unit: Unit) -> torch.Tensor:
    """Every channel of the unit's branch (after its ReLU), averaged over positions: C_branch values."""
    _, x = preprocess(image)  # the app's preprocessing: resize 256, centre crop 224, the weights' normalization
    captured = {}
    branch = getattr(getattr(model, unit.module), unit.branch)
    handle = branch.register_forward_hook(lambda module, args, output: captured.setdefault("out", output))
    try:
        with torch.no_grad():
            model(x)
    finally:
        handle.remove()
    return captured["out"][0].mean(dim=(1, 2))  # C_branch


# Fixed units (not drawn per run). On random weights a few channels of a branch respond strongly to any textured
# image, and some units (e.g. inception3a.branch1.7) rank 4th on their own visualization at 128 steps.
@pytest.mark.parametrize("unit", [Unit("inception3a", "branch3", 10), Unit("inception4a", "branch1", 11)])
def test_the_visualization_excites_its_own_unit(engine, independent, unit):
    # size 224: the network's own input size, so the app's preprocessing barely rescales the image
    result = final(visualize(engine.fast, unit, FeatureSettings(steps=128, size=224)))
    means = branch_means(independent, Image.fromarray(result.images[0]), unit)
    own = float(means[unit.channel])
    photos = [float(branch_means(independent, open_image(p), unit)[unit.channel]) for p in EXAMPLE_PHOTOS]
    assert own >= 1.5 * max(photos), (own, photos)
    rank = int((means > means[unit.channel]).sum()) + 1
    assert rank <= 3, (rank, own, means.topk(4))
    steps = np.array(result.objective)
    assert steps[-8:].mean() > steps[:8].mean() and result.final_activation[0] > result.start_activation[0]


def test_the_class_logit_rises(engine):
    result = final(visualize(engine.fast, ClassTarget(281), FeatureSettings(objective="logit", steps=6, size=64)))
    assert result.final_activation[0] > result.start_activation[0]
    assert np.mean(result.objective[-2:]) > np.mean(result.objective[:2])


def test_same_seed_same_bytes_other_seed_or_channel_other_image(engine):
    unit = Unit("inception3a", "branch1", 3)
    a = final(visualize(engine.fast, unit, TINY)).images[0]
    b = final(visualize(engine.fast, unit, TINY)).images[0]
    assert a.tobytes() == b.tobytes()
    other_seed = final(visualize(engine.fast, unit, FeatureSettings(steps=4, size=64, seed=1))).images[0]
    other_channel = final(visualize(engine.fast, Unit("inception3a", "branch1", 4), TINY)).images[0]
    for other in (other_seed, other_channel):
        assert np.abs(other.astype(int) - a.astype(int)).mean() > 1


def test_diversity_images_differ_from_each_other(engine):
    result = final(visualize(engine.fast, Unit("inception3a", "branch2", 5),
                             FeatureSettings(objective="diversity", steps=4, size=64)))
    assert len(result.images) == 4 and len(result.final_activation) == 4
    for i in range(4):
        for j in range(i + 1, 4):
            assert np.abs(result.images[i].astype(int) - result.images[j].astype(int)).mean() > 1


def test_a_preview_comes_first_then_the_result(engine):
    frames = list(visualize(engine.fast, Unit("inception3a", "branch4", 0), FeatureSettings(steps=3, size=64),
                            preview_every_s=0.0))
    assert isinstance(frames[0], Preview) and frames[0].step == 0
    assert [f.step for f in frames[:-1]] == [0, 1, 2] and frames[-1].images[0].shape == (64, 64, 3)


def test_early_units_run_fewer_layers(engine):
    from googlenet.features.replica import TargetNet

    early = TargetNet(engine.fast, Unit("inception3a", "branch1", 0))
    late = TargetNet(engine.fast, Unit("inception5b", "branch1", 0))
    count = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
    assert len(early.trunk) == 5 and len(late.trunk) == 15  # the stem, then every layer before the unit's module
    assert count(early) * 20 < count(late)


def test_the_shared_model_is_untouched_also_under_concurrent_requests(engine):
    before = [model_fingerprint(engine.fast), model_fingerprint(engine.reference)]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            target = ClassTarget(i) if i == 2 else Unit("inception3b", "branch3", i)
            final(visualize(engine.fast, target, FeatureSettings(steps=3, size=64, seed=i)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [model_fingerprint(engine.fast), model_fingerprint(engine.reference)] == before
    assert hook_count(engine.fast) == 0 and not any(p.requires_grad for p in engine.fast.parameters())


@pytest.mark.parametrize(("call", "key"), [
    (lambda: FeatureSettings.checked("dream"), "errors.features_objective"),
    (lambda: FeatureSettings.checked("channel", 0), "errors.features_range"),
    (lambda: FeatureSettings.checked("channel", 10, 1000), "errors.features_range"),
    (lambda: FeatureSettings.checked("channel", 10, 64.5), "errors.features_range"),
    (lambda: FeatureSettings.checked("neuron", 10, 64, -1), "errors.features_range"),
    (lambda: FeatureSettings.checked("channel", for_class=True), "errors.features_objective"),
])
def test_bad_settings_are_keyed_errors(call, key):
    with pytest.raises(FeatureSettingsError) as info:
        call()
    assert info.value.key == key


def test_a_bad_unit_is_a_keyed_error(engine):
    with pytest.raises(UnitError) as info:
        next(visualize(engine.fast, Unit("inception4a", "branch3", 48), TINY))
    assert info.value.key == "errors.channel_range"
