"""Units: widths and offsets read from the model agree with the real concatenation; bad names are keyed errors."""

import pytest
import torch

from googlenet.model import BRANCHES, INCEPTION_MODULES, TRUNK, GoogLeNet
from googlenet.units import Unit, UnitError, all_units, branch_widths, channel_index, locate


@pytest.fixture(scope="module")
def model() -> GoogLeNet:
    return GoogLeNet(aux_logits=False).eval()


def test_offsets_match_the_concatenated_output(model):
    x = torch.randn(1, 3, 96, 96)
    with torch.no_grad():
        h = model.stem(x)  # 1 x 192 x 12 x 12
        for name in TRUNK[TRUNK.index(INCEPTION_MODULES[0]):]:
            layer = getattr(model, name)
            if name not in INCEPTION_MODULES:
                h = layer(h)
                continue
            parts = layer.forward_branches(h)  # 4 x (1 x C_b x H x W)
            out = torch.cat(parts, dim=1)
            for b, part in zip(BRANCHES, parts):
                loc = locate(model, name, b, part.shape[1] - 1)
                assert loc.module_channels == out.shape[1] and loc.branch_channels == part.shape[1]
                assert torch.equal(out[:, loc.module_channel], part[:, -1])
            h = out


def test_every_unit_is_counted_once(model):
    units = list(all_units(model))
    assert len(units) == len(set(units))
    total = sum(sum(branch_widths(model, m)) for m in INCEPTION_MODULES)
    assert len(units) == total
    assert units[0] == Unit("inception3a", "branch1", 0)
    assert Unit("inception4a", "branch2", 17).key == "inception4a.branch2.17"


@pytest.mark.parametrize(
    "module,branch,channel,key",
    [("mixed4a", "branch1", 0, "errors.unknown_module"), ("inception4a", "branch5", 0, "errors.unknown_branch"),
     ("inception4a", "branch1", 192, "errors.channel_range"), ("inception4a", "branch1", -1, "errors.channel_range"),
     ("inception4a", "branch1", True, "errors.channel_range")],
)
def test_bad_units_are_keyed_errors(model, module, branch, channel, key):
    with pytest.raises(UnitError) as info:
        locate(model, module, branch, channel)
    assert info.value.key == key
    assert "채널" in info.value.text("ko") or key != "errors.channel_range"


@pytest.mark.parametrize("value,index", [(5, 5), (5.0, 5), ("7", 7), (0, 0)])
def test_channel_index_takes_whole_numbers_from_the_page(value, index):
    assert channel_index(value, "inception4a", "branch1") == index
    assert type(channel_index(value, "inception4a", "branch1")) is int


@pytest.mark.parametrize("value", [2.5, float("nan"), float("inf"), "x", None, True, [1]])
def test_channel_index_refuses_what_is_not_a_whole_number(value):
    with pytest.raises(UnitError) as info:
        channel_index(value, "inception4a", "branch2")
    assert info.value.key == "errors.channel_range"
    assert info.value.params["module"] == "inception4a" and info.value.params["branch"] == "branch2"


@pytest.mark.parametrize("value", [192, 192.0, -1, "-1"])
def test_an_out_of_range_channel_index_raises_when_located(model, value):
    # channel_index checks the form without the model; the branch's width is locate's check, with the same key
    channel = channel_index(value, "inception4a", "branch1")
    with pytest.raises(UnitError) as info:
        locate(model, "inception4a", "branch1", channel)
    assert info.value.key == "errors.channel_range" and info.value.params["last"] == 191
