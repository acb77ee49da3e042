"""Branch capture: exact, complete, hook-free, concurrency-safe; overview shares."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from googlenet import BRANCHES, INCEPTION_MODULES
from googlenet.activations import Measure, branch_offsets, branch_shares, capture, capture_tensors, overview_shares
from googlenet.integrity import hook_count
from googlenet.model import GoogLeNet, Inception

CHANNELS = {  # torchvision's GoogLeNet table (branch1, branch2, branch3, branch4 output channels)
    "inception3a": (64, 128, 32, 32), "inception3b": (128, 192, 96, 64), "inception4a": (192, 208, 48, 64),
    "inception4b": (160, 224, 64, 64), "inception4c": (128, 256, 64, 64), "inception4d": (112, 288, 64, 64),
    "inception4e": (256, 320, 128, 128), "inception5a": (256, 320, 128, 128), "inception5b": (384, 384, 128, 128),
}


def all_hooks(model: torch.nn.Module) -> int:
    return hook_count(model)


def module_outputs_by_hooks(model: GoogLeNet, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """The oracle: each Inception module's real output, recorded with hooks on a private model in a test."""
    outputs, handles = {}, []
    for name in INCEPTION_MODULES:
        handles.append(model.get_submodule(name).register_forward_hook(
            lambda m, i, o, name=name: outputs.__setitem__(name, o.detach().clone())))
    try:
        with torch.no_grad():
            logits = model(x)
    finally:
        for h in handles:
            h.remove()
    outputs["logits"] = logits
    return outputs


@pytest.mark.parametrize("size", [(224, 224), (160, 288)])
def test_branches_concatenate_exactly_to_each_module_output(random_model, size):
    x = torch.randn(2, 3, *size, generator=torch.Generator().manual_seed(5))
    oracle = module_outputs_by_hooks(random_model, x)
    tensors, _ = capture_tensors(random_model, x)
    for name in INCEPTION_MODULES:
        assert torch.equal(torch.cat(tensors.branches[name], dim=1), oracle[name]), name
        assert oracle[name].abs().max() > 0.1  # calibrated weights: not a comparison of zeros
    assert torch.equal(tensors.logits, oracle["logits"])


def test_module_inputs_give_the_branches(random_model):
    x = torch.randn(1, 3, 224, 224)
    tensors, _ = capture_tensors(random_model, x)
    with torch.no_grad():
        for name in INCEPTION_MODULES:
            module: Inception = random_model.get_submodule(name)
            again = module.forward_branches(tensors.module_inputs[name])
            for a, b in zip(again, tensors.branches[name]):
                assert torch.equal(a, b)


@pytest.mark.parametrize("size", [(224, 224), (200, 320)])
def test_nine_by_four_captures_with_the_right_channels(random_model, size):
    x = torch.randn(1, 3, *size)
    cap = capture(random_model, x)
    oracle = module_outputs_by_hooks(random_model, x)
    assert list(cap.branches) == list(INCEPTION_MODULES)
    for name, parts in cap.branches.items():
        assert len(parts) == 4
        assert tuple(p.shape[0] for p in parts) == CHANNELS[name]
        assert all(p.shape[1:] == tuple(oracle[name].shape[2:]) for p in parts), name
        assert cap.module_output(name).shape[0] == sum(CHANNELS[name])
    assert cap.branches["inception5b"][0].shape[1:] == ((7, 7) if size == (224, 224) else (6, 10))
    assert cap.input_size == size


def test_capture_logits_equal_the_model(random_model):
    x = torch.randn(1, 3, 224, 224)
    cap = capture(random_model, x)
    with torch.no_grad():
        expected = random_model(x)[0].numpy()
    assert np.array_equal(cap.logits, expected)


def test_capture_on_the_fused_fast_model_matches_reference(engine):
    crop, x = engine.prepare("assets/chelsea.png")
    fast = capture(engine.fast, x)
    ref = capture(engine.reference, x)
    for name in INCEPTION_MODULES:
        for a, b in zip(fast.branches[name], ref.branches[name]):
            assert np.abs(a.astype(np.float32) - b.astype(np.float32)).max() < 2e-2  # float16 storage
    assert np.abs(fast.logits - ref.logits).max() < 1e-4


def test_layer_shape_table_covers_every_layer(random_model):
    cap = capture(random_model, torch.randn(1, 3, 224, 224))
    shapes = {s.name: s.shape for s in cap.layer_shapes}
    assert shapes["input"] == (3, 224, 224)
    assert shapes["conv1"] == (64, 112, 112) and shapes["maxpool2"] == (192, 28, 28)
    assert shapes["inception4e"] == (832, 14, 14) and shapes["maxpool4"] == (832, 7, 7)
    assert shapes["inception5b"] == (1024, 7, 7) and shapes["fc"] == (1000,)
    assert shapes["inception4a.branch3"] == (48, 14, 14)
    assert set(GoogLeNet.TRUNK) <= set(shapes)


def test_no_hooks_are_registered_or_left(random_model):
    before = all_hooks(random_model)
    capture(random_model, torch.randn(1, 3, 64, 64))
    assert before == 0 and all_hooks(random_model) == 0


def test_capture_refuses_train_mode(random_model):
    with pytest.raises(ValueError):
        capture(random_model.train(), torch.randn(1, 3, 64, 64))


def test_concurrent_captures_each_get_their_own_activations(engine):
    """Different images in parallel threads on the one shared model: each request sees its own activations."""
    generator = torch.Generator().manual_seed(11)
    inputs = [torch.randn(1, 3, 224, 224, generator=generator) for _ in range(6)]
    expected = [capture(engine.fast, x) for x in inputs]
    wrong, errors = [], []

    def worker(i: int) -> None:
        try:
            for _ in range(3):
                got = capture(engine.fast, inputs[i])
                for name in ("inception3a", "inception4d", "inception5b"):
                    for a, b in zip(got.branches[name], expected[i].branches[name]):
                        if not np.array_equal(a, b):
                            wrong.append((i, name))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and wrong == []
    # The images differ, so a mix-up would have been visible.
    assert not np.array_equal(expected[0].branches["inception4d"][1], expected[1].branches["inception4d"][1])


@pytest.mark.parametrize("measure", list(Measure))
def test_overview_shares_sum_to_one_per_module(random_model, measure):
    cap = capture(random_model, torch.randn(1, 3, 224, 224))
    shares = overview_shares(cap, measure)
    assert shares.shape == (9, 4)
    assert np.allclose(shares.sum(axis=1), 1.0)
    assert (shares >= 0).all()
    if measure is not Measure.MEAN_ACTIVATION:
        # Branches with more channels hold more of the output. (Per-channel means are nearly equal here: calibrated
        # random BatchNorm makes every channel's activation statistics alike, so that measure is not checked.)
        assert shares.std() > 0.01


def test_share_measures_are_what_their_names_say():
    parts = (np.full((2, 2, 2), 1.0), np.full((6, 2, 2), 1.0), np.full((1, 2, 2), 3.0), np.zeros((1, 2, 2)))
    # activation sum: 8, 24, 12, 0 ; mean per channel value: 1, 1, 3, 0 ; L2 energy: 8, 24, 36, 0
    assert np.allclose(branch_shares(parts, "activation_sum"), np.array([8, 24, 12, 0]) / 44)
    assert np.allclose(branch_shares(parts, "mean_activation"), np.array([1, 1, 3, 0]) / 5)
    assert np.allclose(branch_shares(parts, "l2_energy"), np.array([8, 24, 36, 0]) / 68)
    assert np.allclose(branch_shares(tuple(np.zeros((1, 1, 1)) for _ in range(4)), "l2_energy"), 0.25)
    with pytest.raises(ValueError):
        branch_shares(parts, "median")


def test_branch_offsets_index_the_concatenated_output(random_model):
    cap = capture(random_model, torch.randn(1, 3, 224, 224))
    assert branch_offsets(cap, "inception4a") == (0, 192, 400, 448)
    out = cap.module_output("inception4a")
    for part, offset in zip(cap.branches["inception4a"], branch_offsets(cap, "inception4a")):
        assert np.array_equal(out[offset:offset + part.shape[0]], part)
    assert set(BRANCHES) == {"branch1", "branch2", "branch3", "branch4"}
