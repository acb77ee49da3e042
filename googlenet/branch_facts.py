"""The numbers that make an Inception module intelligible, computed from the model itself (nothing hard-coded):
kernel sizes, output channels, receptive field at this depth, parameters, multiply-adds for the actual input size,
and what the 1x1 reductions save.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

import torch.nn as nn

from .messages import Message
from .model import BRANCHES, ConvBlock, GoogLeNet, Inception

__all__ = ["BranchFacts", "ModuleFacts", "ReceptiveField", "module_facts", "receptive_fields"]


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field size (pixels of the network input seen by one output unit) and jump (input pixels between
    neighbouring output units), along one axis; the network is symmetric, so one number serves both axes.

    ``start`` is where the field of output position 0 is centred, in input pixel coordinates (pixel ``i``'s centre
    is ``i``): position ``p`` looks at the input around ``start + p * jump`` (dataset-example crops are cut there).
    """

    size: int
    jump: int
    start: float = 0.0

    def centre(self, position: int) -> float:
        """Input coordinate (pixels) at the centre of output position ``position``'s field, along one axis."""
        return self.start + position * self.jump

    def through(self, layers: Iterable[nn.Module]) -> "ReceptiveField":
        size, jump, start = self.size, self.jump, self.start
        for layer in layers:
            kernel, stride, dilation = _geometry(layer)
            # The first window spans input positions -padding .. -padding + (kernel - 1) * dilation (ceil_mode
            # only adds windows at the far end): its centre moves by half the kernel minus the padding.
            start += ((kernel - 1) * dilation / 2 - _padding(layer)) * jump
            size += (kernel - 1) * dilation * jump
            jump *= stride
        return ReceptiveField(size, jump, start)


def _first(value) -> int:
    return int(value[0] if isinstance(value, tuple) else value)


def _geometry(layer: nn.Module) -> tuple[int, int, int]:
    """(kernel, stride, dilation) of a layer that moves over space; (1, 1, 1) for point-wise layers."""
    if isinstance(layer, ConvBlock):
        layer = layer.conv
    if isinstance(layer, (nn.Conv2d, nn.MaxPool2d)):
        return _first(layer.kernel_size), _first(layer.stride), _first(layer.dilation)
    return 1, 1, 1


def _padding(layer: nn.Module) -> int:
    """Zero (or -inf) padding on the leading side of a layer that moves over space; 0 for point-wise layers."""
    if isinstance(layer, ConvBlock):
        layer = layer.conv
    if isinstance(layer, (nn.Conv2d, nn.MaxPool2d)):
        return _first(layer.padding)
    return 0


def _spatial_layers(module: nn.Module) -> list[nn.Module]:
    """The convs and pools of a branch (or of a single ConvBlock), in order."""
    if isinstance(module, (ConvBlock, nn.MaxPool2d)):
        return [module]
    return [m for m in module.children() if isinstance(m, (ConvBlock, nn.MaxPool2d))]


def receptive_fields(model: GoogLeNet) -> dict[str, ReceptiveField]:
    """Receptive field of every trunk layer's output and of every branch output (``inception4a.branch2``)."""
    rf = ReceptiveField(1, 1)
    fields: dict[str, ReceptiveField] = {}
    for name in model.TRUNK:
        layer = getattr(model, name)
        if isinstance(layer, Inception):
            branch_rfs = {b: rf.through(_spatial_layers(getattr(layer, b))) for b in BRANCHES}
            for b, value in branch_rfs.items():
                fields[f"{name}.{b}"] = value
            # One unit of the concatenated output sees the widest of its branches' fields.
            rf = max(branch_rfs.values(), key=lambda r: r.size)
        else:
            rf = rf.through(_spatial_layers(layer))
        fields[name] = rf
    return fields


@dataclass(frozen=True)
class BranchFacts:
    branch: str  # "branch1".."branch4"
    layers: tuple[Message, ...]  # in English e.g. ("1x1 conv 480->96", "3x3 conv 96->208")
    kernel_sizes: tuple[int, ...]  # spatial kernels in order, pool included (branch4: (3, 1))
    out_channels: int
    receptive_field: int  # pixels of the input image seen by one output unit of this branch
    parameters: int  # conv weights + BatchNorm scale/shift
    mult_adds: int  # multiply-adds of its convolutions at this input size (BatchNorm folds into them)
    # Only for branches with a 1x1 reduction before a larger conv (branch2, branch3):
    parameters_without_reduction: Optional[int] = None
    mult_adds_without_reduction: Optional[int] = None
    # Only for branch3: its parameters with the paper's 5x5 kernel instead of the checkpoint's 3x3.
    parameters_with_paper_kernel: Optional[int] = None

    @property
    def parameters_saved(self) -> Optional[int]:
        if self.parameters_without_reduction is None:
            return None
        return self.parameters_without_reduction - self.parameters


@dataclass(frozen=True)
class ModuleFacts:
    module: str
    in_channels: int
    out_channels: int
    spatial: tuple[int, int]  # H, W of the module's input and output (every branch keeps it)
    branches: tuple[BranchFacts, ...]
    branch3_kernel: int  # 3 in torchvision's checkpoint, 5 in the paper

    @property
    def parameters(self) -> int:
        return sum(b.parameters for b in self.branches)

    @property
    def mult_adds(self) -> int:
        return sum(b.mult_adds for b in self.branches)


def _conv_block_cost(block: ConvBlock, spatial: tuple[int, int]) -> tuple[int, int]:
    """(parameters, multiply-adds) of a ConvBlock at an output size of ``spatial`` (stride 1 inside Inception)."""
    conv = block.conv
    params = sum(p.numel() for p in block.parameters())
    k = _first(conv.kernel_size) * (conv.kernel_size[1] if isinstance(conv.kernel_size, tuple) else 1)
    macs = conv.out_channels * spatial[0] * spatial[1] * (conv.in_channels // conv.groups) * k
    return params, macs


def _describe(layer: nn.Module) -> Message:
    if isinstance(layer, nn.MaxPool2d):
        return Message("branches.layer.max_pool", {"k": _first(layer.kernel_size), "stride": _first(layer.stride)})
    conv = layer.conv
    return Message("branches.layer.conv", {"k": _first(conv.kernel_size), "cin": conv.in_channels,
                                           "cout": conv.out_channels})


def module_facts(model: GoogLeNet, module: str, spatial: tuple[int, int]) -> ModuleFacts:
    """Facts about ``module`` when its input is ``spatial`` = (H, W) (read it from a capture's layer shapes)."""
    inception = model.get_submodule(module)
    if not isinstance(inception, Inception):
        raise ValueError(f"{module!r} is not an Inception module")  # callers pass the module keys
    fields = receptive_fields(model)
    in_channels = inception.branch1.conv.in_channels
    branches = []
    for name in BRANCHES:
        layers = _spatial_layers(getattr(inception, name))
        blocks = [layer for layer in layers if isinstance(layer, ConvBlock)]
        costs = [_conv_block_cost(block, spatial) for block in blocks]
        params, macs = sum(c[0] for c in costs), sum(c[1] for c in costs)
        without_params = without_macs = None
        if len(blocks) == 2:  # 1x1 reduction, then the larger conv: what if the larger conv read the input directly?
            big = blocks[1].conv
            k = _first(big.kernel_size)
            bn = sum(p.numel() for p in blocks[1].bn.parameters())
            without_params = in_channels * big.out_channels * k * k + bn
            without_macs = big.out_channels * spatial[0] * spatial[1] * in_channels * k * k
        paper = None
        if name == "branch3":
            big = blocks[1].conv
            paper = params - big.weight.numel() + big.in_channels * big.out_channels * 5 * 5
        branches.append(
            BranchFacts(
                branch=name,
                layers=tuple(_describe(layer) for layer in layers),
                kernel_sizes=tuple(_geometry(layer)[0] for layer in layers),
                out_channels=blocks[-1].conv.out_channels,
                receptive_field=fields[f"{module}.{name}"].size,
                parameters=params,
                mult_adds=macs,
                parameters_without_reduction=without_params,
                mult_adds_without_reduction=without_macs,
                parameters_with_paper_kernel=paper,
            )
        )
    return ModuleFacts(
        module=module,
        in_channels=in_channels,
        out_channels=sum(b.out_channels for b in branches),
        spatial=spatial,
        branches=tuple(branches),
        branch3_kernel=_first(inception.branch3[1].conv.kernel_size),
    )
