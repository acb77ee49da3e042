"""A forward-only GoogLeNet for fast eval-mode inference: the same function as the reference model, rearranged.

Built from a BatchNorm-folded copy (:func:`googlenet.inference.fuse_batchnorm`), with two more rearrangements that
do not change the function:

1. **Merged 1x1 convolutions.** In every Inception module, ``branch1``, the 1x1 reduction of ``branch2`` and the
   1x1 reduction of ``branch3`` all read the same input. Their weights are stacked into ONE 1x1 convolution, whose
   output is split by channel afterwards: one big matrix multiply instead of three small ones (27 convolutions
   fewer per forward).
2. **oneDNN-prepacked convolutions with the ReLU fused** (CPU). Each convolution's weight is reordered once, at
   build time, into oneDNN's blocked layout (``torch.ops.mkldnn._reorder_convolution_weight``), and run with
   ``torch.ops.mkldnn._convolution_pointwise(..., "relu")``: no per-call weight reorder, and no separate pass over
   memory for the ReLU. These are the kernels ``torch.compile`` (inductor) itself emits for CPU convolutions,
   without its compile step (tens of seconds, a C++ compiler) at start-up.

Where the oneDNN ops are missing (a torch built without mkldnn, a non-CPU device) or fail the self-check, each
convolution runs as ``F.conv2d`` + ``F.relu`` in channels_last instead (still with the merged 1x1 convolutions).

This model has no autograd support in packed mode and no hooks, no aux heads, no train mode: it exists only to
answer ``/classify``-style questions fast. Everything that looks inside the network uses the reference model.
:func:`build_inference_net` checks its logits against the folded model before returning it.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .messages import KeyedError
from .model import TRUNK, ConvBlock, GoogLeNet, Inception

__all__ = ["InferenceNet", "PackedConv", "MergedInception", "build_inference_net", "onednn_available"]

log = logging.getLogger(__name__)


class InferenceNetError(KeyedError, RuntimeError):
    """The rearranged inference net does not compute what the model computes (the app refuses to start)."""

# How far the inference net's logits may be from the folded float32 model's, relative to the largest logit: float32
# differs by reassociation only; bfloat16 keeps 8 bits of mantissa, so the check only catches gross errors there.
_TOLERANCE = {torch.float32: 1e-4, torch.bfloat16: 0.25}


def onednn_available() -> bool:
    """Whether this torch has the oneDNN pointwise-convolution ops the packed mode uses."""
    if not torch.backends.mkldnn.is_available():
        return False
    try:
        torch.ops.mkldnn._convolution_pointwise  # noqa: B018 - resolving the op is the check
        torch.ops.mkldnn._reorder_convolution_weight  # noqa: B018
    except (AttributeError, RuntimeError):
        return False
    return True


@dataclass(frozen=True)
class ConvGeometry:
    padding: list[int]
    stride: list[int]
    dilation: list[int]
    groups: int


class PackedConv(nn.Module):
    """``relu(conv2d(x, W, b))`` for a BatchNorm-folded convolution; the weight prepacked for oneDNN when asked.

    ``example_shape`` is the input shape the prepacked layout is chosen for; other batch sizes and image sizes
    still compute correctly (oneDNN reorders as needed), they are just not the layout's optimum.
    """

    def __init__(self, weight: Tensor, bias: Tensor, conv: nn.Conv2d, *, packed: bool,
                 example_shape: Sequence[int]) -> None:
        super().__init__()
        self.geometry = ConvGeometry(list(conv.padding), list(conv.stride), list(conv.dilation), conv.groups)
        self.packed = packed
        self.out_channels = weight.shape[0]
        g = self.geometry
        weight = weight.detach().contiguous(memory_format=torch.channels_last)
        if packed:
            # Reordered once here instead of on every call (what a plain conv2d on CPU does).
            weight = torch.ops.mkldnn._reorder_convolution_weight(
                weight, g.padding, g.stride, g.dilation, g.groups, list(example_shape))
        # Plain attributes, not parameters: a packed weight is an opaque layout; nothing here is trained or saved.
        self.weight = weight
        self.bias = bias.detach().contiguous()

    def forward(self, x: Tensor) -> Tensor:
        g = self.geometry
        if self.packed:
            return torch.ops.mkldnn._convolution_pointwise(
                x, self.weight, self.bias, g.padding, g.stride, g.dilation, g.groups, "relu", [], "")
        return F.relu(F.conv2d(x, self.weight, self.bias, g.stride, g.padding, g.dilation, g.groups))

    def _apply(self, fn, recurse=True):  # noqa: ANN001 - nn.Module's signature
        # The weights are plain attributes (see __init__), so .to(device) would silently skip them.
        raise RuntimeError("an InferenceNet is built for one device; build a new one with build_inference_net")

    def extra_repr(self) -> str:
        return f"out={self.out_channels}, packed={self.packed}, stride={self.geometry.stride}"


def _conv_of(block: ConvBlock) -> nn.Conv2d:
    if not isinstance(block.bn, nn.Identity) or block.conv.bias is None:
        raise ValueError("build_inference_net needs a BatchNorm-folded model (googlenet.inference.fuse_batchnorm)")
    return block.conv


def _packed(block: ConvBlock, packed: bool, shape: Sequence[int]) -> PackedConv:
    conv = _conv_of(block)
    return PackedConv(conv.weight, conv.bias, conv, packed=packed, example_shape=shape)


class MergedInception(nn.Module):
    """An Inception module with its three 1x1 convolutions that read the input merged into one."""

    def __init__(self, module: Inception, *, packed: bool, example_shape: Sequence[int]) -> None:
        super().__init__()
        first = [_conv_of(module.branch1), _conv_of(module.branch2[0]), _conv_of(module.branch3[0])]
        # Stacking along the output-channel axis: output channels [0, c1) are branch1, then the two reductions.
        weight = torch.cat([c.weight for c in first])  # (c1 + c3r + c5r) x C_in x 1 x 1
        bias = torch.cat([c.bias for c in first])
        self.splits = [c.out_channels for c in first]
        self.reduce = PackedConv(weight, bias, first[0], packed=packed, example_shape=example_shape)
        n, _, h, w = example_shape
        self.conv3x3 = _packed(module.branch2[1], packed, (n, self.splits[1], h, w))
        # branch3's second convolution: 3x3 in torchvision's checkpoint (the paper's 5x5, see Inception).
        self.conv5x5 = _packed(module.branch3[1], packed, (n, self.splits[2], h, w))
        self.pool = module.branch4[0]  # MaxPool2d(3, stride 1, padding 1, ceil_mode)
        self.pool_proj = _packed(module.branch4[1], packed, example_shape)

    def forward(self, x: Tensor) -> Tensor:
        # N x C_in x H x W (channels_last)
        reduced = self.reduce(x)
        # N x (c1 + c3r + c5r) x H x W
        b1, r3, r5 = reduced.split(self.splits, dim=1)
        # Channel slices of a channels_last tensor are strided views; the convolutions want dense input.
        b2 = self.conv3x3(r3.contiguous(memory_format=torch.channels_last))
        b3 = self.conv5x5(r5.contiguous(memory_format=torch.channels_last))
        b4 = self.pool_proj(self.pool(x))
        return torch.cat([b1, b2, b3, b4], dim=1)
        # N x (c1 + c3 + c5 + pool_proj) x H x W


class InferenceNet(nn.Module):
    """Eval-mode GoogLeNet main head, rearranged for speed (see the module docstring). Input: N x 3 x H x W.

    Its layers are the folded model's, in the order of :data:`googlenet.model.TRUNK`; each convolution's prepacked
    layout is chosen for the input shape that layer sees at ``example_shape`` (traced once through ``folded``).
    """

    def __init__(self, folded: GoogLeNet, *, packed: bool, example_shape: Sequence[int] = (1, 3, 224, 224)) -> None:
        super().__init__()
        if folded.training:
            raise ValueError("build the inference net from an eval-mode model")
        self.packed = packed
        self.dtype = folded.fc.weight.dtype
        self.transform_input = folded.transform_input
        self.layers = nn.ModuleDict()
        with torch.inference_mode():
            x = torch.zeros(*example_shape, dtype=self.dtype, device=folded.fc.weight.device)
            for name in TRUNK:  # the shape each layer reads, for its prepacked layout
                layer = getattr(folded, name)
                shape = tuple(x.shape)
                if isinstance(layer, Inception):
                    self.layers[name] = MergedInception(layer, packed=packed, example_shape=shape)
                elif isinstance(layer, ConvBlock):
                    self.layers[name] = _packed(layer, packed, shape)
                else:  # max-pools: parameter-free, used as they are
                    self.layers[name] = layer
                x = layer(x)
        self.fc_weight = folded.fc.weight.detach()
        self.fc_bias = folded.fc.bias.detach()

    def forward(self, x: Tensor) -> Tensor:
        x = GoogLeNet._transform_input(self, x)  # type: ignore[arg-type]  # uses only self.transform_input
        x = x.to(self.dtype).contiguous(memory_format=torch.channels_last)
        # N x 3 x 224 x 224
        for layer in self.layers.values():  # TRUNK order: conv1 ... inception5b
            x = layer(x)
        # N x 1024 x 7 x 7
        x = x.mean(dim=(2, 3))  # the adaptive average pool to 1x1; eval-mode dropout is the identity
        # N x 1024
        return F.linear(x, self.fc_weight, self.fc_bias).float()
        # N x 1000 (float32 whatever the compute dtype)

    def _apply(self, fn, recurse=True):  # noqa: ANN001 - nn.Module's signature
        raise RuntimeError("an InferenceNet is built for one device; build a new one with build_inference_net")


def build_inference_net(
    folded: GoogLeNet,
    *,
    packed: Optional[bool] = None,
    dtype: torch.dtype = torch.float32,
    example_shape: Sequence[int] = (1, 3, 224, 224),
    check_input: Optional[Tensor] = None,
) -> InferenceNet:
    """An :class:`InferenceNet` for ``folded`` (a BatchNorm-folded, eval-mode float32 model), checked against it.

    ``packed=None`` (the default) uses the oneDNN ops when the model is on the CPU and they are available, else the
    plain convolutions. ``dtype=torch.bfloat16`` stores the weights and computes in bfloat16 (fast only on CPUs with
    native bf16: avx512_bf16 or AMX); the net still takes and returns float32.

    The new net's logits are compared with ``folded``'s on ``check_input`` (default: a fixed random batch of
    ``example_shape``): within 1e-4 (relative to the largest logit) in float32; in bfloat16, whose rounding moves
    logits by up to ~10% of the largest one, within 25%: a check that catches a wrong layout or kernel, not
    rounding. If the packed mode fails or disagrees, the plain mode is used and the reason logged; if that disagrees
    too, ``RuntimeError``.
    """
    if dtype not in _TOLERANCE:
        raise ValueError(f"unsupported dtype {dtype}; use torch.float32 or torch.bfloat16")
    source = folded if dtype == torch.float32 else copy.deepcopy(folded).to(dtype)
    device = next(folded.parameters()).device
    if packed is None:
        packed = device.type == "cpu" and onednn_available()
    if packed and device.type != "cpu":
        raise ValueError("oneDNN-packed convolutions run on the CPU only")
    if check_input is None:
        check_input = torch.randn(*example_shape, generator=torch.Generator().manual_seed(0))
    check_input = check_input.to(device)
    with torch.inference_mode():
        expected = folded(check_input.contiguous(memory_format=torch.channels_last))
        modes = [True, False] if packed else [False]
        for mode in modes:
            try:
                net = InferenceNet(source, packed=mode, example_shape=example_shape)
                got = net(check_input)
            except RuntimeError as exc:  # e.g. an op this torch build lacks: fall back to plain convolutions
                log.warning("inference net (packed=%s) could not run (%s); trying plain convolutions", mode, exc)
                continue
            diff = (got - expected).abs().max().item()
            if diff <= _TOLERANCE[dtype] * max(1.0, expected.abs().max().item()):
                log.info("inference net: packed=%s, %s, max |logit diff| vs folded model %.2e", mode, dtype, diff)
                return net
            log.warning("inference net (packed=%s) differs from the folded model by %.3g; not used", mode, diff)
    raise InferenceNetError("errors.inference_net_mismatch")
