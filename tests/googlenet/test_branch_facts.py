"""Module facts, checked against independent computations on the model itself."""

from __future__ import annotations

import pytest
import torch

from googlenet import BRANCHES, INCEPTION_MODULES, GoogLeNet
from googlenet.branch_facts import module_facts, receptive_fields


@pytest.fixture(scope="module")
def model() -> GoogLeNet:
    return GoogLeNet().eval()


def test_receptive_field_of_the_first_layers(model):
    rf = receptive_fields(model)
    assert (rf["conv1"].size, rf["conv1"].jump) == (7, 2)  # one 7x7 conv, stride 2
    assert (rf["maxpool1"].size, rf["maxpool1"].jump) == (11, 4)  # + (3 - 1) * 2
    assert rf["conv2"].size == 11  # 1x1 sees no more
    assert rf["conv3"].size == 19  # + (3 - 1) * 4
    assert (rf["maxpool2"].size, rf["maxpool2"].jump) == (27, 8)


def test_receptive_field_per_branch(model):
    rf = receptive_fields(model)
    base = rf["maxpool2"]
    assert rf["inception3a.branch1"].size == base.size  # 1x1
    assert rf["inception3a.branch2"].size == base.size + 2 * base.jump  # 3x3
    assert rf["inception3a.branch3"].size == base.size + 2 * base.jump  # the "5x5" is 3x3 in the checkpoint
    assert rf["inception3a.branch4"].size == base.size + 2 * base.jump  # 3x3 pool, then 1x1
    sizes = [rf[m].size for m in INCEPTION_MODULES]
    assert sizes == sorted(sizes) and rf["inception5b"].jump == 32


def test_receptive_field_grows_with_a_real_gradient(model):
    """Independent check: the input pixels that can influence one output unit of inception3a.branch2."""
    x = torch.randn(1, 3, 224, 224, requires_grad=True)
    model.eval()
    stem = model.stem(x)
    out = model.inception3a.branch2(stem)  # 1 x 128 x 28 x 28
    out[0, :, 14, 14].sum().backward()
    ys, xs = torch.nonzero(x.grad[0].abs().sum(0) > 0, as_tuple=True)
    extent = max(int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1))
    assert extent == receptive_fields(model)["inception3a.branch2"].size


@pytest.mark.parametrize("module", INCEPTION_MODULES)
def test_parameters_equal_the_modules_own_count(model, module):
    facts = module_facts(model, module, (14, 14))
    inception = model.get_submodule(module)
    for b in facts.branches:
        assert b.parameters == sum(p.numel() for p in getattr(inception, b.branch).parameters())
    assert facts.parameters == sum(p.numel() for p in inception.parameters())
    assert facts.out_channels == sum(b.out_channels for b in facts.branches)


def test_inception4a_numbers(model):
    facts = module_facts(model, "inception4a", (14, 14))
    b1, b2, b3, b4 = facts.branches
    assert facts.in_channels == 480 and facts.out_channels == 512 and facts.branch3_kernel == 3
    assert tuple(str(layer) for layer in b2.layers) == ("1x1 conv 480->96", "3x3 conv 96->208")  # in English
    assert b3.kernel_sizes == (1, 3) and b4.kernel_sizes == (3, 1)
    # multiply-adds of a conv = C_out * H * W * C_in * k * k
    assert b1.mult_adds == 192 * 14 * 14 * 480
    assert b2.mult_adds == 96 * 14 * 14 * 480 + 208 * 14 * 14 * 96 * 9
    # Without the reduction, the 3x3 conv reads all 480 channels: 480 * 208 * 9 weights + BatchNorm's 2 * 208.
    assert b2.parameters_without_reduction == 480 * 208 * 9 + 2 * 208
    assert b2.parameters_saved == b2.parameters_without_reduction - b2.parameters > 0
    assert b3.parameters_saved > 0 and b1.parameters_saved is None and b4.parameters_saved is None
    assert b3.parameters_with_paper_kernel == b3.parameters + 16 * 48 * (25 - 9)


def test_mult_adds_scale_with_the_input_size(model):
    small = module_facts(model, "inception3a", (28, 28))
    large = module_facts(model, "inception3a", (56, 56))
    assert large.mult_adds == 4 * small.mult_adds
    assert large.parameters == small.parameters


def test_module_facts_refuses_non_inception_layers(model):
    with pytest.raises(ValueError):
        module_facts(model, "conv1", (112, 112))
    assert len(BRANCHES) == 4


@pytest.mark.parametrize("branch, position", [("inception3a.branch2", 14), ("inception4a.branch3", 3),
                                              ("inception3b.branch4", 0)])
def test_receptive_field_centre_matches_a_real_gradient(model, branch, position):
    """Independent check of ``start``: the input pixels that can move one output unit are centred where it says
    (the dataset-example crops are cut there), clipped at the border like the crops."""
    module, name = branch.split(".")
    x = torch.randn(1, 3, 224, 224, requires_grad=True)
    h = model.stem(x)
    for layer in model.TRUNK[model.TRUNK.index("inception3a"):model.TRUNK.index(module)]:
        h = getattr(model, layer)(h)
    out = getattr(getattr(model, module), name)(h)  # 1 x C x H x W
    out[0, :, position, position].sum().backward()
    ys, _ = torch.nonzero(x.grad[0].abs().sum(0) > 0, as_tuple=True)
    rf = receptive_fields(model)[branch]
    half = (rf.size - 1) / 2
    lo, hi = max(0.0, rf.centre(position) - half), min(223.0, rf.centre(position) + half)
    assert (int(ys.min()), int(ys.max())) == (lo, hi)
