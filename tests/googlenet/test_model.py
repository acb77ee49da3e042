"""The model: parity with torchvision (names, shapes, outputs) and regressions for the seed notebook's defects."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn as nn
import torchvision

from googlenet import BRANCHES, INCEPTION_MODULES, GoogLeNet, GoogLeNetOutputs, Inception
from googlenet.model import ConvBlock, InceptionAux


def torchvision_googlenet(**kwargs) -> torchvision.models.GoogLeNet:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=False, **kwargs)


@pytest.fixture()
def twin(random_state_dict):
    """Our model and torchvision's, both holding the same calibrated random weights, in eval mode."""
    tv = torchvision_googlenet()
    tv.load_state_dict(random_state_dict, strict=True)
    ours = GoogLeNet()
    ours.load_state_dict(random_state_dict, strict=True)
    return ours.eval(), tv.eval()


def disable_dropout(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0


def test_parameter_names_and_shapes_match_torchvision():
    tv = {k: tuple(v.shape) for k, v in torchvision_googlenet().state_dict().items()}
    ours = {k: tuple(v.shape) for k, v in GoogLeNet().state_dict().items()}
    assert ours == tv
    assert len(ours) == 364


def test_torchvision_state_dict_loads_strictly():
    ours = GoogLeNet()
    ours.load_state_dict(torchvision_googlenet().state_dict(), strict=True)


def test_calibrated_fixture_is_not_trivial(random_model):
    # Guard for every parity test: the logits must be far from zero and differ between images.
    with torch.no_grad():
        logits = random_model(torch.randn(2, 3, 224, 224))
    assert logits.std() > 0.5
    assert (logits[0] - logits[1]).abs().max() > 0.1


def test_eval_outputs_equal_torchvision(twin):
    ours, tv = twin
    x = torch.randn(3, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        a, b = ours(x), tv(x)
    assert a.shape == (3, 1000)
    assert (a - b).abs().max().item() <= 1e-5


@pytest.mark.parametrize("transform_input", [False, True])
def test_transform_input_equals_torchvision(random_state_dict, transform_input):
    tv = torchvision_googlenet(transform_input=transform_input)
    tv.load_state_dict(random_state_dict)
    ours = GoogLeNet(transform_input=transform_input)
    ours.load_state_dict(random_state_dict)
    x = torch.randn(2, 3, 160, 200)
    with torch.no_grad():
        assert (ours.eval()(x) - tv.eval()(x)).abs().max().item() <= 1e-5


def test_train_mode_outputs_equal_torchvision(twin):
    ours, tv = twin
    ours.train(), tv.train()
    disable_dropout(ours), disable_dropout(tv)
    x = torch.randn(4, 3, 224, 224, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        a = ours(x)
        b = tv(x)
    assert isinstance(a, GoogLeNetOutputs)
    # torchvision orders its tuple (logits, aux_logits2, aux_logits1); ours is (logits, aux1, aux2).
    assert (a.logits - b.logits).abs().max().item() <= 1e-5
    assert (a.aux1 - b.aux_logits1).abs().max().item() <= 1e-5
    assert (a.aux2 - b.aux_logits2).abs().max().item() <= 1e-5
    assert a.logits.std() > 0.1 and a.aux1.std() > 0.01


def test_relus_are_modules_and_not_inplace():
    model = GoogLeNet()
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    convs = [m for m in model.modules() if isinstance(m, ConvBlock)]
    # One ReLU per ConvBlock plus one in each aux head's fc1.
    assert len(relus) == len(convs) + 2
    assert len({id(r) for r in relus}) == len(relus)
    assert not any(r.inplace for r in relus)


def test_module_names_are_torchvisions():
    model = GoogLeNet()
    for name in INCEPTION_MODULES:
        module = model.get_submodule(name)
        assert isinstance(module, Inception)
        for branch in BRANCHES:
            model.get_submodule(f"{name}.{branch}")
    assert isinstance(model.aux1, InceptionAux) and isinstance(model.aux2, InceptionAux)


def test_branch3_uses_torchvisions_3x3_kernel():
    # The "5x5" branch is 3x3 in torchvision's checkpoint (pytorch/vision#906); the shapes must match to load it.
    model = GoogLeNet()
    for name in INCEPTION_MODULES:
        assert model.get_submodule(f"{name}.branch3.1.conv").kernel_size == (3, 3)


# ---- Seed defect 1: AvgPool2d(kernel_size=8) only fit 224x224 ---------------------------------------------------


@pytest.mark.parametrize("size", [(15, 15), (16, 16), (32, 48), (100, 15), (224, 224), (256, 256), (299, 299),
                                  (320, 240), (512, 512)])
def test_any_input_from_15x15_up_works(twin, size):
    ours, tv = twin
    x = torch.randn(1, 3, *size)
    with torch.no_grad():
        a = ours(x)
        b = tv(x)
    assert a.shape == (1, 1000)
    assert (a - b).abs().max().item() <= 1e-5


def test_inputs_below_15_are_rejected_like_torchvision(twin):
    ours, _ = twin
    with pytest.raises(RuntimeError):
        with torch.no_grad():
            ours(torch.randn(1, 3, 14, 14))


def test_train_mode_works_for_non_224_inputs(random_model):
    random_model.train()
    with torch.no_grad():
        out = random_model(torch.randn(2, 3, 299, 256))
    assert out.logits.shape == out.aux1.shape == out.aux2.shape == (2, 1000)


# ---- Seed defect 2: dropout after the final linear layer ---------------------------------------------------------


def test_dropout_comes_before_the_classifier(random_model):
    # With dropout p=1 before fc, every feature is zeroed and the logits equal fc's bias exactly.
    random_model.train()
    random_model.dropout.p = 1.0
    with torch.no_grad():
        out = random_model(torch.randn(2, 3, 64, 64))
    torch.testing.assert_close(out.logits, random_model.fc.bias.expand(2, -1), rtol=0, atol=0)


def test_dropout_probabilities_match_torchvision():
    model = GoogLeNet()
    assert model.dropout.p == pytest.approx(0.2)
    assert model.aux1.dropout.p == pytest.approx(0.7) and model.aux2.dropout.p == pytest.approx(0.7)


# ---- Seed defect 3: train mode dropped the main logits -----------------------------------------------------------


def test_train_mode_returns_all_three_heads_named(random_model):
    random_model.train()
    with torch.no_grad():
        out = random_model(torch.randn(2, 3, 224, 224))
    assert isinstance(out, GoogLeNetOutputs)
    assert out._fields == ("logits", "aux1", "aux2")
    assert all(t.shape == (2, 1000) for t in out)


def test_eval_mode_returns_plain_logits(random_model):
    with torch.no_grad():
        out = random_model(torch.randn(1, 3, 224, 224))
    assert isinstance(out, torch.Tensor) and out.shape == (1, 1000)


def test_without_aux_heads_train_mode_returns_logits():
    model = GoogLeNet(aux_logits=False).train()
    assert model.aux1 is None and model.aux2 is None
    with torch.no_grad():
        out = model(torch.randn(2, 3, 64, 64))
    assert isinstance(out, torch.Tensor)


# ---- Seed defect 4: names, biases, paddings -----------------------------------------------------------------------


def test_convs_have_no_bias_and_batchnorm_eps_is_torchvisions():
    model = GoogLeNet()
    for m in model.modules():
        if isinstance(m, ConvBlock):
            assert m.conv.bias is None
            assert m.bn.eps == pytest.approx(1e-3)


def test_layer_output_shapes_at_224(random_model):
    expected = {
        "inception3a": 256, "inception3b": 480, "inception4a": 512, "inception4b": 512, "inception4c": 512,
        "inception4d": 528, "inception4e": 832, "inception5a": 832, "inception5b": 1024,
    }
    spatial = {"3": 28, "4": 14, "5": 7}
    shapes = {}
    hooks = [random_model.get_submodule(n).register_forward_hook(
        lambda m, i, o, n=n: shapes.__setitem__(n, tuple(o.shape))) for n in expected]
    try:
        with torch.no_grad():
            random_model(torch.randn(1, 3, 224, 224))
    finally:
        for h in hooks:
            h.remove()
    for name, channels in expected.items():
        s = spatial[name[9]]
        assert shapes[name] == (1, channels, s, s)


def test_inception_branches_concatenate_to_module_output(random_model):
    x = torch.randn(1, 480, 14, 14)
    module = random_model.inception4a
    with torch.no_grad():
        parts = module.forward_branches(x)
        whole = module(x)
    assert [p.shape[1] for p in parts] == [192, 208, 48, 64]
    assert torch.equal(torch.cat(parts, 1), whole)


def test_trunk_is_the_order_the_forward_pass_runs(random_model):
    """TRUNK (the one written-down layer order) against the order GoogLeNet._forward really calls its children,
    recorded with hooks on a private model; aux taps and segments derive from it."""
    from googlenet.model import AUX_TAPS, TRUNK, trunk_segments

    calls: list[str] = []
    handles = [child.register_forward_hook(lambda m, i, o, name=name: calls.append(name))
               for name, child in random_model.named_children()]
    try:
        random_model.train()
        with torch.no_grad():
            random_model(torch.randn(2, 3, 96, 96))
    finally:
        for h in handles:
            h.remove()
        random_model.eval()
    trunk_calls = [c for c in calls if c in TRUNK]
    assert trunk_calls == list(TRUNK)
    for head, tap in AUX_TAPS.items():  # each aux head runs right after the layer it reads
        assert calls.index(head) == calls.index(tap) + 1
    segments = trunk_segments()
    assert sum(segments, ()) == TRUNK
    assert [s[-1] for s in segments[:-1]] == [AUX_TAPS["aux1"], AUX_TAPS["aux2"]]
